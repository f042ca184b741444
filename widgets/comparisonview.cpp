// SPDX-License-Identifier: MIT
#include "comparisonview.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QPainter>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace marginlab {

namespace {

constexpr double kFollowRate = 0.25;  // share of the way to the fitted camera per snapshot
constexpr int kGap = 4;               // pixels between cells

int columnsFor(int count, ComparisonLayout layout) {
    if (layout == ComparisonLayout::Row) return std::max(1, count);
    if (layout == ComparisonLayout::Grid) return std::min(2, std::max(1, count));
    return count == 4 ? 2 : std::max(1, count);
}

}  // namespace

ComparisonView::ComparisonView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(4, 0, 4, 0);
    m_linkBox = new QCheckBox(tr("Link cameras"), this);
    m_linkBox->setChecked(true);
    m_linkBox->setToolTip(tr("Pan and zoom every panel together"));
    connect(m_linkBox, &QCheckBox::toggled, this, &ComparisonView::setCamerasLinked);
    auto* fit = new QPushButton(tr("Fit"), this);
    fit->setToolTip(tr("Show every point (F in a panel)"));
    connect(fit, &QPushButton::clicked, this, &ComparisonView::fitToData);
    bar->addWidget(m_linkBox);
    bar->addWidget(fit);
    bar->addStretch(1);
    layout->addLayout(bar);
    m_grid = new QWidget(this);
    m_gridLayout = new QGridLayout(m_grid);
    m_gridLayout->setContentsMargins(0, 0, 0, 0);
    m_gridLayout->setSpacing(kGap);
    layout->addWidget(m_grid, 1);
}

void ComparisonView::setPanels(const std::vector<TrainerConfig>& panels, const std::vector<QString>& titles) {
    for (ComparisonPanelView* view : m_panels) delete view;
    m_panels.clear();
    m_configs = panels;
    m_titleGiven.assign(panels.size(), false);
    const std::vector<std::string> computed = comparisonTitles(panels);
    for (std::size_t i = 0; i < panels.size(); ++i) {
        auto* view = new ComparisonPanelView(static_cast<int>(i), m_grid);
        const bool given = i < titles.size() && !titles[i].isEmpty();
        m_titleGiven[i] = given;
        view->setTitle(given ? titles[i] : QString::fromStdString(computed[i]));
        view->setRun(describeRun(panels[i].loss, panels[i].miner));
        view->setOptions(m_options);
        const int index = static_cast<int>(i);
        connect(view, &ComparisonPanelView::cameraChanged, this,
                [this, index](const Camera2D& camera) { onPanelCamera(index, camera); });
        connect(view, &ComparisonPanelView::camera3dChanged, this,
                [this, index](const Camera3D& camera) { onPanelCamera3D(index, camera); });
        connect(view, &ComparisonPanelView::anchorClicked, this, [this](int a, int p) { setAnchor(a, p); });
        connect(view, &ComparisonPanelView::fitRequested, this, &ComparisonView::fitToData);
        m_panels.push_back(view);
    }
    m_anchor = m_positive = -1;
    m_fitPending = true;
    m_initialCamera3d.reset();
    relayout();
}

void ComparisonView::setPanelConfig(int panel, const TrainerConfig& config) {
    if (panel < 0 || panel >= panelCount()) return;
    m_configs[static_cast<std::size_t>(panel)] = config;
    m_panels[static_cast<std::size_t>(panel)]->setRun(describeRun(config.loss, config.miner));
    // What differs may have changed for every panel.
    const std::vector<std::string> computed = comparisonTitles(m_configs);
    for (std::size_t i = 0; i < m_panels.size(); ++i)
        if (!m_titleGiven[i]) m_panels[i]->setTitle(QString::fromStdString(computed[i]));
}

void ComparisonView::setPanelTitle(int panel, const QString& title) {
    if (panel < 0 || panel >= panelCount()) return;
    m_titleGiven[static_cast<std::size_t>(panel)] = !title.isEmpty();
    if (title.isEmpty()) setPanelConfig(panel, m_configs[static_cast<std::size_t>(panel)]);
    else m_panels[static_cast<std::size_t>(panel)]->setTitle(title);
}

void ComparisonView::relayout() {
    const int count = panelCount();
    const int columns = columnsFor(count, m_layout);
    for (int i = 0; i < count; ++i) m_gridLayout->removeWidget(m_panels[static_cast<std::size_t>(i)]);
    for (int i = 0; i < count; ++i) m_gridLayout->addWidget(m_panels[static_cast<std::size_t>(i)], i / columns, i % columns);
    for (int c = 0; c < 4; ++c) m_gridLayout->setColumnStretch(c, c < columns ? 1 : 0);
    for (int r = 0; r < 4; ++r) m_gridLayout->setRowStretch(r, r < (count + columns - 1) / columns ? 1 : 0);
}

QRect ComparisonView::cellRect(int index, int count, QSize size, ComparisonLayout layout) {
    const int columns = columnsFor(count, layout);
    const int rows = (count + columns - 1) / columns;
    const int width = (size.width() - (columns - 1) * kGap) / columns;
    const int height = (size.height() - (rows - 1) * kGap) / rows;
    return QRect((index % columns) * (width + kGap), (index / columns) * (height + kGap), width, height);
}

QImage ComparisonView::renderImage(QSize size) const {
    QImage image(size, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    for (int i = 0; i < panelCount(); ++i) {
        const ComparisonPanelView* view = m_panels[static_cast<std::size_t>(i)];
        const QRect cell = cellRect(i, panelCount(), size, m_layout);
        Frame2D frame = view->frame();
        // The camera keeps its centre and zoom; only the picture's size changes.
        ComparisonPanelView::Renderers renderers;
        ComparisonPanelView::paintPanel(painter, renderers, frame, view->camera3d(), view->title(), i, cell);
    }
    return image;
}

void ComparisonView::setState(std::shared_ptr<const ComparisonState> state) {
    if (!state) return;
    const std::size_t n = std::min(m_panels.size(), state->group.panels.size());
    for (std::size_t i = 0; i < n; ++i) m_panels[i]->setSnapshot(state->group.panels[i]);
    if (m_fitPending) fitToData();
    else if (m_options.followData) follow();
    if (m_anchor >= 0)
        for (ComparisonPanelView* view : m_panels) view->setSelection(m_anchor, m_positive);
}

void ComparisonView::setCamerasLinked(bool linked) {
    if (m_linked == linked) return;
    m_linked = linked;
    m_linkBox->setChecked(linked);
    if (linked && !m_panels.empty()) {
        onPanelCamera(0, m_panels.front()->camera());
        onPanelCamera3D(0, m_panels.front()->camera3d());
    }
    emit camerasLinkedChanged(linked);
}

void ComparisonView::setLayoutMode(ComparisonLayout layout) {
    m_layout = layout;
    relayout();
}

void ComparisonView::setAnchor(int anchor, int positive) {
    m_anchor = anchor;
    m_positive = anchor >= 0 ? positive : -1;
    for (ComparisonPanelView* view : m_panels) view->setSelection(m_anchor, m_positive);
    if (!m_panels.empty()) m_anchor = m_panels.front()->anchor();  // an index past the data clears it
    emit anchorChanged(m_anchor, m_positive);
}

void ComparisonView::setOptions(const ViewOptions& options) {
    m_options = options;
    for (ComparisonPanelView* view : m_panels) view->setOptions(options);
}

void ComparisonView::onPanelCamera(int index, const Camera2D& camera) {
    if (!m_linked) return;
    for (ComparisonPanelView* view : m_panels)
        if (view->index() != index) view->setCamera(camera);
}

void ComparisonView::onPanelCamera3D(int index, const Camera3D& camera) {
    if (!m_linked) return;
    for (ComparisonPanelView* view : m_panels)
        if (view->index() != index) view->setCamera3D(camera);
}

void ComparisonView::setInitialCamera3D(const Camera3D& camera) {
    m_initialCamera3d = camera;
    m_fitPending = true;
    fitToData();
}

double ComparisonView::fittedRadius(const ComparisonPanelView* only) const {
    double radius = 0.0;
    for (const ComparisonPanelView* view : m_panels)
        if ((!only || view == only) && view->snapshot())
            radius = std::max(radius, Renderer3D::fitted(view->sphereFrame()).worldRadius);
    return radius > 0.0 ? radius : Camera3D{}.worldRadius;
}

void ComparisonView::fitToData() {
    if (m_panels.empty()) return;
    const QSize picture = m_panels.front()->pictureSize();
    if (!isVisible() || m_panels.front()->width() <= 1 || !m_panels.front()->snapshot()) {
        m_fitPending = true;  // the size (or the data) is not known yet: fit when it is
        return;
    }
    m_fitPending = false;
    if (m_panels.front()->isThreeD()) {
        if (m_initialCamera3d) {
            for (ComparisonPanelView* view : m_panels) view->setCamera3D(*m_initialCamera3d);
            m_initialCamera3d.reset();
            return;
        }
        // The sphere: rotation kept, the radius fitted (linked: one radius for all panels).
        for (ComparisonPanelView* view : m_panels) {
            Camera3D camera = m_linked ? m_panels.front()->camera3d() : view->camera3d();
            camera.worldRadius = fittedRadius(m_linked ? nullptr : view);
            camera.zoom = 1.0;
            camera.pan = QPointF(0, 0);
            view->setCamera3D(camera);
        }
        return;
    }
    if (m_linked) {
        QRectF bounds;
        for (ComparisonPanelView* view : m_panels)
            if (view->snapshot()) bounds = bounds.isNull() ? Renderer2D::dataBounds(view->frame())
                                                           : bounds.united(Renderer2D::dataBounds(view->frame()));
        const Camera2D camera = Camera2D::fitting(bounds, picture);
        for (ComparisonPanelView* view : m_panels) view->setCamera(camera);
    } else {
        for (ComparisonPanelView* view : m_panels)
            if (view->snapshot()) view->setCamera(Camera2D::fitting(Renderer2D::dataBounds(view->frame()), view->pictureSize()));
    }
}

void ComparisonView::follow() {
    if (m_panels.empty()) return;
    if (m_panels.front()->isThreeD()) {
        // The sphere eases its radius towards the data's (as PlotView3D follows).
        for (ComparisonPanelView* view : m_panels) {
            Camera3D camera = view->camera3d();
            const double target = fittedRadius(m_linked ? nullptr : view);
            camera.worldRadius = std::exp(std::log(camera.worldRadius) + kFollowRate * (std::log(target) - std::log(camera.worldRadius)));
            view->setCamera3D(camera);
        }
        return;
    }
    // Ease towards the fitted camera when points leave the picture or fill a small part of it
    // (as PlotView2D follows); linked: when any panel's points do.
    auto outside = [](const ComparisonPanelView* view) {
        const QRectF bounds = Renderer2D::dataBounds(view->frame());
        const QSize size = view->pictureSize();
        const double ppu = view->camera().pixelsPerUnit;
        const bool small = bounds.width() * ppu < 0.35 * size.width() && bounds.height() * ppu < 0.35 * size.height();
        return small || !view->camera().visibleWorld(size).contains(bounds);
    };
    if (m_linked) {
        // Linked, the panel with the widest spread decides: the camera fits them all.
        if (std::none_of(m_panels.begin(), m_panels.end(), outside)) return;
        QRectF bounds;
        for (ComparisonPanelView* view : m_panels)
            bounds = bounds.isNull() ? Renderer2D::dataBounds(view->frame()) : bounds.united(Renderer2D::dataBounds(view->frame()));
        const Camera2D target = Camera2D::fitting(bounds, m_panels.front()->pictureSize());
        const Camera2D eased = m_panels.front()->camera().easedTowards(target, kFollowRate);
        for (ComparisonPanelView* view : m_panels) view->setCamera(eased);
        return;
    }
    for (ComparisonPanelView* view : m_panels)
        if (outside(view))
            view->setCamera(view->camera().easedTowards(
                Camera2D::fitting(Renderer2D::dataBounds(view->frame()), view->pictureSize()), kFollowRate));
}

void ComparisonView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    if (m_fitPending) fitToData();
}

void ComparisonView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_fitPending) fitToData();
}

}  // namespace marginlab

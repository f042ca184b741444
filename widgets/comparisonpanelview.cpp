// SPDX-License-Identifier: MIT
#include "comparisonpanelview.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <optional>

namespace marginlab {

namespace {

constexpr double kPickRadius = 8.0;

double distance(QPointF a, QPointF b) { return std::hypot(a.x() - b.x(), a.y() - b.y()); }

}  // namespace

QColor comparisonPanelColor(int index) {
    // Dark, saturated and far apart in hue, so four curves stay apart on the pale chart background.
    static const std::array<QColor, 4> colors = {QColor(0x1F, 0x4E, 0x99), QColor(0xC0, 0x39, 0x2B),
                                                 QColor(0x1E, 0x84, 0x49), QColor(0x7D, 0x3C, 0x98)};
    return colors[static_cast<std::size_t>(std::clamp(index, 0, 3))];
}

ComparisonPanelView::ComparisonPanelView(int index, QWidget* parent) : QWidget(parent), m_index(index) {
    setMinimumSize(200, 160);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("Click a point to make it the triplet anchor in every panel (Shift+click: its positive);\n"
                  "drag to pan (3D: to rotate the sphere, right-drag to pan, arrows turn it), wheel to zoom —\n"
                  "every panel while cameras are linked; F to fit."));
}

void ComparisonPanelView::setTitle(const QString& title) {
    m_title = title;
    update();
}

void ComparisonPanelView::setRun(const RunInfo& run) {
    m_frame.run = run;
    update();
}

void ComparisonPanelView::setSnapshot(std::shared_ptr<const Snapshot> snapshot) {
    m_frame.snapshot = std::move(snapshot);
    const int n = m_frame.snapshot ? static_cast<int>(m_frame.snapshot->positions.rows()) : 0;
    if (m_frame.selection.anchor >= n) m_frame.selection = {};
    // A fixed force scale is calibrated once, on the first forces shown (as PlotView2D does).
    ViewOptions& o = m_frame.options;
    if (o.forceScaleMode == ViewOptions::ForceScale::Fixed && !(o.forcePixelsPerUnit > 0.0) && m_frame.snapshot)
        o.forcePixelsPerUnit = Renderer2D::calibratedForceScale(*m_frame.snapshot, o.splitForces);
    update();
}

void ComparisonPanelView::setOptions(const ViewOptions& options) {
    const double calibrated = m_frame.options.forcePixelsPerUnit;
    m_frame.options = options;
    if (options.forceScaleMode == ViewOptions::ForceScale::Fixed && !(options.forcePixelsPerUnit > 0.0))
        m_frame.options.forcePixelsPerUnit = calibrated;
    update();
}

void ComparisonPanelView::setCamera(const Camera2D& camera) {
    m_frame.camera.center = camera.center;
    m_frame.camera.pixelsPerUnit = std::clamp(camera.pixelsPerUnit, Camera2D::kMinPixelsPerUnit, Camera2D::kMaxPixelsPerUnit);
    update();
}

void ComparisonPanelView::setCamera3D(const Camera3D& camera) {
    m_camera3d = camera;
    update();
}

QSize ComparisonPanelView::pictureSize() const { return QSize(width(), std::max(1, height() - kTitleHeight)); }

QPointF ComparisonPanelView::toScreen(QPointF world) const {
    return m_frame.camera.toScreen(world, pictureSize()) + QPointF(0, kTitleHeight);
}

void ComparisonPanelView::setSelection(int anchor, int positive) {
    const int n = m_frame.snapshot ? static_cast<int>(m_frame.snapshot->positions.rows()) : 0;
    m_frame.selection.anchor = anchor >= 0 && anchor < n ? anchor : -1;
    m_frame.selection.positive = m_frame.selection.anchor >= 0 && positive >= 0 && positive < n ? positive : -1;
    update();
}

void ComparisonPanelView::paintPanel(QPainter& painter, Renderers& renderers, Frame2D& frame, const Camera3D& camera3d,
                                     const QString& title, int index, const QRect& area) {
    const QRect bar(area.left(), area.top(), area.width(), std::min(kTitleHeight, area.height()));
    painter.fillRect(bar, comparisonPanelColor(index));
    painter.setPen(Qt::white);
    QFont font = painter.font();
    font.setBold(true);
    painter.setFont(font);
    const QRect text = bar.adjusted(8, 0, -8, 0);
    painter.drawText(text, Qt::AlignVCenter | Qt::AlignLeft,
                     painter.fontMetrics().elidedText(title, Qt::ElideRight, text.width()));
    const QRect picture(area.left(), bar.bottom() + 1, area.width(), std::max(1, area.height() - bar.height()));
    frame.size = picture.size();
    painter.save();
    painter.translate(picture.topLeft());
    painter.setClipRect(QRect(QPoint(0, 0), picture.size()));
    if (Renderer3D::isThreeD(frame.snapshot.get())) renderers.sphere.paint(painter, Renderer3D::sphereFrame(frame, camera3d));
    else renderers.planar.paint(painter, frame);
    painter.restore();
}

void ComparisonPanelView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    paintPanel(painter, m_renderers, m_frame, m_camera3d, m_title, m_index, rect());
}

void ComparisonPanelView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_frame.size = pictureSize();
}

int ComparisonPanelView::pointAt(QPointF picture) const {
    if (isThreeD()) return Renderer3D::pick(sphereFrame(), picture, kPickRadius);
    int best = -1;
    double bestDistance = kPickRadius;
    const std::vector<QPointF> raw = Renderer2D::rawPositions(m_frame);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const double d = distance(m_frame.camera.toScreen(raw[i], pictureSize()), picture);
        if (d <= bestDistance) bestDistance = d, best = static_cast<int>(i);
    }
    return best;
}

void ComparisonPanelView::mousePressEvent(QMouseEvent* event) {
    const bool pan3d = isThreeD() && (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton);
    if (event->button() != Qt::LeftButton && !pan3d) return;
    m_pressed = true;
    m_moved = false;
    m_button = event->button();
    m_pressPosition = event->position();
    m_panStart = m_frame.camera;
    m_pressCamera3d = m_camera3d;
}

void ComparisonPanelView::mouseMoveEvent(QMouseEvent* event) {
    if (!m_pressed) return;
    if (distance(event->position(), m_pressPosition) > 3.0) m_moved = true;
    if (!m_moved) return;
    const QPointF d = event->position() - m_pressPosition;
    if (isThreeD()) {
        // Left: arcball rotation about the sphere's centre; right / middle: pan.
        Camera3D camera = m_pressCamera3d;
        if (m_button == Qt::LeftButton)
            camera = camera.arcball(toPicture(m_pressPosition), toPicture(event->position()), pictureSize());
        else
            camera.pan += d;
        setCamera3D(camera);
        emit camera3dChanged(m_camera3d);
        return;
    }
    Camera2D camera = m_panStart;
    camera.center += QPointF(-d.x(), d.y()) / camera.pixelsPerUnit;
    setCamera(camera);
    emit cameraChanged(m_frame.camera);
}

void ComparisonPanelView::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != m_button || !m_pressed) return;
    m_pressed = false;
    if (m_moved || m_button != Qt::LeftButton) return;
    const int point = pointAt(toPicture(event->position()));
    if (point >= 0 && (event->modifiers() & Qt::ShiftModifier) && anchor() >= 0) emit anchorClicked(anchor(), point);
    else emit anchorClicked(point, -1);
}

void ComparisonPanelView::wheelEvent(QWheelEvent* event) {
    if (isThreeD()) {
        setCamera3D(m_camera3d.zoomed(std::pow(1.0015, event->angleDelta().y())));
        emit camera3dChanged(m_camera3d);
        return;
    }
    // Zoom about the cursor: the world point under it stays put.
    const QPointF cursor = toPicture(event->position());
    const QPointF before = m_frame.camera.toWorld(cursor, pictureSize());
    Camera2D camera = m_frame.camera;
    camera.pixelsPerUnit = std::clamp(camera.pixelsPerUnit * std::pow(1.0015, event->angleDelta().y()),
                                      Camera2D::kMinPixelsPerUnit, Camera2D::kMaxPixelsPerUnit);
    camera.center += before - camera.toWorld(cursor, pictureSize());
    setCamera(camera);
    emit cameraChanged(m_frame.camera);
}

void ComparisonPanelView::keyPressEvent(QKeyEvent* event) {
    if (isThreeD()) {
        // The 3D view's keys: arrows turn the sphere (5° a press), as in PlotView3D.
        constexpr double kStep = 5.0 * std::numbers::pi / 180.0;
        std::optional<Camera3D> turned;
        switch (event->key()) {
            case Qt::Key_Left: turned = m_camera3d.turned(-kStep); break;
            case Qt::Key_Right: turned = m_camera3d.turned(kStep); break;
            case Qt::Key_Up: turned = m_camera3d.rotatedInView(Eigen::Vector3d::UnitX(), -kStep); break;
            case Qt::Key_Down: turned = m_camera3d.rotatedInView(Eigen::Vector3d::UnitX(), kStep); break;
            default: break;
        }
        if (turned) {
            setCamera3D(*turned);
            emit camera3dChanged(m_camera3d);
            return;
        }
    }
    if (event->key() == Qt::Key_F) emit fitRequested();
    else if (event->key() == Qt::Key_Escape && anchor() >= 0) emit anchorClicked(-1, -1);
    else QWidget::keyPressEvent(event);
}

}  // namespace marginlab

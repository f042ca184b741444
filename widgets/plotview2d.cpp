// SPDX-License-Identifier: MIT
#include "plotview2d.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace marginlab {

namespace {

constexpr double kPickRadius = 8.0;
constexpr double kFollowRate = 0.25;  // share of the way to the fitted camera per snapshot

double distance(QPointF a, QPointF b) { return std::hypot(a.x() - b.x(), a.y() - b.y()); }

}  // namespace

PlotView2D::PlotView2D(QWidget* parent) : QWidget(parent) {
    setMinimumSize(320, 240);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("Click a point to make it the triplet anchor (its hardest positive is chosen);\n"
                  "Shift+click a point of the same class to choose the positive; click empty space to clear.\n"
                  "Drag a point to move it, Ctrl+click to add a point of the chosen class, Delete removes the anchor\n"
                  "point (Ctrl+Z undoes). Drag empty space to pan, wheel to zoom, F to fit."));
}

void PlotView2D::setRun(const RunInfo& run) {
    m_frame.run = run;
    update();
}

void PlotView2D::setSnapshot(std::shared_ptr<const Snapshot> snapshot) {
    m_frame.snapshot = std::move(snapshot);
    const int n = m_frame.snapshot ? static_cast<int>(m_frame.snapshot->positions.rows()) : 0;
    if (m_frame.selection.anchor >= n) m_frame.selection = {};
    if (m_frame.selection.positive >= n) m_frame.selection.positive = -1;
    if (m_fitPending && isVisible() && !size().isEmpty()) fitToData();
    else if (m_frame.options.followData) follow();
    calibrateForces();
    update();
}

void PlotView2D::calibrateForces() {
    // A fixed force scale is set once, from the first forces shown, then kept: as the loss dies
    // away the arrows visibly shrink.
    ViewOptions& o = m_frame.options;
    if (o.forceScaleMode != ViewOptions::ForceScale::Fixed || o.forcePixelsPerUnit > 0.0 || !m_frame.snapshot) return;
    const double scale = Renderer2D::calibratedForceScale(*m_frame.snapshot, o.splitForces);
    if (!(scale > 0.0)) return;
    o.forcePixelsPerUnit = scale;
    emit optionsChanged(o);
}

void PlotView2D::setDescription(const QString& text) {
    m_frame.captions.description = text;
    update();
}

void PlotView2D::setCamera(const Camera2D& camera) {
    m_frame.camera.center = camera.center;
    m_frame.camera.pixelsPerUnit = std::clamp(camera.pixelsPerUnit, Camera2D::kMinPixelsPerUnit, Camera2D::kMaxPixelsPerUnit);
    m_fitPending = false;
    update();
}

void PlotView2D::fitToData() {
    if (!isVisible() || size().isEmpty()) {
        m_fitPending = true;  // the size is not known yet: fit on the first resize
        return;
    }
    setCamera(Camera2D::fitting(Renderer2D::dataBounds(m_frame), size()));
}

void PlotView2D::follow() {
    // Ease towards the fitted camera only when points leave the picture or fill a small part of it.
    const Camera2D target = Camera2D::fitting(Renderer2D::dataBounds(m_frame), size());
    const QRectF visible = m_frame.camera.visibleWorld(size());
    const QRectF bounds = Renderer2D::dataBounds(m_frame);
    const bool outside = !visible.contains(bounds);
    const bool small = bounds.width() * m_frame.camera.pixelsPerUnit < 0.35 * width() &&
                       bounds.height() * m_frame.camera.pixelsPerUnit < 0.35 * height();
    if (outside || small) setCamera(m_frame.camera.easedTowards(target, kFollowRate));
}

void PlotView2D::stopFollowing() {
    if (!m_frame.options.followData) return;
    m_frame.options.followData = false;
    emit optionsChanged(m_frame.options);
}

void PlotView2D::setAnchor(int anchor, int positive) {
    // Before the first snapshot (a scene opened at start) the anchor is kept as asked; setSnapshot()
    // drops it if the data turn out to have fewer points.
    const int n = m_frame.snapshot ? static_cast<int>(m_frame.snapshot->positions.rows())
                                   : std::max(anchor, positive) + 1;
    m_frame.selection.anchor = anchor >= 0 && anchor < n ? anchor : -1;
    m_frame.selection.positive = m_frame.selection.anchor >= 0 && positive >= 0 && positive < n ? positive : -1;
    const TripletOverlay o = overlay();
    emit anchorChanged(m_frame.selection.anchor, o.valid ? o.positive : -1);
    update();
}

int PlotView2D::pointAt(QPointF screen) const {
    int best = -1;
    double bestDistance = kPickRadius;
    const std::vector<QPointF> raw = Renderer2D::rawPositions(m_frame);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const double d = distance(toScreen(raw[i]), screen);
        if (d <= bestDistance) bestDistance = d, best = static_cast<int>(i);
    }
    return best;
}

void PlotView2D::paintEvent(QPaintEvent*) {
    m_frame.size = size();
    QPainter painter(this);
    m_renderer.paint(painter, m_frame);
    ++m_frames;
}

void PlotView2D::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_frame.size = size();
    if (m_fitPending && m_frame.snapshot) fitToData();
}

int PlotView2D::takeFrameCount() {
    const int frames = m_frames;
    m_frames = 0;
    return frames;
}

void PlotView2D::focusInEvent(QFocusEvent* event) {
    QWidget::focusInEvent(event);
    m_focusedByPress = event->reason() == Qt::MouseFocusReason;
}

void PlotView2D::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    m_pressPosition = event->position();
    m_moved = false;
    const QRectF close = Renderer2D::descriptionCloseBox(m_frame);
    if (!close.isEmpty() && close.adjusted(-4, -4, 4, 4).contains(event->position())) {
        m_frame.options.showDescription = false;
        emit optionsChanged(m_frame.options);
        update();
        return;
    }
    // On a point: a click picks the anchor, a drag moves the point (decided when the mouse moves).
    m_pressedPoint = pointAt(event->position());
    if (m_pressedPoint >= 0) return;
    if (event->modifiers() & Qt::ControlModifier) {
        emit pointAddRequested(toWorld(event->position()));
        return;
    }
    m_panning = true;
    m_panStart = m_frame.camera;
}

void PlotView2D::mouseMoveEvent(QMouseEvent* event) {
    if (distance(event->position(), m_pressPosition) > 3.0) m_moved = true;
    if (m_pressedPoint >= 0) {
        if (!m_moved) return;
        m_frame.drag = {m_pressedPoint, toWorld(event->position())};
        update();
        return;
    }
    if (!m_panning) return;
    if (m_moved) stopFollowing();
    const QPointF d = event->position() - m_pressPosition;
    Camera2D camera = m_panStart;
    camera.center += QPointF(-d.x(), d.y()) / camera.pixelsPerUnit;
    setCamera(camera);
}

void PlotView2D::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const bool focusClick = m_focusedByPress;
    m_focusedByPress = false;
    if (m_pressedPoint >= 0) {
        const int point = m_pressedPoint;
        m_pressedPoint = -1;
        m_frame.drag = {};
        if (m_moved) emit pointMoveRequested(point, toWorld(event->position()));
        else if ((event->modifiers() & Qt::ShiftModifier) && anchor() >= 0) setAnchor(anchor(), point);
        else setAnchor(point);
        emit viewSettingsChanged();
        return;
    }
    if (!m_panning) return;
    m_panning = false;
    // A plain click on empty space clears the overlay — unless it only brought the focus back.
    if (!m_moved && anchor() >= 0 && !focusClick) setAnchor(-1);
    emit viewSettingsChanged();
}

void PlotView2D::wheelEvent(QWheelEvent* event) {
    // Zoom about the cursor: the world point under it stays put.
    const QPointF cursor = event->position();
    const QPointF before = toWorld(cursor);
    Camera2D camera = m_frame.camera;
    camera.pixelsPerUnit = std::clamp(camera.pixelsPerUnit * std::pow(1.0015, event->angleDelta().y()),
                                      Camera2D::kMinPixelsPerUnit, Camera2D::kMaxPixelsPerUnit);
    camera.center += before - camera.toWorld(cursor, size());
    stopFollowing();
    setCamera(camera);
    emit viewSettingsChanged();
}

void PlotView2D::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_F) {
        fitToData();
        emit viewSettingsChanged();
    } else if (event->key() == Qt::Key_Escape) {
        if (anchor() >= 0) {
            setAnchor(-1);
        } else if (m_frame.options.showDescription && !m_frame.captions.description.isEmpty()) {
            m_frame.options.showDescription = false;
            emit optionsChanged(m_frame.options);
            update();
        }
    } else if ((event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) && anchor() >= 0) {
        const int point = anchor();
        setAnchor(-1);
        emit pointRemoveRequested(point);
    } else {
        QWidget::keyPressEvent(event);
    }
}

void PlotView2D::setOptions(const ViewOptions& options) {
    const bool followStarted = options.followData && !m_frame.options.followData;
    m_frame.options = options;
    m_frame.options.forceScale = std::max(0.0, options.forceScale);
    if (followStarted && m_frame.snapshot) follow();
    calibrateForces();
    update();
}

ViewSettings PlotView2D::viewSettings() const {
    ViewSettings s;
    s.options = m_frame.options;
    s.camera = m_frame.camera;
    s.selection = m_frame.selection;
    return s;
}

void PlotView2D::applyViewSettings(const ViewSettings& settings) {
    setOptions(settings.options);
    if (settings.camera) setCamera(*settings.camera);
    else fitToData();
    setAnchor(settings.selection.anchor, settings.selection.positive);
}

}  // namespace marginlab

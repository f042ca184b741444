// SPDX-License-Identifier: MIT
#include "plotview3d.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <numbers>

namespace marginlab {

namespace {

constexpr double kPickRadius = 8.0;
constexpr int kTurntableInterval = 33;  // ms: about 30 frames/s
constexpr double kKeyStep = 5.0 * std::numbers::pi / 180.0;

double distance(QPointF a, QPointF b) {
    return std::hypot(a.x() - b.x(), a.y() - b.y());
}

}  // namespace

PlotView3D::PlotView3D(QWidget* parent) : QWidget(parent) {
    setMinimumSize(320, 240);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr(
        "Drag to rotate the sphere, right-drag to pan, wheel to zoom; Ctrl+click on the sphere adds a "
        "point.\n"
        "Click a point to make it the triplet anchor (the front-most point under the cursor), Shift+click "
        "its positive;\ndrag a point to move it over the sphere, Delete removes the anchor point.\n"
        "Keys: arrows rotate, +/− zoom, 0 reset, 1 front, 2 top, 3 along the anchor's class, T turntable."));
    m_turntable.setInterval(kTurntableInterval);
    connect(&m_turntable, &QTimer::timeout, this, [this] {
        const double radians =
            kTurntableDegreesPerSecond * std::numbers::pi / 180.0 * kTurntableInterval / 1000.0;
        setCamera(m_frame.camera.turned(radians));
    });
}

void PlotView3D::setRun(const RunInfo& run) {
    m_frame.run = run;
    update();
}

void PlotView3D::setSnapshot(std::shared_ptr<const Snapshot> snapshot) {
    // Trails: the positions of the snapshots before this one, as long as the points are the same.
    if (m_trailLength > 0 && m_frame.snapshot && snapshot &&
        m_frame.snapshot->positions.rows() == snapshot->positions.rows() &&
        m_frame.snapshot->positions.cols() == snapshot->positions.cols()) {
        m_trail.push_back(m_frame.snapshot->positions);
        while (static_cast<int>(m_trail.size()) > m_trailLength) m_trail.pop_front();
    } else {
        m_trail.clear();
    }
    m_frame.trail.assign(m_trail.begin(), m_trail.end());
    m_frame.snapshot = std::move(snapshot);
    const int n = m_frame.snapshot ? static_cast<int>(m_frame.snapshot->positions.rows()) : 0;
    if (m_frame.selection.anchor >= n) m_frame.selection = {};
    if (m_frame.selection.positive >= n) m_frame.selection.positive = -1;
    if (m_frame.snapshot && (m_fitPending || m_frame.options.followData)) {
        const Camera3D fitted = Renderer3D::fitted(m_frame);
        // Following eases the radius; the first snapshot sets it.
        m_frame.camera.worldRadius =
            m_fitPending
                ? fitted.worldRadius
                : std::exp(std::log(m_frame.camera.worldRadius) +
                           0.25 * (std::log(fitted.worldRadius) - std::log(m_frame.camera.worldRadius)));
        m_fitPending = false;
    }
    calibrateForces();
    update();
}

void PlotView3D::calibrateForces() {
    ViewOptions& o = m_frame.options;
    if (o.forceScaleMode != ViewOptions::ForceScale::Fixed || o.forcePixelsPerUnit > 0.0 || !m_frame.snapshot)
        return;
    const double scale = Renderer2D::calibratedForceScale(*m_frame.snapshot, o.splitForces);
    if (!(scale > 0.0)) return;
    o.forcePixelsPerUnit = scale;
    emit optionsChanged(o);
}

void PlotView3D::setDescription(const QString& text) {
    m_frame.captions.description = text;
    update();
}

void PlotView3D::setCamera(const Camera3D& camera) {
    m_frame.camera = camera;
    m_frame.camera.zoom = std::clamp(camera.zoom, Camera3D::kMinZoom, Camera3D::kMaxZoom);
    update();
    emit cameraChanged();
}

void PlotView3D::resetCamera() {
    Camera3D camera;
    camera.worldRadius = m_frame.snapshot ? Renderer3D::fitted(m_frame).worldRadius : camera.worldRadius;
    setCamera(camera);
}

Eigen::Vector3d PlotView3D::classDirection() const {
    // The anchor's class (class 0 without an anchor): its weight, or its points' mean direction.
    const Snapshot* s = m_frame.snapshot.get();
    if (!s || s->positions.rows() == 0) return Eigen::Vector3d::UnitZ();
    const int anchor = m_frame.selection.anchor;
    const int label = anchor >= 0 && anchor < static_cast<int>(s->labels.size())
                          ? s->labels[static_cast<std::size_t>(anchor)]
                          : 0;
    auto row3 = [](const Points& x, Eigen::Index i) {
        Eigen::Vector3d p = Eigen::Vector3d::Zero();
        for (Eigen::Index k = 0; k < std::min<Eigen::Index>(3, x.cols()); ++k) p(k) = x(i, k);
        return p;
    };
    if (m_frame.run.hasClassWeights() && label >= 0 && label < s->owned.rows()) return row3(s->owned, label);
    Eigen::Vector3d sum = Eigen::Vector3d::Zero();
    const std::vector<Eigen::Vector3d> seen = Renderer3D::seenPositions(m_frame);
    for (std::size_t i = 0; i < seen.size(); ++i)
        if (s->labels[i] == label) sum += seen[i];
    return sum.squaredNorm() > 1e-24 ? sum : Eigen::Vector3d::UnitZ();
}

void PlotView3D::showNamedView(NamedView view) {
    switch (view) {
        case NamedView::Front:
            setCamera(m_frame.camera.front());
            break;
        case NamedView::Top:
            setCamera(m_frame.camera.top());
            break;
        case NamedView::AlongClass:
            setCamera(m_frame.camera.along(classDirection()));
            break;
    }
}

void PlotView3D::setTurntable(bool on) {
    if (on == m_turntable.isActive()) return;
    if (on)
        m_turntable.start();
    else
        m_turntable.stop();
}

void PlotView3D::setAnchor(int anchor, int positive) {
    // Before the first snapshot (a scene opened at start) the anchor is kept as asked; setSnapshot()
    // drops it if the data turn out to have fewer points.
    const int n = m_frame.snapshot ? static_cast<int>(m_frame.snapshot->positions.rows())
                                   : std::max(anchor, positive) + 1;
    m_frame.selection.anchor = anchor >= 0 && anchor < n ? anchor : -1;
    m_frame.selection.positive =
        m_frame.selection.anchor >= 0 && positive >= 0 && positive < n ? positive : -1;
    const SphereTripletOverlay o = overlay();
    emit anchorChanged(m_frame.selection.anchor, o.valid ? o.planar.positive : -1);
    update();
}

void PlotView3D::setTrailLength(int snapshots) {
    m_trailLength = std::max(0, snapshots);
    while (static_cast<int>(m_trail.size()) > m_trailLength) m_trail.pop_front();
    m_frame.trail.assign(m_trail.begin(), m_trail.end());
    update();
}

void PlotView3D::setShowEqualArea(bool shown) {
    m_frame.showEqualArea = shown;
    update();
}

void PlotView3D::setShowAxes(bool shown) {
    m_frame.showAxes = shown;
    update();
}

int PlotView3D::takeFrameCount() {
    const int frames = m_frames;
    m_frames = 0;
    return frames;
}

void PlotView3D::setOptions(const ViewOptions& options) {
    m_frame.options = options;
    m_frame.options.forceScale = std::max(0.0, options.forceScale);
    calibrateForces();
    update();
}

void PlotView3D::paintEvent(QPaintEvent*) {
    m_frame.size = size();
    QPainter painter(this);
    m_renderer.paint(painter, m_frame);
    ++m_frames;
}

void PlotView3D::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_frame.size = size();
}

Eigen::Vector3d PlotView3D::dragTarget(QPointF screen) const {
    // Over the sphere through the point (its own radius), the front half; off the outline, the rim.
    return *m_frame.camera.unprojectToSphere(screen, size(), m_dragRadius, true);
}

void PlotView3D::mousePressEvent(QMouseEvent* event) {
    m_frame.size = size();
    m_pressPosition = event->position();
    m_moved = false;
    m_button = event->button();
    m_pressCamera = m_frame.camera;
    m_pressedPoint = -1;
    if (event->button() != Qt::LeftButton) return;
    const QRectF close = Renderer3D::descriptionCloseBox(m_frame);
    if (!close.isEmpty() && close.adjusted(-4, -4, 4, 4).contains(event->position())) {
        m_frame.options.showDescription = false;
        m_button = Qt::NoButton;
        emit optionsChanged(m_frame.options);
        update();
        return;
    }
    m_pressedPoint = Renderer3D::pick(m_frame, event->position(), kPickRadius);
    if (m_pressedPoint >= 0) {
        const std::vector<Eigen::Vector3d> raw = Renderer3D::rawPositions(m_frame);
        m_dragRadius = std::max(raw[static_cast<std::size_t>(m_pressedPoint)].norm(), 1e-3);
        return;
    }
    if (event->modifiers() & Qt::ControlModifier) {
        m_button = Qt::NoButton;  // not a rotation
        if (const auto at = m_frame.camera.unprojectToSphere(event->position(), size()))
            emit pointAddRequested3D(QVector3D(static_cast<float>(at->x()), static_cast<float>(at->y()),
                                               static_cast<float>(at->z())));
    }
}

void PlotView3D::mouseMoveEvent(QMouseEvent* event) {
    if (m_button == Qt::NoButton) return;
    if (distance(event->position(), m_pressPosition) > 3.0) m_moved = true;
    if (!m_moved) return;
    if (m_button == Qt::LeftButton && m_pressedPoint >= 0) {
        m_frame.drag = {m_pressedPoint, dragTarget(event->position())};
        update();
    } else if (m_button == Qt::LeftButton) {
        setCamera(m_pressCamera.arcball(m_pressPosition, event->position(), size()));
    } else if (m_button == Qt::RightButton || m_button == Qt::MiddleButton) {
        Camera3D camera = m_pressCamera;
        camera.pan += event->position() - m_pressPosition;
        setCamera(camera);
    }
}

void PlotView3D::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != m_button) return;
    m_button = Qt::NoButton;
    if (event->button() != Qt::LeftButton) return;
    if (m_pressedPoint >= 0) {
        const int point = m_pressedPoint;
        m_pressedPoint = -1;
        m_frame.drag = {};
        if (m_moved) {
            const Eigen::Vector3d to = dragTarget(event->position());
            emit pointMoveRequested3D(point, QVector3D(static_cast<float>(to.x()), static_cast<float>(to.y()),
                                                       static_cast<float>(to.z())));
        } else if ((event->modifiers() & Qt::ShiftModifier) && anchor() >= 0) {
            setAnchor(anchor(), point);
        } else {
            setAnchor(point);
        }
        update();
        return;
    }
    if (!m_moved && anchor() >= 0) setAnchor(-1);  // a click on empty space clears the overlay
}

void PlotView3D::wheelEvent(QWheelEvent* event) {
    setCamera(m_frame.camera.zoomed(std::pow(1.0015, event->angleDelta().y())));
}

void PlotView3D::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
        case Qt::Key_Left:
            setCamera(m_frame.camera.turned(-kKeyStep));
            break;
        case Qt::Key_Right:
            setCamera(m_frame.camera.turned(kKeyStep));
            break;
        case Qt::Key_Up:
            setCamera(m_frame.camera.rotatedInView(Eigen::Vector3d::UnitX(), -kKeyStep));
            break;
        case Qt::Key_Down:
            setCamera(m_frame.camera.rotatedInView(Eigen::Vector3d::UnitX(), kKeyStep));
            break;
        case Qt::Key_Plus:
        case Qt::Key_Equal:
            setCamera(m_frame.camera.zoomed(1.2));
            break;
        case Qt::Key_Minus:
            setCamera(m_frame.camera.zoomed(1.0 / 1.2));
            break;
        case Qt::Key_0:
            resetCamera();
            break;
        case Qt::Key_1:
            showNamedView(NamedView::Front);
            break;
        case Qt::Key_2:
            showNamedView(NamedView::Top);
            break;
        case Qt::Key_3:
            showNamedView(NamedView::AlongClass);
            break;
        case Qt::Key_T:
            setTurntable(!turntable());
            break;
        case Qt::Key_Escape:
            if (anchor() >= 0) {
                setAnchor(-1);
            } else if (m_frame.options.showDescription && !m_frame.captions.description.isEmpty()) {
                m_frame.options.showDescription = false;
                emit optionsChanged(m_frame.options);
                update();
            }
            break;
        case Qt::Key_Delete:
        case Qt::Key_Backspace:
            if (anchor() >= 0) {
                const int point = anchor();
                setAnchor(-1);
                emit pointRemoveRequested(point);
            }
            break;
        default:
            QWidget::keyPressEvent(event);
    }
}

}  // namespace marginlab

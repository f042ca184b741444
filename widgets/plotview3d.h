// SPDX-License-Identifier: MIT
// PlotView3D: the 3D view on screen. Like PlotView2D it owns only input handling and its camera;
// the picture is Renderer3D's, painted from the current Frame3D — the same function the
// recorder, the exporter and the tests call.
//
// Mouse: left drag on empty space rotates (arcball: the grabbed point of the sphere follows the
// cursor), left drag on a point moves it over the sphere through it (released: a move request),
// click picks the anchor (front-most point wins), Shift+click its positive, click on empty space
// clears, Ctrl+click on the sphere asks for a point there; right or middle drag pans; the wheel zooms. Keys:
// arrows rotate, +/− zoom, 0 resets, 1 front, 2 top, 3 along the anchor's class weight (or class centroid), T
// turntable, Esc, Delete.
#pragma once

#include <QTimer>
#include <QVector3D>
#include <QWidget>
#include <deque>
#include <memory>

#include "renderer3d.h"

namespace marginlab {

class PlotView3D : public QWidget {
    Q_OBJECT
public:
    explicit PlotView3D(QWidget* parent = nullptr);

    void setRun(const RunInfo& run);
    void setSnapshot(std::shared_ptr<const Snapshot> snapshot);
    std::shared_ptr<const Snapshot> snapshot() const { return m_frame.snapshot; }
    const ViewOptions& options() const { return m_frame.options; }
    void setDescription(const QString& text);

    /// The frame the view shows now, at its own size (export and recording start from it).
    const Frame3D& frame() const { return m_frame; }
    SphereTripletOverlay overlay() const { return Renderer3D::tripletOverlay(m_frame); }
    Diagnosis diagnosis() const { return Renderer3D::diagnosis(m_frame); }

    // Camera.
    const Camera3D& camera() const { return m_frame.camera; }
    void setCamera(const Camera3D& camera);
    /// Front view, zoom 1, no pan, the data's radius.
    void resetCamera();
    enum class NamedView { Front, Top, AlongClass };
    void showNamedView(NamedView view);
    void setTurntable(bool on);
    bool turntable() const { return m_turntable.isActive(); }
    /// Degrees per second of the turntable.
    static constexpr double kTurntableDegreesPerSecond = 15.0;

    // Triplet overlay: anchor −1 hides it; positive −1 means "the hardest positive".
    void setAnchor(int anchor, int positive = -1);
    int anchor() const { return m_frame.selection.anchor; }

    /// Trails of the last `snapshots` positions (0: none).
    void setTrailLength(int snapshots);
    void setShowEqualArea(bool shown);
    void setShowAxes(bool shown);

    /// Frames painted since the last call (for the frames/s read-out).
    int takeFrameCount();

public slots:
    void setOptions(const marginlab::ViewOptions& options);

signals:
    void anchorChanged(int anchor, int positive);
    /// Ctrl+click on the sphere where no point is: add a point there (world, on the unit sphere).
    void pointAddRequested3D(QVector3D at);
    /// A point dragged over the sphere through it and dropped at `to` (world).
    void pointMoveRequested3D(int index, QVector3D to);
    void pointRemoveRequested(int index);  ///< Delete on the selected (anchor) point
    void cameraChanged();
    void optionsChanged(const marginlab::ViewOptions& options);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    void calibrateForces();
    Eigen::Vector3d dragTarget(QPointF screen) const;
    Eigen::Vector3d classDirection() const;

    Frame3D m_frame;
    Renderer3D m_renderer;
    QTimer m_turntable;
    bool m_fitPending = true;
    int m_trailLength = 0;
    std::deque<Points> m_trail;
    int m_pressedPoint = -1;
    double m_dragRadius = 1.0;
    QPointF m_pressPosition;
    Qt::MouseButton m_button = Qt::NoButton;
    bool m_moved = false;
    Camera3D m_pressCamera;
    int m_frames = 0;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// ComparisonPanelView: one panel of a comparison. Like PlotView2D and PlotView3D it owns only its
// input handling and its cameras; the picture is Renderer2D's — or, for 3D data, Renderer3D's
// sphere — painted from the panel's frame under a title bar in the panel's colour (the colour of
// its curves in ComparisonCharts). It reports pans, zooms, rotations and clicked anchors, and
// ComparisonView passes them on to the other panels.
#pragma once

#include "renderer2d.h"
#include "renderer3d.h"

#include <QColor>
#include <QString>
#include <QWidget>

#include <memory>

namespace marginlab {

/// The colour of panel `index` (0–3) in the views and the charts; distinct from the class colours'
/// role (a bar and curves, never a point).
QColor comparisonPanelColor(int index);

class ComparisonPanelView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kTitleHeight = 24;

    explicit ComparisonPanelView(int index, QWidget* parent = nullptr);

    int index() const { return m_index; }
    void setTitle(const QString& title);
    const QString& title() const { return m_title; }
    void setRun(const RunInfo& run);
    void setSnapshot(std::shared_ptr<const Snapshot> snapshot);
    std::shared_ptr<const Snapshot> snapshot() const { return m_frame.snapshot; }
    void setOptions(const ViewOptions& options);

    /// The frame the panel shows (its size is the picture under the title bar).
    const Frame2D& frame() const { return m_frame; }
    const Camera2D& camera() const { return m_frame.camera; }
    /// Sets the camera without reporting it (ComparisonView links the panels with it).
    void setCamera(const Camera2D& camera);
    /// The 3D camera (used when the data is 3D); set without reporting.
    const Camera3D& camera3d() const { return m_camera3d; }
    void setCamera3D(const Camera3D& camera);
    bool isThreeD() const { return Renderer3D::isThreeD(m_frame.snapshot.get()); }
    /// The sphere frame the panel shows for 3D data.
    Frame3D sphereFrame() const { return Renderer3D::sphereFrame(m_frame, m_camera3d); }
    /// The size of the picture under the title bar.
    QSize pictureSize() const;
    QPointF toScreen(QPointF world) const;
    /// The anchor and positive shown (−1: none); set without reporting.
    void setSelection(int anchor, int positive);
    int anchor() const { return m_frame.selection.anchor; }

    /// The renderers of one panel (they keep caches between frames).
    struct Renderers {
        Renderer2D planar;
        Renderer3D sphere;
    };
    /// Paints a panel (title bar + frame) into `area` of any painter: the widget, recordings and
    /// ComparisonView::renderImage draw the same picture. 3D data is shown on the sphere through `camera3d`.
    static void paintPanel(QPainter& painter, Renderers& renderers, Frame2D& frame, const Camera3D& camera3d,
                           const QString& title, int index, const QRect& area);

signals:
    /// The user panned or zoomed this panel (live, during a drag).
    void cameraChanged(const marginlab::Camera2D& camera);
    /// The user rotated, zoomed or panned this panel's sphere.
    void camera3dChanged(const marginlab::Camera3D& camera);
    /// The user clicked a point (−1: cleared); positive −1 means the hardest.
    void anchorClicked(int anchor, int positive);
    /// F pressed: fit the data.
    void fitRequested();

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    int pointAt(QPointF picture) const;
    QPointF toPicture(QPointF widget) const { return widget - QPointF(0, kTitleHeight); }

    int m_index;
    QString m_title;
    Frame2D m_frame;
    Camera3D m_camera3d;
    Renderers m_renderers;
    QPointF m_pressPosition;
    Qt::MouseButton m_button = Qt::NoButton;
    Camera2D m_panStart;
    Camera3D m_pressCamera3d;
    bool m_pressed = false;
    bool m_moved = false;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// ComparisonPanelView: one panel of a comparison. Like PlotView2D it owns only its input handling
// and its camera; the picture is Renderer2D's, painted from the panel's Frame2D under a title bar
// in the panel's colour (the colour of its curves in ComparisonCharts). It reports pans, zooms and
// clicked anchors, and ComparisonView passes them on to the other panels.
#pragma once

#include "renderer2d.h"

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
    /// The size of the picture under the title bar.
    QSize pictureSize() const;
    QPointF toScreen(QPointF world) const;
    /// The anchor and positive shown (−1: none); set without reporting.
    void setSelection(int anchor, int positive);
    int anchor() const { return m_frame.selection.anchor; }

    /// Paints a panel (title bar + frame) into `area` of any painter: the widget and
    /// ComparisonView::renderImage draw the same picture.
    static void paintPanel(QPainter& painter, Renderer2D& renderer, Frame2D& frame, const QString& title, int index,
                           const QRect& area);

signals:
    /// The user panned or zoomed this panel (live, during a drag).
    void cameraChanged(const marginlab::Camera2D& camera);
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
    Renderer2D m_renderer;
    QPointF m_pressPosition;
    Camera2D m_panStart;
    bool m_pressed = false;
    bool m_moved = false;
};

}  // namespace marginlab

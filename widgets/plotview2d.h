// SPDX-License-Identifier: MIT
// PlotView2D: the 2D view on screen. It owns only input handling and its camera; the picture is
// Renderer2D's, painted from the current Frame2D (snapshot, run description, options, camera,
// size), the same function the exporter, the recorder and the tests call.
#pragma once

#include "renderer2d.h"
#include "viewsettings.h"

#include <QWidget>

#include <memory>

namespace marginlab {

class PlotView2D : public QWidget {
    Q_OBJECT
public:
    explicit PlotView2D(QWidget* parent = nullptr);

    /// What the run is (from the catalogue); set when the loss or miner configuration changes.
    void setRun(const RunInfo& run);
    void setSnapshot(std::shared_ptr<const Snapshot> snapshot);
    std::shared_ptr<const Snapshot> snapshot() const { return m_frame.snapshot; }
    const ViewOptions& options() const { return m_frame.options; }
    /// The scene's teaching text, shown on the canvas until dismissed (its × or Esc twice).
    void setDescription(const QString& text);

    /// The frame the view shows now, at its own size (export and recording start from it).
    const Frame2D& frame() const { return m_frame; }
    TripletOverlay overlay() const { return Renderer2D::tripletOverlay(m_frame); }
    Diagnosis diagnosis() const { return Renderer2D::diagnosis(m_frame); }

    // Camera.
    const Camera2D& camera() const { return m_frame.camera; }
    void setCamera(const Camera2D& camera);
    /// Zooms and pans so that every point is visible (waits for the real size before the first show).
    void fitToData();
    QPointF toScreen(QPointF world) const { return m_frame.camera.toScreen(world, size()); }
    QPointF toWorld(QPointF screen) const { return m_frame.camera.toWorld(screen, size()); }

    // Triplet overlay: anchor −1 hides it; positive −1 means "the hardest positive".
    void setAnchor(int anchor, int positive = -1);
    int anchor() const { return m_frame.selection.anchor; }

    ViewSettings viewSettings() const;
    void applyViewSettings(const ViewSettings& settings);

    /// Frames painted since the last call (for the frames/s read-out).
    int takeFrameCount();

public slots:
    void setOptions(const marginlab::ViewOptions& options);

signals:
    void anchorChanged(int anchor, int positive);
    // Point editing: the view only asks; the document applies the edit (undoably).
    void pointAddRequested(QPointF world);           ///< Ctrl+click on empty space
    void pointMoveRequested(int index, QPointF to);  ///< a point dragged and dropped
    void pointRemoveRequested(int index);            ///< Delete on the selected (anchor) point
    void viewSettingsChanged();
    /// The view changed its own options (follow turned off by a manual pan or zoom, description closed).
    void optionsChanged(const marginlab::ViewOptions& options);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void focusInEvent(QFocusEvent* event) override;

private:
    int pointAt(QPointF screen) const;
    void follow();
    void calibrateForces();
    void stopFollowing();

    Frame2D m_frame;
    Renderer2D m_renderer;
    bool m_fitPending = true;  // fit once the widget has its real size
    int m_pressedPoint = -1;   // the point under the press, until release
    QPointF m_pressPosition;
    bool m_panning = false;
    bool m_moved = false;
    bool m_focusedByPress = false;  // this press gave the view focus: it is not a "clear" click
    Camera2D m_panStart;
    int m_frames = 0;
};

}  // namespace marginlab

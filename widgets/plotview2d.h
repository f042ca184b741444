// SPDX-License-Identifier: MIT
// PlotView2D: the 2D picture of a run, painted with QPainter only, so that the same render()
// draws on screen (paintEvent), into a QImage in offscreen tests and into recorded frames.
//
// It keeps the last snapshot and never touches the trainer. Layers, back to front: decision
// regions (class weights: the predicted class, the margin band striped, the softmax's uncertainty
// faded; tuple losses: nearest class centroid or nearest point), grid and axes, unit circle
// (normalizing losses), class weights / centroids, the triplet overlay (hard disk, semi-hard
// ring), normalized copies of the points, the points, force arrows, legend, text, the θ inset of
// the softmax family and the diagnosis banner.
// With 3D data it shows the first two coordinates.
#pragma once

#include "diagnosis.h"
#include "viewoptions.h"
#include "marginlab/loss.h"
#include "marginlab/regions.h"
#include "marginlab/trainer.h"

#include <nlohmann/json.hpp>

#include <QImage>
#include <QPointF>
#include <QWidget>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace marginlab {

/// The triplet overlay for one anchor: the engine's region query plus the two balls to draw.
struct TripletOverlay {
    bool valid = false;
    int anchor = -1;
    int positive = -1;
    RegionQuery query;        ///< regions per point, counts, M_ap and the margin
    bool hasCircles = false;  ///< false for unnormalized dot products (no metric ball to draw)
    QPointF center;           ///< anchor in drawing space (normalized when the loss normalizes)
    Real hardRadius = 0.0;    ///< ball δ_an ≤ δ_ap in drawing space
    Real ringRadius = 0.0;    ///< ball δ_an ≤ δ_ap + margin
};

class PlotView2D : public QWidget {
    Q_OBJECT
public:
    explicit PlotView2D(QWidget* parent = nullptr);

    /// A new scene: labels, classes and the loss (what to draw); keeps the view unless `fit`.
    void setConfig(const TrainerConfig& config, bool fit = true);
    void setSnapshot(std::shared_ptr<const Snapshot> snapshot);
    /// New labels after a point edit (the snapshot with the edited points follows).
    void setLabels(const Labels& labels);
    std::shared_ptr<const Snapshot> snapshot() const { return m_snapshot; }

    /// Paints everything at `size` (device-independent pixels) with the current view transform.
    void render(QPainter& painter, QSize size);
    QImage renderImage(QSize size);

    // View transform: the world point at the middle of the picture and the zoom.
    void fitToData();
    QPointF center() const { return m_center; }
    double pixelsPerUnit() const { return m_pixelsPerUnit; }
    void setView(QPointF center, double pixelsPerUnit);
    QPointF toScreen(QPointF world, QSize size) const;
    QPointF toWorld(QPointF screen, QSize size) const;

    // Triplet overlay: anchor −1 hides it; positive −1 means "the hardest positive".
    void setAnchor(int anchor, int positive = -1);
    int anchor() const { return m_anchor; }
    const TripletOverlay& overlay() const { return m_overlay; }

    const ViewOptions& options() const { return m_options; }

    /// What is wrong with the run shown (printed on the canvas as a banner).
    Diagnosis diagnosis() const;

    /// The view part of a scene file ("view" object) and back.
    nlohmann::json viewSettings() const;
    void applyViewSettings(const nlohmann::json& view);

    /// Frames painted since the last call (for the frames/s read-out).
    int takeFrameCount();

public slots:
    void setOptions(const marginlab::ViewOptions& options);

signals:
    void anchorChanged(int anchor, int positive);
    // Point editing: the view only asks; the owner applies the edit (undoably) to the run.
    void pointAddRequested(QPointF world);                   ///< Ctrl+click on empty space
    void pointMoveRequested(int index, QPointF to);          ///< a point dragged and dropped
    void pointRemoveRequested(int index);                    ///< Delete on the selected (anchor) point
    void viewSettingsChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    void updateOverlay();
    QPointF drawn(Eigen::Index i) const;  // drawing-space position (normalized when the loss normalizes)
    QPointF raw(Eigen::Index i) const;
    int pointAt(QPointF screen) const;
    const QImage& sprite(int classId);
    const QImage& ringSprite(Region region);  // Easy, SemiHard or Hard
    struct GridTicks {
        double step = 1.0;
        std::vector<double> xs, ys;  // world coordinates of the grid lines in view
    };
    GridTicks gridTicks(QSize size) const;
    void drawBackground(QPainter& painter, QSize size, bool labelled);
    /// Fills m_regionImage with the regions; false (nothing written) when there are none to show.
    bool fillRegions(QSize size);
    void fillCells(QSize size, const std::function<QRgb(QPointF world, int col, int row)>& colourOf);
    void fillClassifierRegions(QSize size);
    void fillNearestRegions(QSize size, const std::vector<QPointF>& references, const std::vector<int>& classOf);
    void drawMarginInset(QPainter& painter, QSize size) const;
    bool marginInsetShown(QSize size) const;
    static QRectF marginInsetBox(QSize size);
    bool hasClassWeights() const;
    void drawGridLabels(QPainter& painter, QSize size) const;
    void drawOwned(QPainter& painter, QSize size) const;
    void drawOverlay(QPainter& painter, QSize size) const;
    void drawPoints(QPainter& painter, QSize size);
    void drawForces(QPainter& painter, QSize size) const;
    void drawLegend(QPainter& painter, QSize size) const;
    void drawText(QPainter& painter, QSize size) const;
    void drawDiagnosis(QPainter& painter, QSize size) const;
    std::vector<QPointF> centroids() const;

    std::shared_ptr<const Snapshot> m_snapshot;
    Labels m_labels;
    int m_numClasses = 0;
    const LossInfo* m_lossInfo = nullptr;
    std::optional<MarginLogits> m_marginLogits;  // softmax family: how logits and the margin are made
    DistanceSpec m_distance;
    Real m_margin = 0.0;
    SemiHardRule m_rule = SemiHardRule::Pml;
    std::vector<int> m_classSizes;

    QPointF m_center{0.0, 0.0};
    double m_pixelsPerUnit = 100.0;
    int m_anchor = -1;
    int m_positive = -1;
    TripletOverlay m_overlay;
    ViewOptions m_options;

    std::vector<QImage> m_sprites;
    std::array<QImage, 3> m_ringSprites;  // indexed by Region (Easy, SemiHard, Hard)
    QImage m_regionImage;
    int m_pressedPoint = -1;   // the point under the press, until release
    int m_draggedPoint = -1;   // the point being dragged (drawn at m_dragPreview)
    QPointF m_dragPreview;
    QPointF m_pressPosition;
    bool m_dragging = false;
    bool m_dragMoved = false;
    QPointF m_dragStart;
    QPointF m_dragCenter;
    int m_frames = 0;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// The layers of a 2D frame (internal to the render library). Each layer is a function of the
// FrameContext, which holds what several layers need and is computed once per frame.
#pragma once

#include "renderer2d.h"

#include <QFont>
#include <QLineF>
#include <QPainter>

#include <functional>
#include <optional>
#include <vector>

namespace marginlab::layers {

struct FrameContext {
    FrameContext(const Frame2D& frame, bool vector);

    const Frame2D& frame;
    const Snapshot& snapshot;
    const RunInfo& run;
    const ViewOptions& options;
    QSizeF size;
    bool vector;         ///< an SVG / PDF target: paths and shapes only, no cached bitmaps
    double scale;        ///< ViewOptions::textScale: multiplies text and line sizes
    bool normalizes;     ///< the loss sees directions: normalized copies, unit circle
    bool planar;         ///< D = 2 (3D data show x, y and no regions)
    int classes;
    std::vector<QPointF> raw;   ///< world positions as drawn (with the drag preview)
    std::vector<QPointF> seen;  ///< where the loss sees them (normalized copies, or raw)
    TripletOverlay triplet;
    Diagnosis diagnosis;
    double top = 0.0;  ///< where the corner cards start: below the caption title when there is one
    bool insetShown = false;
    QRectF insetBox;

    QPointF screen(QPointF world) const { return frame.camera.toScreen(world, size); }
    double px(double pixels) const { return pixels * scale; }
    QFont font(double pixels, bool bold = false) const;
    bool hasClassWeights() const;
};

// Back to front.
void paintRegionsAndGrid(QPainter& painter, const FrameContext& c, QImage& cache);
void paintAxisLabels(QPainter& painter, const FrameContext& c);
void paintClassWeights(QPainter& painter, const FrameContext& c);
void paintTripletZones(QPainter& painter, const FrameContext& c);
void paintDistanceBand(QPainter& painter, const FrameContext& c);
void paintPoints(QPainter& painter, const FrameContext& c, std::vector<QImage>& sprites, double& spriteScale);
void paintTripletMarks(QPainter& painter, const FrameContext& c);
void paintForces(QPainter& painter, const FrameContext& c);
void paintReadout(QPainter& painter, const FrameContext& c);
void paintLegend(QPainter& painter, const FrameContext& c);
void paintMarginInset(QPainter& painter, const FrameContext& c);
void paintLossPicture(QPainter& painter, const FrameContext& c);  // layer_losspictures.cpp
/// Where a point is drawn on screen, and whether a surface hides it (the 3D view's far side).
struct ScreenPoint {
    QPointF at;
    bool hidden = false;
};
/// The loss's picture with the points drawn at `points` (one per snapshot row), for views that do
/// not draw them at FrameContext::screen (the 3D view): NCA's rings sit on the points themselves.
void paintLossPicture(QPainter& painter, const FrameContext& c, const std::vector<ScreenPoint>& points);
void paintBanner(QPainter& painter, const FrameContext& c);
void paintCaptions(QPainter& painter, const FrameContext& c);

/// Geometry shared by the description card's painting and the widget's click test.
QRectF descriptionBox(const FrameContext& c);
QRectF descriptionCloseBox(const FrameContext& c);

/// The class means of the points as the loss sees them (unnormalized means of the normalized
/// copies when it normalizes); `present[k]` is false for a class with no point.
std::vector<QPointF> classCentroids(const FrameContext& c, std::vector<bool>& present);

/// A loss's β boundary and band (RunInfo::distanceBand) around the chosen anchor, as Euclidean
/// radii around the anchor as the loss sees it (any D: discs in 2D, caps or shells in 3D).
struct DistanceBandRadii {
    double beta = 0.0;   ///< β itself (the anchor class's β when learned per class)
    double boundary = 0.0, inner = 0.0, outer = 0.0;
};
/// Empty when the run has no band, the anchor is not a point, or the distance bounds no ball.
std::optional<DistanceBandRadii> distanceBandRadii(const RunInfo& run, const Snapshot& snapshot, int anchor);
/// The band as the 2D view draws it: a shaded annulus with its edges and the dash-dot β ring, named,
/// around `center` at `pixelsPerUnit` (the 3D view's orthographic shells are the same discs).
void paintBandDiscs(QPainter& painter, const FrameContext& c, QPointF center, double pixelsPerUnit,
                    const DistanceBandRadii& radii);
/// The label "β = …" of the band's β ring, drawn beside `at`.
void paintBetaLabel(QPainter& painter, const FrameContext& c, QPointF at, double beta);

/// Pixels per unit of |∂L/∂x| of the force arrows in this frame (0: none drawn).
double forcePixelsPerUnit(const FrameContext& c);

/// An RGB32 image of `size` (device-independent pixels) at `devicePixelRatio`, white, painted by
/// `paint` — what Renderer2D::image and Renderer3D::image return.
QImage paintedImage(QSizeF size, double devicePixelRatio, const std::function<void(QPainter&)>& paint);

// Small drawing helpers shared by the layers.
double norm2(QPointF p);
void appendArrow(std::vector<QLineF>& lines, QPointF from, QPointF to, double head);
void drawCard(QPainter& painter, const QRectF& box, double scale);
/// The 1-2-5 grid step closest above `target` world units.
double niceStep(double target);

}  // namespace marginlab::layers

// SPDX-License-Identifier: MIT
/**
 * Renderer2D: paints a Frame2D into any QPainter — a widget, a QImage of fixed pixel size, an
 * SVG or PDF generator. Layers, back to front: class regions and the margin band, grid and axes,
 * the unit circle, class weights / proxies / centroids, the triplet zones of the selected anchor,
 * normalized copies and the points, the marks of the points the triplet loss uses, force arrows,
 * then the cards: read-out, legend, force scale, θ inset, banner, captions and description.
 *
 * On raster targets the background is one image (regions with anti-aliased vector edges, the
 * grid written into it) and points are blitted sprites; on vector targets (SVG, PDF) every
 * region is a path and every point its own ellipse, so a drawing holds no bitmap per point.
 * Sizes are pixels of the target times ViewOptions::textScale, so a 1920×1080 frame looks the
 * same on any screen. The caches it keeps (sprites, the background image) never change a picture.
 */
#pragma once

#include "frame2d.h"
#include "diagnosis.h"

#include "marginlab/regions.h"

#include <QImage>
#include <QPainter>
#include <QRectF>

#include <vector>

namespace marginlab {

/// The triplet overlay of a selected anchor: the engine's region query plus the zones to draw.
struct TripletOverlay {
    bool valid = false;
    int anchor = -1;
    int positive = -1;
    RegionQuery query;        ///< regions per point, counts, M_ap and the margin
    bool hasCircles = false;  ///< false for unnormalized dot products (no metric ball to draw)
    QPointF center;           ///< anchor where the loss sees it (normalized when the loss normalizes)
    double hardRadius = 0.0;  ///< ball δ_an ≤ δ_ap, world units
    double ringRadius = 0.0;  ///< ball δ_an ≤ δ_ap + margin
};

class Renderer2D {
public:
    void paint(QPainter& painter, const Frame2D& frame);
    /// The frame as an RGB32 image of frame.size pixels (times `devicePixelRatio`).
    QImage image(const Frame2D& frame, double devicePixelRatio = 1.0);

    /// Pure queries the widgets share with the painting, so what is clicked is what is drawn.
    static TripletOverlay tripletOverlay(const Frame2D& frame);
    static Diagnosis diagnosis(const Frame2D& frame);
    /// Where each point is drawn (world), and where the loss sees it (normalized copies).
    static std::vector<QPointF> rawPositions(const Frame2D& frame);
    static std::vector<QPointF> seenPositions(const Frame2D& frame);
    /// The world rectangle that holds the data (and the unit circle for normalizing losses).
    static QRectF dataBounds(const Frame2D& frame);
    /// The description card and its close box (empty when not shown), for the widget's clicks.
    static QRectF descriptionCloseBox(const Frame2D& frame);
    /// The fixed force scale (px per unit of |∂L/∂x|) at which the snapshot's longest arrow is 40 px.
    static double calibratedForceScale(const Snapshot& snapshot, bool split);

private:
    QImage m_background;                      // regions + grid, reused between frames
    std::vector<QImage> m_sprites;            // per class, at m_spriteScale
    double m_spriteScale = 0.0;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Camera2D: which part of the plane a 2D frame shows. World y points up, screen y down.
#pragma once

#include <QPointF>
#include <QRectF>
#include <QSizeF>

namespace marginlab {

struct Camera2D {
    QPointF center{0.0, 0.0};     ///< world point at the middle of the picture
    double pixelsPerUnit = 100.0;

    QPointF toScreen(QPointF world, QSizeF size) const {
        return {size.width() / 2.0 + (world.x() - center.x()) * pixelsPerUnit,
                size.height() / 2.0 - (world.y() - center.y()) * pixelsPerUnit};
    }
    QPointF toWorld(QPointF screen, QSizeF size) const {
        return {center.x() + (screen.x() - size.width() / 2.0) / pixelsPerUnit,
                center.y() - (screen.y() - size.height() / 2.0) / pixelsPerUnit};
    }
    /// The world rectangle the picture shows (normalized: top < bottom in world y).
    QRectF visibleWorld(QSizeF size) const;

    /// The camera showing `bounds` (world) whole in a picture of `size`, with room around it for
    /// the read-out, the legend and the axis labels.
    static Camera2D fitting(QRectF bounds, QSizeF size);
    /// Part of the way (t ∈ [0, 1]) to `target`: the centre linearly, the zoom geometrically.
    Camera2D easedTowards(const Camera2D& target, double t) const;
    /// Zoom limits (a view is never degenerate).
    static constexpr double kMinPixelsPerUnit = 1e-3, kMaxPixelsPerUnit = 1e7;

    bool operator==(const Camera2D&) const = default;
};

}  // namespace marginlab

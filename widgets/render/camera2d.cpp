// SPDX-License-Identifier: MIT
#include "camera2d.h"

#include <algorithm>
#include <cmath>

namespace marginlab {

QRectF Camera2D::visibleWorld(QSizeF size) const {
    return QRectF(toWorld(QPointF(0, 0), size), toWorld(QPointF(size.width(), size.height()), size)).normalized();
}

Camera2D Camera2D::fitting(QRectF bounds, QSizeF size) {
    // A line of points or a single point has zero width or height (QRectF::isValid() is false
    // then): it is still data to show, so only negative or non-finite extents fall back.
    if (!(bounds.width() >= 0.0) || !(bounds.height() >= 0.0) || !std::isfinite(bounds.width()) ||
        !std::isfinite(bounds.height()) || !std::isfinite(bounds.center().x()) || !std::isfinite(bounds.center().y()))
        bounds = QRectF(-1.0, -1.0, 2.0, 2.0);
    // A single point: a unit around it rather than the zoom limit.
    if (bounds.width() < 1e-9 && bounds.height() < 1e-9)
        bounds = QRectF(bounds.center() - QPointF(1.0, 1.0), QSizeF(2.0, 2.0));
    const double width = std::max(bounds.width(), 1e-6), height = std::max(bounds.height(), 1e-6);
    // 10 % of the picture free on every side (cards sit in the corners, labels along the edges).
    const double usableWidth = std::max(1.0, size.width() * 0.8), usableHeight = std::max(1.0, size.height() * 0.8);
    Camera2D camera;
    camera.center = bounds.center();
    camera.pixelsPerUnit = std::clamp(std::min(usableWidth / width, usableHeight / height), kMinPixelsPerUnit,
                                      kMaxPixelsPerUnit);
    return camera;
}

Camera2D Camera2D::easedTowards(const Camera2D& target, double t) const {
    t = std::clamp(t, 0.0, 1.0);
    Camera2D out;
    out.center = center + (target.center - center) * t;
    out.pixelsPerUnit = std::exp(std::log(pixelsPerUnit) + (std::log(target.pixelsPerUnit) - std::log(pixelsPerUnit)) * t);
    return out;
}

}  // namespace marginlab

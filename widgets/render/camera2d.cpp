// SPDX-License-Identifier: MIT
#include "camera2d.h"

#include <algorithm>
#include <cmath>

namespace marginlab {

QRectF Camera2D::visibleWorld(QSizeF size) const {
    return QRectF(toWorld(QPointF(0, 0), size), toWorld(QPointF(size.width(), size.height()), size)).normalized();
}

Camera2D Camera2D::fitting(QRectF bounds, QSizeF size) {
    if (!bounds.isValid() || !std::isfinite(bounds.width()) || !std::isfinite(bounds.height()))
        bounds = QRectF(-1.0, -1.0, 2.0, 2.0);
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

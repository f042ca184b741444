// SPDX-License-Identifier: MIT
#include "camera3d.h"

#include <algorithm>
#include <cmath>

namespace marginlab {

double Camera3D::pixelsPerUnit(QSizeF size) const {
    return zoom * 0.42 * std::max(1.0, std::min(size.width(), size.height())) / std::max(worldRadius, 1e-9);
}

QPointF Camera3D::origin(QSizeF size) const {
    return QPointF(size.width() / 2.0, size.height() / 2.0) + pan;
}

Projection Camera3D::project(const Eigen::Vector3d& world, QSizeF size) const {
    const Eigen::Vector3d v = toView(world);
    const double scale = pixelsPerUnit(size);
    const QPointF o = origin(size);
    return {QPointF(o.x() + v.x() * scale, o.y() - v.y() * scale), v.z()};
}

QPointF Camera3D::projectVector(const Eigen::Vector3d& world, QSizeF size) const {
    const Eigen::Vector3d v = toView(world);
    const double scale = pixelsPerUnit(size);
    return {v.x() * scale, -v.y() * scale};
}

Eigen::Vector2d Camera3D::viewPlane(QPointF screen, QSizeF size) const {
    const double scale = pixelsPerUnit(size);
    const QPointF o = origin(size);
    return {(screen.x() - o.x()) / scale, -(screen.y() - o.y()) / scale};
}

std::optional<Eigen::Vector3d> Camera3D::unprojectToSphere(QPointF screen, QSizeF size, double radius,
                                                           bool clampToRim) const {
    radius = std::max(radius, 1e-12);
    Eigen::Vector2d p = viewPlane(screen, size) / radius;
    const double r2 = p.squaredNorm();
    if (r2 > 1.0) {
        if (!clampToRim) return std::nullopt;
        p /= std::sqrt(r2);
    }
    const Eigen::Vector3d view(p.x(), p.y(), std::sqrt(std::max(0.0, 1.0 - p.squaredNorm())));
    return toWorld(view * radius);
}

Camera3D Camera3D::arcball(QPointF from, QPointF to, QSizeF size) const {
    // Both ends on the unit sphere in view space; the rotation carrying one to the other keeps
    // the grabbed surface point under the cursor.
    auto onBall = [&](QPointF screen) {
        Eigen::Vector2d p = viewPlane(screen, size);
        const double r2 = p.squaredNorm();
        if (r2 > 1.0) p /= std::sqrt(r2);
        return Eigen::Vector3d(p.x(), p.y(), std::sqrt(std::max(0.0, 1.0 - p.squaredNorm())));
    };
    const Eigen::Vector3d a = onBall(from), b = onBall(to);
    Camera3D out = *this;
    if ((a - b).squaredNorm() < 1e-24) return out;
    out.rotation = (Eigen::Quaterniond::FromTwoVectors(a, b) * rotation).normalized();
    return out;
}

Camera3D Camera3D::turned(double radians) const {
    Camera3D out = *this;
    out.rotation =
        (rotation * Eigen::Quaterniond(Eigen::AngleAxisd(radians, Eigen::Vector3d::UnitY()))).normalized();
    return out;
}

Camera3D Camera3D::rotatedInView(const Eigen::Vector3d& axis, double radians) const {
    Camera3D out = *this;
    if (!(axis.squaredNorm() > 0.0)) return out;
    out.rotation =
        (Eigen::Quaterniond(Eigen::AngleAxisd(radians, axis.normalized())) * rotation).normalized();
    return out;
}

Camera3D Camera3D::zoomed(double factor) const {
    Camera3D out = *this;
    out.zoom = std::clamp(zoom * factor, kMinZoom, kMaxZoom);
    return out;
}

Camera3D Camera3D::front() const {
    Camera3D out = *this;
    out.rotation = Eigen::Quaterniond::Identity();
    return out;
}

Camera3D Camera3D::top() const {
    return along(Eigen::Vector3d::UnitY());
}

Camera3D Camera3D::along(const Eigen::Vector3d& d) const {
    Camera3D out = *this;
    if (!(d.squaredNorm() > 1e-24) || !d.allFinite()) return out;
    const Eigen::Vector3d back = d.normalized();  // becomes view +z
    // y up unless the direction is (nearly) vertical; then −z (from above) or +z (from below).
    Eigen::Vector3d up = Eigen::Vector3d::UnitY();
    if (std::abs(back.dot(up)) > 0.999)
        up = back.y() > 0 ? Eigen::Vector3d(0, 0, -1) : Eigen::Vector3d(0, 0, 1);
    const Eigen::Vector3d right = up.cross(back).normalized();
    const Eigen::Vector3d trueUp = back.cross(right);
    Eigen::Matrix3d m;
    m.row(0) = right.transpose();
    m.row(1) = trueUp.transpose();
    m.row(2) = back.transpose();
    out.rotation = Eigen::Quaterniond(m).normalized();
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Camera3D: how a 3D frame looks at the world. Orthographic (so the unit sphere's outline is a
 * circle and a sphere of radius r around any point projects to a disc of radius r·pixelsPerUnit),
 * a rotation from world to view coordinates, a zoom and a pan in pixels.
 *
 * World: right-handed, y is the vertical axis (the turntable turns about it). View: x right,
 * y up, z towards the viewer; `depth` is the view z, larger = nearer. Screen: y down. At zoom 1
 * the sphere of radius `worldRadius` fills 84 % of the smaller side of the picture.
 */
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <QPointF>
#include <QSizeF>
#include <optional>

namespace marginlab {

struct Projection {
    QPointF screen;
    double depth = 0.0;  ///< view z: positive in front of the sphere's centre plane
};

struct Camera3D {
    Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();  ///< world → view
    double zoom = 1.0;
    double worldRadius = 1.2;  ///< world radius shown at zoom 1 (fitted to the data)
    QPointF pan{0.0, 0.0};     ///< screen offset of the world origin from the picture's centre, pixels

    static constexpr double kMinZoom = 0.05, kMaxZoom = 50.0;

    double pixelsPerUnit(QSizeF size) const;
    /// Screen position of the world origin.
    QPointF origin(QSizeF size) const;

    Eigen::Vector3d toView(const Eigen::Vector3d& world) const { return rotation * world; }
    Eigen::Vector3d toWorld(const Eigen::Vector3d& view) const { return rotation.conjugate() * view; }
    Projection project(const Eigen::Vector3d& world, QSizeF size) const;
    /// A world direction's screen displacement per world unit (orthographic: no depth term).
    QPointF projectVector(const Eigen::Vector3d& world, QSizeF size) const;
    /// The view-space (x, y) of a screen point, in world units.
    Eigen::Vector2d viewPlane(QPointF screen, QSizeF size) const;

    /**
     * The world point on the front surface of the sphere of `radius` around the origin under
     * `screen`, or nothing outside its outline. With `clampToRim`, a point outside the outline
     * gives the nearest point of the rim instead (for dragging along the sphere).
     */
    std::optional<Eigen::Vector3d> unprojectToSphere(QPointF screen, QSizeF size, double radius = 1.0,
                                                     bool clampToRim = false) const;

    /**
     * Arcball: the camera rotated so that the point of the unit sphere's front surface under
     * `from` ends up under `to` (both mapped onto the sphere, points outside the outline onto its
     * rim): a rotation about (v_from × v_to) by the angle between them, applied in view space.
     */
    Camera3D arcball(QPointF from, QPointF to, QSizeF size) const;
    /// Turntable: turned by `radians` about the world's vertical (y) axis.
    Camera3D turned(double radians) const;
    /// Rotated by `radians` about a view-space axis (e.g. view x to tilt towards the viewer).
    Camera3D rotatedInView(const Eigen::Vector3d& axis, double radians) const;
    /// Zoomed by `factor` about the picture's centre (clamped).
    Camera3D zoomed(double factor) const;

    // Named views (zoom, radius and pan are kept).
    /// Looking along −z: x right, y up.
    Camera3D front() const;
    /// Looking down from +y: x right, −z up.
    Camera3D top() const;
    /// Looking at the world from direction `d` (d points to the viewer), keeping y as up as possible.
    Camera3D along(const Eigen::Vector3d& d) const;

    bool operator==(const Camera3D& other) const {
        return rotation.coeffs() == other.rotation.coeffs() && zoom == other.zoom &&
               worldRadius == other.worldRadius && pan == other.pan;
    }
};

}  // namespace marginlab

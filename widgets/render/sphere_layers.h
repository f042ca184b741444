// SPDX-License-Identifier: MIT
// The layers of a 3D frame (internal to the render library): each is a function of the
// SphereContext, computed once per frame, like the 2D layers of layers.h.
#pragma once

#include <QFont>
#include <QLineF>
#include <QPainter>
#include <QPolygonF>
#include <memory>
#include <utility>
#include <vector>

#include "nearestindex.h"
#include "renderer3d.h"

namespace marginlab::sphere {

/**
 * φ (MarginLogits::target) at kIntervals + 1 evenly spaced cosines, and per interval a bracket of
 * its values: the band test asks φ itself only where a runner-up lies inside the bracket, the fade
 * interpolates it (the surface asks per sample; φ of an angle costs an acos and a cos).
 */
struct TargetTable {
    static constexpr std::size_t kIntervals = 4096;
    std::vector<double> phi;
    std::vector<std::pair<double, double>> bounds;
    /// φ(c) interpolated linearly (exact at the steep ends, where it is evaluated).
    double interpolated(double cosine, const MarginLogits& logits) const;
};

/// The table of `logits`' φ, built once and reused while the same φ is asked for (a few recent
/// ones are kept: side-by-side panels may show different losses).
std::shared_ptr<const TargetTable> targetTable(const MarginLogits& logits);

/**
 * Decides the class of a unit direction: class weights / proxies (with the softmax margin), the
 * class mean directions (tuple losses), or the class of the nearest point's direction (1-NN).
 * Mirrors the 2D view's classifier. For losses that do not normalize, the points live in space
 * and the sphere shows their directions (as the equal-area map does): mean directions and 1-NN
 * are taken over the points' directions.
 */
struct SphereClassifier {
    std::vector<Eigen::Vector3d> directions;
    std::vector<double> weightNorm;  // ‖w_c‖ where the logits use it, else 1
    std::vector<char> present;       // classes that can win
    const MarginLogits* logits = nullptr;

    /// φ (logits->target) tabulated over the cosine (shared between frames with the same φ).
    std::shared_ptr<const TargetTable> table;

    /// 1-NN: the points' unit directions (world) and their labels; `toWorld` takes the field's
    /// directions (the view's, on the front surface) back to the world.
    std::shared_ptr<const NearestIndex3D> nearest;
    std::vector<int> nearestLabels;
    Eigen::Matrix3d toWorld = Eigen::Matrix3d::Identity();

    bool valid() const { return !directions.empty() || nearest; }
    /// The winning class at unit direction u, or Renderer3D::kBand where its margin is not met.
    int label(const Eigen::Vector3d& u) const;
    /// The softmax's uncertainty at unit direction u, as the 2D fade: 2(1 − p) of the winning
    /// class on the unit sphere (0 certain, 1 a coin toss), 0 in the band and without logits.
    double fade(const Eigen::Vector3d& u) const;
};

struct SphereContext {
    SphereContext(const Frame3D& frame, bool vector);

    const Frame3D& frame;
    const Snapshot& snapshot;
    const RunInfo& run;
    const ViewOptions& options;
    QSizeF size;
    bool vector;
    double scale;
    bool normalizes;
    int classes;
    std::vector<Eigen::Vector3d> raw, seen;
    SphereTripletOverlay triplet;
    SphereClassifier classifier;  // empty: no regions
    Eigen::Matrix3d rotation;     // world → view
    double pixelsPerUnit;
    QPointF origin;
    double extent;  // data radius (depth shading range)

    Projection project(const Eigen::Vector3d& world) const {
        const Eigen::Vector3d v = rotation * world;
        return {QPointF(origin.x() + v.x() * pixelsPerUnit, origin.y() - v.y() * pixelsPerUnit), v.z()};
    }
    /// True when `world` lies behind the unit sphere's front surface (hidden by it).
    bool behindSurface(const Eigen::Vector3d& world) const;
    double px(double pixels) const { return pixels * scale; }
    QFont font(double pixels, bool bold = false) const;
    bool hasClassWeights() const;
};

SphereClassifier makeClassifier(const SphereContext& c);

// Surface rasters (sphere_surface.cpp).
void paintBackDisc(QPainter& painter, const SphereContext& c);
void paintSurface(QPainter& painter, const SphereContext& c, SurfaceCache& cache);
void paintEqualAreaMap(QPainter& painter, const SphereContext& c, QImage& cache);

// Lines and points (renderer3d.cpp).
QRgb blend(QRgb a, QRgb b, double t);

}  // namespace marginlab::sphere

// SPDX-License-Identifier: MIT
/**
 * Frame3D and Renderer3D: the 3D view's frame, a pure function of (snapshot, run description,
 * view options, 3D camera, size, selection, drag, captions, trail), painted with QPainter only
 * into any target — the widget, a QImage, an SVG / PDF generator — like Renderer2D.
 *
 * Layers, back to front: the back hemisphere disc and the back half of the wireframe (dashed),
 * the points behind the sphere's front surface (depth-sorted, dimmed), the front surface —
 * translucent, lit, carrying the class regions (the cap each class wins, faded to grey where the
 * softmax is unsure; for tuple losses the nearest class mean direction or, as an option, the class
 * of the nearest point's direction), the margin band as stripes and the selected anchor's triplet caps — then the front wireframe and outline, the
 * triplet cap / shell outlines, the axes, class weights (arrows to the sphere) or class centroids,
 * trails, the points in front of the surface (depth-sorted, shaded by depth) with the normalized
 * copies on the sphere, the triplet marks, the force arrows, and the cards: the read-out, the
 * legend, the banner and captions of the 2D view (the same code), the θ inset, and an
 * equal-area map of the whole sphere (Lambert azimuthal, one disc per hemisphere).
 *
 * The sphere's surface is classified per device pixel where a 4×4 block holds more than one
 * class (2×2 samples per pixel there, so region edges are anti-aliased), once per block elsewhere.
 */
#pragma once

#include <Eigen/Core>
#include <QImage>
#include <QPainter>
#include <QRectF>
#include <QSize>
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "camera3d.h"
#include "diagnosis.h"
#include "frame2d.h"
#include "marginlab/regions.h"
#include "marginlab/runinfo.h"
#include "marginlab/trainer.h"
#include "renderer2d.h"

namespace marginlab {

/// A point being dragged in 3D: drawn at `world` instead of its snapshot position.
struct DragPreview3D {
    int point = -1;
    Eigen::Vector3d world = Eigen::Vector3d::Zero();
};

struct Frame3D {
    std::shared_ptr<const Snapshot> snapshot;
    RunInfo run;
    ViewOptions options;
    Camera3D camera;
    QSize size{800, 600};  ///< device-independent pixels of the target
    Selection selection;
    DragPreview3D drag;
    Captions captions;
    /// Earlier positions of the same points, oldest first (each N×D like the snapshot's); empty: no trails.
    std::vector<Points> trail;
    bool showEqualArea = true;  ///< the equal-area map of the whole sphere, inset at the right
    bool showAxes = true;
};

/// The triplet overlay of the selected anchor in 3D: the same query, counts and ball radii as the
/// 2D view (Renderer2D::tripletOverlay), drawn as caps on the sphere or as shells in space.
struct SphereTripletOverlay {
    TripletOverlay planar;  ///< valid, anchor, positive, query (regions, counts), radii in drawing space
    bool valid = false;
    Eigen::Vector3d center = Eigen::Vector3d::Zero();  ///< the anchor where the loss sees it
    bool caps = false;        ///< normalizing distance: spherical caps around the normalized anchor
    double hardAngle = 0.0;   ///< caps: angular radius (radians) of δ_an ≤ δ_ap
    double ringAngle = 0.0;   ///< caps: angular radius of δ_an ≤ δ_ap + margin
    bool shells = false;      ///< plain Lp distance: balls in space around the anchor (outlines)
    double hardRadius = 0.0;  ///< shells: world radius of δ_an ≤ δ_ap
    double ringRadius = 0.0;  ///< shells: world radius of δ_an ≤ δ_ap + margin
};

/// The two discs of the equal-area map (empty when not shown) and their common radius in pixels.
struct EqualAreaLayout {
    QRectF box;            ///< the card
    QPointF north, south;  ///< disc centres: the hemisphere y ≥ 0 seen from +y (x right, z down), y < 0 seen
                           ///< from −y (x right, z up)
    double radius = 0.0;
    bool shown() const { return radius > 0.0; }
};

/// The sphere's front surface from one frame to the next: its image, and each pixel's view depth
/// while the disc keeps its place and size (the camera's rotation does not change it).
struct SurfaceCache {
    QImage image;
    std::vector<float> depth;  ///< per pixel of `image`: √(1 − r²) on the disc, −1 off it
    QRect area;                ///< the image's place in device pixels when `depth` was made
    double originX = 0.0, originY = 0.0, pixelsPerUnit = 0.0;
};

class Renderer3D {
public:
    /// Region labels of the sphere surface (besides class indices).
    static constexpr int kBand = -1;      ///< the margin band: the target logit with margin does not win
    static constexpr int kNoRegion = -2;  ///< no regions drawn (option off, or no classifier for the loss)

    void paint(QPainter& painter, const Frame3D& frame);
    /// The frame as an RGB32 image of frame.size pixels (times `devicePixelRatio`).
    QImage image(const Frame3D& frame, double devicePixelRatio = 1.0);

    /// Where each point is drawn (world, with the drag preview; D < 3 padded with zeros) and
    /// where the loss sees it (normalized when the loss's distance normalizes).
    static std::vector<Eigen::Vector3d> rawPositions(const Frame3D& frame);
    static std::vector<Eigen::Vector3d> seenPositions(const Frame3D& frame);
    static SphereTripletOverlay tripletOverlay(const Frame3D& frame);
    /// The angular radius of the cap where a Euclidean ball of radius `chord` around a unit vector
    /// meets the unit sphere: 2·asin(chord/2) (π, the whole sphere, for chord ≥ 2).
    static double capAngle(double chord) { return 2.0 * std::asin(std::clamp(chord / 2.0, 0.0, 1.0)); }
    static Diagnosis diagnosis(const Frame3D& frame);
    /// The largest distance of a drawn point (or weight) from the origin, at least 1.
    static double dataRadius(const Frame3D& frame);
    /// frame.camera with worldRadius fitted to the data (rotation, zoom and pan kept).
    static Camera3D fitted(const Frame3D& frame);
    /**
     * The point drawn under `screen` (raw positions, and the normalized copies when shown), within
     * `radius` pixels; the front-most wins (then the nearest on screen). −1 if none.
     */
    static int pick(const Frame3D& frame, QPointF screen, double radius = 8.0);
    /// The region label of the unit direction `u` (a class, kBand or kNoRegion), as painted.
    static int regionAt(const Frame3D& frame, const Eigen::Vector3d& u);
    /// The softmax fade at the unit direction `u` as painted (0 certain … 1 a coin toss; 0 without logits).
    static double fadeAt(const Frame3D& frame, const Eigen::Vector3d& u);
    static EqualAreaLayout equalAreaLayout(const Frame3D& frame);
    /// Where the equal-area map draws the direction of `world` (nothing when the map is hidden).
    static std::optional<QPointF> equalAreaPoint(const Frame3D& frame, const Eigen::Vector3d& world);
    /// The description card's close box (empty when not shown), for the widget's clicks.
    static QRectF descriptionCloseBox(const Frame3D& frame);
    /// The 2D frame with the same snapshot, run, options, size, selection and captions: the cards.
    static Frame2D cardFrame(const Frame3D& frame);
    /// The other way: the 3D frame of a 2D one's snapshot, run, options, size, selection and
    /// captions, seen through `camera` (recordings and comparison panels of 3D data).
    static Frame3D sphereFrame(const Frame2D& frame, const Camera3D& camera);
    /// True when `snapshot` holds 3D points (the sphere view shows it).
    static bool isThreeD(const Snapshot* snapshot) { return snapshot && snapshot->positions.cols() == 3; }

private:
    SurfaceCache m_surface;         // the sphere's front surface, reused between frames
    QImage m_map;                   // the equal-area discs
    std::vector<QImage> m_sprites;  // per class × depth shade
    double m_spriteScale = 0.0;
};

}  // namespace marginlab

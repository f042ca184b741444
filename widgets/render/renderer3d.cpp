// SPDX-License-Identifier: MIT
#include "renderer3d.h"

#include <QPaintEngine>
#include <QPainterPath>
#include <algorithm>
#include <array>
#include <mutex>
#include <cmath>
#include <limits>
#include <numbers>

#include "classpalette.h"
#include "layers.h"
#include "sphere_layers.h"

namespace marginlab {

namespace sphere {

namespace {

using Eigen::Vector3d;

constexpr double kPointRadius = 4.5;
constexpr int kShades = 6;  // depth shades of the point sprites

const Snapshot& emptySnapshot() {
    static const Snapshot empty;
    return empty;
}

Vector3d rowOf(const Points& x, Eigen::Index i) {
    Vector3d p = Vector3d::Zero();
    for (Eigen::Index k = 0; k < std::min<Eigen::Index>(3, x.cols()); ++k) p(k) = x(i, k);
    return p;
}

bool validSnapshot(const Snapshot* s) {
    return s && s->positions.rows() > 0 && s->positions.cols() >= 1 &&
           static_cast<Eigen::Index>(s->labels.size()) == s->positions.rows();
}

/// Two unit vectors completing `axis` (unit) to an orthonormal basis.
std::pair<Vector3d, Vector3d> basisAround(const Vector3d& axis) {
    const Vector3d helper = std::abs(axis.x()) < 0.9 ? Vector3d::UnitX() : Vector3d::UnitY();
    const Vector3d u = (helper - helper.dot(axis) * axis).normalized();
    return {u, axis.cross(u)};
}

SphereTripletOverlay computeTriplet(const Frame3D& frame, const std::vector<Vector3d>& seen) {
    SphereTripletOverlay o;
    // The engine's query, counts and radii exactly as the 2D view computes them (same snapshot,
    // run and selection), so both views always agree on what is hard, semi-hard and easy.
    o.planar = Renderer2D::tripletOverlay(Renderer3D::cardFrame(frame));
    if (!o.planar.valid) return o;
    o.valid = true;
    o.center = seen[static_cast<std::size_t>(o.planar.anchor)];
    const DistanceSpec& distance = frame.run.distance;
    if (distance.normalizes()) {
        // A Euclidean ball of radius r around a unit vector meets the unit sphere in the cap of
        // angular radius 2·asin(r/2) (r is a chord); r ≥ 2 is the whole sphere.
        o.caps = true;
        o.hardAngle = Renderer3D::capAngle(o.planar.hardRadius);
        o.ringAngle = Renderer3D::capAngle(o.planar.ringRadius);
    } else if (o.planar.hasCircles) {
        o.shells = true;
        o.hardRadius = o.planar.hardRadius;
        o.ringRadius = o.planar.ringRadius;
    }
    return o;
}

bool isVectorTarget(const QPainter& painter) {
    const QPaintEngine* engine = painter.paintEngine();
    if (!engine) return false;
    const QPaintEngine::Type type = engine->type();
    return type == QPaintEngine::SVG || type == QPaintEngine::Pdf || type == QPaintEngine::Picture;
}

// ---- Lines on the sphere -------------------------------------------------------------------

/// A curve split into its visible (front) and hidden (back) runs of screen points.
struct Runs {
    std::vector<QPolygonF> front, back;
};

/// The circle {cos α·axis + sin α·(cos φ·u + sin φ·v)} on the sphere of `radius`, split where it
/// crosses to the far side (view z < 0).
void addSphereCircle(Runs& runs, const SphereContext& c, const Vector3d& axis, double alpha,
                     double radius = 1.0) {
    constexpr int kSegments = 144;
    // The unit circle once (a dozen circles a frame would otherwise cost a sincos per point).
    static const std::array<std::pair<double, double>, kSegments + 1> circle = [] {
        std::array<std::pair<double, double>, kSegments + 1> table;
        for (int k = 0; k <= kSegments; ++k) {
            const double phi = 2.0 * std::numbers::pi * k / kSegments;
            table[static_cast<std::size_t>(k)] = {std::cos(phi), std::sin(phi)};
        }
        return table;
    }();
    const auto [u, v] = basisAround(axis);
    const Vector3d centre = radius * std::cos(alpha) * axis;
    const Vector3d ru = radius * std::sin(alpha) * u, rv = radius * std::sin(alpha) * v;
    QPolygonF current;
    bool currentFront = true;
    for (int k = 0; k <= kSegments; ++k) {
        const auto [cosPhi, sinPhi] = circle[static_cast<std::size_t>(k)];
        const Vector3d p = centre + cosPhi * ru + sinPhi * rv;
        const Projection q = c.project(p);
        const bool front = q.depth >= 0.0;
        if (k == 0) currentFront = front;
        if (front != currentFront) {
            current << q.screen;  // the runs share their end points: no gap at the crossing
            (currentFront ? runs.front : runs.back).push_back(current);
            current.clear();
            currentFront = front;
        }
        current << q.screen;
    }
    if (current.size() > 1) (currentFront ? runs.front : runs.back).push_back(current);
}

Runs wireframe(const SphereContext& c) {
    Runs runs;
    for (int k = 0; k < 6; ++k) {  // meridians every 30°: great circles through the poles ±y
        const double lambda = k * std::numbers::pi / 6.0;
        addSphereCircle(runs, c, Vector3d(std::cos(lambda), 0.0, std::sin(lambda)), std::numbers::pi / 2.0);
    }
    for (int latitude = -60; latitude <= 60; latitude += 30)  // parallels
        addSphereCircle(runs, c, Vector3d::UnitY(), (90.0 - latitude) * std::numbers::pi / 180.0);
    return runs;
}

void drawRuns(QPainter& painter, const std::vector<QPolygonF>& runs, const QPen& pen) {
    painter.setPen(pen);
    painter.setBrush(Qt::NoBrush);
    for (const QPolygonF& run : runs) painter.drawPolyline(run);
}

/// A thin line of `width` pixels at text scale `scale`: a cosmetic hair-line up to 1.25× (Qt's
/// fast line drawer; a 1-pixel stroked pen goes through the general stroker), else stroked.
QPen thinPen(QColor color, double width, double scale, Qt::PenStyle style = Qt::SolidLine) {
    QPen pen(color, scale > 1.25 ? width * scale : 1.0, style);
    pen.setCosmetic(scale <= 1.25);
    return pen;
}

/// The dashes of what lies behind the sphere's surface.
QPen dashed(QPen pen) {
    pen.setStyle(Qt::CustomDashLine);
    pen.setDashPattern({3.0, 3.0});
    return pen;
}

QPen backPen(QColor color, double width, double scale) { return dashed(thinPen(color, width, scale)); }

void paintWireframe(QPainter& painter, const SphereContext& c, bool front) {
    const Runs runs = wireframe(c);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    if (front) {
        drawRuns(painter, runs.front, thinPen(QColor(0, 0, 0, 45), 1.0, c.scale));
        // The outline of the sphere.
        painter.setPen(QPen(QColor(0, 0, 0, 110), c.px(1.3)));
        painter.drawEllipse(c.origin, c.pixelsPerUnit, c.pixelsPerUnit);
    } else {
        drawRuns(painter, runs.back, backPen(QColor(0, 0, 0, 40), 1.0, c.scale));
    }
    painter.restore();
}

// ---- Axes, class weights, triplet outlines -------------------------------------------------

void paintAxes(QPainter& painter, const SphereContext& c, bool front) {
    if (!c.frame.showAxes) return;
    const double length = std::max(1.25, c.extent * 1.08);
    const char* names[3] = {"x", "y", "z"};
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setFont(c.font(12.0, true));
    for (int a = 0; a < 3; ++a) {
        const Vector3d axis = Vector3d::Unit(a);
        const Projection inner = c.project(Vector3d::Zero()), rim = c.project(axis),
                         tip = c.project(length * axis);
        if (!front) {
            // Inside the sphere: behind its surface, so dashed and faint.
            painter.setPen(backPen(QColor(60, 60, 60, 90), 1.0, c.scale));
            painter.drawLine(inner.screen, rim.screen);
            if (tip.depth < 0) painter.drawLine(rim.screen, tip.screen);
            continue;
        }
        if (tip.depth >= 0) {
            painter.setPen(QPen(QColor(60, 60, 60, 200), c.px(1.3)));
            painter.drawLine(rim.screen, tip.screen);
        }
        painter.setPen(QColor(60, 60, 60, tip.depth >= 0 ? 230 : 120));
        const QPointF direction = tip.screen - inner.screen;
        const double norm = std::hypot(direction.x(), direction.y());
        const QPointF offset = norm > 1e-6 ? direction / norm * c.px(9.0) : QPointF(c.px(6), -c.px(6));
        painter.drawText(QRectF(tip.screen + offset - QPointF(c.px(8), c.px(8)), QSizeF(c.px(16), c.px(16))),
                         Qt::AlignCenter, QString::fromLatin1(names[a]));
    }
    painter.restore();
}

void paintClassWeights(QPainter& painter, const SphereContext& c) {
    if (!c.run.loss || c.classes < 1) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const QPointF origin = c.project(Vector3d::Zero()).screen;
    const Points& owned = c.snapshot.owned;
    const int perClass = c.run.centersPerClass();
    if (c.hasClassWeights() && perClass > 0 && owned.rows() >= static_cast<Eigen::Index>(perClass) * c.classes) {
        // Several centers per class (SoftTriple, sub-centers): a diamond per center where the
        // cosine sees it (on the sphere when the loss normalizes), in its class's colour, fainter
        // behind the surface — as the 2D view draws them.
        const double half = c.px(6.0);
        for (int k = 0; k < perClass; ++k)
            for (int label = 0; label < c.classes; ++label) {
                Vector3d w = rowOf(owned, static_cast<Eigen::Index>(k) * c.classes + label);
                if (c.normalizes) w /= std::max(w.norm(), 1e-12);
                const QPointF p = c.project(w).screen;
                const QPointF diamond[4] = {p + QPointF(0, -half), p + QPointF(half, 0), p + QPointF(0, half),
                                            p + QPointF(-half, 0)};
                painter.setOpacity(c.behindSurface(w) ? 0.45 : 1.0);
                painter.setPen(QPen(Qt::black, c.px(1.2)));
                painter.setBrush(ClassPalette::color(label));
                painter.drawPolygon(diamond, 4);
            }
        painter.setOpacity(1.0);
    } else if (c.hasClassWeights()) {
        // Directions are what cosine logits see: arrows to the sphere when the loss normalizes.
        for (int k = 0; k < c.classes; ++k) {
            Vector3d w = rowOf(owned, k);
            if (c.normalizes) w /= std::max(w.norm(), 1e-12);
            const Projection tip = c.project(w);
            std::vector<QLineF> lines;
            layers::appendArrow(lines, origin, tip.screen, c.px(10.0));
            const QColor color = ClassPalette::color(k).darker(130);
            if (tip.depth >= 0) {
                painter.setPen(QPen(color, c.px(2.5), Qt::SolidLine, Qt::RoundCap));
            } else {
                QColor faint = color;
                faint.setAlpha(130);
                painter.setPen(dashed(QPen(faint, c.px(2.0))));
            }
            painter.drawLines(lines.data(), static_cast<int>(lines.size()));
        }
        if (c.run.ownedBlocks >= 2 && owned.rows() >= 2 * c.classes)
            for (int k = 0; k < c.classes; ++k) {
                const QPointF p = c.project(rowOf(owned, c.classes + k)).screen;
                painter.setPen(QPen(Qt::black, c.px(1.5)));
                painter.setBrush(ClassPalette::color(k));
                painter.drawRect(QRectF(p - QPointF(c.px(5), c.px(5)), QSizeF(c.px(10), c.px(10))));
            }
    } else {
        // Tuple losses: the class centroids of the points as the loss sees them (on the sphere:
        // the mean direction) as crosses.
        std::vector<Vector3d> sum(static_cast<std::size_t>(c.classes), Vector3d::Zero());
        std::vector<int> count(sum.size(), 0);
        for (std::size_t i = 0; i < c.seen.size(); ++i) {
            const int label = c.snapshot.labels[i];
            if (label < 0 || label >= c.classes) continue;
            sum[static_cast<std::size_t>(label)] += c.seen[i];
            ++count[static_cast<std::size_t>(label)];
        }
        const double arm = c.px(6.0);
        for (std::size_t k = 0; k < sum.size(); ++k) {
            if (!count[k]) continue;
            Vector3d centre = sum[k] / count[k];
            if (c.normalizes) {
                if (centre.norm() < 1e-12) continue;
                centre.normalize();
            }
            const Projection p = c.project(centre);
            const QLineF cross[2] = {QLineF(p.screen - QPointF(arm, arm), p.screen + QPointF(arm, arm)),
                                     QLineF(p.screen - QPointF(arm, -arm), p.screen + QPointF(arm, -arm))};
            painter.setOpacity(c.behindSurface(centre) ? 0.45 : 1.0);
            painter.setPen(QPen(Qt::black, c.px(4.0), Qt::SolidLine, Qt::RoundCap));
            painter.drawLines(cross, 2);
            painter.setPen(
                QPen(ClassPalette::color(static_cast<int>(k)), c.px(2.0), Qt::SolidLine, Qt::RoundCap));
            painter.drawLines(cross, 2);
        }
    }
    painter.restore();
}

void paintTripletOutlines(QPainter& painter, const SphereContext& c) {
    const SphereTripletOverlay& o = c.triplet;
    if (!o.valid) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    if (o.caps) {
        const double length = o.center.norm();
        if (length > 1e-12) {
            const Vector3d axis = o.center / length;
            // Caps of angle π (the whole sphere) have no outline.
            for (const auto& [angle, hard] : {std::pair{o.hardAngle, true}, std::pair{o.ringAngle, false}}) {
                if (angle <= 0.0 || angle >= std::numbers::pi - 1e-9) continue;
                Runs runs;
                addSphereCircle(runs, c, axis, angle);
                QPen front = hard ? QPen(ClassPalette::hardColor(), c.px(1.6))
                                  : QPen(ClassPalette::semiHardColor(), c.px(1.6), Qt::DashLine);
                drawRuns(painter, runs.front, front);
                drawRuns(painter, runs.back, backPen(QColor(0, 0, 0, 70), 1.0, c.scale));
            }
        }
    } else if (o.shells) {
        // Orthographic: a ball of radius r projects to a disc of radius r·pixelsPerUnit.
        const QPointF centre = c.project(o.center).screen;
        const double inner = o.hardRadius * c.pixelsPerUnit, outer = o.ringRadius * c.pixelsPerUnit;
        QPainterPath annulus;
        annulus.addEllipse(centre, outer, outer);
        annulus.addEllipse(centre, inner, inner);
        painter.fillPath(annulus, QColor(0, 0, 0, 14));
        painter.setPen(QPen(ClassPalette::hardColor(), c.px(1.5)));
        painter.setBrush(QColor(0, 0, 0, 30));
        painter.drawEllipse(centre, inner, inner);
        painter.setPen(QPen(ClassPalette::semiHardColor(), c.px(1.5), Qt::DashLine));
        painter.setBrush(Qt::NoBrush);
        painter.drawEllipse(centre, outer, outer);
    }
    painter.restore();
}

/**
 * A loss's β boundary and band around the chosen anchor (MarginLoss), as the 2D view's rings:
 * on the sphere when the loss normalizes (the zone between two caps, a Euclidean ball around a
 * unit vector meets the sphere in a cap), else as shells in space (discs under orthography).
 */
void paintDistanceBand(QPainter& painter, const SphereContext& c, const layers::FrameContext& cards) {
    const int anchor = c.frame.selection.anchor;
    if (anchor < 0 || anchor >= static_cast<int>(c.seen.size())) return;
    const auto radii = layers::distanceBandRadii(c.run, c.snapshot, anchor);
    if (!radii) return;
    const Vector3d& center = c.seen[static_cast<std::size_t>(anchor)];
    if (!c.run.distance.normalizes()) {
        layers::paintBandDiscs(painter, cards, c.project(center).screen, c.pixelsPerUnit, *radii);
        return;
    }
    const double length = center.norm();
    if (length < 1e-12) return;
    const Vector3d axis = center / length;
    const double inner = Renderer3D::capAngle(radii->inner), outer = Renderer3D::capAngle(radii->outer);
    const double boundary = Renderer3D::capAngle(radii->boundary);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    // The zone as small quads, the front ones only (the surface hides the rest); one path with the
    // winding rule, so neighbouring quads leave no seams.
    const auto [u, v] = basisAround(axis);
    constexpr int kRings = 8, kSectors = 96;
    auto at = [&](double alpha, double phi) {
        return Vector3d(std::cos(alpha) * axis + std::sin(alpha) * (std::cos(phi) * u + std::sin(phi) * v));
    };
    QPainterPath zone;
    zone.setFillRule(Qt::WindingFill);
    for (int r = 0; r < kRings; ++r) {
        const double a0 = inner + (outer - inner) * r / kRings, a1 = inner + (outer - inner) * (r + 1) / kRings;
        for (int k = 0; k < kSectors; ++k) {
            const double p0 = 2.0 * std::numbers::pi * k / kSectors, p1 = 2.0 * std::numbers::pi * (k + 1) / kSectors;
            if (c.project(at(0.5 * (a0 + a1), 0.5 * (p0 + p1))).depth < 0.0) continue;
            QPolygonF quad;
            quad << c.project(at(a0, p0)).screen << c.project(at(a1, p0)).screen << c.project(at(a1, p1)).screen
                 << c.project(at(a0, p1)).screen;
            zone.addPolygon(quad);
            zone.closeSubpath();
        }
    }
    painter.fillPath(zone, ClassPalette::bandColor());
    for (const auto& [angle, dashDot] : {std::pair{inner, false}, std::pair{outer, false}, std::pair{boundary, true}}) {
        if (angle <= 0.0 || angle >= std::numbers::pi - 1e-9) continue;  // no outline: a point or the whole sphere
        Runs runs;
        addSphereCircle(runs, c, axis, angle);
        QPen front(ClassPalette::bandEdgeColor(), c.px(dashDot ? 2.0 : 1.5), dashDot ? Qt::DashDotLine : Qt::SolidLine);
        drawRuns(painter, runs.front, front);
        drawRuns(painter, runs.back, backPen(QColor(0, 0, 0, 60), 1.0, c.scale));
        if (!dashDot || runs.front.empty()) continue;
        // Name the β circle at its visible point furthest to the upper right, as the 2D view does.
        QPointF label = runs.front.front().front();
        for (const QPolygonF& run : runs.front)
            for (const QPointF& p : run)
                if (p.x() - p.y() > label.x() - label.y()) label = p;
        layers::paintBetaLabel(painter, cards, label, radii->beta);
    }
    painter.restore();
}

// ---- Points ----------------------------------------------------------------------------------

struct Item {
    double depth;
    QPointF screen;
    int point;
    bool copy;  // a normalized copy on the sphere
};

QImage circleSprite(double radius, const QColor& fill, double penWidth, double ratio) {
    const int side = static_cast<int>(std::ceil((2 * radius + penWidth) * ratio)) + 2;
    QImage image(side, side, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(ratio, ratio);
    p.setPen(QPen(fill.darker(170), penWidth));
    p.setBrush(fill);
    p.drawEllipse(QPointF(side / 2.0 / ratio, side / 2.0 / ratio), radius, radius);
    p.end();
    image.setDevicePixelRatio(ratio);
    return image;
}

/// The point colour at depth shade `level` (0 farthest, kShades − 1 nearest): far points fade
/// towards white, so front and back are never confused.
QColor shaded(int label, int level) {
    const QColor base = ClassPalette::color(label);
    const double fade = 0.55 * (1.0 - static_cast<double>(level) / (kShades - 1));
    return QColor::fromRgb(blend(base.rgb(), qRgb(255, 255, 255), fade));
}

int shadeLevel(const SphereContext& c, double depth) {
    const double t = std::clamp((depth / std::max(c.extent, 1e-9) + 1.0) / 2.0, 0.0, 1.0);
    return static_cast<int>(std::lround(t * (kShades - 1)));
}

/// Every drawn item (points and normalized copies) on one side of the sphere's front surface,
/// sorted back to front (ties by index, so the picture does not depend on the sort).
std::vector<Item> items(const SphereContext& c, bool behind) {
    std::vector<Item> out;
    const bool copies = c.normalizes && c.options.showNormalized;
    out.reserve(c.raw.size() * (copies ? 2 : 1));
    for (std::size_t i = 0; i < c.raw.size(); ++i) {
        if (c.behindSurface(c.raw[i]) == behind) {
            const Projection p = c.project(c.raw[i]);
            out.push_back({p.depth, p.screen, static_cast<int>(i), false});
        }
        if (copies && c.behindSurface(c.seen[i]) == behind) {
            const Projection p = c.project(c.seen[i]);
            out.push_back({p.depth, p.screen, static_cast<int>(i), true});
        }
    }
    std::sort(out.begin(), out.end(), [](const Item& a, const Item& b) {
        return a.depth != b.depth ? a.depth < b.depth
                                  : (a.point != b.point ? a.point < b.point : a.copy > b.copy);
    });
    return out;
}

void paintPoints(QPainter& painter, const SphereContext& c, bool behind, std::vector<QImage>& sprites,
                 double& spriteScale) {
    const std::vector<Item> list = items(c, behind);
    const std::vector<int>& labels = c.snapshot.labels;
    const double radius = c.px(kPointRadius);
    const SphereTripletOverlay& o = c.triplet;
    auto used = [&](int i) {
        // The copies the triplet loss uses are drawn in full colour, as in 2D.
        if (!o.valid) return false;
        const Region r = o.planar.query.regions[static_cast<std::size_t>(i)];
        return r == Region::Hard || r == Region::SemiHard || i == o.planar.anchor || i == o.planar.positive;
    };
    painter.save();
    if (c.vector) {
        painter.setRenderHint(QPainter::Antialiasing);
        for (const Item& item : list) {
            const QColor fill =
                shaded(labels[static_cast<std::size_t>(item.point)], shadeLevel(c, item.depth));
            painter.setOpacity(item.copy && !used(item.point) ? 0.3 : 1.0);
            painter.setPen(QPen(fill.darker(170), c.px(1.0)));
            painter.setBrush(fill);
            painter.drawEllipse(item.screen, radius, radius);
        }
        painter.restore();
        return;
    }
    const double ratio = painter.device() ? painter.device()->devicePixelRatioF() : 1.0;
    const std::size_t needed = static_cast<std::size_t>(std::max(c.classes, 1)) * kShades;
    if (spriteScale != c.scale * ratio || sprites.size() != needed) {
        sprites.assign(needed, QImage());
        spriteScale = c.scale * ratio;
    }
    auto sprite = [&](int label, int level) -> const QImage& {
        const int k = std::clamp(label, 0, std::max(0, c.classes - 1));
        QImage& image = sprites[static_cast<std::size_t>(k * kShades + level)];
        if (image.isNull()) image = circleSprite(radius, shaded(k, level), c.px(1.0), ratio);
        return image;
    };
    double opacity = 1.0;
    for (const Item& item : list) {
        const double wanted = item.copy && !used(item.point) ? 0.3 : 1.0;
        if (wanted != opacity) painter.setOpacity(opacity = wanted);
        const QImage& image = sprite(labels[static_cast<std::size_t>(item.point)], shadeLevel(c, item.depth));
        const double w = image.width() / ratio, h = image.height() / ratio;
        painter.drawImage(QPointF(std::round((item.screen.x() - w / 2.0) * ratio) / ratio,
                                  std::round((item.screen.y() - h / 2.0) * ratio) / ratio),
                          image);
    }
    painter.restore();
}

void paintTrails(QPainter& painter, const SphereContext& c) {
    const std::vector<Points>& trail = c.frame.trail;
    if (trail.empty()) return;
    const Eigen::Index n = static_cast<Eigen::Index>(c.raw.size());
    std::vector<std::vector<QLineF>> lines(static_cast<std::size_t>(std::max(c.classes, 1)));
    for (Eigen::Index i = 0; i < n; ++i) {
        const int label =
            std::clamp(c.snapshot.labels[static_cast<std::size_t>(i)], 0, std::max(0, c.classes - 1));
        QPointF previous;
        bool started = false;
        for (const Points& step : trail) {
            if (step.rows() != n || step.cols() < 1) continue;
            const QPointF at = c.project(rowOf(step, i)).screen;
            if (started) lines[static_cast<std::size_t>(label)].emplace_back(previous, at);
            previous = at, started = true;
        }
        if (started)
            lines[static_cast<std::size_t>(label)].emplace_back(
                previous, c.project(c.raw[static_cast<std::size_t>(i)]).screen);
    }
    painter.save();
    // Thousands of short faint segments: aliased hair-lines read the same and cost a fraction.
    painter.setRenderHint(QPainter::Antialiasing, c.vector);
    for (std::size_t k = 0; k < lines.size(); ++k) {
        QColor color = ClassPalette::color(static_cast<int>(k));
        color.setAlpha(110);
        painter.setPen(thinPen(color, 1.2, c.scale));  // thousands of segments
        painter.drawLines(lines[k].data(), static_cast<int>(lines[k].size()));
    }
    painter.restore();
}

void paintTripletMarks(QPainter& painter, const SphereContext& c) {
    const SphereTripletOverlay& o = c.triplet;
    if (!o.valid) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setBrush(Qt::NoBrush);
    // Marks sit where the loss measures the points; those behind the surface are fainter.
    const double ringRadius = c.px(kPointRadius + 2.5);
    for (Region region : {Region::SemiHard, Region::Hard}) {
        QPen pen = region == Region::Hard
                       ? QPen(ClassPalette::hardColor(), c.px(2.2))
                       : QPen(ClassPalette::semiHardColor(), c.px(1.6), Qt::CustomDashLine);
        if (region == Region::SemiHard) pen.setDashPattern({2.0, 1.6});
        painter.setPen(pen);
        for (std::size_t i = 0; i < c.seen.size(); ++i) {
            if (o.planar.query.regions[i] != region) continue;
            painter.setOpacity(c.behindSurface(c.seen[i]) ? 0.45 : 1.0);
            painter.drawEllipse(c.project(c.seen[i]).screen, ringRadius, ringRadius);
        }
    }
    painter.setOpacity(1.0);
    const QPointF anchor = c.project(c.seen[static_cast<std::size_t>(o.planar.anchor)]).screen;
    const QPointF positive = c.project(c.seen[static_cast<std::size_t>(o.planar.positive)]).screen;
    if (o.planar.query.chosenNegative >= 0) {
        painter.setPen(QPen(ClassPalette::anchorColor(), c.px(1.5), Qt::DashLine));
        painter.drawLine(anchor,
                         c.project(c.seen[static_cast<std::size_t>(o.planar.query.chosenNegative)]).screen);
    }
    painter.setPen(QPen(ClassPalette::anchorColor(), c.px(2.5)));
    painter.drawEllipse(anchor, c.px(kPointRadius + 4), c.px(kPointRadius + 4));
    painter.setPen(QPen(ClassPalette::anchorColor(), c.px(1.5), Qt::DotLine));
    painter.drawLine(anchor, positive);
    painter.setPen(QPen(ClassPalette::anchorColor(), c.px(2.0)));
    painter.drawRect(QRectF(positive - QPointF(c.px(7), c.px(7)), QSizeF(c.px(14), c.px(14))));
    painter.restore();
}

QColor forceColor(int part) {
    if (part == 1) return QColor(0, 90, 200, 210);   // attraction
    if (part == 2) return QColor(210, 40, 20, 210);  // repulsion
    return QColor(30, 30, 30, 170);
}

void paintForces(QPainter& painter, const SphereContext& c, const layers::FrameContext& cards) {
    const Points& g = c.snapshot.gradient;
    if (!c.options.showForces || g.rows() != static_cast<Eigen::Index>(c.raw.size()) || g.rows() == 0) return;
    // The same scale as the 2D view's (|∂L/∂x| in D dimensions), so the read-out's arrow holds.
    const double factor = layers::forcePixelsPerUnit(cards);
    if (!(factor > 0.0)) return;
    const Points& positives = c.snapshot.gradientFromPositives;
    const bool split = c.options.splitForces && positives.rows() == g.rows() && positives.cols() == g.cols();
    std::vector<std::pair<Points, int>> parts;
    if (split)
        parts = {{positives, 1}, {g - positives, 2}};
    else
        parts = {{g, 0}};
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    std::vector<QLineF> lines;
    for (const auto& [gradient, part] : parts) {
        lines.clear();
        for (Eigen::Index i = 0; i < gradient.rows(); ++i) {
            const QPointF from = c.project(c.raw[static_cast<std::size_t>(i)]).screen;
            const Vector3d v = c.rotation * (-rowOf(gradient, i));
            const QPointF to = from + QPointF(v.x(), -v.y()) * factor;  // screen y down
            if (std::hypot(to.x() - from.x(), to.y() - from.y()) < 1.5) continue;
            layers::appendArrow(lines, from, to, c.px(5.0));
        }
        painter.setPen(thinPen(forceColor(part), 1.0, c.scale));
        painter.drawLines(lines.data(), static_cast<int>(lines.size()));
    }
    painter.restore();
}

/**
 * The θ inset of the 2D view takes, per sample, the angle to its own class weight. A planar
 * snapshot with the same angles and norms (x_i ↦ ‖x_i‖(cos θ_i, sin θ_i), w_c ↦ (‖w_c‖, 0))
 * gives the 2D inset exactly the 3D angles, so both views share one inset.
 */
std::shared_ptr<Snapshot> thetaSnapshot(const SphereContext& c) {
    auto out = std::make_shared<Snapshot>();
    const Snapshot& s = c.snapshot;
    out->step = s.step;
    out->labels = s.labels;
    out->numClasses = s.numClasses;
    out->owned = Points::Zero(s.owned.rows(), 2);
    for (Eigen::Index k = 0; k < s.owned.rows(); ++k) out->owned(k, 0) = rowOf(s.owned, k).norm();
    out->positions.resize(s.positions.rows(), 2);
    for (Eigen::Index i = 0; i < s.positions.rows(); ++i) {
        const int y = s.labels[static_cast<std::size_t>(i)];
        const Vector3d x = rowOf(s.positions, i);
        const Vector3d w = y >= 0 && y < s.owned.rows() ? rowOf(s.owned, y) : Vector3d::UnitX();
        const double cosine = std::clamp(x.dot(w) / std::max(x.norm() * w.norm(), 1e-12), -1.0, 1.0);
        const double theta = std::acos(cosine);
        out->positions(i, 0) = x.norm() * std::cos(theta);
        out->positions(i, 1) = x.norm() * std::sin(theta);
    }
    return out;
}

}  // namespace

QRgb blend(QRgb a, QRgb b, double t) {
    auto mix = [t](int u, int v) { return static_cast<int>(std::lround(u + (v - u) * t)); };
    return qRgb(mix(qRed(a), qRed(b)), mix(qGreen(a), qGreen(b)), mix(qBlue(a), qBlue(b)));
}

int SphereClassifier::label(const Eigen::Vector3d& u) const {
    if (nearest) {
        const int i = nearest->nearest(toWorld * u);
        return i >= 0 ? nearestLabels[static_cast<std::size_t>(i)] : Renderer3D::kNoRegion;
    }
    int best = -1;
    double bestValue = -std::numeric_limits<double>::infinity(), runnerUp = bestValue;
    for (std::size_t k = 0; k < directions.size(); ++k) {
        if (!present[k]) continue;
        const double value = weightNorm[k] * u.dot(directions[k]);
        if (value > bestValue)
            runnerUp = bestValue, bestValue = value, best = static_cast<int>(k);
        else
            runnerUp = std::max(runnerUp, value);
    }
    if (best < 0) return Renderer3D::kNoRegion;
    if (!classOf.empty()) return classOf[static_cast<std::size_t>(best)];
    if (!logits || !logits->hasMargin) return best;
    // The band: the target logit with its margin no longer beats the runner-up.
    const double norm = weightNorm[static_cast<std::size_t>(best)];
    const double cosine = std::clamp(bestValue / norm, -1.0, 1.0);
    if (table) {
        // The bracket of φ over the table interval holding the cosine decides unless the
        // runner-up falls inside it; then φ itself is evaluated.
        const double position = (cosine + 1.0) * 0.5 * TargetTable::kIntervals;
        const std::size_t k = std::min(static_cast<std::size_t>(position), std::size_t{TargetTable::kIntervals - 1});
        if (runnerUp < norm * table->bounds[k].first) return best;
        if (runnerUp >= norm * table->bounds[k].second) return Renderer3D::kBand;
    }
    return runnerUp >= norm * logits->target(cosine) ? Renderer3D::kBand : best;
}

double SphereClassifier::fade(const Eigen::Vector3d& u) const {
    if (!logits || directions.empty()) return 0.0;
    std::size_t best = 0;
    double bestValue = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < directions.size(); ++k) {
        const double value = weightNorm[k] * u.dot(directions[k]);
        if (value > bestValue) bestValue = value, best = k;
    }
    const double cosine = std::clamp(bestValue / weightNorm[best], -1.0, 1.0);
    // The fade is a picture, not a decision: φ interpolated from the table is plenty.
    const double target = weightNorm[best] * (table ? table->interpolated(cosine, *logits) : logits->target(cosine));
    // On the unit sphere ‖x‖ = 1, so logits scaled by the norm use the plain scale.
    double others = 0.0, runnerUp = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < directions.size(); ++k) {
        if (k == best) continue;
        const double value = weightNorm[k] * u.dot(directions[k]);
        runnerUp = std::max(runnerUp, value);
        others += std::exp(std::min(logits->scale * (value - target), 700.0));
    }
    if (logits->hasMargin && target <= runnerUp) return 0.0;
    return std::clamp(2.0 * (1.0 - 1.0 / (1.0 + others)), 0.0, 1.0);
}

namespace {

std::shared_ptr<const TargetTable> buildTargetTable(const MarginLogits& logits) {
    auto table = std::make_shared<TargetTable>();
    constexpr std::size_t n = TargetTable::kIntervals;
    // φ at the ends of each interval; the bracket is the two values widened by their difference
    // (a smooth φ strays from its chord by far less over one interval). Near c = ±1, where φ of an
    // angle (acos) is steep, the intervals are left open: φ is always evaluated there.
    table->phi.resize(n + 1);
    for (std::size_t i = 0; i <= n; ++i) table->phi[i] = logits.target(-1.0 + 2.0 * static_cast<double>(i) / n);
    const double open = std::numeric_limits<double>::infinity();
    table->bounds.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        const double low = std::min(table->phi[k], table->phi[k + 1]), high = std::max(table->phi[k], table->phi[k + 1]);
        const double slack = (high - low) + 1e-9 * (1.0 + std::abs(high));
        const bool steepEnd = k < 8 || k + 8 >= n;
        table->bounds[k] = steepEnd || !std::isfinite(low) || !std::isfinite(high) ? std::pair{-open, open}
                                                                                     : std::pair{low - slack, high + slack};
    }
    return table;
}

}  // namespace

double TargetTable::interpolated(double cosine, const MarginLogits& logits) const {
    const double position = (std::clamp(cosine, -1.0, 1.0) + 1.0) * 0.5 * kIntervals;
    const std::size_t k = std::min(static_cast<std::size_t>(position), std::size_t{kIntervals - 1});
    if (!std::isfinite(bounds[k].first)) return logits.target(cosine);
    const double t = position - static_cast<double>(k);
    return phi[k] + (phi[k + 1] - phi[k]) * t;
}

std::shared_ptr<const TargetTable> targetTable(const MarginLogits& logits) {
    // φ is a std::function: it is recognised by its values at a few cosines, its scale and margin flag.
    constexpr double kProbes[] = {-0.93, -0.41, 0.07, 0.53, 0.89};
    std::array<double, 7> key{logits.scale, logits.hasMargin ? 1.0 : 0.0};
    for (std::size_t i = 0; i < std::size(kProbes); ++i) key[i + 2] = logits.target(kProbes[i]);
    static std::mutex mutex;  // renderers paint on the GUI thread and on recording threads
    static std::vector<std::pair<std::array<double, 7>, std::shared_ptr<const TargetTable>>> recent;
    std::lock_guard lock(mutex);
    for (const auto& [k, table] : recent)
        if (k == key) return table;
    std::shared_ptr<const TargetTable> table = buildTargetTable(logits);
    if (recent.size() >= 8) recent.erase(recent.begin());
    recent.emplace_back(key, table);
    return table;
}

SphereClassifier makeClassifier(const SphereContext& c) {
    SphereClassifier model;
    if (!c.options.showRegions || !c.run.loss || c.classes < 2) return model;
    const std::size_t classes = static_cast<std::size_t>(c.classes);
    model.directions.resize(classes);
    model.weightNorm.assign(classes, 1.0);
    model.present.assign(classes, 1);
    const int perClass = c.run.centersPerClass();
    if (c.hasClassWeights() && perClass > 0 &&
        c.snapshot.owned.rows() >= static_cast<Eigen::Index>(perClass) * c.classes) {
        // Several centers per class: the class of the nearest center direction (Sub-center
        // ArcFace's max over sub-centers; SoftTriple's soft maximum in its γ → 0 limit), as in 2D.
        const std::size_t count = static_cast<std::size_t>(perClass) * classes;
        model.directions.resize(count);
        model.weightNorm.assign(count, 1.0);
        model.present.assign(count, 1);
        model.classOf.resize(count);
        for (std::size_t row = 0; row < count; ++row) {
            const Vector3d w = rowOf(c.snapshot.owned, static_cast<Eigen::Index>(row));
            model.directions[row] = w / std::max(w.norm(), 1e-12);
            model.classOf[row] = static_cast<int>(row % classes);
        }
        return model;
    }
    if (c.hasClassWeights()) {
        const bool logits = c.run.regions == ClassRegions::ClassWeights && c.run.logits;
        for (std::size_t k = 0; k < classes; ++k) {
            const Vector3d w = rowOf(c.snapshot.owned, static_cast<Eigen::Index>(k));
            const double length = std::max(w.norm(), 1e-12);
            model.directions[k] = w / length;
            if (logits && c.run.logits->weightNorms) model.weightNorm[k] = length;
        }
        if (logits) {
            model.logits = &*c.run.logits;
            if (model.logits->hasMargin) model.table = targetTable(*model.logits);
        }
        return model;
    }
    // Tuple losses: regions of directions (see SphereClassifier). Where the loss normalizes these
    // are the points as it sees them; otherwise their directions in space.
    std::vector<Vector3d> unit;
    std::vector<int> unitLabels;
    for (std::size_t i = 0; i < c.raw.size(); ++i) {
        const int label = c.snapshot.labels[i];
        const double length = c.raw[i].norm();
        if (label < 0 || label >= c.classes || !(length > 1e-12)) continue;
        unit.push_back(c.raw[i] / length);
        unitLabels.push_back(label);
    }
    if (c.options.nearestNeighbourRegions) {
        if (unit.empty()) return {};
        model.directions.clear();
        model.nearest = std::make_shared<const NearestIndex3D>(std::move(unit));
        model.nearestLabels = std::move(unitLabels);
        return model;
    }
    // The nearest mean direction (cosine nearest centroid).
    std::vector<Vector3d> sum(classes, Vector3d::Zero());
    for (std::size_t i = 0; i < unit.size(); ++i) sum[static_cast<std::size_t>(unitLabels[i])] += unit[i];
    for (std::size_t k = 0; k < classes; ++k) {
        const double length = sum[k].norm();
        if (length < 1e-12)
            model.present[k] = 0;
        else
            model.directions[k] = sum[k] / length;
    }
    return model;
}

SphereContext::SphereContext(const Frame3D& f, bool isVector)
    : frame(f),
      snapshot(validSnapshot(f.snapshot.get()) ? *f.snapshot : emptySnapshot()),
      run(f.run),
      options(f.options),
      size(f.size),
      vector(isVector),
      scale(std::clamp(f.options.textScale, 0.25, 8.0)),
      normalizes(f.run.loss && f.run.distance.normalizes()),
      classes(std::max(0, snapshot.numClasses)),
      rotation(f.camera.rotation.toRotationMatrix()),
      pixelsPerUnit(f.camera.pixelsPerUnit(size)),
      origin(f.camera.origin(size)),
      extent(1.0) {
    if (&snapshot != &emptySnapshot()) {
        raw = Renderer3D::rawPositions(f);
        seen = Renderer3D::seenPositions(f);
        triplet = computeTriplet(f, seen);
        extent = Renderer3D::dataRadius(f);
    }
    classifier = makeClassifier(*this);
}

bool SphereContext::behindSurface(const Eigen::Vector3d& world) const {
    const Vector3d v = rotation * world;
    const double r2 = v.x() * v.x() + v.y() * v.y();
    if (r2 >= 1.0) return false;
    // Points on the surface (normalized copies) count as on it, not behind it.
    return v.z() < std::sqrt(1.0 - r2) - 1e-9;
}

QFont SphereContext::font(double pixels, bool bold) const {
    QFont f;
    f.setPixelSize(std::max(1, static_cast<int>(std::lround(px(pixels)))));
    f.setBold(bold);
    return f;
}

bool SphereContext::hasClassWeights() const {
    return run.hasClassWeights() && snapshot.owned.rows() >= classes && snapshot.owned.cols() >= 1 &&
           classes >= 1;
}

}  // namespace sphere

using sphere::SphereContext;

std::vector<Eigen::Vector3d> Renderer3D::rawPositions(const Frame3D& frame) {
    std::vector<Eigen::Vector3d> out;
    if (!frame.snapshot) return out;
    const Points& x = frame.snapshot->positions;
    out.reserve(static_cast<std::size_t>(x.rows()));
    for (Eigen::Index i = 0; i < x.rows(); ++i) out.push_back(sphere::rowOf(x, i));
    if (frame.drag.point >= 0 && frame.drag.point < static_cast<int>(out.size()))
        out[static_cast<std::size_t>(frame.drag.point)] = frame.drag.world;
    return out;
}

std::vector<Eigen::Vector3d> Renderer3D::seenPositions(const Frame3D& frame) {
    std::vector<Eigen::Vector3d> out = rawPositions(frame);
    if (!frame.run.loss || !frame.run.distance.normalizes()) return out;
    for (Eigen::Vector3d& p : out) p /= std::max(p.norm(), 1e-12);
    return out;
}

SphereTripletOverlay Renderer3D::tripletOverlay(const Frame3D& frame) {
    if (!sphere::validSnapshot(frame.snapshot.get())) return {};
    return sphere::computeTriplet(frame, seenPositions(frame));
}

Diagnosis Renderer3D::diagnosis(const Frame3D& frame) {
    return frame.snapshot ? diagnose(*frame.snapshot, frame.run.loss) : Diagnosis{};
}

double Renderer3D::dataRadius(const Frame3D& frame) {
    double largest = 1.0;
    for (const Eigen::Vector3d& p : rawPositions(frame))
        if (p.allFinite()) largest = std::max(largest, p.norm());
    if (frame.snapshot && frame.run.hasClassWeights() && !frame.run.distance.normalizes())
        for (Eigen::Index k = 0; k < frame.snapshot->owned.rows(); ++k) {
            const double length = sphere::rowOf(frame.snapshot->owned, k).norm();
            if (std::isfinite(length)) largest = std::max(largest, length);
        }
    return largest;
}

Camera3D Renderer3D::fitted(const Frame3D& frame) {
    Camera3D camera = frame.camera;
    camera.worldRadius = 1.15 * dataRadius(frame);  // the axis labels stick out a little
    return camera;
}

int Renderer3D::pick(const Frame3D& frame, QPointF screen, double radius) {
    if (!sphere::validSnapshot(frame.snapshot.get())) return -1;
    const std::vector<Eigen::Vector3d> raw = rawPositions(frame), seen = seenPositions(frame);
    const bool copies = frame.run.loss && frame.run.distance.normalizes() && frame.options.showNormalized;
    int best = -1;
    double bestDepth = -std::numeric_limits<double>::infinity(), bestDistance = radius;
    auto consider = [&](const Eigen::Vector3d& p, int i) {
        const Projection q = frame.camera.project(p, frame.size);
        const double d = std::hypot(q.screen.x() - screen.x(), q.screen.y() - screen.y());
        if (d > radius) return;
        // Front-most first; among equally deep points the nearest on screen.
        if (q.depth > bestDepth + 1e-12 || (std::abs(q.depth - bestDepth) <= 1e-12 && d < bestDistance))
            best = i, bestDepth = q.depth, bestDistance = d;
    };
    for (std::size_t i = 0; i < raw.size(); ++i) {
        consider(raw[i], static_cast<int>(i));
        if (copies) consider(seen[i], static_cast<int>(i));
    }
    return best;
}

int Renderer3D::regionAt(const Frame3D& frame, const Eigen::Vector3d& u) {
    const SphereContext c(frame, false);
    if (!c.classifier.valid() || !(u.norm() > 0.0)) return kNoRegion;
    return c.classifier.label(u.normalized());
}

double Renderer3D::fadeAt(const Frame3D& frame, const Eigen::Vector3d& u) {
    const SphereContext c(frame, false);
    if (!c.classifier.valid() || !(u.norm() > 0.0)) return 0.0;
    return c.classifier.fade(u.normalized());
}

namespace {

/// What a 2D and a 3D frame have in common (everything but the camera, the drag and the trails).
template <typename To, typename From>
To withSharedFields(const From& from) {
    To to;
    to.snapshot = from.snapshot;
    to.run = from.run;
    to.options = from.options;
    to.size = from.size;
    to.selection = from.selection;
    to.captions = from.captions;
    return to;
}

}  // namespace

Frame3D Renderer3D::sphereFrame(const Frame2D& planar, const Camera3D& camera) {
    Frame3D frame = withSharedFields<Frame3D>(planar);
    frame.camera = camera;
    return frame;
}

Frame2D Renderer3D::cardFrame(const Frame3D& frame) { return withSharedFields<Frame2D>(frame); }

QRectF Renderer3D::descriptionCloseBox(const Frame3D& frame) {
    const Frame2D f = cardFrame(frame);
    return Renderer2D::descriptionCloseBox(f);
}

void Renderer3D::paint(QPainter& painter, const Frame3D& frame) {
    const bool vector = sphere::isVectorTarget(painter);
    const SphereContext c(frame, vector);
    const Frame2D planar = cardFrame(frame);
    layers::FrameContext cards(planar, vector);
    painter.save();
    painter.fillRect(QRectF(QPointF(0, 0), c.size), Qt::white);
    if (!sphere::validSnapshot(frame.snapshot.get())) {
        layers::paintCaptions(painter, cards);
        painter.restore();
        return;
    }
    // Behind the front surface.
    sphere::paintBackDisc(painter, c);
    sphere::paintWireframe(painter, c, false);
    sphere::paintAxes(painter, c, false);
    sphere::paintPoints(painter, c, true, m_sprites, m_spriteScale);
    // The surface and what lies on or in front of it.
    sphere::paintSurface(painter, c, m_surface);
    sphere::paintWireframe(painter, c, true);
    sphere::paintTripletOutlines(painter, c);
    sphere::paintDistanceBand(painter, c, cards);
    sphere::paintAxes(painter, c, true);
    sphere::paintClassWeights(painter, c);
    sphere::paintTrails(painter, c);
    sphere::paintPoints(painter, c, false, m_sprites, m_spriteScale);
    sphere::paintTripletMarks(painter, c);
    sphere::paintForces(painter, c, cards);
    // Cards: the 2D view's read-out, legend, banner and captions; the θ inset from the 3D angles.
    if (frame.options.showMarginInset && c.run.logits && c.hasClassWeights()) {
        Frame2D thetaFrame = planar;
        thetaFrame.snapshot = sphere::thetaSnapshot(c);
        const layers::FrameContext theta(thetaFrame, vector);
        // In a small frame the inset would cover the equal-area map: the map shows more in 3D.
        const QRectF map = equalAreaLayout(frame).box;
        if (map.isEmpty() || !theta.insetBox.intersects(map)) {
            layers::paintMarginInset(painter, theta);
            cards.insetShown = theta.insetShown;
            cards.insetBox = theta.insetBox;
        }
    }
    // The loss's own picture is computed from the snapshot's positions in any dimension: the 2D
    // view's card where the θ inset would be, NCA's rings on the projected points.
    {
        const QRectF map = equalAreaLayout(frame).box;
        if (map.isEmpty() || !cards.insetBox.intersects(map)) {
            std::vector<layers::ScreenPoint> points;
            if (c.run.picture.kind == LossPicture::Kind::SoftNeighbours)
                for (const Eigen::Vector3d& p : c.seen) points.push_back({c.project(p).screen, c.behindSurface(p)});
            layers::paintLossPicture(painter, cards, points);
        }
    }
    sphere::paintEqualAreaMap(painter, c, m_map);
    layers::paintReadout(painter, cards);
    layers::paintLegend(painter, cards);
    layers::paintBanner(painter, cards);
    layers::paintCaptions(painter, cards);
    painter.restore();
}

QImage Renderer3D::image(const Frame3D& frame, double devicePixelRatio) {
    return layers::paintedImage(QSizeF(frame.size), devicePixelRatio, [&](QPainter& painter) { paint(painter, frame); });
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Class regions, the margin band and the grid. Where the regions are analytic they are vector
// shapes: angular sectors for everything decided by direction (the softmax family's argmax and
// margin band, nearest proxy, nearest centroid direction of a normalizing loss) and the Voronoi
// cells of the class centroids otherwise; their boundaries are stroked anti-aliased. The 1-NN
// regions of the points and the softmax's uncertainty fade are smooth fields.
#include "classpalette.h"
#include "layers.h"
#include "nearestindex.h"

#include <QPainterPath>
#include <QPolygonF>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numbers>

namespace marginlab::layers {

namespace {

constexpr int kBand = -1;  // label of the margin band in an angular partition
const QColor kBoundary(140, 140, 140);
const QRgb kUncertain = qRgb(238, 238, 238);
const QRgb kStripeDark = qRgb(196, 196, 196), kStripeLight = qRgb(228, 228, 228);

/// a → b by t/256 (t ∈ [0, 256]) in integers: the fields blend per pixel, where a rounding call
/// per channel costs more than the rest of the layer.
QRgb blend256(QRgb a, QRgb b, int t) {
    auto mix = [t](int u, int v) { return u + (((v - u) * t + 128) >> 8); };
    return qRgb(mix(qRed(a), qRed(b)), mix(qGreen(a), qGreen(b)), mix(qBlue(a), qBlue(b)));
}

QRgb blend(QRgb a, QRgb b, double t) { return blend256(a, b, static_cast<int>(std::clamp(t, 0.0, 1.0) * 256.0 + 0.5)); }

QPointF direction(double angle) { return {std::cos(angle), std::sin(angle)}; }

/// Decides the class of a would-be sample from its direction (and, for the fade, its radius).
struct ClassifierModel {
    std::vector<QPointF> directions;  // unit class weight / proxy / centroid directions
    std::vector<double> weightNorm;   // ‖w_c‖ where the logits use it, else 1
    std::vector<bool> present;        // classes that can win (centroids of empty classes cannot)
    const MarginLogits* logits = nullptr;

    /// The winning class at unit direction u, or kBand where its margin is not met.
    int label(QPointF u) const {
        int best = -1;
        double bestValue = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < directions.size(); ++k) {
            if (!present[k]) continue;
            const double value = weightNorm[k] * (u.x() * directions[k].x() + u.y() * directions[k].y());
            if (value > bestValue) bestValue = value, best = static_cast<int>(k);
        }
        if (best < 0 || !logits || !logits->hasMargin) return best;
        const std::size_t b = static_cast<std::size_t>(best);
        const double target = weightNorm[b] * logits->target(std::clamp(bestValue / weightNorm[b], -1.0, 1.0));
        for (std::size_t k = 0; k < directions.size(); ++k)
            if (k != b && present[k] && weightNorm[k] * (u.x() * directions[k].x() + u.y() * directions[k].y()) >= target)
                return kBand;
        return best;
    }

    /// 2(1 − p) of the winning class at u, radius r (0: certain, 1: a coin toss), 0 in the band.
    double fade(QPointF u, double radius) const {
        if (!logits) return 0.0;
        int best = -1;
        double bestValue = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < directions.size(); ++k) {
            const double value = weightNorm[k] * (u.x() * directions[k].x() + u.y() * directions[k].y());
            if (value > bestValue) bestValue = value, best = static_cast<int>(k);
        }
        if (best < 0) return 0.0;
        const std::size_t b = static_cast<std::size_t>(best);
        const double target = weightNorm[b] * logits->target(std::clamp(bestValue / weightNorm[b], -1.0, 1.0));
        const double factor = logits->scale * (logits->normScaled ? radius : 1.0);
        double others = 0.0, runnerUp = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < directions.size(); ++k) {
            if (k == b) continue;
            const double value = weightNorm[k] * (u.x() * directions[k].x() + u.y() * directions[k].y());
            runnerUp = std::max(runnerUp, value);
            others += std::exp(std::min(factor * (value - target), 700.0));
        }
        if (logits->hasMargin && target <= runnerUp) return 0.0;
        return std::clamp(2.0 * (1.0 - 1.0 / (1.0 + others)), 0.0, 1.0);
    }
};

/// One angular sector [from, to) (radians, increasing) of constant label.
struct Sector {
    double from = 0.0, to = 0.0;
    int label = 0;
};

/// The circle split into sectors of constant label; boundaries found by bisection to ~1e-12 rad.
std::vector<Sector> angularSectors(const ClassifierModel& model) {
    constexpr int kSamples = 2048;
    const double step = 2.0 * std::numbers::pi / kSamples;
    std::vector<int> labels(kSamples);
    for (int k = 0; k < kSamples; ++k) labels[static_cast<std::size_t>(k)] = model.label(direction(k * step));
    std::vector<double> boundaries;
    for (int k = 0; k < kSamples; ++k) {
        const int here = labels[static_cast<std::size_t>(k)], next = labels[static_cast<std::size_t>((k + 1) % kSamples)];
        if (here == next) continue;
        double low = k * step, high = (k + 1) * step;
        for (int iteration = 0; iteration < 40; ++iteration) {
            const double middle = 0.5 * (low + high);
            (model.label(direction(middle)) == here ? low : high) = middle;
        }
        boundaries.push_back(0.5 * (low + high));
    }
    std::vector<Sector> sectors;
    if (boundaries.empty()) {
        sectors.push_back({0.0, 2.0 * std::numbers::pi, labels[0]});
        return sectors;
    }
    for (std::size_t i = 0; i < boundaries.size(); ++i) {
        const double from = boundaries[i];
        double to = boundaries[(i + 1) % boundaries.size()];
        if (to <= from) to += 2.0 * std::numbers::pi;
        sectors.push_back({from, to, model.label(direction(0.5 * (from + to)))});
    }
    return sectors;
}

/// A sector as a screen path from the world origin out to `radius` pixels (beyond the picture).
QPainterPath sectorPath(QPointF origin, double radius, double from, double to) {
    QPainterPath path(origin);
    const int pieces = std::max(1, static_cast<int>(std::ceil((to - from) / (std::numbers::pi / 90.0))));
    for (int k = 0; k <= pieces; ++k) {
        const double angle = from + (to - from) * k / pieces;
        path.lineTo(origin + QPointF(std::cos(angle), -std::sin(angle)) * radius);  // screen y points down
    }
    path.closeSubpath();
    return path;
}

/// The convex cell {p : |p − sites[i]| ≤ |p − sites[j]| ∀ j} within `box`, by half-plane clipping.
QPolygonF voronoiCell(const std::vector<QPointF>& sites, const std::vector<bool>& present, std::size_t i, QRectF box) {
    QPolygonF cell(box);
    if (cell.size() > 4) cell.removeLast();  // QPolygonF(QRectF) repeats the first corner
    for (std::size_t j = 0; j < sites.size() && !cell.isEmpty(); ++j) {
        if (j == i || !present[j]) continue;
        const QPointF normal = sites[j] - sites[i];
        const QPointF middle = (sites[i] + sites[j]) / 2.0;
        auto side = [&](QPointF p) { return (p.x() - middle.x()) * normal.x() + (p.y() - middle.y()) * normal.y(); };
        QPolygonF clipped;
        for (int k = 0; k < cell.size(); ++k) {
            const QPointF a = cell[k], b = cell[(k + 1) % cell.size()];
            const double sa = side(a), sb = side(b);
            if (sa <= 0) clipped << a;
            if ((sa < 0 && sb > 0) || (sa > 0 && sb < 0)) clipped << a + (b - a) * (sa / (sa - sb));
        }
        cell = clipped;
    }
    return cell;
}

}  // namespace

std::vector<QPointF> classCentroids(const FrameContext& c, std::vector<bool>& present) {
    std::vector<QPointF> sum(static_cast<std::size_t>(c.classes), QPointF(0, 0));
    std::vector<int> count(sum.size(), 0);
    for (std::size_t i = 0; i < c.seen.size(); ++i) {
        const int label = c.snapshot.labels[i];
        if (label < 0 || label >= c.classes) continue;
        sum[static_cast<std::size_t>(label)] += c.seen[i];
        ++count[static_cast<std::size_t>(label)];
    }
    present.assign(sum.size(), false);
    for (std::size_t k = 0; k < sum.size(); ++k)
        if (count[k]) sum[k] /= count[k], present[k] = true;
    return sum;
}

namespace {

/// Proxy losses (one block of owned rows: the proxies) whose distance does not normalize.
bool proxiesSeenRaw(const FrameContext& c) {
    return c.run.regions == ClassRegions::NearestProxy && c.run.ownedBlocks == 1 && !c.normalizes;
}

/// The sites of Voronoi regions: the proxies of proxiesSeenRaw(), else the class centroids.
std::vector<QPointF> voronoiSites(const FrameContext& c, std::vector<bool>& present) {
    if (!c.hasClassWeights() || !proxiesSeenRaw(c)) return classCentroids(c, present);
    std::vector<QPointF> sites;
    for (int k = 0; k < c.classes; ++k) sites.emplace_back(c.snapshot.owned(k, 0), c.snapshot.owned(k, 1));
    present.assign(sites.size(), true);
    return sites;
}

/// The classifier the regions show, or nothing for Voronoi cells (centroids, raw proxies) / 1-NN.
std::optional<ClassifierModel> angularModel(const FrameContext& c) {
    ClassifierModel model;
    const int classes = c.classes;
    model.directions.resize(static_cast<std::size_t>(classes));
    model.weightNorm.assign(static_cast<std::size_t>(classes), 1.0);
    model.present.assign(static_cast<std::size_t>(classes), true);
    if (c.hasClassWeights()) {
        const Points& owned = c.snapshot.owned;
        const bool logits = c.run.regions == ClassRegions::ClassWeights && c.run.logits;
        // Proxies under an unnormalized distance: an Lp distance makes the Voronoi cells of the
        // proxies (paintRegionFills), a dot product weighs each direction by the proxy's length.
        const bool rawProxies = proxiesSeenRaw(c);
        if (rawProxies && c.run.distance.kind == DistanceKind::Lp) return std::nullopt;
        for (int k = 0; k < classes; ++k) {
            const QPointF w(owned(k, 0), owned(k, 1));
            const double length = std::max(norm2(w), 1e-12);
            model.directions[static_cast<std::size_t>(k)] = w / length;
            if ((logits && c.run.logits->weightNorms) || rawProxies) model.weightNorm[static_cast<std::size_t>(k)] = length;
        }
        if (logits) model.logits = &*c.run.logits;
        return model;
    }
    if (!c.normalizes) return std::nullopt;
    const std::vector<QPointF> means = classCentroids(c, model.present);
    for (std::size_t k = 0; k < means.size(); ++k) {
        const double length = norm2(means[k]);
        if (length < 1e-12) model.present[k] = false;
        else model.directions[k] = means[k] / length;
    }
    return model;
}

/// Writes the grid lines and axes into the image: QPainter's vertical hair-lines blend pixel by
/// pixel and cost more than the whole region fill.
void darkenGrid(QImage& image, const FrameContext& c, double ratio) {
    const QSize pixels = image.size();
    auto darkenColumn = [&](double sx, double alpha) {
        const int x = static_cast<int>(std::lround(sx * ratio));
        if (x < 0 || x >= pixels.width()) return;
        for (int y = 0; y < pixels.height(); ++y) {
            auto* pixel = reinterpret_cast<QRgb*>(image.scanLine(y)) + x;
            *pixel = blend(*pixel, qRgb(0, 0, 0), alpha);
        }
    };
    auto darkenRow = [&](double sy, double alpha) {
        const int y = static_cast<int>(std::lround(sy * ratio));
        if (y < 0 || y >= pixels.height()) return;
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < pixels.width(); ++x) line[x] = blend(line[x], qRgb(0, 0, 0), alpha);
    };
    constexpr double kGridAlpha = 28.0 / 255.0, kAxisAlpha = 90.0 / 255.0;
    const double step = niceStep(80.0 * c.scale / c.frame.camera.pixelsPerUnit);
    const QRectF world = c.frame.camera.visibleWorld(c.size);
    for (double x = std::ceil(world.left() / step) * step; x <= world.right(); x += step)
        darkenColumn(c.screen(QPointF(x, 0)).x(), kGridAlpha);
    for (double y = std::ceil(world.top() / step) * step; y <= world.bottom(); y += step)
        darkenRow(c.screen(QPointF(0, y)).y(), kGridAlpha);
    const QPointF origin = c.screen(QPointF(0, 0));
    darkenColumn(origin.x(), kAxisAlpha);
    darkenRow(origin.y(), kAxisAlpha);
}

void vectorGrid(QPainter& painter, const FrameContext& c) {
    const double step = niceStep(80.0 * c.scale / c.frame.camera.pixelsPerUnit);
    const QRectF world = c.frame.camera.visibleWorld(c.size);
    std::vector<QLineF> lines;
    for (double x = std::ceil(world.left() / step) * step; x <= world.right(); x += step) {
        const double sx = c.screen(QPointF(x, 0)).x();
        lines.emplace_back(sx, 0, sx, c.size.height());
    }
    for (double y = std::ceil(world.top() / step) * step; y <= world.bottom(); y += step) {
        const double sy = c.screen(QPointF(0, y)).y();
        lines.emplace_back(0, sy, c.size.width(), sy);
    }
    painter.setPen(QPen(QColor(0, 0, 0, 28), 1.0));
    painter.drawLines(lines.data(), static_cast<int>(lines.size()));
    const QPointF origin = c.screen(QPointF(0, 0));
    painter.setPen(QPen(QColor(0, 0, 0, 90), 1.0));
    painter.drawLine(QLineF(origin.x(), 0, origin.x(), c.size.height()));
    painter.drawLine(QLineF(0, origin.y(), c.size.width(), origin.y()));
}

/// Diagonal stripes over `area` (the margin band). Raster targets fill it with a tiled brush (a
/// clipped wide stroke per stripe cost more than the rest of the frame); vector targets get lines,
/// so they stay vectors in SVG / PDF.
void paintStripes(QPainter& painter, const FrameContext& c, const QPainterPath& area) {
    const double spacing = c.px(8.0);
    if (!c.vector) {
        const int period = std::max(4, static_cast<int>(std::lround(spacing)));
        QImage tile(period, period, QImage::Format_RGB32);
        for (int y = 0; y < period; ++y)
            for (int x = 0; x < period; ++x)
                tile.setPixel(x, y, (x + y) % period < (period * 3 + 4) / 8 ? kStripeDark : kStripeLight);
        painter.fillPath(area, QBrush(tile));
        return;
    }
    painter.save();
    painter.setClipPath(area, Qt::IntersectClip);
    painter.fillPath(area, QColor(kStripeLight));
    const double extent = c.size.width() + c.size.height();
    std::vector<QLineF> lines;
    for (double t = -c.size.height(); t < extent; t += spacing) lines.emplace_back(t, 0, t + c.size.height(), c.size.height());
    painter.setPen(QPen(QColor(kStripeDark), c.px(3.0), Qt::SolidLine, Qt::FlatCap));
    painter.drawLines(lines.data(), static_cast<int>(lines.size()));
    painter.restore();
}

/**
 * A monotonic stand-in for the angle of (x, y), in [0, 4): the "diamond angle" y/(|x|+|y|) and its
 * rotations per quadrant. It orders directions like atan2 at a fraction of the cost, so a table
 * over it replaces a per-cell exp-heavy evaluation; diamondDirection() is its inverse.
 */
double diamondAngle(double x, double y) {
    if (y >= 0.0) return x >= 0.0 ? y / (x + y + 1e-300) : 1.0 - x / (y - x);
    return x < 0.0 ? 2.0 - y / (-x - y) : 3.0 + x / (x - y);
}

QPointF diamondDirection(double t) {
    const int quadrant = std::clamp(static_cast<int>(t), 0, 3);
    const double f = t - quadrant;
    switch (quadrant) {
    case 0: return {1.0 - f, f};
    case 1: return {-f, 1.0 - f};
    case 2: return {f - 1.0, -f};
    default: return {f, f - 1.0};
    }
}

/// The softmax's uncertainty as a field of cells: 2(1 − p) per cell, row-major. Unless the logits
/// grow with ‖x‖ it depends on the direction alone: one evaluation per 1/2048 of the diamond angle
/// (about a pixel 400 pixels from the origin; the fade is a soft shading, not a boundary) instead
/// of one per cell. Where it grows with ‖x‖ (plain softmax, whose fade spreads over whole
/// distances) one evaluation per 2×2 cells.
std::vector<float> fadeField(const FrameContext& c, const ClassifierModel& model, int cell, int columns, int rows,
                             double ratio) {
    std::vector<float> field(static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows));
    constexpr int kAngles = 2048;
    const bool byAngle = !model.logits->normScaled;
    std::vector<float> table;
    if (byAngle) {
        table.resize(kAngles);
        for (int k = 0; k < kAngles; ++k) {
            const QPointF d = diamondDirection((k + 0.5) * 4.0 / kAngles);
            table[static_cast<std::size_t>(k)] = static_cast<float>(model.fade(d / norm2(d), 1.0));
        }
    }
    auto at = [&](int row, int col) -> float& {
        return field[static_cast<std::size_t>(row) * static_cast<std::size_t>(columns) + static_cast<std::size_t>(col)];
    };
    const int stride = byAngle ? 1 : 2;
    for (int row = 0; row < rows; row += stride)
        for (int col = 0; col < columns; col += stride) {
            const double span = 0.5 * stride * cell / ratio;  // the centre of the cells evaluated together
            const QPointF world = c.frame.camera.toWorld(QPointF(col * cell / ratio + span, row * cell / ratio + span), c.size);
            float value;
            if (byAngle) {
                const int k = static_cast<int>(diamondAngle(world.x(), world.y()) * (kAngles / 4.0));
                value = table[static_cast<std::size_t>(std::clamp(k, 0, kAngles - 1))];
            } else {
                const double radius = std::max(norm2(world), 1e-12);
                value = static_cast<float>(model.fade(world / radius, radius));
            }
            for (int r = row; r < std::min(rows, row + stride); ++r)
                for (int k = col; k < std::min(columns, col + stride); ++k) at(r, k) = value;
        }
    return field;
}

/// Vector regions (sectors or cells) and the band's stripes painted into `painter` without
/// anti-aliasing (adjacent anti-aliased fills leave light seams); returns the boundaries, which
/// are stroked anti-aliased on top and hide the fills' pixel steps.
std::vector<QLineF> paintRegionFills(QPainter& painter, const FrameContext& c, const std::optional<ClassifierModel>& model) {
    const QPointF origin = c.screen(QPointF(0, 0));
    std::vector<QLineF> boundaries;
    painter.setPen(Qt::NoPen);
    if (model) {
        double radius = 0.0;
        for (QPointF corner : {QPointF(0, 0), QPointF(c.size.width(), 0), QPointF(0, c.size.height()),
                               QPointF(c.size.width(), c.size.height())})
            radius = std::max(radius, norm2(corner - origin));
        radius += 10.0;
        const std::vector<Sector> sectors = angularSectors(*model);
        QPainterPath whole;
        whole.addRect(QRectF(QPointF(0, 0), c.size));
        QPainterPath band;
        for (const Sector& s : sectors) {
            const QPainterPath path = sectors.size() == 1 ? whole : sectorPath(origin, radius, s.from, s.to);
            if (sectors.size() > 1)
                boundaries.emplace_back(origin, origin + QPointF(std::cos(s.from), -std::sin(s.from)) * radius);
            if (s.label == kBand) {
                band.addPath(path);
                continue;
            }
            painter.setBrush(ClassPalette::background(s.label));
            painter.drawPath(path);
        }
        if (!band.isEmpty()) paintStripes(painter, c, band);
    } else {
        std::vector<bool> present;
        const std::vector<QPointF> sites = voronoiSites(c, present);
        QRectF box = c.frame.camera.visibleWorld(c.size);
        box = box.adjusted(-box.width(), -box.height(), box.width(), box.height());
        for (std::size_t k = 0; k < sites.size(); ++k) {
            if (!present[k]) continue;
            QPolygonF cell = voronoiCell(sites, present, k, box);
            if (cell.size() < 3) continue;
            for (QPointF& p : cell) p = c.screen(p);
            painter.setBrush(ClassPalette::background(static_cast<int>(k)));
            painter.drawPolygon(cell);
            for (int e = 0; e < cell.size(); ++e) boundaries.emplace_back(cell[e], cell[(e + 1) % cell.size()]);
        }
    }
    return boundaries;
}

void strokeBoundaries(QPainter& painter, const FrameContext& c, const std::vector<QLineF>& boundaries) {
    if (boundaries.empty()) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true);
    painter.setPen(QPen(kBoundary, c.px(1.2)));
    painter.drawLines(boundaries.data(), static_cast<int>(boundaries.size()));
    painter.restore();
}

/// The fade as one smooth translucent image over the whole picture (vector targets).
QImage fadeImage(const FrameContext& c, const ClassifierModel& model) {
    constexpr int kCell = 4;
    const QSize pixels = c.size.toSize();
    const int columns = (pixels.width() + kCell - 1) / kCell, rows = (pixels.height() + kCell - 1) / kCell;
    const std::vector<float> f = fadeField(c, model, kCell, columns, rows, 1.0);
    QImage small(columns, rows, QImage::Format_ARGB32);
    for (int row = 0; row < rows; ++row)
        for (int col = 0; col < columns; ++col) {
            const int alpha = static_cast<int>(255.0f * f[static_cast<std::size_t>(row * columns + col)]);
            small.setPixel(col, row, qRgba(qRed(kUncertain), qGreen(kUncertain), qBlue(kUncertain), alpha));
        }
    return small.scaled(pixels, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
}

/// The 1-NN regions of the points (as the loss sees them) into `image`: a field, exact per pixel,
/// anti-aliased by 2×2 samples where a 4×4 block has more than one class.
void fillNearestField(QImage& image, const FrameContext& c, double ratio) {
    const bool normalized = c.normalizes;
    QRectF bounds = c.frame.camera.visibleWorld(c.size).united(QRectF(-1.0, -1.0, 2.0, 2.0));
    for (const QPointF& p : c.seen) bounds |= QRectF(p, QSizeF(0, 0)).adjusted(-1e-9, -1e-9, 1e-9, 1e-9);
    const NearestIndex index(c.seen, bounds);
    std::vector<QRgb> tints(static_cast<std::size_t>(c.classes));
    for (int k = 0; k < c.classes; ++k) tints[static_cast<std::size_t>(k)] = ClassPalette::background(k).rgb();
    auto classAt = [&](double sx, double sy) {
        QPointF p = c.frame.camera.toWorld(QPointF(sx / ratio, sy / ratio), c.size);
        if (normalized) p /= std::max(norm2(p), 1e-12);
        const int found = index.nearest(p);
        return found >= 0 ? c.snapshot.labels[static_cast<std::size_t>(found)] : -1;
    };
    auto tint = [&](int label) { return label >= 0 && label < c.classes ? tints[static_cast<std::size_t>(label)] : qRgb(255, 255, 255); };
    constexpr int kBlock = 4;
    const int width = image.width(), height = image.height();
    const int columns = (width + kBlock - 1) / kBlock + 1, rows = (height + kBlock - 1) / kBlock + 1;
    std::vector<int> corners(static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows));
    for (int row = 0; row < rows; ++row)
        for (int col = 0; col < columns; ++col)
            corners[static_cast<std::size_t>(row * columns + col)] = classAt(col * kBlock, row * kBlock);
    for (int row = 0; row + 1 < rows; ++row)
        for (int col = 0; col + 1 < columns; ++col) {
            const int a = corners[static_cast<std::size_t>(row * columns + col)];
            const bool uniform = a == corners[static_cast<std::size_t>(row * columns + col + 1)] &&
                                 a == corners[static_cast<std::size_t>((row + 1) * columns + col)] &&
                                 a == corners[static_cast<std::size_t>((row + 1) * columns + col + 1)];
            for (int y = row * kBlock; y < std::min(height, (row + 1) * kBlock); ++y) {
                auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
                for (int x = col * kBlock; x < std::min(width, (col + 1) * kBlock); ++x) {
                    if (uniform) {
                        line[x] = tint(a);
                        continue;
                    }
                    int r = 0, g = 0, b = 0;
                    for (double dy : {0.25, 0.75})
                        for (double dx : {0.25, 0.75}) {
                            const QRgb t = tint(classAt(x + dx, y + dy));
                            r += qRed(t), g += qGreen(t), b += qBlue(t);
                        }
                    line[x] = qRgb(r / 4, g / 4, b / 4);
                }
            }
        }
}

bool regionsShown(const FrameContext& c) {
    // Without a loss (a replayed trajectory) the regions are the nearest class centroids.
    return c.options.showRegions && c.classes >= 2 && c.planar;
}

}  // namespace

void paintRegionsAndGrid(QPainter& painter, const FrameContext& c, QImage& cache) {
    const bool shown = regionsShown(c);
    const bool nearestPoint = shown && !c.hasClassWeights() && c.options.nearestNeighbourRegions;
    const std::optional<ClassifierModel> model =
        shown && !nearestPoint ? angularModel(c) : std::optional<ClassifierModel>{};
    const bool fade = model && model->logits;

    if (c.vector) {
        painter.fillRect(QRectF(QPointF(0, 0), c.size), Qt::white);
        std::vector<QLineF> boundaries;
        if (nearestPoint) {
            // One field image for the whole picture (never one per point).
            QImage field(c.size.toSize(), QImage::Format_RGB32);
            fillNearestField(field, c, 1.0);
            painter.drawImage(QRectF(QPointF(0, 0), c.size), field);
        } else if (shown) {
            boundaries = paintRegionFills(painter, c, model);
            if (fade) painter.drawImage(QRectF(QPointF(0, 0), c.size), fadeImage(c, *model));
        }
        strokeBoundaries(painter, c, boundaries);
        vectorGrid(painter, c);
        return;
    }

    const double ratio = painter.device() ? painter.device()->devicePixelRatioF() : 1.0;
    const QSize pixels = (c.size * ratio).toSize();
    if (cache.size() != pixels || cache.format() != QImage::Format_RGB32) cache = QImage(pixels, QImage::Format_RGB32);
    cache.setDevicePixelRatio(ratio);
    std::vector<QLineF> boundaries;
    if (nearestPoint) {
        fillNearestField(cache, c, ratio);
    } else {
        cache.fill(Qt::white);
        if (shown) {
            QPainter p(&cache);
            boundaries = paintRegionFills(p, c, model);
        }
        if (fade) {
            // The fade is smooth: a value per 4×4 device pixels is enough, blended in place.
            constexpr int kCell = 4;
            const int columns = (pixels.width() + kCell - 1) / kCell, rows = (pixels.height() + kCell - 1) / kCell;
            const std::vector<float> f = fadeField(c, *model, kCell, columns, rows, ratio);
            std::vector<int> weight(f.size());  // in 1/256 steps
            for (std::size_t k = 0; k < f.size(); ++k) weight[k] = static_cast<int>(std::clamp(f[k], 0.0f, 1.0f) * 256.0f + 0.5f);
            for (int y = 0; y < pixels.height(); ++y) {
                auto* line = reinterpret_cast<QRgb*>(cache.scanLine(y));
                const int* fadeRow = weight.data() + static_cast<std::size_t>(y / kCell) * static_cast<std::size_t>(columns);
                for (int x = 0; x < pixels.width(); ++x)
                    if (const int t = fadeRow[x / kCell]; t > 0) line[x] = blend256(line[x], kUncertain, t);
            }
        }
        if (!boundaries.empty()) {
            QPainter p(&cache);
            strokeBoundaries(p, c, boundaries);
        }
    }
    darkenGrid(cache, c, ratio);
    painter.drawImage(QPointF(0, 0), cache);
}

}  // namespace marginlab::layers

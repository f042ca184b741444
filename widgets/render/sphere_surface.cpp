// SPDX-License-Identifier: MIT
// The sphere's surfaces as fields: the front surface of the 3D view (lit, translucent, carrying
// the class regions, the margin band and the triplet caps) and the equal-area map of the whole
// sphere. Both classify a direction per sample with the same SphereClassifier, once per 4×4 block
// where its corners agree and with 2×2 samples per pixel where they do not (anti-aliased edges).
#include <QCoreApplication>
#include <QPainterPath>
#include <algorithm>
#include <cmath>
#include <numbers>

#include "classpalette.h"
#include "layers.h"
#include "sphere_layers.h"

namespace marginlab {

namespace sphere {

namespace {

using Eigen::Vector3d;

constexpr int kOutside = -100;  // a sample off the disc
constexpr int kBlock = 4;
const QRgb kStripeDark = qRgb(196, 196, 196), kStripeLight = qRgb(228, 228, 228);
const QRgb kGlass = qRgb(248, 248, 248);     // the surface where no regions are drawn
const QRgb kUncertain = qRgb(238, 238, 238);  // where the softmax is a coin toss (as in 2D)
const QRgb kBackDisc = qRgb(226, 226, 230);  // the far hemisphere seen through the surface

/**
 * Fills `image` (ARGB32 premultiplied) sample by sample. `directionAt(x, y, n)` gives the unit
 * world direction under the device point (x, y) of the image or false off the disc; `colorAt(n,
 * label, fade, x, y)` its premultiplied colour. The disc is convex, so a block whose four corners
 * are on it is wholly on it. The softmax fade is smooth: it is computed at the block corners and
 * interpolated between them.
 */
template <typename DirectionAt, typename ColorAt>
void rasterize(QImage& image, const SphereClassifier& classifier, DirectionAt directionAt, ColorAt colorAt) {
    auto classify = [&](const Vector3d& n) {
        return classifier.valid() ? classifier.label(n) : Renderer3D::kNoRegion;
    };
    const bool fades = classifier.logits != nullptr;
    const int width = image.width(), height = image.height();
    const int columns = (width + kBlock - 1) / kBlock + 1, rows = (height + kBlock - 1) / kBlock + 1;
    const std::size_t count = static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows);
    std::vector<int> corners(count);
    std::vector<float> fade(fades ? count : 0, 0.0f);
    Vector3d n;
    for (int row = 0; row < rows; ++row)
        for (int col = 0; col < columns; ++col) {
            const std::size_t at = static_cast<std::size_t>(row * columns + col);
            corners[at] = directionAt(double(col * kBlock), double(row * kBlock), n) ? classify(n) : kOutside;
            // The fade at every other corner (2·kBlock apart); corners just off the disc take the
            // rim's direction, so that the interpolation near the rim does not pull to certainty.
            if (fades && row % 2 == 0 && col % 2 == 0 && directionAt(double(col * kBlock), double(row * kBlock), n, true))
                fade[at] = static_cast<float>(classifier.fade(n));
        }
    if (fades) {
        // The corners between: the mean of their computed neighbours (rows, then columns).
        auto value = [&](int row, int col) { return fade[static_cast<std::size_t>(row * columns + col)]; };
        for (int row = 0; row < rows; row += 2)
            for (int col = 1; col < columns; col += 2)
                fade[static_cast<std::size_t>(row * columns + col)] =
                    col + 1 < columns ? 0.5f * (value(row, col - 1) + value(row, col + 1)) : value(row, col - 1);
        for (int row = 1; row < rows; row += 2)
            for (int col = 0; col < columns; ++col)
                fade[static_cast<std::size_t>(row * columns + col)] =
                    row + 1 < rows ? 0.5f * (value(row - 1, col) + value(row + 1, col)) : value(row - 1, col);
    }
    constexpr double kInverse = 1.0 / kBlock;
    for (int row = 0; row + 1 < rows; ++row)
        for (int col = 0; col + 1 < columns; ++col) {
            const std::size_t at = static_cast<std::size_t>(row * columns + col);
            const int a = corners[at], b = corners[at + 1];
            const int d = corners[at + static_cast<std::size_t>(columns)];
            const int e = corners[at + static_cast<std::size_t>(columns) + 1];
            const bool uniform = a == b && a == d && a == e;
            float f00 = 0, f01 = 0, f10 = 0, f11 = 0;
            if (fades)
                f00 = fade[at], f01 = fade[at + 1], f10 = fade[at + static_cast<std::size_t>(columns)],
                f11 = fade[at + static_cast<std::size_t>(columns) + 1];
            const bool faded = fades && (f00 > 0.004f || f01 > 0.004f || f10 > 0.004f || f11 > 0.004f);
            const int yEnd = std::min(height, (row + 1) * kBlock), xEnd = std::min(width, (col + 1) * kBlock);
            // A mixed block: the label at every pixel centre first; only pixels whose neighbours
            // (within the block) differ are supersampled — the edges, not the whole block.
            int centre[kBlock][kBlock];
            if (!uniform)
                for (int y = row * kBlock; y < yEnd; ++y)
                    for (int x = col * kBlock; x < xEnd; ++x)
                        centre[y - row * kBlock][x - col * kBlock] =
                            directionAt(x + 0.5, y + 0.5, n) ? classify(n) : kOutside;
            auto mixedAt = [&](int i, int j) {
                const int here = centre[i][j];
                return (i > 0 && centre[i - 1][j] != here) || (i + 1 < yEnd - row * kBlock && centre[i + 1][j] != here) ||
                       (j > 0 && centre[i][j - 1] != here) || (j + 1 < xEnd - col * kBlock && centre[i][j + 1] != here);
            };
            for (int y = row * kBlock; y < yEnd; ++y) {
                auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
                const double v = (y - row * kBlock) * kInverse;
                for (int x = col * kBlock; x < xEnd; ++x) {
                    double t = 0.0;
                    if (faded) {
                        const double u = (x - col * kBlock) * kInverse;
                        t = (1 - v) * ((1 - u) * f00 + u * f01) + v * ((1 - u) * f10 + u * f11);
                    }
                    const int label = uniform ? a : centre[y - row * kBlock][x - col * kBlock];
                    if (label == kOutside && (uniform || !mixedAt(y - row * kBlock, x - col * kBlock))) {
                        line[x] = 0;
                    } else if (uniform || !mixedAt(y - row * kBlock, x - col * kBlock)) {
                        line[x] = directionAt(x + 0.5, y + 0.5, n) ? colorAt(n, label, t, x + 0.5, y + 0.5) : 0;
                    } else {
                        int sum[4] = {0, 0, 0, 0};
                        for (double dy : {0.25, 0.75})
                            for (double dx : {0.25, 0.75}) {
                                if (!directionAt(x + dx, y + dy, n)) continue;
                                const QRgb color = colorAt(n, classify(n), t, x + dx, y + dy);
                                sum[0] += qRed(color), sum[1] += qGreen(color), sum[2] += qBlue(color),
                                    sum[3] += qAlpha(color);
                            }
                        line[x] = qRgba(sum[0] / 4, sum[1] / 4, sum[2] / 4, sum[3] / 4);
                    }
                }
            }
        }
}

/// The colours of the surface fields, looked up once per frame (the fields ask per sample).
struct SurfacePalette {
    /// `toField` takes world directions to the field's frame (the view's, for the front surface).
    SurfacePalette(const SphereContext& c, double ratio, const Eigen::Matrix3d& toField)
        : spacing(c.px(8.0) * ratio),
          dark(c.px(3.0) * ratio),
          caps(c.triplet.caps),
          center(toField * c.triplet.center),
          cosHard(std::cos(c.triplet.hardAngle)),
          cosRing(std::cos(c.triplet.ringAngle)) {
        for (int k = 0; k < c.classes; ++k) tints.push_back(ClassPalette::background(k).rgb());
    }

    /// The region colour of a label at device point (x, y) (x, y ≥ 0), faded towards the
    /// uncertain grey by `fade` ∈ [0, 1]: stripes in the band, a pale glass without regions.
    QRgb color(int label, double fade, double x, double y) const {
        if (label >= 0 && label < static_cast<int>(tints.size())) {
            const QRgb tint = tints[static_cast<std::size_t>(label)];
            return fade > 0.004 ? blend(tint, kUncertain, fade) : tint;
        }
        if (label == Renderer3D::kBand) {
            const double phase = x + y;  // diagonal stripes; the remainder without fmod (per sample)
            return phase - spacing * std::floor(phase / spacing) < dark ? kStripeDark : kStripeLight;
        }
        return kGlass;
    }
    /// The selected anchor's caps darken the surface: hard (δ_an ≤ δ_ap) more, the margin ring less.
    double capFactor(const Vector3d& n) const {
        if (!caps) return 1.0;
        const double d = n.dot(center);
        return d >= cosHard ? 0.84 : d >= cosRing ? 0.94 : 1.0;
    }

    std::vector<QRgb> tints;
    double spacing, dark;
    bool caps;
    Vector3d center;
    double cosHard, cosRing;
};

/// `color` darkened by `factor` ∈ [0, 1], at opacity `alpha`, premultiplied.
QRgb shaded(QRgb color, double factor, double alpha) {
    const double s = factor * alpha;
    return qRgba(static_cast<int>(qRed(color) * s + 0.5), static_cast<int>(qGreen(color) * s + 0.5),
                 static_cast<int>(qBlue(color) * s + 0.5), static_cast<int>(255.0 * alpha + 0.5));
}

}  // namespace

void paintBackDisc(QPainter& painter, const SphereContext& c) {
    // The inside of the far hemisphere: one flat grey (a gradient fill of this size costs more
    // than the whole surface field; the surface's own lighting gives the roundness).
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    painter.setBrush(QColor(kBackDisc));
    painter.drawEllipse(c.origin, c.pixelsPerUnit, c.pixelsPerUnit);
    painter.restore();
}

void paintSurface(QPainter& painter, const SphereContext& c, SurfaceCache& surface) {
    const double ratio = painter.device() ? painter.device()->devicePixelRatioF() : 1.0;
    const double r = c.pixelsPerUnit;
    const QRectF disc(c.origin - QPointF(r, r), QSizeF(2 * r, 2 * r));
    const QRect area = QRectF(disc.topLeft() * ratio, disc.size() * ratio)
                           .toAlignedRect()
                           .intersected(QRect(QPoint(0, 0), (c.size * ratio).toSize()));
    if (area.isEmpty()) return;
    QImage& cache = surface.image;
    if (cache.size() != area.size() || cache.format() != QImage::Format_ARGB32_Premultiplied)
        cache = QImage(area.size(), QImage::Format_ARGB32_Premultiplied);
    cache.setDevicePixelRatio(1.0);
    const double ox = c.origin.x() * ratio - area.left(), oy = c.origin.y() * ratio - area.top();
    const double perPixel = 1.0 / (r * ratio);
    // Each pixel centre's view depth: the same every frame while the disc stays put (rotating the
    // camera does not move it), so the square roots of the plain pixels are taken once.
    const int width = area.width();
    if (surface.area != area || surface.originX != ox || surface.originY != oy || surface.pixelsPerUnit != perPixel) {
        surface.depth.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(area.height()));
        for (int y = 0; y < area.height(); ++y)
            for (int x = 0; x < width; ++x) {
                const double vx = (x + 0.5 - ox) * perPixel, vy = -(y + 0.5 - oy) * perPixel;
                const double r2 = vx * vx + vy * vy;
                surface.depth[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)] =
                    r2 > 1.0 ? -1.0f : static_cast<float>(std::sqrt(1.0 - r2));
            }
        surface.area = area, surface.originX = ox, surface.originY = oy, surface.pixelsPerUnit = perPixel;
    }
    // With `toRim`, a point off the disc gives the direction of the nearest rim point.
    auto directionAt = [&](double x, double y, Vector3d& n, bool toRim = false) {
        const double vx = (x - ox) * perPixel, vy = -(y - oy) * perPixel;
        if (x - std::floor(x) == 0.5 && y - std::floor(y) == 0.5 && x >= 0 && y >= 0 && x < width && y < area.height()) {
            // A pixel centre: its depth is in the table (−1 off the disc).
            const float z = surface.depth[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
            if (z >= 0.0f) {
                n = Vector3d(vx, vy, z);
                return true;
            }
            if (!toRim) return false;
        }
        const double r2 = vx * vx + vy * vy;
        if (r2 > 1.0) {
            if (!toRim) return false;
            const double length = std::sqrt(r2);
            n = Vector3d(vx / length, vy / length, 0.0);
            return true;
        }
        n = Vector3d(vx, vy, std::sqrt(1.0 - r2));
        return true;
    };
    // The field works in view coordinates (no rotation per sample): the classifier's directions
    // and the anchor are turned into the view once.
    SphereClassifier classifier = c.classifier;
    for (Vector3d& d : classifier.directions) d = c.rotation * d;
    classifier.toWorld = c.rotation.transpose();
    const SurfacePalette palette(c, ratio, c.rotation);
    const double alpha = c.classifier.valid() ? 0.82 : 0.55;
    auto colorAt = [&](const Vector3d& n, int label, double fade, double x, double y) {
        // Lit from the viewer: the rim is darker than the middle, so the surface reads as a ball.
        return shaded(palette.color(label, fade, x + area.left(), y + area.top()),
                      palette.capFactor(n) * (1.0 - 0.2 * (1.0 - n.z())), alpha);
    };
    rasterize(cache, classifier, directionAt, colorAt);
    cache.setDevicePixelRatio(ratio);
    painter.drawImage(QPointF(area.left() / ratio, area.top() / ratio), cache);
}

void paintEqualAreaMap(QPainter& painter, const SphereContext& c, QImage& cache) {
    const EqualAreaLayout layout = Renderer3D::equalAreaLayout(c.frame);
    if (!layout.shown()) return;
    const double ratio = painter.device() ? painter.device()->devicePixelRatioF() : 1.0;
    painter.save();
    layers::drawCard(painter, layout.box, c.scale);
    const double R = layout.radius;
    const SurfacePalette palette(c, ratio, Eigen::Matrix3d::Identity());
    for (const bool north : {true, false}) {
        const QPointF centre = north ? layout.north : layout.south;
        const QRect area =
            QRectF((centre - QPointF(R, R)) * ratio, QSizeF(2 * R, 2 * R) * ratio).toAlignedRect();
        if (cache.size() != area.size() || cache.format() != QImage::Format_ARGB32_Premultiplied)
            cache = QImage(area.size(), QImage::Format_ARGB32_Premultiplied);
        cache.setDevicePixelRatio(1.0);
        const double ox = centre.x() * ratio - area.left(), oy = centre.y() * ratio - area.top();
        const double perPixel = std::numbers::sqrt2 / (R * ratio);
        // Inverse Lambert azimuthal equal-area projection about the pole ±y.
        // With `toRim`, a point off the disc gives the direction of the nearest rim point (the equator).
        auto directionAt = [&](double x, double y, Vector3d& n, bool toRim = false) {
            double X = (x - ox) * perPixel, Z = (north ? 1.0 : -1.0) * (y - oy) * perPixel;
            double rho2 = X * X + Z * Z;
            if (rho2 > 2.0) {
                if (!toRim) return false;
                const double shrink = std::sqrt(2.0 / rho2);
                X *= shrink, Z *= shrink, rho2 = 2.0;
            }
            const double factor = std::sqrt(std::max(0.0, 1.0 - rho2 / 4.0));
            n = Vector3d(X * factor, (north ? 1.0 : -1.0) * (1.0 - rho2 / 2.0), Z * factor);
            return true;
        };
        auto colorAt = [&](const Vector3d& n, int label, double fade, double x, double y) {
            return shaded(palette.color(label, fade, x + area.left(), y + area.top()), palette.capFactor(n), 1.0);
        };
        rasterize(cache, c.classifier, directionAt, colorAt);
        cache.setDevicePixelRatio(ratio);
        painter.drawImage(QPointF(area.left() / ratio, area.top() / ratio), cache);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setBrush(Qt::NoBrush);
        // Latitude 45° (ρ = 2 sin 22.5°) and the equator (the rim).
        painter.setPen(QPen(QColor(0, 0, 0, 45), c.px(1.0)));
        const double r45 = R * 2.0 * std::sin(std::numbers::pi / 8.0) / std::numbers::sqrt2;
        painter.drawEllipse(centre, r45, r45);
        painter.setPen(QPen(QColor(0, 0, 0, 110), c.px(1.0)));
        painter.drawEllipse(centre, R, R);
    }
    // Every point's direction, in its class colour.
    std::vector<std::vector<QPointF>> dots(static_cast<std::size_t>(std::max(c.classes, 1)));
    for (std::size_t i = 0; i < c.raw.size(); ++i) {
        const std::optional<QPointF> at = Renderer3D::equalAreaPoint(c.frame, c.raw[i]);
        const int label = c.snapshot.labels[i];
        if (at && label >= 0 && label < c.classes) dots[static_cast<std::size_t>(label)].push_back(*at);
    }
    for (std::size_t k = 0; k < dots.size(); ++k) {
        const QColor color = ClassPalette::color(static_cast<int>(k)).darker(115);
        if (c.vector) {
            painter.setPen(QPen(color, c.px(3.2), Qt::SolidLine, Qt::RoundCap));
            painter.drawPoints(dots[k].data(), static_cast<int>(dots[k].size()));
            continue;
        }
        // Thousands of anti-aliased round dots are stroked paths; one small sprite blitted is far cheaper.
        const double radius = c.px(1.6);
        const int side = static_cast<int>(std::ceil(2 * radius * ratio)) + 2;
        QImage dot(side, side, QImage::Format_ARGB32_Premultiplied);
        dot.fill(Qt::transparent);
        {
            QPainter p(&dot);
            p.setRenderHint(QPainter::Antialiasing);
            p.setPen(Qt::NoPen);
            p.setBrush(color);
            p.drawEllipse(QPointF(side / 2.0, side / 2.0), radius * ratio, radius * ratio);
        }
        dot.setDevicePixelRatio(ratio);
        const double half = side / 2.0 / ratio;
        for (const QPointF& at : dots[k])
            painter.drawImage(QPointF(std::round((at.x() - half) * ratio) / ratio,
                                      std::round((at.y() - half) * ratio) / ratio),
                              dot);
    }
    if (c.triplet.valid) {
        if (const auto at = Renderer3D::equalAreaPoint(c.frame, c.triplet.center)) {
            painter.setPen(QPen(ClassPalette::anchorColor(), c.px(2.0)));
            painter.drawEllipse(*at, c.px(5.0), c.px(5.0));
        }
    }
    painter.setFont(c.font(11.0));
    painter.setPen(QColor(60, 60, 60));
    painter.drawText(QRectF(layout.box.left(), layout.box.top() + c.px(3), layout.box.width(), c.px(16)),
                     Qt::AlignCenter, QCoreApplication::translate("Renderer3D", "whole sphere, equal area"));
    const double below = layout.north.y() + R + c.px(3);
    painter.drawText(QRectF(layout.north.x() - R, below, 2 * R, c.px(16)), Qt::AlignCenter,
                     QCoreApplication::translate("Renderer3D", "y ≥ 0, from above"));
    painter.drawText(QRectF(layout.south.x() - R, below, 2 * R, c.px(16)), Qt::AlignCenter,
                     QCoreApplication::translate("Renderer3D", "y < 0, from below"));
    painter.restore();
}

}  // namespace sphere

EqualAreaLayout Renderer3D::equalAreaLayout(const Frame3D& frame) {
    EqualAreaLayout layout;
    const Snapshot* s = frame.snapshot.get();
    if (!frame.showEqualArea || !s || s->positions.rows() == 0 || frame.size.width() < 480 ||
        frame.size.height() < 360)
        return layout;
    const double scale = std::clamp(frame.options.textScale, 0.25, 8.0);
    auto px = [scale](double v) { return v * scale; };
    // Under the legend card of the 2D view (same geometry as layers::paintLegend).
    const int classes = std::max(0, s->numClasses), shown = std::min(classes, 12);
    const double legendBottom = classes >= 1
                                    ? px(8) + px(18) * shown + px(8) + (shown < classes ? px(18) : 0.0) +
                                          (s->memoryPositions.rows() > 0 ? px(18) : 0.0)
                                    : 0.0;
    layout.radius = px(62);
    const double width = 4 * layout.radius + px(36), height = 2 * layout.radius + px(44);
    layout.box = QRectF(frame.size.width() - width - px(8), legendBottom + px(8), width, height);
    const double cy = layout.box.top() + px(20) + layout.radius;
    layout.north = QPointF(layout.box.left() + px(12) + layout.radius, cy);
    layout.south = QPointF(layout.box.right() - px(12) - layout.radius, cy);
    return layout;
}

std::optional<QPointF> Renderer3D::equalAreaPoint(const Frame3D& frame, const Eigen::Vector3d& world) {
    const EqualAreaLayout layout = equalAreaLayout(frame);
    const double length = world.norm();
    if (!layout.shown() || !(length > 1e-12) || !world.allFinite()) return std::nullopt;
    const Eigen::Vector3d p = world / length;
    const bool north = p.y() >= 0.0;
    // Lambert: ρ = 2 sin(θ/2) from the pole, √2 on the equator (the disc's rim).
    const double factor = std::sqrt(2.0 / std::max(1e-300, 1.0 + std::abs(p.y())));
    const double X = factor * p.x(), Z = factor * p.z();
    const double toPixels = layout.radius / std::numbers::sqrt2;
    return north ? layout.north + QPointF(X, Z) * toPixels : layout.south + QPointF(X, -Z) * toPixels;
}

}  // namespace marginlab

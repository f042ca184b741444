// SPDX-License-Identifier: MIT
// The layers in world space: class weights / proxies / centroids, the triplet zones and marks,
// the points and their normalized copies, and the force arrows.
#include "classpalette.h"
#include "layers.h"

#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace marginlab::layers {

namespace {

constexpr double kPointRadius = 4.5;
constexpr double kForceLength = 40.0;  // pixels of the longest arrow at relative scale 1

QColor forceColor(int part) {
    if (part == 1) return QColor(0, 90, 200, 210);  // attraction
    if (part == 2) return QColor(210, 40, 20, 210);  // repulsion
    return QColor(30, 30, 30, 170);
}

// A circle drawn once and blitted: far cheaper than an anti-aliased ellipse per point.
QImage circleSprite(double radius, const QPen& pen, const QBrush& brush, double ratio) {
    const int side = static_cast<int>(std::ceil((2 * radius + pen.widthF()) * ratio)) + 2;
    QImage image(side, side, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(ratio, ratio);
    p.setPen(pen);
    p.setBrush(brush);
    p.drawEllipse(QPointF(side / 2.0 / ratio, side / 2.0 / ratio), radius, radius);
    p.end();
    image.setDevicePixelRatio(ratio);
    return image;
}

void blitCentered(QPainter& painter, QPointF at, const QImage& image) {
    const double ratio = image.devicePixelRatio();
    const double w = image.width() / ratio, h = image.height() / ratio;
    painter.drawImage(QPointF(std::round((at.x() - w / 2.0) * ratio) / ratio, std::round((at.y() - h / 2.0) * ratio) / ratio),
                      image);
}

QPen markPen(const FrameContext& c, Region region) {
    if (region == Region::Hard) return QPen(ClassPalette::hardColor(), c.px(2.2));
    QPen pen(ClassPalette::semiHardColor(), c.px(1.6), Qt::CustomDashLine);
    pen.setDashPattern({2.0, 1.6});
    return pen;
}

bool tripletShown(const FrameContext& c) { return c.triplet.valid; }

}  // namespace

void paintClassWeights(QPainter& painter, const FrameContext& c) {
    if (c.classes < 1) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const QPointF origin = c.screen(QPointF(0, 0));
    const Points& owned = c.snapshot.owned;
    const int perClass = c.run.centersPerClass();
    const Eigen::Index centerRows = static_cast<Eigen::Index>(perClass) * c.classes;
    if (c.hasClassWeights() && perClass > 0 && owned.rows() >= centerRows) {
        // Several centers per class (SoftTriple, sub-centers): a diamond per center, where the
        // cosine sees it (on the unit circle when the loss normalizes), in its class's colour.
        const double half = c.px(6.0);
        for (int k = 0; k < perClass; ++k)
            for (int label = 0; label < c.classes; ++label) {
                const Eigen::Index row = static_cast<Eigen::Index>(k) * c.classes + label;
                QPointF w(owned(row, 0), owned(row, 1));
                if (c.normalizes) w /= std::max(norm2(w), 1e-12);
                const QPointF p = c.screen(w);
                const QPointF diamond[4] = {p + QPointF(0, -half), p + QPointF(half, 0), p + QPointF(0, half),
                                            p + QPointF(-half, 0)};
                painter.setPen(QPen(Qt::black, c.px(1.2)));
                painter.setBrush(ClassPalette::color(label));
                painter.drawPolygon(diamond, 4);
            }
    } else if (c.hasClassWeights()) {
        // Directions are what cosine logits see: drawn to the unit circle when the loss normalizes.
        for (int k = 0; k < c.classes; ++k) {
            QPointF w(owned(k, 0), owned(k, 1));
            if (c.normalizes) w /= std::max(norm2(w), 1e-12);
            std::vector<QLineF> lines;
            appendArrow(lines, origin, c.screen(w), c.px(10.0));
            painter.setPen(QPen(ClassPalette::color(k).darker(130), c.px(2.5), Qt::SolidLine, Qt::RoundCap));
            painter.drawLines(lines.data(), static_cast<int>(lines.size()));
        }
        if (c.run.ownedBlocks >= 2 && owned.rows() >= 2 * c.classes)
            for (int k = 0; k < c.classes; ++k) {
                const QPointF p = c.screen(QPointF(owned(c.classes + k, 0), owned(c.classes + k, 1)));
                painter.setPen(QPen(Qt::black, c.px(1.5)));
                painter.setBrush(ClassPalette::color(k));
                painter.drawRect(QRectF(p - QPointF(c.px(5), c.px(5)), QSizeF(c.px(10), c.px(10))));
            }
    } else {
        // Tuple losses: the class centroids (of the points as the loss sees them) as crosses.
        std::vector<bool> present;
        const std::vector<QPointF> centers = classCentroids(c, present);
        const double arm = c.px(6.0);
        for (std::size_t k = 0; k < centers.size(); ++k) {
            if (!present[k]) continue;
            const QPointF p = c.screen(centers[k]);
            const QLineF cross[2] = {QLineF(p - QPointF(arm, arm), p + QPointF(arm, arm)),
                                     QLineF(p - QPointF(arm, -arm), p + QPointF(arm, -arm))};
            painter.setPen(QPen(Qt::black, c.px(4.0), Qt::SolidLine, Qt::RoundCap));
            painter.drawLines(cross, 2);
            painter.setPen(QPen(ClassPalette::color(static_cast<int>(k)), c.px(2.0), Qt::SolidLine, Qt::RoundCap));
            painter.drawLines(cross, 2);
        }
    }
    painter.restore();
}

void paintTripletZones(QPainter& painter, const FrameContext& c) {
    const TripletOverlay& o = c.triplet;
    if (!o.valid || !o.hasCircles) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const QPointF center = c.screen(o.center);
    const double inner = o.hardRadius * c.frame.camera.pixelsPerUnit, outer = o.ringRadius * c.frame.camera.pixelsPerUnit;
    // Neutral greys: the zones must never look like a class.
    QPainterPath annulus;
    annulus.addEllipse(center, outer, outer);
    annulus.addEllipse(center, inner, inner);  // odd-even fill leaves the disk out
    painter.fillPath(annulus, QColor(0, 0, 0, 14));
    painter.setPen(QPen(ClassPalette::hardColor(), c.px(1.5)));
    painter.setBrush(QColor(0, 0, 0, 34));
    painter.drawEllipse(center, inner, inner);
    QPen dashed(ClassPalette::semiHardColor(), c.px(1.5), Qt::DashLine);
    painter.setPen(dashed);
    painter.setBrush(Qt::NoBrush);
    painter.drawEllipse(center, outer, outer);
    painter.restore();
}

std::optional<DistanceBandRadii> distanceBandRadii(const RunInfo& run, const Snapshot& snapshot, int anchor) {
    const auto& band = run.distanceBand;
    if (!band || anchor < 0 || anchor >= snapshot.positions.rows()) return std::nullopt;
    const DistanceSpec& distance = run.distance;
    if (distance.kind != DistanceKind::Lp && !distance.normalizes()) return std::nullopt;  // no ball
    double beta = band->boundary;
    if (band->boundaryPerClass) {
        const int label = snapshot.labels[static_cast<std::size_t>(anchor)];
        if (label < 0 || snapshot.owned.rows() <= label || snapshot.owned.cols() < 1) return std::nullopt;
        beta = snapshot.owned(label, 0);
    }
    // A value v of the loss's distance bounds a Euclidean ball around the (normalized) anchor:
    // radius v (power 1), √v (power 2), or the chord √(2 − 2v) for a cosine similarity.
    auto radius = [&](double v) {
        if (distance.kind == DistanceKind::Lp)
            return distance.power == 2 ? std::sqrt(std::max(v, 0.0)) : std::max(v, 0.0);
        return std::sqrt(std::max(2.0 - 2.0 * v, 0.0));
    };
    DistanceBandRadii out;
    out.beta = beta;
    out.boundary = radius(beta);
    const double a = radius(beta - band->margin), b = radius(beta + band->margin);
    out.inner = std::min(a, b);
    out.outer = std::max(a, b);
    return out;
}

void paintBetaLabel(QPainter& painter, const FrameContext& c, QPointF at, double beta) {
    painter.save();
    painter.setFont(c.font(12.0, true));
    painter.setPen(ClassPalette::bandEdgeColor());
    painter.drawText(at + QPointF(c.px(4), -c.px(4)), QStringLiteral("\u03b2 = %1").arg(beta, 0, 'g', 3));
    painter.restore();
}

void paintBandDiscs(QPainter& painter, const FrameContext& c, QPointF center, double pixelsPerUnit,
                    const DistanceBandRadii& radii) {
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const double inner = radii.inner * pixelsPerUnit, outer = radii.outer * pixelsPerUnit;
    const double boundary = radii.boundary * pixelsPerUnit;
    // The band where pairs still cost something on one side: positives must end inside it,
    // negatives outside it.
    QPainterPath band;
    band.addEllipse(center, outer, outer);
    band.addEllipse(center, inner, inner);
    painter.fillPath(band, ClassPalette::bandColor());
    painter.setPen(QPen(ClassPalette::bandEdgeColor(), c.px(1.5)));
    painter.setBrush(Qt::NoBrush);
    painter.drawEllipse(center, inner, inner);
    painter.drawEllipse(center, outer, outer);
    painter.setPen(QPen(ClassPalette::bandEdgeColor(), c.px(2.0), Qt::DashDotLine));
    painter.drawEllipse(center, boundary, boundary);
    // Name the ring where it crosses the upper right, so the reader knows which circle is β.
    const double angle = -0.25 * 3.141592653589793;
    paintBetaLabel(painter, c, center + QPointF(std::cos(angle), std::sin(angle)) * boundary, radii.beta);
    painter.restore();
}

void paintDistanceBand(QPainter& painter, const FrameContext& c) {
    const int anchor = c.frame.selection.anchor;
    if (!c.planar || anchor < 0 || anchor >= static_cast<int>(c.seen.size())) return;
    const auto radii = distanceBandRadii(c.run, c.snapshot, anchor);
    if (!radii) return;
    paintBandDiscs(painter, c, c.screen(c.seen[static_cast<std::size_t>(anchor)]), c.frame.camera.pixelsPerUnit,
                   *radii);
}

void paintPoints(QPainter& painter, const FrameContext& c, std::vector<QImage>& sprites, double& spriteScale) {
    const std::vector<int>& labels = c.snapshot.labels;
    const bool copies = c.normalizes && c.options.showNormalized;
    const double radius = c.px(kPointRadius);
    painter.save();
    if (c.vector) {
        // One ellipse per point, grouped by class so each colour is set once.
        painter.setRenderHint(QPainter::Antialiasing);
        for (int k = 0; k < c.classes; ++k) {
            const QColor fill = ClassPalette::color(k);
            painter.setPen(QPen(fill.darker(170), c.px(1.0)));
            for (int pass = copies ? 0 : 1; pass < 2; ++pass) {
                painter.setOpacity(pass == 0 ? 0.3 : 1.0);
                painter.setBrush(fill);
                const std::vector<QPointF>& at = pass == 0 ? c.seen : c.raw;
                for (std::size_t i = 0; i < at.size(); ++i)
                    if (labels[i] == k) painter.drawEllipse(c.screen(at[i]), radius, radius);
            }
        }
        painter.restore();
        return;
    }
    const double ratio = painter.device() ? painter.device()->devicePixelRatioF() : 1.0;
    if (spriteScale != c.scale * ratio) sprites.clear(), spriteScale = c.scale * ratio;
    if (sprites.size() < static_cast<std::size_t>(c.classes)) sprites.resize(static_cast<std::size_t>(c.classes));
    auto sprite = [&](int label) -> const QImage& {
        QImage& image = sprites[static_cast<std::size_t>(std::clamp(label, 0, std::max(0, c.classes - 1)))];
        if (image.isNull()) {
            const QColor fill = ClassPalette::color(label);
            image = circleSprite(radius, QPen(fill.darker(170), c.px(1.0)), fill, ratio);
        }
        return image;
    };
    if (copies) {
        // Where the loss sees each point: faint copies on the unit circle.
        painter.setOpacity(0.3);
        for (std::size_t i = 0; i < c.seen.size(); ++i) blitCentered(painter, c.screen(c.seen[i]), sprite(labels[i]));
        painter.setOpacity(1.0);
    }
    for (std::size_t i = 0; i < c.raw.size(); ++i) blitCentered(painter, c.screen(c.raw[i]), sprite(labels[i]));
    if (copies && tripletShown(c)) {
        // The copies the triplet loss uses are drawn in full colour under their marks.
        const TripletOverlay& o = c.triplet;
        for (std::size_t i = 0; i < c.seen.size(); ++i) {
            const Region r = o.query.regions[i];
            if (r == Region::Hard || r == Region::SemiHard || static_cast<int>(i) == o.anchor || static_cast<int>(i) == o.positive)
                blitCentered(painter, c.screen(c.seen[i]), sprite(labels[i]));
        }
    }
    painter.restore();
}

void paintTripletMarks(QPainter& painter, const FrameContext& c) {
    if (!tripletShown(c)) return;
    const TripletOverlay& o = c.triplet;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setBrush(Qt::NoBrush);
    // The negatives the loss uses (hard: solid, semi-hard: dashed); easy ones contribute nothing
    // and stay unmarked. Marks sit where the loss measures the points.
    const double ringRadius = c.px(kPointRadius + 2.5);
    for (Region region : {Region::SemiHard, Region::Hard}) {
        painter.setPen(markPen(c, region));
        for (std::size_t i = 0; i < c.seen.size(); ++i)
            if (o.query.regions[i] == region) painter.drawEllipse(c.screen(c.seen[i]), ringRadius, ringRadius);
    }
    const QPointF anchor = c.screen(c.seen[static_cast<std::size_t>(o.anchor)]);
    const QPointF positive = c.screen(c.seen[static_cast<std::size_t>(o.positive)]);
    if (o.query.chosenNegative >= 0) {
        // The single negative a FaceNet / TF-Addons semi-hard rule would pick.
        painter.setPen(QPen(ClassPalette::anchorColor(), c.px(1.5), Qt::DashLine));
        painter.drawLine(anchor, c.screen(c.seen[static_cast<std::size_t>(o.query.chosenNegative)]));
    }
    painter.setPen(QPen(ClassPalette::anchorColor(), c.px(2.5)));
    painter.drawEllipse(anchor, c.px(kPointRadius + 4), c.px(kPointRadius + 4));
    painter.setPen(QPen(ClassPalette::anchorColor(), c.px(1.5), Qt::DotLine));
    painter.drawLine(anchor, positive);
    painter.setPen(QPen(ClassPalette::anchorColor(), c.px(2.0)));
    painter.drawRect(QRectF(positive - QPointF(c.px(7), c.px(7)), QSizeF(c.px(14), c.px(14))));
    painter.restore();
}

double forcePixelsPerUnit(const FrameContext& c) {
    const Points& g = c.snapshot.gradient;
    if (c.options.forceScaleMode == ViewOptions::ForceScale::Fixed)
        return c.options.forcePixelsPerUnit > 0.0 ? c.options.forcePixelsPerUnit * c.scale : 0.0;
    const Points& positives = c.snapshot.gradientFromPositives;
    const bool split = c.options.splitForces && positives.rows() == g.rows() && positives.cols() == g.cols();
    double largest = g.rows() ? g.rowwise().norm().maxCoeff() : 0.0;
    if (split) {
        largest = std::max(largest, positives.rowwise().norm().maxCoeff());
        largest = std::max(largest, (g - positives).rowwise().norm().maxCoeff());
    }
    if (!(largest > 0.0) || !std::isfinite(largest)) return 0.0;
    return c.options.forceScale * c.px(kForceLength) / largest;
}

void paintForces(QPainter& painter, const FrameContext& c) {
    const Points& g = c.snapshot.gradient;
    if (!c.options.showForces || g.rows() != static_cast<Eigen::Index>(c.raw.size()) || g.rows() == 0 || g.cols() < 1)
        return;
    const double factor = forcePixelsPerUnit(c);
    if (!(factor > 0.0)) return;
    const Points& positives = c.snapshot.gradientFromPositives;
    const bool split = c.options.splitForces && positives.rows() == g.rows() && positives.cols() == g.cols();
    // Split: the force through same-class terms (attraction) and the rest (repulsion); they add up
    // to −∂L/∂x.
    std::vector<std::pair<Points, int>> parts;
    if (split) parts = {{positives, 1}, {g - positives, 2}};
    else parts = {{g, 0}};
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    std::vector<QLineF> lines;  // one drawLines call per colour: far cheaper than a call per stroke
    for (const auto& [gradient, part] : parts) {
        lines.clear();
        for (Eigen::Index i = 0; i < gradient.rows(); ++i) {
            const QPointF from = c.screen(c.raw[static_cast<std::size_t>(i)]);
            const QPointF to =
                from + QPointF(-gradient(i, 0), gradient.cols() > 1 ? gradient(i, 1) : 0.0) * factor;  // screen y down
            if (norm2(to - from) < 1.5) continue;
            appendArrow(lines, from, to, c.px(5.0));
        }
        QPen pen(forceColor(part), c.scale > 1.25 ? c.px(1.0) : 1.0);
        pen.setCosmetic(c.scale <= 1.25);  // hair-lines take Qt's fast line drawer
        painter.setPen(pen);
        painter.drawLines(lines.data(), static_cast<int>(lines.size()));
    }
    painter.restore();
}

}  // namespace marginlab::layers

// SPDX-License-Identifier: MIT
#include "plotview2d.h"

#include "classpalette.h"
#include "nearestindex.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>
#include <numbers>

namespace marginlab {

namespace {

constexpr int kRegionCell = 4;        // background evaluated on a grid of 4×4-pixel cells
constexpr double kSpriteRadius = 4.5;
constexpr double kForceLength = 40.0;  // pixels of the longest force arrow at scale 1
constexpr double kPickRadius = 8.0;

// Screen and world coordinates are far from overflow: plain sqrt, not the slower std::hypot.
double norm2(QPointF p) { return std::sqrt(p.x() * p.x() + p.y() * p.y()); }

enum class ForcePart { Total, Attraction, Repulsion };

QColor forceColor(ForcePart part) {
    switch (part) {
    case ForcePart::Attraction: return QColor(0, 90, 200, 210);
    case ForcePart::Repulsion: return QColor(210, 40, 20, 210);
    case ForcePart::Total: break;
    }
    return QColor(30, 30, 30, 170);
}

/**
 * A monotonic stand-in for the angle of (x, y), in [0, 4): the "diamond angle" t = y/(|x|+|y|)
 * and its rotations per quadrant. It orders directions like atan2 at a fraction of the cost, so a
 * table over t replaces a per-pixel atan2. diamondDirection(t) is its inverse (not normalized).
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

/// (1 − t)·a + t·b per channel.
QRgb blend(QRgb a, QRgb b, double t) {
    auto mix = [t](int u, int v) { return static_cast<int>(std::lround(u + (v - u) * t)); };
    return qRgb(mix(qRed(a), qRed(b)), mix(qGreen(a), qGreen(b)), mix(qBlue(a), qBlue(b)));
}

/// The white rounded card behind the legend, the read-out and the inset; sets the font size.
void drawCard(QPainter& painter, const QRectF& box, double pointSize) {
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(QColor(0, 0, 0, 60));
    painter.setBrush(QColor(255, 255, 255, 230));
    painter.drawRoundedRect(box, 4, 4);
    QFont font = painter.font();
    font.setPointSizeF(pointSize);
    painter.setFont(font);
}

/// The three strokes of an arrow (shaft and two barbs), appended for one drawLines call.
void appendArrow(std::vector<QLineF>& lines, QPointF from, QPointF to, double head) {
    lines.emplace_back(from, to);
    const QPointF d = to - from;
    const double length = norm2(d);
    if (length < 1e-9) return;
    const QPointF u = d / length;
    const QPointF n(-u.y(), u.x());
    const double h = std::min(head, length * 0.5);
    lines.emplace_back(to, to - u * h + n * h * 0.5);
    lines.emplace_back(to, to - u * h - n * h * 0.5);
}

void drawArrow(QPainter& painter, QPointF from, QPointF to, double head) {
    std::vector<QLineF> lines;
    appendArrow(lines, from, to, head);
    painter.drawLines(lines.data(), static_cast<int>(lines.size()));
}

/// A "nice" grid step (1, 2 or 5 times a power of ten) close to `target` world units.
double niceStep(double target) {
    const double power = std::pow(10.0, std::floor(std::log10(target)));
    for (double m : {1.0, 2.0, 5.0})
        if (m * power >= target) return m * power;
    return 10.0 * power;
}

}  // namespace

PlotView2D::PlotView2D(QWidget* parent) : QWidget(parent) {
    setMinimumSize(320, 240);
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(false);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("Click a point to make it the triplet anchor (its hardest positive is chosen);\n"
                  "Shift+click a point of the same class to choose the positive; click empty space to clear.\n"
                  "Drag a point to move it, Ctrl+click to add a point of the chosen class, Delete removes the anchor\n"
                  "point (Ctrl+Z undoes). Drag empty space to pan, wheel to zoom, F to fit."));
}

void PlotView2D::setConfig(const TrainerConfig& config, bool fit) {
    m_labels = config.labels;
    m_numClasses = config.numClasses;
    m_lossInfo = findLoss(config.loss.name);
    std::string error;
    const std::unique_ptr<Loss> loss = makeLoss(config.loss, &error);
    m_marginLogits = loss ? loss->marginLogits() : std::nullopt;
    m_distance = m_lossInfo ? config.loss.distance.value_or(m_lossInfo->defaultDistance) : DistanceSpec{};
    m_margin = 0.0;
    // Only the triplet family's "margin" is a gap between δ_an and δ_ap (CosFace's is not).
    if (m_lossInfo && m_lossInfo->family == LossFamily::TripletBased) {
        for (const ParamInfo& p : m_lossInfo->params) {
            if (p.name != "margin") continue;
            const auto it = config.loss.params.numbers.find("margin");
            m_margin = it != config.loss.params.numbers.end() ? it->second : p.defaultValue;
        }
    }
    m_rule = SemiHardRule::Pml;
    if (config.miner && config.miner->name == "facenet_semihard") m_rule = SemiHardRule::FaceNet;
    if (config.miner && config.miner->name == "tfa_semihard") m_rule = SemiHardRule::TfAddons;
    setLabels(config.labels);
    auto initial = std::make_shared<Snapshot>();
    initial->positions = config.points;
    m_snapshot = std::move(initial);
    if (fit) fitToData();
    updateOverlay();
    update();
}

void PlotView2D::setLabels(const Labels& labels) {
    m_labels = labels;
    m_classSizes.assign(static_cast<std::size_t>(std::max(0, m_numClasses)), 0);
    for (int label : m_labels)
        if (label >= 0 && label < m_numClasses) ++m_classSizes[static_cast<std::size_t>(label)];
    if (m_anchor >= static_cast<int>(m_labels.size())) m_anchor = m_positive = -1;
    if (m_positive >= static_cast<int>(m_labels.size())) m_positive = -1;
    updateOverlay();
    update();
}

void PlotView2D::setSnapshot(std::shared_ptr<const Snapshot> snapshot) {
    m_snapshot = std::move(snapshot);
    updateOverlay();
    update();
}

QPointF PlotView2D::raw(Eigen::Index i) const {
    if (i == m_draggedPoint) return m_dragPreview;
    const Points& x = m_snapshot->positions;
    return {x(i, 0), x.cols() > 1 ? x(i, 1) : 0.0};
}

QPointF PlotView2D::drawn(Eigen::Index i) const {
    if (!m_distance.normalizes()) return raw(i);
    const Points& x = m_snapshot->positions;
    if (i == m_draggedPoint || x.cols() <= 2) return raw(i) / std::max(norm2(raw(i)), 1e-12);
    const double length = std::max(x.row(i).norm(), 1e-12);  // 3D: normalized in 3D, then projected
    return {x(i, 0) / length, x(i, 1) / length};
}

QPointF PlotView2D::toScreen(QPointF world, QSize size) const {
    return {size.width() / 2.0 + (world.x() - m_center.x()) * m_pixelsPerUnit,
            size.height() / 2.0 - (world.y() - m_center.y()) * m_pixelsPerUnit};
}

QPointF PlotView2D::toWorld(QPointF screen, QSize size) const {
    return {m_center.x() + (screen.x() - size.width() / 2.0) / m_pixelsPerUnit,
            m_center.y() - (screen.y() - size.height() / 2.0) / m_pixelsPerUnit};
}

void PlotView2D::setView(QPointF center, double pixelsPerUnit) {
    m_center = center;
    m_pixelsPerUnit = std::clamp(pixelsPerUnit, 1e-3, 1e7);
    update();
}

void PlotView2D::fitToData() {
    double minX = std::numeric_limits<double>::infinity(), maxX = -minX, minY = minX, maxY = -minX;
    if (m_snapshot)
        for (Eigen::Index i = 0; i < m_snapshot->positions.rows(); ++i) {
            const QPointF p = raw(i);
            minX = std::min(minX, p.x()), maxX = std::max(maxX, p.x());
            minY = std::min(minY, p.y()), maxY = std::max(maxY, p.y());
        }
    if (m_distance.normalizes() || !std::isfinite(minX)) {
        minX = std::min(minX, -1.0), maxX = std::max(maxX, 1.0);
        minY = std::min(minY, -1.0), maxY = std::max(maxY, 1.0);
    }
    const double width = std::max(maxX - minX, 1e-6) * 1.15, height = std::max(maxY - minY, 1e-6) * 1.15;
    const QSize area = size().isEmpty() ? QSize(800, 600) : size();
    setView({(minX + maxX) / 2.0, (minY + maxY) / 2.0}, std::min(area.width() / width, area.height() / height));
}

void PlotView2D::setAnchor(int anchor, int positive) {
    const int n = static_cast<int>(m_labels.size());
    m_anchor = anchor >= 0 && anchor < n ? anchor : -1;
    m_positive = m_anchor >= 0 && positive >= 0 && positive < n && positive != m_anchor &&
                         m_labels[static_cast<std::size_t>(positive)] == m_labels[static_cast<std::size_t>(m_anchor)]
                     ? positive
                     : -1;
    updateOverlay();
    emit anchorChanged(m_anchor, m_positive);
    update();
}

void PlotView2D::updateOverlay() {
    m_overlay = TripletOverlay{};
    if (m_anchor < 0 || !m_snapshot || m_snapshot->positions.rows() != static_cast<Eigen::Index>(m_labels.size()))
        return;
    // The regions are the loss's: its distance, its margin, and the semi-hard rule of its miner.
    const Points& x = m_snapshot->positions;
    const int positive = m_positive >= 0 ? m_positive : hardestPositive(x, m_labels, m_anchor, m_distance);
    if (positive < 0) return;  // the anchor's class has no other member
    TripletOverlay& o = m_overlay;
    o.query = queryRegions(x, m_labels, m_anchor, positive, m_margin, m_distance, m_rule);
    o.valid = true;
    o.anchor = m_anchor;
    o.positive = positive;
    // The balls in drawing space: δ_an ≤ t is a Euclidean disk around the (normalized) anchor of
    // radius t (power 1), √t (power 2), or the chord √(2 + 2t) for a similarity (δ = −cos).
    const Real apDelta = m_distance.orderSign() * o.query.apValue;
    auto radius = [&](Real t) -> Real {
        if (m_distance.kind == DistanceKind::Lp)
            return m_distance.power == 2 ? std::sqrt(std::max(t, 0.0)) : std::max(t, 0.0);
        return std::sqrt(std::max(2.0 + 2.0 * t, 0.0));
    };
    o.center = drawn(m_anchor);
    o.hasCircles = m_distance.kind == DistanceKind::Lp || m_distance.normalizes();
    o.hardRadius = radius(apDelta);
    o.ringRadius = radius(apDelta + o.query.margin);
}

int PlotView2D::pointAt(QPointF screen) const {
    if (!m_snapshot) return -1;
    int best = -1;
    double bestDistance = kPickRadius;
    for (Eigen::Index i = 0; i < m_snapshot->positions.rows(); ++i) {
        const double d = norm2(toScreen(raw(i), size()) - screen);
        if (d <= bestDistance) bestDistance = d, best = static_cast<int>(i);
    }
    return best;
}

namespace {

// A circle drawn once and blitted: far cheaper than an anti-aliased ellipse per point.
QImage circleSprite(double radius, const QPen& pen, const QBrush& brush) {
    const int side = static_cast<int>(std::ceil(2 * radius + pen.widthF())) + 2;
    QImage image(side, side, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(pen);
    p.setBrush(brush);
    p.drawEllipse(QPointF(side / 2.0, side / 2.0), radius, radius);
    return image;
}

void blitCentered(QPainter& painter, QPointF at, const QImage& image) {
    painter.drawImage(QPointF(std::round(at.x() - image.width() / 2.0), std::round(at.y() - image.height() / 2.0)),
                      image);
}

}  // namespace

const QImage& PlotView2D::sprite(int classId) {
    const std::size_t index = static_cast<std::size_t>(std::max(0, classId));
    if (m_sprites.size() <= index) m_sprites.resize(index + 1);
    QImage& image = m_sprites[index];
    if (image.isNull()) {
        const QColor fill = ClassPalette::color(classId);
        image = circleSprite(kSpriteRadius, QPen(fill.darker(170), 1.0), fill);
    }
    return image;
}

const QImage& PlotView2D::ringSprite(Region region) {
    QImage& image = m_ringSprites[static_cast<std::size_t>(region)];
    if (image.isNull()) {
        const QColor color = region == Region::Hard       ? ClassPalette::hardColor()
                             : region == Region::SemiHard ? ClassPalette::semiHardColor()
                                                          : ClassPalette::easyColor();
        // Easy negatives are the majority and matter least: a thin ring, so hard ones stand out.
        image = circleSprite(kSpriteRadius + 2.5, QPen(color, region == Region::Easy ? 1.0 : 2.2), Qt::NoBrush);
    }
    return image;
}

std::vector<QPointF> PlotView2D::centroids() const {
    std::vector<QPointF> sum(static_cast<std::size_t>(std::max(0, m_numClasses)), QPointF(0, 0));
    std::vector<int> count(sum.size(), 0);
    for (Eigen::Index i = 0; i < m_snapshot->positions.rows(); ++i) {
        const int c = m_labels[static_cast<std::size_t>(i)];
        sum[static_cast<std::size_t>(c)] += drawn(i);
        ++count[static_cast<std::size_t>(c)];
    }
    for (std::size_t c = 0; c < sum.size(); ++c)
        if (count[c]) sum[c] /= count[c];
    return sum;
}

bool PlotView2D::hasClassWeights() const {
    const Points& owned = m_snapshot->owned;
    return m_lossInfo && m_lossInfo->ownedBlocks >= 1 && owned.rows() >= m_numClasses && owned.cols() >= 2;
}

void PlotView2D::drawBackground(QPainter& painter, QSize size, bool labelled) {
    // One opaque image per frame: the regions (or white) with the grid lines written into it,
    // then a single blit. Drawing the grid with QPainter on top cost more than the regions: a
    // vertical line is blended pixel by pixel.
    if (m_regionImage.size() != size) m_regionImage = QImage(size, QImage::Format_RGB32);
    if (!labelled || !fillRegions(size)) m_regionImage.fill(Qt::white);
    const GridTicks ticks = gridTicks(size);
    auto darkenColumn = [&](double sx, double alpha) {
        const int x = static_cast<int>(std::lround(sx));
        if (x < 0 || x >= size.width()) return;
        for (int y = 0; y < size.height(); ++y) {
            auto* pixel = reinterpret_cast<QRgb*>(m_regionImage.scanLine(y)) + x;
            *pixel = blend(*pixel, qRgb(0, 0, 0), alpha);
        }
    };
    auto darkenRow = [&](double sy, double alpha) {
        const int y = static_cast<int>(std::lround(sy));
        if (y < 0 || y >= size.height()) return;
        auto* line = reinterpret_cast<QRgb*>(m_regionImage.scanLine(y));
        for (int x = 0; x < size.width(); ++x) line[x] = blend(line[x], qRgb(0, 0, 0), alpha);
    };
    constexpr double kGridAlpha = 28.0 / 255.0, kAxisAlpha = 90.0 / 255.0;
    for (double x : ticks.xs) darkenColumn(toScreen(QPointF(x, 0), size).x(), kGridAlpha);
    for (double y : ticks.ys) darkenRow(toScreen(QPointF(0, y), size).y(), kGridAlpha);
    const QPointF origin = toScreen(QPointF(0, 0), size);
    darkenColumn(origin.x(), kAxisAlpha);
    darkenRow(origin.y(), kAxisAlpha);
    painter.drawImage(QPointF(0, 0), m_regionImage);
}

PlotView2D::GridTicks PlotView2D::gridTicks(QSize size) const {
    GridTicks ticks;
    ticks.step = niceStep(80.0 / m_pixelsPerUnit);
    const QPointF topLeft = toWorld(QPointF(0, 0), size), bottomRight = toWorld(QPointF(size.width(), size.height()), size);
    // Snap near-zero ticks to 0 so that the label reads "0", not "1.2e-17".
    auto snap = [&](double v) { return std::abs(v) < ticks.step * 1e-6 ? 0.0 : v; };
    for (double x = std::ceil(topLeft.x() / ticks.step) * ticks.step; x <= bottomRight.x(); x += ticks.step)
        ticks.xs.push_back(snap(x));
    for (double y = std::ceil(bottomRight.y() / ticks.step) * ticks.step; y <= topLeft.y(); y += ticks.step)
        ticks.ys.push_back(snap(y));
    return ticks;
}

bool PlotView2D::fillRegions(QSize size) {
    if (!m_options.showRegions || !m_lossInfo || m_numClasses < 2 || m_snapshot->positions.cols() != 2) return false;
    if (hasClassWeights()) {
        fillClassifierRegions(size);
    } else if (m_options.nearestNeighbourRegions) {
        // Tuple losses have no classifier: the 1-NN classifier of the points as the loss sees them.
        std::vector<QPointF> references;
        for (Eigen::Index i = 0; i < m_snapshot->positions.rows(); ++i) references.push_back(drawn(i));
        std::vector<int> classOf(m_labels.begin(), m_labels.end());
        fillNearestRegions(size, references, classOf);
    } else {
        // … or the nearest class centroid; for a normalizing loss the mean direction of each class.
        std::vector<QPointF> references = centroids();
        if (m_distance.normalizes())
            for (QPointF& r : references) r /= std::max(norm2(r), 1e-12);
        std::vector<int> classOf(references.size());
        for (std::size_t c = 0; c < classOf.size(); ++c) classOf[c] = static_cast<int>(c);
        fillNearestRegions(size, references, classOf);
    }
    return true;
}

void PlotView2D::fillCells(QSize size, const std::function<QRgb(QPointF world, int col, int row)>& colourOf) {
    // One colour per cell, written straight into a full-size image: drawing it is then a plain
    // blit (a scaled drawImage costs more than computing the cells).
    const int columns = (size.width() + kRegionCell - 1) / kRegionCell;
    const int rows = (size.height() + kRegionCell - 1) / kRegionCell;
    const QPointF origin = toWorld(QPointF(0.5 * kRegionCell, 0.5 * kRegionCell), size);
    const double step = kRegionCell / m_pixelsPerUnit;
    for (int row = 0; row < rows; ++row) {
        auto* first = reinterpret_cast<QRgb*>(m_regionImage.scanLine(row * kRegionCell));
        const double y = origin.y() - row * step;
        for (int col = 0; col < columns; ++col) {
            const QRgb colour = colourOf(QPointF(origin.x() + col * step, y), col, row);
            const int end = std::min(size.width(), (col + 1) * kRegionCell);
            for (int x = col * kRegionCell; x < end; ++x) first[x] = colour;
        }
        const int lastLine = std::min(size.height(), (row + 1) * kRegionCell);
        for (int line = row * kRegionCell + 1; line < lastLine; ++line)
            std::memcpy(m_regionImage.scanLine(line), first, static_cast<std::size_t>(size.width()) * sizeof(QRgb));
    }
}

void PlotView2D::fillClassifierRegions(QSize size) {
    // Each cell is a would-be sample x: its winning class c* = argmax of the logits without margin.
    // With a margin the target logit of c* is φ(cos θ); where it no longer beats the runner-up the
    // loss would still push a sample of c* — the margin band, striped. Elsewhere the tint fades
    // with 1 − p(c*), the softmax probability with the margin and the scale, so a larger scale
    // sharpens the boundary and a larger margin widens the band.
    const Points& owned = m_snapshot->owned;
    const int classes = m_numClasses;
    std::vector<QPointF> directions(static_cast<std::size_t>(classes));
    std::vector<double> weightNorm(static_cast<std::size_t>(classes), 1.0);
    for (int c = 0; c < classes; ++c) {
        const QPointF wc(owned(c, 0), owned(c, 1));
        const double length = std::max(norm2(wc), 1e-12);
        directions[static_cast<std::size_t>(c)] = wc / length;
        if (m_marginLogits && m_marginLogits->weightNorms) weightNorm[static_cast<std::size_t>(c)] = length;
    }
    std::vector<QRgb> tints(static_cast<std::size_t>(classes));
    for (int c = 0; c < classes; ++c) tints[static_cast<std::size_t>(c)] = ClassPalette::background(c).rgb();
    const QRgb uncertain = qRgb(238, 238, 238), stripeDark = qRgb(196, 196, 196), stripeLight = qRgb(228, 228, 228);
    const MarginLogits* logits = m_marginLogits ? &*m_marginLogits : nullptr;
    constexpr QRgb kBand = 0;  // marker for "in the margin band" (real colours are opaque, never 0)
    std::vector<double> base(static_cast<std::size_t>(classes));
    // The colour of a would-be sample at unit direction u and distance `radius` from the origin.
    auto colourAt = [&](QPointF u, double radius) -> QRgb {
        std::size_t best = 0;
        for (std::size_t c = 0; c < base.size(); ++c) {
            const QPointF d = directions[c];
            base[c] = weightNorm[c] * (u.x() * d.x() + u.y() * d.y());
            if (base[c] > base[best]) best = c;
        }
        if (!logits) return tints[best];  // proxies: the nearest direction, no probabilities
        const double cosine = base[best] / weightNorm[best];
        const double target = weightNorm[best] * logits->target(std::clamp(cosine, -1.0, 1.0));
        const double factor = logits->scale * (logits->normScaled ? radius : 1.0);
        double runnerUp = -std::numeric_limits<double>::infinity(), others = 0.0;
        for (std::size_t c = 0; c < base.size(); ++c) {
            if (c == best) continue;
            runnerUp = std::max(runnerUp, base[c]);
            others += std::exp(std::min(factor * (base[c] - target), 700.0));
        }
        if (logits->hasMargin && target <= runnerUp) return kBand;
        const double probability = 1.0 / (1.0 + others);
        return blend(tints[best], uncertain, std::clamp(2.0 * (1.0 - probability), 0.0, 1.0));
    };
    // Unless the logits grow with ‖x‖, the colour depends on the direction alone: evaluate it
    // once per 1/4096 of the diamond angle (at most 0.09°, under a pixel at the usual zoom)
    // instead of per cell.
    constexpr int kAngles = 4096;
    const bool byAngle = !logits || !logits->normScaled;
    std::vector<QRgb> table;
    if (byAngle) {
        table.resize(kAngles);
        for (int k = 0; k < kAngles; ++k) {
            const QPointF d = diamondDirection((k + 0.5) * 4.0 / kAngles);
            table[static_cast<std::size_t>(k)] = colourAt(d / norm2(d), 1.0);
        }
    }
    fillCells(size, [&](QPointF p, int col, int row) {
        QRgb colour;
        if (byAngle) {
            const int k = static_cast<int>(diamondAngle(p.x(), p.y()) * (kAngles / 4.0));
            colour = table[static_cast<std::size_t>(std::clamp(k, 0, kAngles - 1))];
        } else {
            const double radius = std::max(norm2(p), 1e-12);
            colour = colourAt(p / radius, radius);
        }
        return colour != kBand ? colour : ((col + row) / 2) % 2 ? stripeDark : stripeLight;
    });
}

void PlotView2D::fillNearestRegions(QSize size, const std::vector<QPointF>& references, const std::vector<int>& classOf) {
    // Normalizing losses see directions: a cell is classified at its own direction x̂.
    const bool normalized = m_distance.normalizes();
    QRectF bounds(toWorld(QPointF(0, 0), size), toWorld(QPointF(size.width(), size.height()), size));
    bounds = bounds.normalized().united(QRectF(-1.0, -1.0, 2.0, 2.0));
    for (const QPointF& r : references) bounds |= QRectF(r, QSizeF(0, 0)).adjusted(-1e-9, -1e-9, 1e-9, 1e-9);
    // A handful of centroids is quicker to scan than to index; points (1-NN) need the index.
    // With normalization every reference is a unit vector, so the nearest one to x̂ is the one
    // with the largest dot product with x, and the cell needs no normalizing in the scan.
    const bool scan = references.size() <= 32;
    const NearestIndex index(scan ? std::vector<QPointF>{} : references, bounds);
    auto nearest = [&](QPointF p) {
        if (!scan) return index.nearest(normalized ? p / std::max(norm2(p), 1e-12) : p);
        int best = -1;
        double bestScore = -std::numeric_limits<double>::infinity();
        for (std::size_t r = 0; r < references.size(); ++r) {
            const QPointF d = references[r] - p;
            const double score = normalized ? p.x() * references[r].x() + p.y() * references[r].y()
                                            : -(d.x() * d.x() + d.y() * d.y());
            if (score > bestScore) bestScore = score, best = static_cast<int>(r);
        }
        return best;
    };
    std::vector<QRgb> tints(static_cast<std::size_t>(m_numClasses));
    for (int c = 0; c < m_numClasses; ++c) tints[static_cast<std::size_t>(c)] = ClassPalette::background(c).rgb();
    fillCells(size, [&](QPointF p, int, int) {
        const int found = nearest(p);
        return found >= 0 ? tints[static_cast<std::size_t>(classOf[static_cast<std::size_t>(found)])] : qRgb(255, 255, 255);
    });
}

void PlotView2D::drawGridLabels(QPainter& painter, QSize size) const {
    const GridTicks ticks = gridTicks(size);
    painter.save();
    QFont font = painter.font();
    font.setPointSizeF(8.0);
    painter.setFont(font);
    painter.setPen(QColor(90, 90, 90));
    for (double x : ticks.xs)
        painter.drawText(QPointF(toScreen(QPointF(x, 0), size).x() + 2, size.height() - 4), QString::number(x, 'g', 4));
    for (double y : ticks.ys) painter.drawText(QPointF(3, toScreen(QPointF(0, y), size).y() - 2), QString::number(y, 'g', 4));
    if (m_distance.normalizes()) {
        painter.setRenderHint(QPainter::Antialiasing, true);
        QPen dashed(QColor(60, 60, 60, 160), 1.0, Qt::DashLine);
        dashed.setCosmetic(true);  // hair-lines take Qt's fast line drawer; wider pens the slow path stroker
        painter.setPen(dashed);
        painter.setBrush(Qt::NoBrush);
        painter.drawEllipse(toScreen(QPointF(0, 0), size), m_pixelsPerUnit, m_pixelsPerUnit);
    }
    painter.restore();
}

void PlotView2D::drawOwned(QPainter& painter, QSize size) const {
    if (!m_lossInfo) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const QPointF origin = toScreen(QPointF(0, 0), size);
    const Points& owned = m_snapshot->owned;
    if (m_lossInfo->ownedBlocks >= 1 && owned.rows() >= m_numClasses && owned.cols() >= 2) {
        // Directions are what the cosine logits see; drawn to the unit circle when the loss normalizes.
        for (int c = 0; c < m_numClasses; ++c) {
            QPointF w(owned(c, 0), owned(c, 1));
            if (m_distance.normalizes()) w /= std::max(norm2(w), 1e-12);
            painter.setPen(QPen(ClassPalette::color(c).darker(130), 2.5, Qt::SolidLine, Qt::RoundCap));
            drawArrow(painter, origin, toScreen(w, size), 10.0);
        }
        if (m_lossInfo->ownedBlocks >= 2 && owned.rows() >= 2 * m_numClasses)
            for (int c = 0; c < m_numClasses; ++c) {
                const QPointF p = toScreen(QPointF(owned(m_numClasses + c, 0), owned(m_numClasses + c, 1)), size);
                painter.setPen(QPen(Qt::black, 1.5));
                painter.setBrush(ClassPalette::color(c));
                painter.drawRect(QRectF(p - QPointF(5, 5), QSizeF(10, 10)));
            }
    } else if (m_numClasses >= 1) {
        const std::vector<QPointF> centers = centroids();
        for (std::size_t c = 0; c < centers.size(); ++c) {
            const QPointF p = toScreen(centers[c], size);
            painter.setPen(QPen(Qt::black, 4.0, Qt::SolidLine, Qt::RoundCap));
            painter.drawLine(p - QPointF(6, 6), p + QPointF(6, 6));
            painter.drawLine(p - QPointF(6, -6), p + QPointF(6, -6));
            painter.setPen(QPen(ClassPalette::color(static_cast<int>(c)), 2.0, Qt::SolidLine, Qt::RoundCap));
            painter.drawLine(p - QPointF(6, 6), p + QPointF(6, 6));
            painter.drawLine(p - QPointF(6, -6), p + QPointF(6, -6));
        }
    }
    painter.restore();
}

void PlotView2D::drawOverlay(QPainter& painter, QSize size) const {
    const TripletOverlay& o = m_overlay;
    if (!o.valid || !o.hasCircles) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const QPointF c = toScreen(o.center, size);
    const double inner = o.hardRadius * m_pixelsPerUnit, outer = o.ringRadius * m_pixelsPerUnit;
    QColor ring = ClassPalette::semiHardColor(), hard = ClassPalette::hardColor();
    QPainterPath annulus;
    annulus.addEllipse(c, outer, outer);
    annulus.addEllipse(c, inner, inner);  // odd-even fill leaves the disk out
    ring.setAlpha(90);
    painter.fillPath(annulus, ring);
    hard.setAlpha(60);
    painter.setPen(QPen(ClassPalette::hardColor(), 1.5));
    painter.setBrush(hard);
    painter.drawEllipse(c, inner, inner);
    painter.setPen(QPen(ClassPalette::semiHardColor(), 1.5, Qt::DashLine));
    painter.setBrush(Qt::NoBrush);
    painter.drawEllipse(c, outer, outer);
    painter.restore();
}

void PlotView2D::drawPoints(QPainter& painter, QSize size) {
    const Points& x = m_snapshot->positions;
    const bool labelled = static_cast<Eigen::Index>(m_labels.size()) == x.rows();
    painter.save();
    if (m_distance.normalizes() && m_options.showNormalized) {
        // Where the loss sees each point: faint copies on the unit circle.
        painter.setOpacity(0.3);
        for (Eigen::Index i = 0; i < x.rows(); ++i)
            blitCentered(painter, toScreen(drawn(i), size), sprite(labelled ? m_labels[static_cast<std::size_t>(i)] : 0));
        painter.setOpacity(1.0);
    }
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        blitCentered(painter, toScreen(raw(i), size), sprite(labelled ? m_labels[static_cast<std::size_t>(i)] : 0));
    if (m_overlay.valid) {
        // Negatives get a ring in their region's colour, drawn where the loss measures them.
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            const Region r = m_overlay.query.regions[static_cast<std::size_t>(i)];
            if (r != Region::NotNegative) blitCentered(painter, toScreen(drawn(i), size), ringSprite(r));
        }
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setBrush(Qt::NoBrush);
        if (const int chosen = m_overlay.query.chosenNegative; chosen >= 0) {
            // The single negative a FaceNet / TF-Addons semi-hard rule would pick.
            painter.setPen(QPen(ClassPalette::anchorColor(), 1.5, Qt::DashLine));
            painter.drawLine(toScreen(drawn(m_overlay.anchor), size), toScreen(drawn(chosen), size));
        }
        painter.setPen(QPen(ClassPalette::anchorColor(), 2.5));
        painter.drawEllipse(toScreen(drawn(m_overlay.anchor), size), kSpriteRadius + 4, kSpriteRadius + 4);
        painter.setPen(QPen(ClassPalette::anchorColor(), 1.5, Qt::DotLine));
        painter.drawLine(toScreen(drawn(m_overlay.anchor), size), toScreen(drawn(m_overlay.positive), size));
        painter.setPen(QPen(ClassPalette::anchorColor(), 2.0));
        const QPointF p = toScreen(drawn(m_overlay.positive), size);
        painter.drawRect(QRectF(p - QPointF(7, 7), QSizeF(14, 14)));
    }
    painter.restore();
}

void PlotView2D::drawForces(QPainter& painter, QSize size) const {
    const Points& g = m_snapshot->gradient;
    if (!m_options.showForces || g.rows() != m_snapshot->positions.rows() || g.rows() == 0) return;
    const Points& fromPositives = m_snapshot->gradientFromPositives;
    const bool split = m_options.splitForces && fromPositives.rows() == g.rows() && fromPositives.cols() == g.cols();
    // Split: the force through same-class terms (attraction, from positives / the own class
    // weight) and the rest (repulsion, from negatives / the other classes); they add up to −∂L/∂x.
    std::vector<std::pair<Points, QColor>> layers;
    if (split) {
        layers.emplace_back(fromPositives, forceColor(ForcePart::Attraction));
        layers.emplace_back(g - fromPositives, forceColor(ForcePart::Repulsion));
    } else {
        layers.emplace_back(g, forceColor(ForcePart::Total));
    }
    // Relative scale: the strongest arrow is kForceLength pixels at scale 1, so the arrows stay
    // readable whatever the loss's reduction makes the absolute size.
    double largest = 0.0;
    for (const auto& layer : layers) largest = std::max(largest, layer.first.rowwise().norm().maxCoeff());
    if (!(largest > 0.0) || !std::isfinite(largest)) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const double factor = m_options.forceScale * kForceLength / largest;
    std::vector<QLineF> lines;  // one drawLines call per colour: far cheaper than a call per stroke
    for (const auto& [gradient, color] : layers) {
        lines.clear();
        for (Eigen::Index i = 0; i < gradient.rows(); ++i) {
            const QPointF force(-gradient(i, 0), gradient.cols() > 1 ? -gradient(i, 1) : 0.0);
            const QPointF from = toScreen(raw(i), size);
            const QPointF to = from + QPointF(force.x(), -force.y()) * factor;
            if (norm2(to - from) < 1.5) continue;
            appendArrow(lines, from, to, 5.0);
        }
        QPen pen(color, 1.0);
        pen.setCosmetic(true);  // hair-lines take Qt's fast line drawer; wider pens the slow path stroker
        painter.setPen(pen);
        painter.drawLines(lines.data(), static_cast<int>(lines.size()));
    }
    painter.restore();
}

void PlotView2D::drawLegend(QPainter& painter, QSize size) const {
    if (m_numClasses < 1) return;
    const int shown = std::min(m_numClasses, 12);
    const int lineHeight = 16, width = 118;
    const QRectF box(size.width() - width - 8, 8, width, lineHeight * shown + 8 + (shown < m_numClasses ? lineHeight : 0));
    painter.save();
    drawCard(painter, box, 8.5);
    for (int c = 0; c < shown; ++c) {
        const QPointF at(box.left() + 12, box.top() + 4 + lineHeight * c + lineHeight / 2.0);
        painter.setPen(QPen(ClassPalette::color(c).darker(170), 1.0));
        painter.setBrush(ClassPalette::color(c));
        painter.drawEllipse(at, 5, 5);
        painter.setPen(Qt::black);
        const int members = c < static_cast<int>(m_classSizes.size()) ? m_classSizes[static_cast<std::size_t>(c)] : 0;
        painter.drawText(QPointF(at.x() + 12, at.y() + 4), tr("class %1 (%2)").arg(c).arg(members));
    }
    if (shown < m_numClasses)
        painter.drawText(QPointF(box.left() + 24, box.bottom() - 6), tr("… %1 more").arg(m_numClasses - shown));
    painter.restore();
}

void PlotView2D::drawText(QPainter& painter, QSize size) const {
    QStringList lines;
    if (m_lossInfo) lines << QString::fromStdString(m_lossInfo->displayName);
    lines << tr("step %1   loss %2").arg(m_snapshot->step).arg(m_snapshot->loss, 0, 'g', 5);
    if (m_options.showForces && m_options.splitForces)
        lines << tr("arrows: blue = attraction (from positives), red = repulsion (from negatives)");
    if (m_overlay.valid)
        lines << tr("anchor #%1, positive #%2 (%3_ap = %4, margin %5)")
                     .arg(m_overlay.anchor)
                     .arg(m_overlay.positive)
                     .arg(m_distance.isSimilarity() ? QStringLiteral("s") : QStringLiteral("d"))
                     .arg(m_overlay.query.apValue, 0, 'g', 4)
                     .arg(m_overlay.query.margin, 0, 'g', 4)
              << tr("negatives: %1 hard, %2 semi-hard, %3 easy")
                     .arg(m_overlay.query.hard)
                     .arg(m_overlay.query.semiHard)
                     .arg(m_overlay.query.easy);
    if (m_snapshot->status == TrainStatus::Diverged) lines << QString::fromStdString(m_snapshot->message);
    painter.save();
    QFont font = painter.font();
    font.setPointSizeF(9.0);
    const QFontMetrics metrics(font);
    int width = 0;
    for (const QString& line : lines) width = std::max(width, metrics.horizontalAdvance(line));
    const QRectF box(8, 8, width + 12, metrics.height() * lines.size() + 8);
    drawCard(painter, box, 9.0);
    painter.setPen(Qt::black);
    for (int i = 0; i < lines.size(); ++i)
        painter.drawText(QPointF(box.left() + 6, box.top() + 4 + metrics.ascent() + metrics.height() * i), lines[i]);
    painter.restore();
    Q_UNUSED(size);
}

void PlotView2D::render(QPainter& painter, QSize size) {
    if (!m_snapshot || m_snapshot->positions.rows() == 0 || m_snapshot->positions.cols() < 1) {
        painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
        return;
    }
    // For a frame after a point edit the labels are already new and the positions not yet: draw
    // only what needs no labels until they match again.
    const bool labelled = static_cast<Eigen::Index>(m_labels.size()) == m_snapshot->positions.rows();
    // The regions cover the whole picture; only without them is a white fill needed.
    drawBackground(painter, size, labelled);
    drawGridLabels(painter, size);
    if (labelled) drawOwned(painter, size);
    drawOverlay(painter, size);
    drawPoints(painter, size);
    drawForces(painter, size);
    drawLegend(painter, size);
    drawText(painter, size);
    drawMarginInset(painter, size);
    drawDiagnosis(painter, size);
}

bool PlotView2D::marginInsetShown(QSize size) const {
    return m_options.showMarginInset && m_marginLogits && hasClassWeights() && size.width() >= 480 && size.height() >= 360 &&
           static_cast<Eigen::Index>(m_labels.size()) == m_snapshot->positions.rows();
}

QRectF PlotView2D::marginInsetBox(QSize size) { return {size.width() - 258.0, size.height() - 196.0, 246.0, 170.0}; }

void PlotView2D::drawMarginInset(QPainter& painter, QSize size) const {
    if (!marginInsetShown(size)) return;
    // The target logit φ against θ (the angle to the sample's own class weight), next to cos θ,
    // with a tick per sample at its current θ: the curve is what the loss asks of each point.
    constexpr int kSamples = 181;
    std::array<double, kSamples> phi{};
    double low = -1.0;
    for (int k = 0; k < kSamples; ++k) {
        phi[static_cast<std::size_t>(k)] = m_marginLogits->target(std::cos(k * std::numbers::pi / (kSamples - 1)));
        low = std::min(low, phi[static_cast<std::size_t>(k)]);
    }
    low = std::max(low, -8.0);
    const QRectF box = marginInsetBox(size);
    const QRectF plot = box.adjusted(34, 22, -10, -28);
    auto at = [&](double thetaDegrees, double value) {
        return QPointF(plot.left() + plot.width() * thetaDegrees / 180.0,
                       plot.bottom() - plot.height() * (std::max(value, low) - low) / (1.0 - low));
    };
    painter.save();
    drawCard(painter, box, 8.0);
    const QFont font = painter.font();
    painter.setPen(Qt::black);
    painter.drawText(QPointF(box.left() + 6, box.top() + 14), tr("target logit vs θ to its class weight"));
    painter.setPen(QColor(90, 90, 90));
    painter.drawText(QPointF(plot.left() - 4, plot.bottom() + 13), QStringLiteral("0°"));
    painter.drawText(QPointF(plot.center().x() - 8, plot.bottom() + 13), QStringLiteral("90°"));
    painter.drawText(QPointF(plot.right() - 22, plot.bottom() + 13), QStringLiteral("180°"));
    painter.drawText(QPointF(box.left() + 6, plot.top() + 8), QStringLiteral("1"));
    painter.drawText(QPointF(box.left() + 6, plot.bottom()), QString::number(low, 'g', 3));
    painter.setPen(QPen(QColor(0, 0, 0, 50), 1.0));
    painter.drawRect(plot);
    painter.drawLine(at(0, 0), at(180, 0));
    // Per-sample ticks along the bottom, in class colours.
    const Points& x = m_snapshot->positions;
    const Points& owned = m_snapshot->owned;
    const Eigen::Index step = std::max<Eigen::Index>(1, x.rows() / 400);
    std::vector<std::vector<QLineF>> ticks(static_cast<std::size_t>(std::max(0, m_numClasses)));
    for (Eigen::Index i = 0; i < x.rows(); i += step) {
        const int y = m_labels[static_cast<std::size_t>(i)];
        const QPointF xi(x(i, 0), x(i, 1)), wy(owned(y, 0), owned(y, 1));
        const double denominator = std::max(norm2(xi) * norm2(wy), 1e-12);
        const double theta = std::acos(std::clamp((xi.x() * wy.x() + xi.y() * wy.y()) / denominator, -1.0, 1.0));
        const double sx = at(theta * 180.0 / std::numbers::pi, 0).x();
        ticks[static_cast<std::size_t>(y)].emplace_back(QPointF(sx, plot.bottom() - 6), QPointF(sx, plot.bottom()));
    }
    for (std::size_t c = 0; c < ticks.size(); ++c) {
        painter.setPen(QPen(ClassPalette::color(static_cast<int>(c)), 1.0));
        painter.drawLines(ticks[c].data(), static_cast<int>(ticks[c].size()));
    }
    QPainterPath plain, curve;
    for (int k = 0; k < kSamples; ++k) {
        const double degrees = 180.0 * k / (kSamples - 1);
        const QPointF a = at(degrees, std::cos(degrees * std::numbers::pi / 180.0));
        const QPointF b = at(degrees, phi[static_cast<std::size_t>(k)]);
        if (k == 0) plain.moveTo(a), curve.moveTo(b);
        else plain.lineTo(a), curve.lineTo(b);
    }
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(QColor(120, 120, 120), 1.2, Qt::DashLine));
    painter.drawPath(plain);
    painter.setPen(QPen(QColor(20, 60, 160), 2.0));
    painter.drawPath(curve);
    // Legend at the top right, where both curves are low (they start at the top left).
    const QFontMetricsF metrics(font);
    const QString name = m_lossInfo ? QString::fromStdString(m_lossInfo->pmlName.empty() ? m_lossInfo->name : m_lossInfo->pmlName)
                                    : QString();
    const QString label = metrics.elidedText(m_marginLogits->hasMargin ? name : tr("%1 (no margin)").arg(name), Qt::ElideRight,
                                             plot.width() * 0.6);
    const QRectF legend(plot.right() - plot.width() * 0.6 - 4, plot.top() + 2, plot.width() * 0.6, metrics.height());
    painter.setPen(QColor(20, 60, 160));
    painter.drawText(legend, Qt::AlignRight, label);
    painter.setPen(QColor(110, 110, 110));
    painter.drawText(legend.translated(0, metrics.height()), Qt::AlignRight, tr("cos θ (no margin)"));
    painter.restore();
}

Diagnosis PlotView2D::diagnosis() const {
    return m_snapshot ? diagnose(*m_snapshot, m_lossInfo) : Diagnosis{};
}

void PlotView2D::drawDiagnosis(QPainter& painter, QSize size) const {
    const Diagnosis d = diagnosis();
    if (d.kind == Diagnosis::Kind::None) return;
    const QColor accent = d.kind == Diagnosis::Kind::Diverged       ? QColor(200, 30, 30)
                          : d.kind == Diagnosis::Kind::DeadGradient ? QColor(190, 120, 0)
                                                                    : QColor(120, 40, 160);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    QFont bold = painter.font();
    bold.setPointSizeF(10.0);
    bold.setBold(true);
    QFont plain = bold;
    plain.setBold(false);
    plain.setPointSizeF(9.0);
    // Bottom centre of the space left of the θ inset (when it is shown), above the axis labels:
    // it must not hide the legend, the read-out or the inset.
    const double right = marginInsetShown(size) ? marginInsetBox(size).left() - 12.0 : size.width();
    const double width = std::max(200.0, std::min(560.0, right - 24.0));
    const QRectF titleRect = QFontMetricsF(bold).boundingRect(QRectF(0, 0, width - 20, 1000), Qt::TextWordWrap, d.title);
    const QRectF bodyRect = QFontMetricsF(plain).boundingRect(QRectF(0, 0, width - 20, 1000), Qt::TextWordWrap, d.sentence);
    const double height = titleRect.height() + bodyRect.height() + 18;
    const QRectF box(std::max(12.0, (right - width) / 2.0), size.height() - height - 22, width, height);
    painter.setPen(QPen(accent, 2.0));
    painter.setBrush(QColor(255, 255, 255, 235));
    painter.drawRoundedRect(box, 6, 6);
    painter.setPen(accent.darker(120));
    painter.setFont(bold);
    painter.drawText(QRectF(box.left() + 10, box.top() + 6, width - 20, titleRect.height()), Qt::TextWordWrap, d.title);
    painter.setPen(QColor(30, 30, 30));
    painter.setFont(plain);
    painter.drawText(QRectF(box.left() + 10, box.top() + 10 + titleRect.height(), width - 20, bodyRect.height()),
                     Qt::TextWordWrap, d.sentence);
    painter.restore();
}

QImage PlotView2D::renderImage(QSize size) {
    QImage image(size, QImage::Format_RGB32);
    QPainter painter(&image);
    render(painter, size);
    return image;
}

void PlotView2D::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    render(painter, size());
    ++m_frames;
}

int PlotView2D::takeFrameCount() {
    const int frames = m_frames;
    m_frames = 0;
    return frames;
}

void PlotView2D::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    m_pressPosition = event->position();
    m_dragMoved = false;
    // On a point: a click picks the anchor, a drag moves the point (decided when the mouse moves).
    m_pressedPoint = pointAt(event->position());
    if (m_pressedPoint >= 0) return;
    if (event->modifiers() & Qt::ControlModifier) {
        emit pointAddRequested(toWorld(event->position(), size()));
        return;
    }
    m_dragging = true;
    m_dragStart = event->position();
    m_dragCenter = m_center;
}

void PlotView2D::mouseMoveEvent(QMouseEvent* event) {
    if (norm2(event->position() - m_pressPosition) > 3.0) m_dragMoved = true;
    if (m_pressedPoint >= 0) {
        if (!m_dragMoved) return;
        m_draggedPoint = m_pressedPoint;
        m_dragPreview = toWorld(event->position(), size());
        update();
        return;
    }
    if (!m_dragging) return;
    const QPointF d = event->position() - m_dragStart;
    setView(m_dragCenter + QPointF(-d.x(), d.y()) / m_pixelsPerUnit, m_pixelsPerUnit);
}

void PlotView2D::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    if (m_pressedPoint >= 0) {
        const int point = m_pressedPoint;
        m_pressedPoint = m_draggedPoint = -1;
        if (m_dragMoved) emit pointMoveRequested(point, toWorld(event->position(), size()));
        else if ((event->modifiers() & Qt::ShiftModifier) && m_anchor >= 0) setAnchor(m_anchor, point);
        else setAnchor(point);
        emit viewSettingsChanged();
        return;
    }
    if (!m_dragging) return;
    m_dragging = false;
    if (!m_dragMoved && m_anchor >= 0) setAnchor(-1);  // a plain click on empty space clears the overlay
    emit viewSettingsChanged();
}

void PlotView2D::wheelEvent(QWheelEvent* event) {
    // Zoom about the cursor: the world point under it stays put.
    const QPointF cursor = event->position();
    const QPointF before = toWorld(cursor, size());
    const double factor = std::pow(1.0015, event->angleDelta().y());
    m_pixelsPerUnit = std::clamp(m_pixelsPerUnit * factor, 1e-3, 1e7);
    const QPointF after = toWorld(cursor, size());
    setView(m_center + (before - after), m_pixelsPerUnit);
    emit viewSettingsChanged();
}

void PlotView2D::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_F) {
        fitToData();
        emit viewSettingsChanged();
    } else if (event->key() == Qt::Key_Escape) {
        setAnchor(-1);
    } else if ((event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) && m_anchor >= 0) {
        const int point = m_anchor;
        setAnchor(-1);
        emit pointRemoveRequested(point);
    } else {
        QWidget::keyPressEvent(event);
    }
}

void PlotView2D::setOptions(const ViewOptions& options) {
    m_options = options;
    m_options.forceScale = std::max(0.0, options.forceScale);
    update();
}

nlohmann::json PlotView2D::viewSettings() const {
    nlohmann::json view = {{"center", {m_center.x(), m_center.y()}}, {"pixels_per_unit", m_pixelsPerUnit},
                           {"show_forces", m_options.showForces}, {"force_scale", m_options.forceScale},
                           {"split_forces", m_options.splitForces},
                           {"show_regions", m_options.showRegions}, {"show_normalized", m_options.showNormalized},
                           {"nearest_neighbour_regions", m_options.nearestNeighbourRegions},
                           {"show_margin_inset", m_options.showMarginInset}};
    if (m_anchor >= 0) view["anchor"] = m_anchor;
    if (m_positive >= 0) view["positive"] = m_positive;
    return view;
}

void PlotView2D::applyViewSettings(const nlohmann::json& view) {
    // Lenient on purpose: the view part is cosmetic, a missing or odd entry keeps the default.
    if (!view.is_object()) return;
    auto number = [&](const char* key, double fallback) {
        const auto it = view.find(key);
        return it != view.end() && it->is_number() ? it->get<double>() : fallback;
    };
    auto flag = [&](const char* key, bool fallback) {
        const auto it = view.find(key);
        return it != view.end() && it->is_boolean() ? it->get<bool>() : fallback;
    };
    m_options.showForces = flag("show_forces", m_options.showForces);
    m_options.forceScale = std::max(0.0, number("force_scale", m_options.forceScale));
    m_options.splitForces = flag("split_forces", m_options.splitForces);
    m_options.showRegions = flag("show_regions", m_options.showRegions);
    m_options.showNormalized = flag("show_normalized", m_options.showNormalized);
    m_options.nearestNeighbourRegions = flag("nearest_neighbour_regions", m_options.nearestNeighbourRegions);
    m_options.showMarginInset = flag("show_margin_inset", m_options.showMarginInset);
    const auto center = view.find("center");
    if (center != view.end() && center->is_array() && center->size() == 2 && (*center)[0].is_number() &&
        (*center)[1].is_number() && number("pixels_per_unit", 0.0) > 0.0)
        setView(QPointF((*center)[0].get<double>(), (*center)[1].get<double>()), number("pixels_per_unit", 100.0));
    setAnchor(static_cast<int>(number("anchor", -1.0)), static_cast<int>(number("positive", -1.0)));
    update();
}

}  // namespace marginlab

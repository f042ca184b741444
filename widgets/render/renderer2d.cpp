// SPDX-License-Identifier: MIT
#include "renderer2d.h"

#include "layers.h"

#include <QFontMetricsF>
#include <QPaintEngine>

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab {

namespace layers {

namespace {

const Snapshot& emptySnapshot() {
    static const Snapshot empty;
    return empty;
}

/// The triplet zones of the selected anchor, in the geometry the loss sees.
TripletOverlay computeTriplet(const Frame2D& frame, const std::vector<QPointF>& seen) {
    TripletOverlay o;
    const Snapshot* s = frame.snapshot.get();
    const int anchor = frame.selection.anchor;
    if (!s || !frame.run.loss || anchor < 0 || anchor >= s->positions.rows() ||
        static_cast<Eigen::Index>(s->labels.size()) != s->positions.rows())
        return o;
    const DistanceSpec& distance = frame.run.distance;
    const std::size_t a = static_cast<std::size_t>(anchor);
    int positive = frame.selection.positive;
    if (positive < 0 || positive >= s->positions.rows() || positive == anchor ||
        s->labels[static_cast<std::size_t>(positive)] != s->labels[a])
        positive = hardestPositive(s->positions, s->labels, anchor, distance);
    if (positive < 0) return o;  // the anchor's class has no other member
    // The regions are the loss's: its distance, its margin and the semi-hard rule of its miner.
    o.query = queryRegions(s->positions, s->labels, anchor, positive, frame.run.tripletMargin, distance,
                           frame.run.semiHardRule);
    o.valid = true;
    o.anchor = anchor;
    o.positive = positive;
    // The balls in drawing space: δ_an ≤ t is a Euclidean disk around the (normalized) anchor of
    // radius t (power 1), √t (power 2), or the chord √(2 + 2t) for a similarity (δ = −cos).
    const double apDelta = distance.orderSign() * o.query.apValue;
    auto radius = [&](double t) {
        if (distance.kind == DistanceKind::Lp) return distance.power == 2 ? std::sqrt(std::max(t, 0.0)) : std::max(t, 0.0);
        return std::sqrt(std::max(2.0 + 2.0 * t, 0.0));
    };
    o.center = seen[a];
    o.hasCircles = distance.kind == DistanceKind::Lp || distance.normalizes();
    o.hardRadius = radius(apDelta);
    o.ringRadius = radius(apDelta + o.query.margin);
    return o;
}

}  // namespace

FrameContext::FrameContext(const Frame2D& f, bool isVector)
    : frame(f),
      snapshot(f.snapshot ? *f.snapshot : emptySnapshot()),
      run(f.run),
      options(f.options),
      size(f.size),
      vector(isVector),
      scale(std::clamp(f.options.textScale, 0.25, 8.0)),
      normalizes(f.run.loss && f.run.distance.normalizes()),
      planar(snapshot.positions.cols() == 2),
      classes(std::max(0, snapshot.numClasses)) {
    raw = Renderer2D::rawPositions(f);
    seen = Renderer2D::seenPositions(f);
    triplet = computeTriplet(f, seen);
    diagnosis = Renderer2D::diagnosis(f);
    // A burned-in title takes the top of the frame; the read-out and the legend start below it.
    top = f.captions.title.isEmpty() ? px(8) : px(8) + QFontMetricsF(font(20.0, true)).height() + px(18);
    insetShown = options.showMarginInset && run.logits && hasClassWeights() && planar && size.width() >= 480 &&
                 size.height() >= 360;
    const QSizeF inset(px(300), px(200));
    insetBox = QRectF(size.width() - inset.width() - px(12), size.height() - inset.height() - px(30), inset.width(),
                      inset.height());
}

QFont FrameContext::font(double pixels, bool bold) const {
    QFont f;
    f.setPixelSize(std::max(1, static_cast<int>(std::lround(px(pixels)))));
    f.setBold(bold);
    return f;
}

bool FrameContext::hasClassWeights() const {
    const Points& owned = snapshot.owned;
    return run.hasClassWeights() && owned.rows() >= classes && owned.cols() >= 2 && classes >= 1;
}

}  // namespace layers

using layers::FrameContext;

namespace {

bool isVectorTarget(const QPainter& painter) {
    const QPaintEngine* engine = painter.paintEngine();
    if (!engine) return false;
    const QPaintEngine::Type type = engine->type();
    return type == QPaintEngine::SVG || type == QPaintEngine::Pdf || type == QPaintEngine::Picture;
}

}  // namespace

std::vector<QPointF> Renderer2D::rawPositions(const Frame2D& frame) {
    std::vector<QPointF> out;
    if (!frame.snapshot) return out;
    const Points& x = frame.snapshot->positions;
    out.reserve(static_cast<std::size_t>(x.rows()));
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        out.emplace_back(x.cols() > 0 ? x(i, 0) : 0.0, x.cols() > 1 ? x(i, 1) : 0.0);
    if (frame.drag.point >= 0 && frame.drag.point < static_cast<int>(out.size()))
        out[static_cast<std::size_t>(frame.drag.point)] = frame.drag.world;
    return out;
}

std::vector<QPointF> Renderer2D::seenPositions(const Frame2D& frame) {
    std::vector<QPointF> out = rawPositions(frame);
    if (!frame.run.loss || !frame.run.distance.normalizes()) return out;
    const Points& x = frame.snapshot->positions;
    for (std::size_t i = 0; i < out.size(); ++i) {
        // 3D data: normalized in 3D, then the first two coordinates.
        const bool fromRow = x.cols() > 2 && static_cast<int>(i) != frame.drag.point;
        const double length = fromRow ? x.row(static_cast<Eigen::Index>(i)).norm() : layers::norm2(out[i]);
        out[i] /= std::max(length, 1e-12);
    }
    return out;
}

QRectF Renderer2D::dataBounds(const Frame2D& frame) {
    double minX = std::numeric_limits<double>::infinity(), maxX = -minX, minY = minX, maxY = -minX;
    for (const QPointF& p : rawPositions(frame)) {
        if (!std::isfinite(p.x()) || !std::isfinite(p.y())) continue;
        minX = std::min(minX, p.x()), maxX = std::max(maxX, p.x());
        minY = std::min(minY, p.y()), maxY = std::max(maxY, p.y());
    }
    if ((frame.run.loss && frame.run.distance.normalizes()) || !std::isfinite(minX)) {
        minX = std::min(minX, -1.0), maxX = std::max(maxX, 1.0);
        minY = std::min(minY, -1.0), maxY = std::max(maxY, 1.0);
    }
    return QRectF(QPointF(minX, minY), QPointF(maxX, maxY));
}

TripletOverlay Renderer2D::tripletOverlay(const Frame2D& frame) {
    return layers::computeTriplet(frame, seenPositions(frame));
}

Diagnosis Renderer2D::diagnosis(const Frame2D& frame) {
    return frame.snapshot ? diagnose(*frame.snapshot, frame.run.loss) : Diagnosis{};
}

QRectF Renderer2D::descriptionCloseBox(const Frame2D& frame) {
    const FrameContext context(frame, false);
    return layers::descriptionCloseBox(context);
}

double Renderer2D::calibratedForceScale(const Snapshot& snapshot, bool split) {
    double largest = snapshot.gradient.rows() ? snapshot.gradient.rowwise().norm().maxCoeff() : 0.0;
    if (split && snapshot.gradientFromPositives.rows() == snapshot.gradient.rows() && snapshot.gradient.rows()) {
        largest = std::max(largest, snapshot.gradientFromPositives.rowwise().norm().maxCoeff());
        largest = std::max(largest, (snapshot.gradient - snapshot.gradientFromPositives).rowwise().norm().maxCoeff());
    }
    return largest > 0.0 && std::isfinite(largest) ? 40.0 / largest : 0.0;
}

void Renderer2D::paint(QPainter& painter, const Frame2D& frame) {
    const bool vector = isVectorTarget(painter);
    const FrameContext c(frame, vector);
    painter.save();
    if (!frame.snapshot || frame.snapshot->positions.rows() == 0 || frame.snapshot->positions.cols() < 1 ||
        static_cast<Eigen::Index>(frame.snapshot->labels.size()) != frame.snapshot->positions.rows()) {
        painter.fillRect(QRectF(QPointF(0, 0), c.size), Qt::white);
        layers::paintCaptions(painter, c);
        painter.restore();
        return;
    }
    layers::paintRegionsAndGrid(painter, c, m_background);
    layers::paintAxisLabels(painter, c);
    layers::paintClassWeights(painter, c);
    layers::paintTripletZones(painter, c);
    layers::paintDistanceBand(painter, c);
    layers::paintMemory(painter, c);
    layers::paintPoints(painter, c, m_sprites, m_spriteScale);
    layers::paintTripletMarks(painter, c);
    layers::paintForces(painter, c);
    layers::paintReadout(painter, c);
    layers::paintLegend(painter, c);
    layers::paintMarginInset(painter, c);
    layers::paintLossPicture(painter, c);
    layers::paintBanner(painter, c);
    layers::paintCaptions(painter, c);
    painter.restore();
}

QImage Renderer2D::image(const Frame2D& frame, double devicePixelRatio) {
    return layers::paintedImage(QSizeF(frame.size), devicePixelRatio, [&](QPainter& painter) { paint(painter, frame); });
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// The pictures that explain one loss (RunInfo::picture, from the catalogue): the ranked list of
// the chosen anchor (FastAP, PNP, RankedList), positive / negative pair histograms with the loss's
// thresholds (Histogram, IntraPairVariance, TCM; angles for TupletMargin), NCA's soft-neighbour
// probabilities around the anchor, and the SNR distance of the chosen pair. The numbers come from
// the engine (loss_pictures.h); this file only draws them.
#include <QCoreApplication>
#include <QFontMetricsF>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "classpalette.h"
#include "layers.h"
#include "marginlab/loss_pictures.h"

namespace marginlab::layers {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("Renderer2D", text);
}
QString number(double value, int digits = 3) {
    return QString::number(value, 'g', digits);
}

// Positive pairs in the attraction blue, negative pairs in the repulsion red of the force arrows.
QColor positiveColor() {
    return QColor(0, 90, 200);
}
QColor negativeColor() {
    return QColor(210, 40, 20);
}

bool cardFits(const FrameContext& c) {
    return c.options.showMarginInset && c.size.width() >= 480 && c.size.height() >= 360 && !c.insetShown;
}

int chosenAnchor(const FrameContext& c) {
    const int anchor = c.frame.selection.anchor;
    return anchor >= 0 && anchor < c.snapshot.positions.rows() ? anchor : -1;
}

QString valueName(const FrameContext& c) {
    return c.run.distance.isSimilarity() ? QStringLiteral("s") : QStringLiteral("d");
}

void paintRankedList(QPainter& painter, const FrameContext& c) {
    const int anchor = chosenAnchor(c);
    if (anchor < 0 || !cardFits(c)) return;
    const std::vector<RankedNeighbour> ranked =
        rankedNeighbours(c.snapshot.positions, c.snapshot.labels, anchor, c.run.distance);
    if (ranked.empty()) return;
    const QRectF box = c.insetBox;
    painter.save();
    drawCard(painter, box, c.scale);
    const QFont font = c.font(11.0);
    const QFontMetricsF metrics(font);
    painter.setFont(font);
    painter.setPen(Qt::black);
    painter.drawText(QPointF(box.left() + c.px(6), box.top() + c.px(15)),
                     tr("ranked list of anchor #%1").arg(anchor));
    // The whole ranking as one strip: a tick per neighbour, nearest on the left; positives tall
    // and blue, negatives short and red. A perfect ranking has every blue tick first.
    const QRectF strip(box.left() + c.px(8), box.bottom() - c.px(26), box.width() - c.px(16), c.px(18));
    painter.setPen(QPen(QColor(0, 0, 0, 50), c.px(1.0)));
    painter.drawLine(QPointF(strip.left(), strip.bottom()), QPointF(strip.right(), strip.bottom()));
    std::vector<QLineF> positives, negatives;
    const double count = static_cast<double>(ranked.size());
    for (std::size_t r = 0; r < ranked.size(); ++r) {
        const double x = strip.left() + strip.width() * (r + 0.5) / count;
        if (ranked[r].positive)
            positives.emplace_back(x, strip.top(), x, strip.bottom());
        else
            negatives.emplace_back(x, strip.top() + strip.height() * 0.55, x, strip.bottom());
    }
    painter.setPen(QPen(negativeColor(), c.px(1.0)));
    painter.drawLines(negatives.data(), static_cast<int>(negatives.size()));
    painter.setPen(QPen(positiveColor(), c.px(1.6)));
    painter.drawLines(positives.data(), static_cast<int>(positives.size()));
    // The nearest neighbours as rows: rank, class dot, index, value; positives in bold blue.
    const double lineHeight = metrics.height();
    const int rows = std::max(0, static_cast<int>((strip.top() - box.top() - c.px(24)) / lineHeight));
    for (int r = 0; r < rows && r < static_cast<int>(ranked.size()); ++r) {
        const RankedNeighbour& n = ranked[static_cast<std::size_t>(r)];
        const double y = box.top() + c.px(22) + lineHeight * r;
        const int label = c.snapshot.labels[static_cast<std::size_t>(n.index)];
        painter.setPen(QPen(ClassPalette::color(label).darker(170), c.px(1.0)));
        painter.setBrush(ClassPalette::color(label));
        painter.drawEllipse(QPointF(box.left() + c.px(34), y + lineHeight / 2), c.px(4), c.px(4));
        QFont rowFont = c.font(11.0, n.positive);
        painter.setFont(rowFont);
        painter.setPen(n.positive ? positiveColor() : QColor(60, 60, 60));
        painter.drawText(QRectF(box.left() + c.px(4), y, c.px(24), lineHeight), Qt::AlignRight,
                         QString::number(r + 1));
        painter.drawText(QRectF(box.left() + c.px(44), y, box.width() - c.px(50), lineHeight), Qt::AlignLeft,
                         tr("#%1  %2 = %3  %4")
                             .arg(n.index)
                             .arg(valueName(c))
                             .arg(number(n.value))
                             .arg(n.positive ? tr("positive") : tr("negative")));
    }
    painter.restore();
}

void paintPairHistograms(QPainter& painter, const FrameContext& c) {
    if (!cardFits(c) || c.snapshot.positions.rows() < 2) return;
    const LossPicture& picture = c.run.picture;
    constexpr int kBins = 40;
    const PairHistograms h =
        pairHistograms(c.snapshot.positions, c.snapshot.labels, c.run.distance, kBins, picture.angles);
    const QRectF box = c.insetBox;
    const QRectF plot = box.adjusted(c.px(10), c.px(40), -c.px(10), -c.px(22));
    // Each histogram as a density (its own total is 1), so the few positive pairs stay visible
    // beside the many negative ones.
    std::vector<double> positive(kBins), negative(kBins);
    double tallest = 1e-12;
    for (int b = 0; b < kBins; ++b) {
        positive[static_cast<std::size_t>(b)] =
            h.positivePairs ? static_cast<double>(h.positive[static_cast<std::size_t>(b)]) /
                                  static_cast<double>(h.positivePairs)
                            : 0.0;
        negative[static_cast<std::size_t>(b)] =
            h.negativePairs ? static_cast<double>(h.negative[static_cast<std::size_t>(b)]) /
                                  static_cast<double>(h.negativePairs)
                            : 0.0;
        tallest =
            std::max({tallest, positive[static_cast<std::size_t>(b)], negative[static_cast<std::size_t>(b)]});
    }
    auto xAt = [&](double value) { return plot.left() + plot.width() * (value - h.low) / (h.high - h.low); };
    auto bar = [&](int b, double height) {
        const double left = plot.left() + plot.width() * b / kBins;
        const double top = plot.bottom() - plot.height() * height / tallest;
        return QRectF(QPointF(left, top), QPointF(left + plot.width() / kBins, plot.bottom()));
    };
    painter.save();
    drawCard(painter, box, c.scale);
    const QFont font = c.font(11.0);
    painter.setFont(font);
    painter.setPen(Qt::black);
    const QString what = picture.angles ? tr("pair angles θ (°)") : tr("pair %1").arg(valueName(c));
    painter.drawText(QPointF(box.left() + c.px(6), box.top() + c.px(15)),
                     tr("%1: positives vs negatives").arg(what));
    painter.setPen(positiveColor());
    painter.drawText(QPointF(box.left() + c.px(6), box.top() + c.px(30)),
                     tr("positive %1").arg(h.positivePairs));
    painter.setPen(negativeColor());
    painter.drawText(QPointF(box.left() + c.px(110), box.top() + c.px(30)),
                     tr("negative %1").arg(h.negativePairs));
    painter.setPen(Qt::NoPen);
    for (int b = 0; b < kBins; ++b) {
        const double p = positive[static_cast<std::size_t>(b)], n = negative[static_cast<std::size_t>(b)];
        QColor pc = positiveColor(), nc = negativeColor();
        pc.setAlpha(110), nc.setAlpha(110);
        painter.fillRect(bar(b, p), pc);
        painter.fillRect(bar(b, n), nc);
        // The overlap, where a threshold cannot separate the two kinds of pairs: dark.
        if (std::min(p, n) > 0.0) painter.fillRect(bar(b, std::min(p, n)), QColor(40, 40, 40, 160));
    }
    painter.setPen(QPen(QColor(0, 0, 0, 60), c.px(1.0)));
    painter.drawLine(plot.bottomLeft(), plot.bottomRight());
    painter.setPen(QColor(90, 90, 90));
    painter.drawText(QPointF(plot.left(), plot.bottom() + c.px(14)), number(h.low));
    const QString high = number(h.high);
    painter.drawText(
        QPointF(plot.right() - QFontMetricsF(font).horizontalAdvance(high), plot.bottom() + c.px(14)), high);
    // The loss's thresholds as dashed lines, named at their top.
    for (const PairThreshold& t : picture.thresholds) {
        const double value =
            t.scalesMean ? t.value * (t.positiveSide ? h.positiveMean : h.negativeMean) : t.value;
        if (!(value >= h.low && value <= h.high)) continue;
        const double x = xAt(value);
        const QColor color = t.positiveSide ? positiveColor() : negativeColor();
        painter.setPen(QPen(color.darker(130), c.px(1.5), Qt::DashLine));
        painter.drawLine(QPointF(x, plot.top() - c.px(4)), QPointF(x, plot.bottom()));
        painter.setPen(color.darker(130));
        // One line per threshold, so two close thresholds keep readable names.
        const double line =
            QFontMetricsF(font).height() * static_cast<double>(&t - picture.thresholds.data());
        const QString name = QString::fromStdString(t.label);
        const double width = QFontMetricsF(font).horizontalAdvance(name);
        const double left = x + c.px(2) + width > box.right() - c.px(4) ? x - c.px(2) - width : x + c.px(2);
        painter.drawText(QPointF(left, plot.top() + c.px(6) + line), name);
    }
    painter.restore();
}

void paintSoftNeighbours(QPainter& painter, const FrameContext& c, const std::vector<ScreenPoint>& points) {
    const int anchor = chosenAnchor(c);
    if (anchor < 0) return;
    const std::vector<Real> p =
        softNeighbourProbabilities(c.snapshot.positions, anchor, c.run.distance, c.run.picture.softmaxScale);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    // A ring per neighbour whose area is its probability (p = 1 would be a disk of 40 px radius);
    // the most likely five are also labelled.
    const double full = c.px(40.0);
    std::vector<int> order;
    for (std::size_t j = 0; j < p.size(); ++j)
        if (static_cast<int>(j) != anchor) order.push_back(static_cast<int>(j));
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return p[static_cast<std::size_t>(a)] > p[static_cast<std::size_t>(b)];
    });
    const int label = c.snapshot.labels[static_cast<std::size_t>(anchor)];
    double sameClass = 0.0;
    painter.setBrush(Qt::NoBrush);
    for (int j : order) {
        const double pj = p[static_cast<std::size_t>(j)];
        const bool same = c.snapshot.labels[static_cast<std::size_t>(j)] == label;
        if (same) sameClass += pj;
        const double radius = full * std::sqrt(pj);
        if (radius < c.px(1.0)) continue;
        const ScreenPoint& at = points[static_cast<std::size_t>(j)];
        QColor color = same ? positiveColor() : negativeColor();
        // A neighbour behind the sphere keeps its ring, faded and dashed as the far side is.
        if (at.hidden) color.setAlpha(110);
        painter.setPen(QPen(color, c.px(2.0), at.hidden ? Qt::DashLine : Qt::SolidLine));
        painter.drawEllipse(at.at, radius, radius);
    }
    painter.setFont(c.font(11.0, true));
    for (std::size_t k = 0; k < order.size() && k < 5; ++k) {
        const int j = order[k];
        const double pj = p[static_cast<std::size_t>(j)];
        const QPointF at = points[static_cast<std::size_t>(j)].at + QPointF(full * std::sqrt(pj) + c.px(3), -c.px(3));
        painter.setPen(Qt::black);
        painter.drawText(at, QStringLiteral("%1%").arg(100.0 * pj, 0, 'f', pj < 0.1 ? 1 : 0));
    }
    if (cardFits(c)) {
        const QRectF box(c.insetBox.left(), c.insetBox.bottom() - c.px(52), c.insetBox.width(), c.px(52));
        drawCard(painter, box, c.scale);
        painter.setFont(c.font(11.0));
        painter.setPen(Qt::black);
        painter.drawText(QPointF(box.left() + c.px(6), box.top() + c.px(18)),
                         tr("soft neighbours of #%1: ring area = p(j)").arg(anchor));
        painter.drawText(QPointF(box.left() + c.px(6), box.top() + c.px(38)),
                         tr("p(same class) = %1   loss term = %2")
                             .arg(number(sameClass))
                             .arg(number(-std::log(std::max(sameClass, 1e-300)))));
    }
    painter.restore();
}

void paintSnrPair(QPainter& painter, const FrameContext& c) {
    if (!c.triplet.valid || !cardFits(c)) return;
    const int a = c.triplet.anchor, p = c.triplet.positive;
    // The nearest negative in SNR distance, beside the positive.
    int negative = -1;
    double negativeSnr = 0.0;
    for (Eigen::Index j = 0; j < c.snapshot.positions.rows(); ++j) {
        if (c.snapshot.labels[static_cast<std::size_t>(j)] == c.snapshot.labels[static_cast<std::size_t>(a)])
            continue;
        const double snr =
            snrDistance(c.snapshot.positions, a, static_cast<int>(j), c.run.picture.snrNormalize);
        if (negative < 0 || snr < negativeSnr) negative = static_cast<int>(j), negativeSnr = snr;
    }
    auto euclidean = [&](int i, int j) {
        return (c.snapshot.positions.row(i) - c.snapshot.positions.row(j)).norm();
    };
    QStringList lines;
    lines << tr("SNR var(e_a − e_j) / var(e_a) vs Euclidean (L2)");
    lines << tr("positive #%1:  SNR %2  vs  L2 %3")
                 .arg(p)
                 .arg(number(snrDistance(c.snapshot.positions, a, p, c.run.picture.snrNormalize)))
                 .arg(number(euclidean(a, p)));
    if (negative >= 0)
        lines << tr("nearest negative #%1:  SNR %2  vs  L2 %3")
                     .arg(negative)
                     .arg(number(negativeSnr))
                     .arg(number(euclidean(a, negative)));
    const QFont font = c.font(11.0);
    const QFontMetricsF metrics(font);
    const QRectF box(c.insetBox.left(), c.insetBox.bottom() - metrics.height() * lines.size() - c.px(12),
                     c.insetBox.width(), metrics.height() * lines.size() + c.px(12));
    painter.save();
    drawCard(painter, box, c.scale);
    painter.setFont(font);
    for (int i = 0; i < lines.size(); ++i) {
        painter.setPen(i == 1 ? positiveColor() : i == 2 ? negativeColor() : QColor(Qt::black));
        painter.drawText(
            QPointF(box.left() + c.px(6), box.top() + c.px(6) + metrics.ascent() + metrics.height() * i),
            metrics.elidedText(lines[i], Qt::ElideRight, box.width() - c.px(12)));
    }
    painter.restore();
}

}  // namespace

void paintLossPicture(QPainter& painter, const FrameContext& c) {
    std::vector<ScreenPoint> points;
    if (c.run.picture.kind == LossPicture::Kind::SoftNeighbours) {
        points.reserve(c.seen.size());
        for (const QPointF& p : c.seen) points.push_back({c.screen(p), false});
    }
    paintLossPicture(painter, c, points);
}

void paintLossPicture(QPainter& painter, const FrameContext& c, const std::vector<ScreenPoint>& points) {
    switch (c.run.picture.kind) {
        case LossPicture::Kind::RankedList:
            paintRankedList(painter, c);
            break;
        case LossPicture::Kind::PairHistograms:
            paintPairHistograms(painter, c);
            break;
        case LossPicture::Kind::SoftNeighbours:
            if (points.size() == static_cast<std::size_t>(c.snapshot.positions.rows()))
                paintSoftNeighbours(painter, c, points);
            break;
        case LossPicture::Kind::SnrPair:
            paintSnrPair(painter, c);
            break;
        case LossPicture::Kind::None:
            break;
    }
}

}  // namespace marginlab::layers

// SPDX-License-Identifier: MIT
// The layers in screen space: axis labels, the read-out, the class legend, the θ inset of the
// softmax family, the diagnosis banner, and the captions / description card.
#include "classpalette.h"
#include "layers.h"

#include <QCoreApplication>
#include <QFontMetricsF>
#include <QPainterPath>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace marginlab::layers {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("Renderer2D", text); }

QString number(double value, int digits = 4) { return QString::number(value, 'g', digits); }

}  // namespace

QImage paintedImage(QSizeF size, double devicePixelRatio, const std::function<void(QPainter&)>& paint) {
    const double ratio = std::max(0.25, devicePixelRatio);
    QImage out((size * ratio).toSize(), QImage::Format_RGB32);
    out.setDevicePixelRatio(ratio);
    out.fill(Qt::white);
    QPainter painter(&out);
    paint(painter);
    painter.end();
    return out;
}

double norm2(QPointF p) { return std::sqrt(p.x() * p.x() + p.y() * p.y()); }

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

void drawCard(QPainter& painter, const QRectF& box, double scale) {
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(QPen(QColor(0, 0, 0, 60), scale));
    painter.setBrush(QColor(255, 255, 255, 230));
    painter.drawRoundedRect(box, 4 * scale, 4 * scale);
}

double niceStep(double target) {
    if (!(target > 0.0) || !std::isfinite(target)) return 1.0;
    const double power = std::pow(10.0, std::floor(std::log10(target)));
    for (double m : {1.0, 2.0, 5.0})
        if (m * power >= target) return m * power;
    return 10.0 * power;
}

void paintAxisLabels(QPainter& painter, const FrameContext& c) {
    painter.save();
    const QFont font = c.font(11.0);
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    painter.setPen(QColor(90, 90, 90));
    const double step = niceStep(80.0 * c.scale / c.frame.camera.pixelsPerUnit);
    const QRectF world = c.frame.camera.visibleWorld(c.size);
    auto snap = [&](double v) { return std::abs(v) < step * 1e-6 ? 0.0 : v; };  // "0", not "1.2e-17"
    for (double x = std::ceil(world.left() / step) * step; x <= world.right(); x += step) {
        const double sx = c.screen(QPointF(x, 0)).x() + c.px(2);
        const QString text = number(snap(x));
        if (sx + metrics.horizontalAdvance(text) > c.size.width() - 2) continue;
        painter.drawText(QPointF(sx, c.size.height() - c.px(4)), text);
    }
    for (double y = std::ceil(world.top() / step) * step; y <= world.bottom(); y += step) {
        const double sy = c.screen(QPointF(0, y)).y() - c.px(2);
        // A label must fit whole: the top one used to be cut off by the frame's edge.
        if (sy - metrics.ascent() < 2 || sy > c.size.height() - metrics.height() - c.px(4)) continue;
        painter.drawText(QPointF(c.px(3), sy), number(snap(y)));
    }
    if (c.normalizes) {
        painter.setRenderHint(QPainter::Antialiasing, true);
        QPen dashed(QColor(60, 60, 60, 160), c.scale > 1.25 ? c.px(1.0) : 1.0, Qt::DashLine);
        dashed.setCosmetic(c.scale <= 1.25);
        painter.setPen(dashed);
        painter.setBrush(Qt::NoBrush);
        const double r = c.frame.camera.pixelsPerUnit;
        painter.drawEllipse(c.screen(QPointF(0, 0)), r, r);
    }
    painter.restore();
}

void paintReadout(QPainter& painter, const FrameContext& c) {
    QStringList lines;
    if (c.run.loss) {
        lines << QString::fromStdString(c.run.title);
        lines << tr("step %1   loss %2").arg(c.snapshot.step).arg(c.snapshot.loss, 0, 'g', 5);
    } else {
        lines << tr("replay — step %1").arg(c.snapshot.step);  // a logged run: positions, no loss
    }
    const bool forces = c.options.showForces && c.snapshot.gradient.rows() > 0;
    if (forces && c.options.splitForces)
        lines << tr("arrows: blue = attraction (from positives), red = repulsion (from negatives)");
    const double perUnit = forces ? forcePixelsPerUnit(c) : 0.0;
    const QFont font = c.font(13.0);
    const QFontMetricsF metrics(font);
    // The scale arrow fills the blank at the start of its line, which may be shorter than 40 px:
    // the label gives the gradient of the arrow as drawn.
    const double arrow = std::min(c.px(40.0), metrics.horizontalAdvance(QStringLiteral("       ")));
    if (perUnit > 0.0)
        lines << tr("        = |∂L/∂x| of %1%2")
                     .arg(number(arrow / perUnit, 3))
                     .arg(c.options.forceScaleMode == ViewOptions::ForceScale::Fixed ? tr(" (fixed scale)")
                                                                                      : tr(" (scaled to the longest)"));
    if (c.triplet.valid) {
        const TripletOverlay& o = c.triplet;
        lines << tr("anchor #%1, positive #%2 (%3_ap = %4, margin %5)")
                     .arg(o.anchor)
                     .arg(o.positive)
                     .arg(c.run.distance.isSimilarity() ? QStringLiteral("s") : QStringLiteral("d"))
                     .arg(number(o.query.apValue))
                     .arg(number(o.query.margin))
              << tr("negatives: %1 hard (solid ring), %2 semi-hard (dashed), %3 easy")
                     .arg(o.query.hard)
                     .arg(o.query.semiHard)
                     .arg(o.query.easy);
    }
    if (c.snapshot.status == TrainStatus::Diverged) lines << QString::fromStdString(c.snapshot.message);
    painter.save();
    double width = 0;
    for (const QString& line : lines) width = std::max(width, metrics.horizontalAdvance(line));
    width = std::min(width, c.size.width() * 0.6);
    const QRectF box(c.px(8), c.top, width + c.px(12), metrics.height() * lines.size() + c.px(8));
    drawCard(painter, box, c.scale);
    painter.setFont(font);
    painter.setPen(Qt::black);
    for (int i = 0; i < lines.size(); ++i) {
        const QPointF at(box.left() + c.px(6), box.top() + c.px(4) + metrics.ascent() + metrics.height() * i);
        painter.drawText(at, metrics.elidedText(lines[i], Qt::ElideRight, width));
        if (perUnit > 0.0 && lines[i].startsWith(QStringLiteral("        ="))) {
            // The scale arrow itself, in the place of the blank at the start of the line.
            std::vector<QLineF> arrowLines;
            const double y = at.y() - metrics.ascent() / 2.5;
            appendArrow(arrowLines, QPointF(at.x(), y), QPointF(at.x() + arrow, y), c.px(5));
            painter.setPen(QPen(QColor(30, 30, 30), c.px(1.2)));
            painter.drawLines(arrowLines.data(), static_cast<int>(arrowLines.size()));
            painter.setPen(Qt::black);
        }
    }
    painter.restore();
}

void paintLegend(QPainter& painter, const FrameContext& c) {
    if (c.classes < 1) return;
    const int shown = std::min(c.classes, 12);
    std::vector<int> members(static_cast<std::size_t>(c.classes), 0);
    for (int label : c.snapshot.labels)
        if (label >= 0 && label < c.classes) ++members[static_cast<std::size_t>(label)];
    const double lineHeight = c.px(18), width = c.px(132);
    // The cross-batch memory gets its own line: "memory (N)" beside a faded point.
    const auto memoryRows = static_cast<int>(c.snapshot.memoryPositions.rows());
    const int extraLines = (shown < c.classes ? 1 : 0) + (memoryRows > 0 ? 1 : 0);
    const QRectF box(c.size.width() - width - c.px(8), c.top, width,
                     lineHeight * (shown + extraLines) + c.px(8));
    painter.save();
    drawCard(painter, box, c.scale);
    painter.setFont(c.font(12.0));
    for (int k = 0; k < shown; ++k) {
        const QPointF at(box.left() + c.px(12), box.top() + c.px(4) + lineHeight * k + lineHeight / 2.0);
        painter.setPen(QPen(ClassPalette::color(k).darker(170), c.px(1.0)));
        painter.setBrush(ClassPalette::color(k));
        painter.drawEllipse(at, c.px(5), c.px(5));
        painter.setPen(Qt::black);
        painter.drawText(QPointF(at.x() + c.px(12), at.y() + c.px(4)),
                         tr("class %1 (%2)").arg(k).arg(members[static_cast<std::size_t>(k)]));
    }
    if (shown < c.classes)
        painter.drawText(QPointF(box.left() + c.px(24),
                                 box.top() + c.px(4) + lineHeight * shown + lineHeight / 2.0 + c.px(4)),
                         tr("… %1 more").arg(c.classes - shown));
    if (memoryRows > 0) {
        const QPointF at(box.left() + c.px(12),
                         box.top() + c.px(4) + lineHeight * (shown + extraLines - 1) + lineHeight / 2.0);
        painter.setPen(Qt::NoPen);
        painter.setBrush(QColor(90, 90, 90));
        painter.setOpacity(kMemoryOpacity + 0.2);
        painter.drawEllipse(at, c.px(kMemoryPointRadius), c.px(kMemoryPointRadius));
        painter.setOpacity(1.0);
        painter.setPen(Qt::black);
        painter.drawText(QPointF(at.x() + c.px(12), at.y() + c.px(4)), tr("memory (%1)").arg(memoryRows));
    }
    painter.restore();
}

void paintMarginInset(QPainter& painter, const FrameContext& c) {
    if (!c.insetShown) return;
    // The target logit φ against θ (the angle to the sample's own class weight), next to cos θ,
    // with a tick per sample at its current θ: the curve is what the loss asks of each point.
    const MarginLogits& logits = *c.run.logits;
    constexpr int kSamples = 181;
    std::array<double, kSamples> phi{};
    double low = -1.0;
    for (int k = 0; k < kSamples; ++k) {
        phi[static_cast<std::size_t>(k)] = logits.target(std::cos(k * std::numbers::pi / (kSamples - 1)));
        low = std::min(low, phi[static_cast<std::size_t>(k)]);
    }
    low = std::max(low, -8.0);
    const QRectF box = c.insetBox;
    const QRectF plot = box.adjusted(c.px(38), c.px(24), -c.px(10), -c.px(30));
    auto at = [&](double thetaDegrees, double value) {
        return QPointF(plot.left() + plot.width() * thetaDegrees / 180.0,
                       plot.bottom() - plot.height() * (std::max(value, low) - low) / (1.0 - low));
    };
    painter.save();
    drawCard(painter, box, c.scale);
    const QFont font = c.font(11.0);
    painter.setFont(font);
    painter.setPen(Qt::black);
    painter.drawText(QPointF(box.left() + c.px(6), box.top() + c.px(15)), tr("target logit vs θ to its class weight"));
    painter.setPen(QColor(90, 90, 90));
    painter.drawText(QPointF(plot.left() - c.px(4), plot.bottom() + c.px(14)), QStringLiteral("0°"));
    painter.drawText(QPointF(plot.center().x() - c.px(8), plot.bottom() + c.px(14)), QStringLiteral("90°"));
    painter.drawText(QPointF(plot.right() - c.px(24), plot.bottom() + c.px(14)), QStringLiteral("180°"));
    painter.drawText(QPointF(box.left() + c.px(6), plot.top() + c.px(8)), QStringLiteral("1"));
    painter.drawText(QPointF(box.left() + c.px(6), plot.bottom()), number(low, 3));
    painter.setPen(QPen(QColor(0, 0, 0, 50), c.px(1.0)));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(plot);
    painter.drawLine(at(0, 0), at(180, 0));
    // Per-sample ticks along the bottom, in class colours.
    const Points& x = c.snapshot.positions;
    const Points& owned = c.snapshot.owned;
    const Eigen::Index stride = std::max<Eigen::Index>(1, x.rows() / 400);
    std::vector<std::vector<QLineF>> ticks(static_cast<std::size_t>(c.classes));
    for (Eigen::Index i = 0; i < x.rows(); i += stride) {
        const int y = c.snapshot.labels[static_cast<std::size_t>(i)];
        if (y < 0 || y >= c.classes) continue;
        const QPointF xi(x(i, 0), x(i, 1)), wy(owned(y, 0), owned(y, 1));
        const double denominator = std::max(norm2(xi) * norm2(wy), 1e-12);
        const double theta = std::acos(std::clamp((xi.x() * wy.x() + xi.y() * wy.y()) / denominator, -1.0, 1.0));
        const double sx = at(theta * 180.0 / std::numbers::pi, 0).x();
        ticks[static_cast<std::size_t>(y)].emplace_back(QPointF(sx, plot.bottom() - c.px(6)), QPointF(sx, plot.bottom()));
    }
    for (std::size_t k = 0; k < ticks.size(); ++k) {
        painter.setPen(QPen(ClassPalette::color(static_cast<int>(k)), c.px(1.0)));
        painter.drawLines(ticks[k].data(), static_cast<int>(ticks[k].size()));
    }
    QPainterPath plain, curve;
    for (int k = 0; k < kSamples; ++k) {
        const double degrees = 180.0 * k / (kSamples - 1);
        const QPointF a = at(degrees, std::cos(degrees * std::numbers::pi / 180.0));
        const QPointF b = at(degrees, phi[static_cast<std::size_t>(k)]);
        if (k == 0) plain.moveTo(a), curve.moveTo(b);
        else plain.lineTo(a), curve.lineTo(b);
    }
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(QPen(QColor(120, 120, 120), c.px(1.2), Qt::DashLine));
    painter.drawPath(plain);
    painter.setPen(QPen(QColor(20, 60, 160), c.px(2.0)));
    painter.drawPath(curve);
    const QFontMetricsF metrics(font);
    // A sum of losses: the term whose class weights these logits are (RunInfo::ownerLoss).
    const LossInfo& named = c.run.ownerLoss ? *c.run.ownerLoss : *c.run.loss;
    const QString name = QString::fromStdString(named.pmlName.empty() ? named.name : named.pmlName);
    const QString label = metrics.elidedText(logits.hasMargin ? name : tr("%1 (no margin)").arg(name), Qt::ElideRight,
                                             plot.width() * 0.6);
    const QRectF legend(plot.right() - plot.width() * 0.6 - c.px(4), plot.top() + c.px(2), plot.width() * 0.6,
                        metrics.height());
    painter.setPen(QColor(20, 60, 160));
    painter.drawText(legend, Qt::AlignRight, label);
    painter.setPen(QColor(110, 110, 110));
    painter.drawText(legend.translated(0, metrics.height()), Qt::AlignRight, tr("cos θ (no margin)"));
    painter.restore();
}

QRectF descriptionBox(const FrameContext& c) {
    const QString& text = c.frame.captions.description;
    if (text.isEmpty() || !c.options.showDescription) return {};
    const double width = std::min(c.px(460), c.size.width() * 0.42);
    const QRectF textRect = QFontMetricsF(c.font(13.0)).boundingRect(QRectF(0, 0, width - c.px(36), 4000),
                                                                     Qt::TextWordWrap, text);
    const double height = textRect.height() + c.px(16);
    return QRectF(c.px(12), c.size.height() - height - c.px(26), width, height);
}

QRectF descriptionCloseBox(const FrameContext& c) {
    const QRectF box = descriptionBox(c);
    if (box.isEmpty()) return {};
    return QRectF(box.right() - c.px(22), box.top() + c.px(4), c.px(18), c.px(18));
}

void paintBanner(QPainter& painter, const FrameContext& c) {
    const Diagnosis& d = c.diagnosis;
    if (d.kind == Diagnosis::Kind::None) return;
    const QColor accent = d.kind == Diagnosis::Kind::Diverged  ? QColor(200, 30, 30)
                          : d.kind == Diagnosis::Kind::Stuck    ? QColor(190, 120, 0)
                          : d.kind == Diagnosis::Kind::Converged ? QColor(30, 130, 60)
                                                                 : QColor(120, 40, 160);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    const QFont bold = c.font(14.0, true), plain = c.font(13.0);
    // Bottom, between the description card and the θ inset: it must hide neither, nor the cards above.
    const QRectF description = descriptionBox(c);
    const double left = description.isEmpty() ? c.px(12) : description.right() + c.px(12);
    const double right = c.insetShown ? c.insetBox.left() - c.px(12) : c.size.width() - c.px(12);
    const bool room = right - left >= c.px(260);
    const double width = room ? std::min(c.px(560), right - left) : std::min(c.px(560), c.size.width() - c.px(24));
    const QRectF titleRect = QFontMetricsF(bold).boundingRect(QRectF(0, 0, width - c.px(20), 4000), Qt::TextWordWrap, d.title);
    // A converged run gets a calm one-line note; problems also say what to try.
    const bool calm = d.kind == Diagnosis::Kind::Converged;
    const QRectF bodyRect =
        calm ? QRectF() : QFontMetricsF(plain).boundingRect(QRectF(0, 0, width - c.px(20), 4000), Qt::TextWordWrap, d.sentence);
    const double height = titleRect.height() + bodyRect.height() + c.px(calm ? 12 : 18);
    const double bottom = room || description.isEmpty() ? c.size.height() - c.px(26) : description.top() - c.px(10);
    const double x = room ? left + (right - left - width) / 2.0 : c.px(12);
    const QRectF box(x, bottom - height, width, height);
    painter.setPen(QPen(accent, c.px(calm ? 1.5 : 2.0)));
    painter.setBrush(calm ? QColor(240, 250, 242, 235) : QColor(255, 255, 255, 235));
    painter.drawRoundedRect(box, c.px(6), c.px(6));
    painter.setPen(accent.darker(120));
    painter.setFont(bold);
    painter.drawText(QRectF(box.left() + c.px(10), box.top() + c.px(6), width - c.px(20), titleRect.height()),
                     Qt::TextWordWrap, d.title);
    if (!calm) {
        painter.setPen(QColor(30, 30, 30));
        painter.setFont(plain);
        painter.drawText(QRectF(box.left() + c.px(10), box.top() + c.px(10) + titleRect.height(), width - c.px(20),
                                bodyRect.height()),
                         Qt::TextWordWrap, d.sentence);
    }
    painter.restore();
}

void paintCaptions(QPainter& painter, const FrameContext& c) {
    painter.save();
    if (!c.frame.captions.title.isEmpty()) {
        const QFont font = c.font(20.0, true);
        const QFontMetricsF metrics(font);
        const double width = std::min(metrics.horizontalAdvance(c.frame.captions.title) + c.px(24), c.size.width() - c.px(16));
        const QRectF box(c.size.width() / 2.0 - width / 2.0, c.px(8), width, metrics.height() + c.px(10));
        drawCard(painter, box, c.scale);
        painter.setFont(font);
        painter.setPen(Qt::black);
        painter.drawText(box, Qt::AlignCenter, metrics.elidedText(c.frame.captions.title, Qt::ElideRight, width - c.px(16)));
    }
    const QRectF box = descriptionBox(c);
    if (!box.isEmpty()) {
        drawCard(painter, box, c.scale);
        painter.setFont(c.font(13.0));
        painter.setPen(QColor(20, 20, 20));
        painter.drawText(box.adjusted(c.px(10), c.px(8), -c.px(26), -c.px(8)), Qt::TextWordWrap, c.frame.captions.description);
        const QRectF close = descriptionCloseBox(c);
        painter.setPen(QPen(QColor(90, 90, 90), c.px(1.5)));
        painter.drawLine(close.topLeft() + QPointF(c.px(4), c.px(4)), close.bottomRight() - QPointF(c.px(4), c.px(4)));
        painter.drawLine(close.topRight() + QPointF(-c.px(4), c.px(4)), close.bottomLeft() + QPointF(c.px(4), -c.px(4)));
    }
    painter.restore();
}

}  // namespace marginlab::layers

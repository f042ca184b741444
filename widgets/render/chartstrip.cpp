// SPDX-License-Identifier: MIT
#include "chartstrip.h"

#include <QCoreApplication>
#include <QFont>
#include <QFontMetricsF>
#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <functional>

namespace marginlab {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("ChartStrip", text); }

struct Line {
    QString name;
    QColor color;
    std::function<double(const HistoryPoint&)> value;
    Qt::PenStyle style = Qt::SolidLine;
};

void paintChart(QPainter& painter, const QRectF& box, const QString& title, const std::vector<Line>& lines,
                const std::vector<HistoryPoint>& history, double lastStep, bool unitRange, double scale) {
    QFont font;
    font.setPixelSize(std::max(1, static_cast<int>(std::lround(11.0 * scale))));
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    const QRectF plot = box.adjusted(34 * scale, metrics.height() + 6 * scale, -8 * scale, -metrics.height() - 4 * scale);
    painter.setPen(QColor(40, 40, 40));
    painter.drawText(QPointF(box.left() + 4 * scale, box.top() + metrics.ascent() + 2 * scale), title);
    double low = 0.0, high = 1.0;
    if (!unitRange) {
        high = 0.0;
        for (const HistoryPoint& p : history)
            for (const Line& line : lines)
                if (const double v = line.value(p); std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
        if (!(high > low)) high = low + 1.0;
    }
    const double steps = std::max(lastStep, 1.0);
    auto at = [&](double step, double value) {
        return QPointF(plot.left() + plot.width() * step / steps,
                       plot.bottom() - plot.height() * (std::clamp(value, low, high) - low) / (high - low));
    };
    painter.setPen(QPen(QColor(0, 0, 0, 60), scale));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(plot);
    painter.setPen(QColor(90, 90, 90));
    painter.drawText(QPointF(box.left() + 2 * scale, plot.top() + metrics.ascent() / 2), QString::number(high, 'g', 3));
    painter.drawText(QPointF(box.left() + 2 * scale, plot.bottom()), QString::number(low, 'g', 3));
    painter.drawText(QPointF(plot.left(), plot.bottom() + metrics.ascent() + 2 * scale), QStringLiteral("0"));
    const QString last = tr("step %1").arg(static_cast<long>(steps));
    painter.drawText(QPointF(plot.right() - metrics.horizontalAdvance(last), plot.bottom() + metrics.ascent() + 2 * scale), last);
    painter.setRenderHint(QPainter::Antialiasing);
    double legendX = plot.left() + 4 * scale;
    for (const Line& line : lines) {
        QPainterPath path;
        bool open = false;
        for (const HistoryPoint& p : history) {
            const double v = line.value(p);
            if (!std::isfinite(v)) continue;
            const QPointF q = at(static_cast<double>(p.step), v);
            if (open) path.lineTo(q);
            else path.moveTo(q), open = true;
        }
        painter.setPen(QPen(line.color, 1.8 * scale, line.style));
        painter.drawPath(path);
        if (lines.size() > 1) {
            painter.drawLine(QPointF(legendX, plot.top() + 6 * scale), QPointF(legendX + 12 * scale, plot.top() + 6 * scale));
            painter.setPen(QColor(60, 60, 60));
            painter.drawText(QPointF(legendX + 15 * scale, plot.top() + 6 * scale + metrics.ascent() / 2.5), line.name);
            legendX += 22 * scale + metrics.horizontalAdvance(line.name);
        }
    }
    painter.setRenderHint(QPainter::Antialiasing, false);
}

}  // namespace

void paintChartStrip(QPainter& painter, const QRectF& area, const std::vector<HistoryPoint>& history, long lastStep,
                     double scale, const std::vector<std::string>& componentTitles) {
    painter.save();
    painter.fillRect(area, QColor(250, 250, 250));
    painter.setPen(QPen(QColor(0, 0, 0, 40), scale));
    painter.drawLine(area.topLeft(), area.topRight());
    const double last = static_cast<double>(std::max(lastStep, history.empty() ? 0L : history.back().step));
    const double width = area.width() / 3.0;
    auto box = [&](int k) { return QRectF(area.left() + width * k, area.top(), width, area.height()).adjusted(4, 2, -4, -2); };
    std::vector<Line> losses{{componentTitles.empty() ? tr("loss") : tr("total"), QColor(0, 114, 178),
                              [](const HistoryPoint& p) { return p.loss; }}};
    // The weighted terms of a sum of losses, dashed in the colours of the app's loss chart.
    const QColor termColours[] = {QColor(213, 94, 0), QColor(0, 158, 115), QColor(204, 121, 167), QColor(86, 180, 233)};
    for (std::size_t k = 0; k < componentTitles.size() && k < std::size(kComponentFields); ++k)
        losses.push_back({QString::fromStdString(componentTitles[k]), termColours[k],
                          [k](const HistoryPoint& p) { return p.*kComponentFields[k]; }, Qt::DashLine});
    paintChart(painter, box(0), tr("loss"), losses, history, last, false, scale);
    paintChart(painter, box(1), tr("retrieval"),
               {{tr("precision@1"), QColor(0, 114, 178), [](const HistoryPoint& p) { return p.precisionAt1; }},
                {tr("MAP@R"), QColor(213, 94, 0), [](const HistoryPoint& p) { return p.mapAtR; }}},
               history, last, true, scale);
    paintChart(painter, box(2), tr("tuples"),
               {{tr("active"), QColor(150, 150, 150), [](const HistoryPoint& p) { return p.activeFraction; }, Qt::DashLine},
                {tr("easy"), QColor(0x7A, 0xA6, 0xD0), [](const HistoryPoint& p) { return p.easy; }},
                {tr("semi-hard"), QColor(0xD5, 0x5E, 0x00), [](const HistoryPoint& p) { return p.semiHard; }},
                {tr("hard"), QColor(0x20, 0x20, 0x20), [](const HistoryPoint& p) { return p.hard; }}},
               history, last, true, scale);
    painter.restore();
}

}  // namespace marginlab

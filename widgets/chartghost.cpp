// SPDX-License-Identifier: MIT
#include "chartghost.h"

#include <cmath>

namespace marginlab {

Real chartMetricValue(const HistoryPoint& point, ChartMetric metric) {
    switch (metric) {
    case ChartMetric::Loss: return point.loss;
    case ChartMetric::Active: return point.activeFraction;
    case ChartMetric::Easy: return point.easy;
    case ChartMetric::SemiHard: return point.semiHard;
    case ChartMetric::Hard: return point.hard;
    case ChartMetric::PrecisionAt1: return point.precisionAt1;
    case ChartMetric::MapAtR: return point.mapAtR;
    }
    return HistoryPoint::kMissing;
}

namespace {

template <typename Value>
QList<QPointF> finiteSeries(const std::vector<HistoryPoint>& points, Value value) {
    QList<QPointF> out;
    out.reserve(static_cast<qsizetype>(points.size()));
    for (const HistoryPoint& p : points) {
        const Real v = value(p);
        if (std::isfinite(v)) out.append(QPointF(static_cast<double>(p.step), v));
    }
    return out;
}

}  // namespace

QList<QPointF> chartMetricSeries(const std::vector<HistoryPoint>& points, ChartMetric metric) {
    return finiteSeries(points, [metric](const HistoryPoint& p) { return chartMetricValue(p, metric); });
}

QList<QPointF> chartComponentSeries(const std::vector<HistoryPoint>& points, int component) {
    return finiteSeries(points,
                        [component](const HistoryPoint& p) { return p.*kComponentFields[component]; });
}

void ChartGhost::setEnabled(bool on) {
    m_enabled = on;
    if (!on) m_points.clear();
}

void ChartGhost::keep(const RunHistory& history, std::size_t maxPoints) {
    if (!m_enabled || history.empty()) return;
    m_points = history.decimated(maxPoints);
}

QColor ChartGhost::faded(QColor color) {
    color.setAlpha(70);
    return color;
}

}  // namespace marginlab

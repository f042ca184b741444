// SPDX-License-Identifier: MIT
// ChartGhost: the previous run's curves kept as a faint reference when a parameter changes, so
// the new run can be read against the old one. A small model any chart can use: it keeps a copy
// of a history when asked (and only when enabled), and gives each metric's curve as points.
#pragma once

#include "marginlab/history.h"

#include <QColor>
#include <QList>
#include <QPointF>

#include <vector>

namespace marginlab {

/// The curves a chart can draw from a history point.
enum class ChartMetric { Loss, Active, Easy, SemiHard, Hard, PrecisionAt1, MapAtR };

/// The value of `metric` at `point` (NaN when it does not exist there).
Real chartMetricValue(const HistoryPoint& point, ChartMetric metric);
/// (step, value) of every point where the metric exists, in order.
QList<QPointF> chartMetricSeries(const std::vector<HistoryPoint>& points, ChartMetric metric);
/// The same for the weighted term `component` (0 … kMaxLossComponents − 1) of a sum of losses.
QList<QPointF> chartComponentSeries(const std::vector<HistoryPoint>& points, int component);

class ChartGhost {
public:
    bool isEnabled() const { return m_enabled; }
    /// Turning it off forgets the ghost.
    void setEnabled(bool on);
    /// Keeps `history` as the ghost when enabled and the history is not empty (call it just
    /// before the charts are cleared for the new run); otherwise leaves the ghost as it is.
    void keep(const RunHistory& history, std::size_t maxPoints = 1000);
    void clear() { m_points.clear(); }
    bool empty() const { return m_points.empty(); }
    const std::vector<HistoryPoint>& points() const { return m_points; }
    QList<QPointF> series(ChartMetric metric) const { return chartMetricSeries(m_points, metric); }
    /// The faint version of a curve's colour for its ghost.
    static QColor faded(QColor color);

private:
    bool m_enabled = false;
    std::vector<HistoryPoint> m_points;
};

}  // namespace marginlab

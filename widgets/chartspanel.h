// SPDX-License-Identifier: MIT
// ChartsPanel: loss over steps, retrieval metrics (precision@1, MAP@R) and mining statistics
// (easy / semi-hard / hard fractions, active tuples), drawn from the run's RunHistory — the same
// model a recorded chart strip draws and a saved scene stores. The series get a decimated copy
// (at most kMaxChartPoints) through QLineSeries::replace, at most ~10 times a second, because
// appending to a long series and repainting grows without bound. For multiple_losses the loss
// chart also shows each weighted component w_i·L_i, labelled by the component's display name.
#pragma once

#include "chartghost.h"

#include "marginlab/history.h"
#include "marginlab/trainer.h"

#include <QList>
#include <QPointF>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <vector>

class QChart;
class QLineSeries;
class QValueAxis;

namespace marginlab {

class ChartsPanel : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxChartPoints = 1000;

    explicit ChartsPanel(QWidget* parent = nullptr);

    const RunHistory& history() const { return m_history; }
    int historyLength() const { return static_cast<int>(m_history.size()); }
    /// The retrieval chart's title: it states the sample when the metrics were estimated on
    /// sampled query points (large scenes, metrics.h's sampledMetricQueries()).
    QString retrievalTitle() const;
    /// Shows a saved history (a reopened trained scene); false when it does not hold together.
    bool setHistory(std::vector<HistoryPoint> points);
    /// The run's loss: for multiple_losses the loss chart adds a series per weighted component
    /// ("0.5 × ArcFace"); for any other loss only the total.
    void setLoss(const LossConfig& loss);
    /// The names of the component series shown (empty without components), for the tests.
    QStringList componentSeriesNames() const;
    /// The points of the loss chart's series `index` (0: the total, 1…: the components), for the tests.
    QList<QPointF> lossSeriesPoints(int index) const;

public slots:
    void clear();
    void append(std::shared_ptr<const marginlab::Snapshot> snapshot);
    /// Pushes the histories to the charts now (normally done by a timer).
    void refresh();

private:
    struct Chart {
        QChart* chart = nullptr;
        QValueAxis* x = nullptr;
        QValueAxis* y = nullptr;
        std::vector<QLineSeries*> series;        ///< the curves, then their ghosts
        std::vector<ChartMetric> ghostMetrics;  ///< what each ghost series shows
    };
    Chart makeChart(const QString& title, const QStringList& names, const QString& yTitle);
    void feed(Chart& chart, const std::vector<QList<QPointF>>& series, bool fixedUnitRange);

    /// Adds a faint series per metric of `chart` for the ghost of the previous run.
    void addGhostSeries(Chart& chart, const std::vector<ChartMetric>& metrics);

    RunHistory m_history;
    ChartGhost m_ghost;  // the previous run's curves, kept on restart when switched on
    bool m_dirty = false;
    int m_sampledQueries = 0;  ///< of the last metrics appended (0: exact)
    int m_components = 0;      ///< component series shown in the loss chart
    QTimer m_timer;
    Chart m_lossChart, m_metricsChart, m_miningChart, m_sphereChart;
};

}  // namespace marginlab

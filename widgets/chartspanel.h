// SPDX-License-Identifier: MIT
// ChartsPanel: loss over steps, retrieval metrics (precision@1, MAP@R) and mining statistics
// (easy / semi-hard / hard fractions, active tuples). The full history is kept; the series get a
// decimated copy (at most kMaxChartPoints) through QLineSeries::replace, at most ~10 times a
// second, because appending to a long series and repainting grows without bound.
#pragma once

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

    /// Every point of a history ≤ maxPoints long; otherwise evenly spaced samples, first and last kept.
    static QList<QPointF> decimate(const QList<QPointF>& history, int maxPoints);
    int historyLength() const { return static_cast<int>(m_loss.size()); }

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
        std::vector<QLineSeries*> series;
    };
    Chart makeChart(const QString& title, const QStringList& names, const QString& yTitle);
    void feed(Chart& chart, const std::vector<const QList<QPointF>*>& histories, bool fixedUnitRange);

    QList<QPointF> m_loss, m_precision, m_map, m_easy, m_semiHard, m_hard, m_active;
    long m_lastMetricsStep = -2;
    long m_lastStep = -1;
    bool m_dirty = false;
    QTimer m_timer;
    Chart m_lossChart, m_metricsChart, m_miningChart;
};

}  // namespace marginlab

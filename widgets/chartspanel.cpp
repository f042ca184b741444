// SPDX-License-Identifier: MIT
#include "chartspanel.h"

#include "classpalette.h"

#include "marginlab/metrics.h"

#include <QCheckBox>
#include <QChart>
#include <QLegendMarker>
#include <QChartView>
#include <QLegend>
#include <QLineSeries>
#include <QLocale>
#include <QPen>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace marginlab {

ChartsPanel::ChartsPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    // The total, then one series per component of a sum of losses (hidden until setLoss).
    QStringList lossNames{tr("loss")};
    for (int k = 0; k < kMaxLossComponents; ++k) lossNames << tr("component %1").arg(k + 1);
    m_lossChart = makeChart(tr("Loss"), lossNames, QString());
    {
        const QColor colours[] = {QColor(213, 94, 0), QColor(0, 158, 115), QColor(204, 121, 167),
                                  QColor(86, 180, 233)};
        for (int k = 0; k < kMaxLossComponents; ++k) {
            QLineSeries* series = m_lossChart.series[static_cast<std::size_t>(k + 1)];
            series->setPen(QPen(colours[k], 1.5, Qt::DashLine));
            series->setVisible(false);
        }
        m_lossChart.chart->legend()->setVisible(false);
    }
    m_metricsChart = makeChart(tr("Retrieval"), {tr("precision@1"), tr("MAP@R")}, QString());
    // "active" first, so it is drawn underneath, and dashed: it must not hide the hard and
    // semi-hard lines that tell miners apart.
    m_miningChart = makeChart(tr("Tuples"), {tr("active"), tr("easy"), tr("semi-hard"), tr("hard")}, tr("fraction"));
    {
        QPen active(QColor(150, 150, 150), 1.5, Qt::DashLine);
        m_miningChart.series[0]->setPen(active);
        m_miningChart.series[3]->setPen(QPen(QColor(0x20, 0x20, 0x20), 2.5));
        m_miningChart.series[2]->setPen(QPen(QColor(0xD5, 0x5E, 0x00), 2.0));
        m_miningChart.series[1]->setPen(QPen(QColor(0x7A, 0xA6, 0xD0), 2.0));
    }
    m_sphereChart = makeChart(tr("On the sphere"), {tr("uniformity"), tr("alignment")}, QString());

    m_sphereChart.series[0]->setPen(QPen(QColor(0, 114, 178), 2.0));
    m_sphereChart.series[1]->setPen(QPen(QColor(213, 94, 0), 2.0));
    const QString tips[] = {tr("The loss of every step."),
                            tr("Precision@1 and MAP@R of the points (leave-one-out retrieval), every few steps."),
                            tr("Fractions of the loss's tuples that are easy / semi-hard / hard, and that are active (non-zero loss)."),
                            tr("Wang & Isola's measures of the directions x/|x| on the unit sphere, every few steps: uniformity\n"
                               "(log of the mean of exp(−2 d²) over all pairs; lower = spread more evenly) and alignment (mean\n"
                               "squared distance of same-class directions; lower = classes tighter).")};
    m_lossChart.series[0]->setPen(QPen(QColor(0, 114, 178), 2.0));
    m_metricsChart.series[0]->setPen(QPen(QColor(0, 114, 178), 2.0));
    m_metricsChart.series[1]->setPen(QPen(QColor(213, 94, 0), 2.0));
    // A faint copy of the previous run behind each curve, when the ghost is on.
    addGhostSeries(m_lossChart, {ChartMetric::Loss});
    addGhostSeries(m_metricsChart, {ChartMetric::PrecisionAt1, ChartMetric::MapAtR});
    addGhostSeries(m_miningChart, {ChartMetric::Active, ChartMetric::Easy, ChartMetric::SemiHard, ChartMetric::Hard});
    auto* ghost = new QCheckBox(tr("Ghost of the previous run"));
    ghost->setToolTip(tr("After a restart (new data, seed or Reset), keep the last run's curves as a faint reference."));
    connect(ghost, &QCheckBox::toggled, this, [this](bool on) {
        m_ghost.setEnabled(on);
        refresh();
    });
    layout->addWidget(ghost);
    int i = 0;
    for (Chart* chart : {&m_lossChart, &m_metricsChart, &m_miningChart, &m_sphereChart}) {
        auto* view = new QChartView(chart->chart);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumHeight(130);
        view->setToolTip(tips[i++]);
        layout->addWidget(view);
    }
    m_timer.setInterval(100);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        if (m_dirty) refresh();
    });
    m_timer.start();
}

ChartsPanel::Chart ChartsPanel::makeChart(const QString& title, const QStringList& names, const QString& yTitle) {
    Chart c;
    c.chart = new QChart;
    c.chart->setTitle(title);
    c.chart->setMargins(QMargins(2, 2, 2, 2));
    c.chart->legend()->setVisible(names.size() > 1);
    c.chart->legend()->setAlignment(Qt::AlignBottom);
    c.x = new QValueAxis;
    c.x->setLabelFormat(QStringLiteral("%d"));
    c.x->setTitleText(tr("step"));
    c.y = new QValueAxis;
    if (!yTitle.isEmpty()) c.y->setTitleText(yTitle);
    c.chart->addAxis(c.x, Qt::AlignBottom);
    c.chart->addAxis(c.y, Qt::AlignLeft);
    for (const QString& name : names) {
        auto* series = new QLineSeries;
        series->setName(name);
        c.chart->addSeries(series);
        series->attachAxis(c.x);
        series->attachAxis(c.y);
        c.series.push_back(series);
    }
    return c;
}

void ChartsPanel::addGhostSeries(Chart& chart, const std::vector<ChartMetric>& metrics) {
    const std::size_t mainSeries = chart.series.size();
    for (std::size_t k = 0; k < metrics.size() && k < mainSeries; ++k) {
        auto* series = new QLineSeries;
        series->setName(chart.series[k]->name() + tr(" (previous run)"));
        series->setPen(QPen(ChartGhost::faded(chart.series[k]->pen().color()), 1.0));
        chart.chart->addSeries(series);
        series->attachAxis(chart.x);
        series->attachAxis(chart.y);
        for (QLegendMarker* marker : chart.chart->legend()->markers(series)) marker->setVisible(false);
        chart.series.push_back(series);
        chart.ghostMetrics.push_back(metrics[k]);
    }
}

void ChartsPanel::clear() {
    m_ghost.keep(m_history);  // does nothing unless the ghost is on
    m_history.clear();
    refresh();
}

bool ChartsPanel::setHistory(std::vector<HistoryPoint> points) {
    if (!m_history.assign(std::move(points), nullptr)) return false;
    refresh();
    return true;
}

void ChartsPanel::append(std::shared_ptr<const Snapshot> snapshot) {
    if (!snapshot) return;
    const std::size_t before = m_history.size();
    m_history.append(*snapshot);  // a repeated snapshot (e.g. after pause) adds nothing
    if (m_history.size() != before) m_dirty = true;
    const auto sampled = static_cast<int>(sampledMetricQueries(snapshot->positions.rows()));
    if (snapshot->metrics.step == snapshot->step && sampled != m_sampledQueries) {
        // Estimates must say so: the titles name the sample (metrics.h, metricQueries()).
        m_sampledQueries = sampled;
        const QString sample = QLocale().toString(m_sampledQueries);
        m_metricsChart.chart->setTitle(m_sampledQueries > 0 ? tr("Retrieval (estimated on %1 sampled queries)").arg(sample)
                                                            : tr("Retrieval"));
        m_sphereChart.chart->setTitle(m_sampledQueries > 0 ? tr("On the sphere (pairs of %1 sampled points)").arg(sample)
                                                           : tr("On the sphere"));
    }
}

QString ChartsPanel::retrievalTitle() const { return m_metricsChart.chart->title(); }

void ChartsPanel::setLoss(const LossConfig& loss) {
    const std::vector<LossComponent> components = componentsOf(loss);
    m_components = std::min<int>(static_cast<int>(components.size()), kMaxLossComponents);
    for (int k = 0; k < kMaxLossComponents; ++k) {
        QLineSeries* series = m_lossChart.series[static_cast<std::size_t>(k + 1)];
        const bool shown = k < m_components;
        if (shown) {
            const LossComponent& c = components[static_cast<std::size_t>(k)];
            const LossInfo* info = findLoss(c.loss.name);
            const QString name = QString::fromStdString(info ? info->displayName : c.loss.name);
            series->setName(tr("%1 × %2").arg(QLocale().toString(c.weight, 'g', 4), name));
        }
        series->setVisible(shown);
    }
    m_lossChart.series[0]->setName(m_components > 0 ? tr("total") : tr("loss"));
    m_lossChart.chart->legend()->setVisible(m_components > 0);
    // The ghost's marker stays hidden whatever the legend does.
    for (std::size_t i = 1 + kMaxLossComponents; i < m_lossChart.series.size(); ++i)
        for (QLegendMarker* marker : m_lossChart.chart->legend()->markers(m_lossChart.series[i]))
            marker->setVisible(false);
    refresh();
}

QStringList ChartsPanel::componentSeriesNames() const {
    QStringList names;
    for (int k = 0; k < m_components; ++k)
        names << m_lossChart.series[static_cast<std::size_t>(k + 1)]->name();
    return names;
}

QList<QPointF> ChartsPanel::lossSeriesPoints(int index) const {
    if (index < 0 || index > kMaxLossComponents) return {};
    return m_lossChart.series[static_cast<std::size_t>(index)]->points();
}

void ChartsPanel::feed(Chart& chart, const std::vector<QList<QPointF>>& series, bool fixedUnitRange) {
    double maxX = 1.0, minY = 0.0, maxY = 1.0;
    bool any = false;
    for (std::size_t i = 0; i < series.size(); ++i) {
        const QList<QPointF>& h = series[i];
        chart.series[i]->replace(h);
        for (const QPointF& p : h) {
            if (!any) minY = maxY = p.y(), any = true;
            maxX = std::max(maxX, p.x());
            minY = std::min(minY, p.y());
            maxY = std::max(maxY, p.y());
        }
    }
    // Whole steps on the axis: at least 0…4, ticks a 1-2-5 multiple of one step (never "0 0 0 1").
    maxX = std::max(maxX, 4.0);
    double interval = 1.0;
    for (double base = 1.0; maxX / interval > 5.0; base *= 10.0)
        for (double m : {1.0, 2.0, 5.0})
            if (maxX / interval > 5.0) interval = m * base;
    chart.x->setTickType(QValueAxis::TicksDynamic);
    chart.x->setTickAnchor(0.0);
    chart.x->setTickInterval(interval);
    chart.x->setRange(0.0, maxX);
    if (fixedUnitRange) {
        chart.y->setRange(0.0, 1.0);
    } else {
        const double pad = std::max((maxY - minY) * 0.05, 1e-9);
        // Losses are mostly ≥ 0: keep 0 as the floor then, instead of padding below it.
        chart.y->setRange(minY >= 0.0 ? 0.0 : minY - pad, maxY + pad);
    }
}

void ChartsPanel::refresh() {
    m_dirty = false;
    // One pass over the decimated history; a missing value (NaN) is simply not a point.
    std::vector<QList<QPointF>> loss(1 + kMaxLossComponents), metrics(2), mining(4), sphere(2);
    for (const HistoryPoint& p : m_history.decimated(kMaxChartPoints)) {
        const auto step = static_cast<double>(p.step);
        auto add = [step](QList<QPointF>& line, double value) {
            if (std::isfinite(value)) line.append({step, value});
        };
        add(loss[0], p.loss);
        // Only the components of the loss in use: after a switch the history may hold others'.
        for (int k = 0; k < m_components; ++k)
            add(loss[static_cast<std::size_t>(k + 1)], p.*kComponentFields[k]);
        add(metrics[0], p.precisionAt1);
        add(metrics[1], p.mapAtR);
        add(mining[0], p.activeFraction);
        add(mining[1], p.easy);
        add(mining[2], p.semiHard);
        add(mining[3], p.hard);
        add(sphere[0], p.uniformity);
        add(sphere[1], p.alignment);
    }
    // The ghosts follow their charts' own curves, so the axes hold both runs.
    for (auto* chart : {&m_lossChart, &m_metricsChart, &m_miningChart}) {
        auto& lines = chart == &m_lossChart ? loss : chart == &m_metricsChart ? metrics : mining;
        for (ChartMetric metric : chart->ghostMetrics) lines.push_back(m_ghost.series(metric));
    }
    feed(m_lossChart, loss, false);
    feed(m_metricsChart, metrics, true);
    feed(m_miningChart, mining, true);
    feed(m_sphereChart, sphere, false);
}

}  // namespace marginlab

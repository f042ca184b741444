// SPDX-License-Identifier: MIT
#include "comparisoncharts.h"

#include "comparisonpanelview.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab {

namespace {

constexpr std::size_t kMaxPoints = 600;  // per curve: a chart is a few hundred pixels wide
constexpr double kLegendHeight = 20.0;

struct Curve {
    ChartMetric metric;
    Qt::PenStyle style;
};

struct ChartSpec {
    const char* title;
    std::vector<Curve> curves;
    bool unitRange;  // fractions and retrieval metrics live in [0, 1]
};

const std::vector<ChartSpec>& chartSpecs() {
    static const std::vector<ChartSpec> specs = {
        {"Loss", {{ChartMetric::Loss, Qt::SolidLine}}, false},
        {"Precision@1 ─  MAP@R - -", {{ChartMetric::PrecisionAt1, Qt::SolidLine}, {ChartMetric::MapAtR, Qt::DashLine}}, true},
        {"Hard ─  semi-hard - -", {{ChartMetric::Hard, Qt::SolidLine}, {ChartMetric::SemiHard, Qt::DashLine}}, true},
        {"Active ─  easy ···", {{ChartMetric::Active, Qt::SolidLine}, {ChartMetric::Easy, Qt::DotLine}}, true},
    };
    return specs;
}

QString numberText(double value) { return QString::number(value, 'g', 3); }

// The weighted terms of a sum of losses: thinner than the total, one dash pattern per term.
constexpr Qt::PenStyle kTermStyles[] = {Qt::DashLine, Qt::DotLine, Qt::DashDotLine, Qt::DashDotDotLine};
static_assert(std::size(kTermStyles) == static_cast<std::size_t>(kMaxLossComponents));

int termCount(const ComparisonCharts::Input& input, std::size_t panel) {
    if (panel >= input.terms.size()) return 0;
    return std::min<int>(static_cast<int>(input.terms[panel].size()), kMaxLossComponents);
}

// Inside the loss chart's plot, top left: per panel with terms, its colour and each term's line
// pattern with its title ("0.5 × ArcFace"), as many rows as fit.
void paintTermKey(QPainter& painter, const QRectF& plot, const ComparisonCharts::Input& input,
                  const QFontMetricsF& metrics) {
    const double rowHeight = metrics.height() + 1;
    double y = plot.top() + 3;
    for (std::size_t p = 0; p < input.terms.size(); ++p) {
        const int terms = termCount(input, p);
        if (terms == 0) continue;
        if (y + rowHeight > plot.bottom()) break;
        double x = plot.left() + 4;
        const QColor color = comparisonPanelColor(static_cast<int>(p));
        for (int k = 0; k < terms && x < plot.right() - 30; ++k) {
            const QString text = metrics.elidedText(input.terms[p][static_cast<std::size_t>(k)],
                                                    Qt::ElideRight, plot.right() - x - 30);
            const QRectF cell(x, y, 24 + metrics.horizontalAdvance(text) + 4, rowHeight);
            painter.fillRect(cell, QColor(255, 255, 255, 210));
            painter.setPen(QPen(color, 1.2, kTermStyles[k]));
            painter.drawLine(QPointF(x + 2, y + rowHeight / 2), QPointF(x + 20, y + rowHeight / 2));
            painter.setPen(QColor(0x30, 0x30, 0x30));
            painter.drawText(QPointF(x + 24, y + metrics.ascent()), text);
            x = cell.right() + 8;
        }
        y += rowHeight;
    }
}

}  // namespace

ComparisonCharts::ComparisonCharts(QWidget* parent) : QWidget(parent) {
    setMinimumSize(480, 160);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_bar = new QWidget(this);
    auto* bar = new QHBoxLayout(m_bar);
    bar->setContentsMargins(4, 0, 4, 0);
    m_logBox = new QCheckBox(tr("Log-scale loss"), m_bar);
    m_logBox->setToolTip(tr("Losses of different sizes side by side: a logarithmic loss axis"));
    connect(m_logBox, &QCheckBox::toggled, this, &ComparisonCharts::setLogScale);
    m_ghostBox = new QCheckBox(tr("Ghost of the previous run"), m_bar);
    m_ghostBox->setToolTip(tr("When the comparison restarts (a parameter changed), keep the old curves faintly"));
    connect(m_ghostBox, &QCheckBox::toggled, this, &ComparisonCharts::setGhostEnabled);
    bar->addWidget(m_logBox);
    bar->addWidget(m_ghostBox);
    bar->addStretch(1);
    layout->addWidget(m_bar);
    layout->addStretch(1);
}

void ComparisonCharts::setPanels(const std::vector<QString>& titles) {
    // Other panels: neither their curves nor their ghosts belong to the new ones.
    m_titles = titles;
    m_histories.assign(titles.size(), RunHistory());
    m_ghosts.assign(titles.size(), ChartGhost());
    for (ChartGhost& ghost : m_ghosts) ghost.setEnabled(m_ghostEnabled);
    update();
}

void ComparisonCharts::setTitles(const std::vector<QString>& titles) {
    if (titles.size() != m_histories.size()) return setPanels(titles);
    m_titles = titles;
    update();
}

void ComparisonCharts::setTerms(const std::vector<std::vector<QString>>& terms) {
    m_terms = terms;
    update();
}

std::vector<QString> ComparisonCharts::termsOf(const RunInfo& run) {
    std::vector<QString> terms;
    for (const std::string& title : run.componentTitles) terms.push_back(QString::fromStdString(title));
    return terms;
}

void ComparisonCharts::clear() {
    for (std::size_t i = 0; i < m_histories.size(); ++i) {
        m_ghosts[i].keep(m_histories[i], kMaxPoints);
        m_histories[i].clear();
    }
    update();
}

void ComparisonCharts::append(std::shared_ptr<const ComparisonState> state) {
    if (!state) return;
    const std::size_t n = std::min(m_histories.size(), state->group.panels.size());
    for (std::size_t i = 0; i < n; ++i) m_histories[i].append(*state->group.panels[i]);
    update();
}

void ComparisonCharts::setLogScale(bool on) {
    m_logScale = on;
    m_logBox->setChecked(on);
    update();
}

void ComparisonCharts::setGhostEnabled(bool on) {
    m_ghostEnabled = on;
    m_ghostBox->setChecked(on);
    for (ChartGhost& ghost : m_ghosts) ghost.setEnabled(on);
    update();
}

QRectF ComparisonCharts::canvas() const {
    return QRectF(0, m_bar->height(), width(), std::max(1, height() - m_bar->height()));
}

void ComparisonCharts::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    painter.setRenderHint(QPainter::Antialiasing);
    // Decimated copies: a chart is a few hundred pixels wide whatever the run's length.
    std::vector<std::vector<HistoryPoint>> runs, ghosts;
    Input input;
    for (std::size_t i = 0; i < m_histories.size(); ++i) {
        runs.push_back(m_histories[i].decimated(kMaxPoints));
        ghosts.push_back(m_ghosts[i].points());
    }
    for (std::size_t i = 0; i < runs.size(); ++i) {
        input.runs.push_back(&runs[i]);
        input.ghosts.push_back(&ghosts[i]);
    }
    input.titles = m_titles;
    input.terms = m_terms;
    input.logScale = m_logScale;
    paintCharts(painter, canvas(), input);
}

std::vector<QRectF> ComparisonCharts::chartRects(const QRectF& area) {
    const QRectF charts = area.adjusted(0, kLegendHeight, 0, 0);
    // Four in a row when there is room, else a 2×2 grid.
    const bool row = charts.width() >= 3.0 * charts.height();
    const int columns = row ? 4 : 2, rows = row ? 1 : 2;
    const double w = charts.width() / columns, h = charts.height() / rows;
    std::vector<QRectF> out;
    for (int i = 0; i < 4; ++i) out.emplace_back(charts.left() + (i % columns) * w, charts.top() + (i / columns) * h, w, h);
    return out;
}

void ComparisonCharts::paintCharts(QPainter& painter, const QRectF& area, const Input& input) {
    painter.save();
    QFont font = painter.font();
    font.setPointSizeF(std::max(6.0, font.pointSizeF() * 0.85));
    painter.setFont(font);
    const QFontMetricsF metrics(font);

    // Legend: the panel colours and titles.
    double x = area.left() + 6;
    for (std::size_t p = 0; p < input.titles.size(); ++p) {
        const QColor color = comparisonPanelColor(static_cast<int>(p));
        painter.fillRect(QRectF(x, area.top() + 6, 14, 8), color);
        x += 18;
        const QString text = metrics.elidedText(input.titles[p], Qt::ElideRight, area.width() / std::max<std::size_t>(1, input.titles.size()) - 30);
        painter.setPen(Qt::black);
        painter.drawText(QPointF(x, area.top() + 14), text);
        x += metrics.horizontalAdvance(text) + 14;
    }

    long lastStep = 1;
    auto lastOf = [&](const std::vector<const std::vector<HistoryPoint>*>& runs) {
        for (const auto* run : runs)
            if (run && !run->empty()) lastStep = std::max(lastStep, run->back().step);
    };
    lastOf(input.runs);
    lastOf(input.ghosts);

    const std::vector<QRectF> rects = chartRects(area);
    const std::vector<ChartSpec>& specs = chartSpecs();
    for (std::size_t c = 0; c < specs.size(); ++c) {
        const ChartSpec& spec = specs[c];
        const QRectF box = rects[c].adjusted(4, 2, -4, -2);
        const QRectF plot = box.adjusted(metrics.horizontalAdvance(QStringLiteral("0.00000")) + 6, metrics.height() + 4, -4,
                                         -metrics.height() - 2);
        if (plot.width() < 10 || plot.height() < 10) continue;
        const bool log = !spec.unitRange && input.logScale;

        // The y range: [0, 1] for fractions, the losses' range (positive part on a log axis) otherwise.
        double low = 0.0, high = 1.0;
        if (!spec.unitRange) {
            low = std::numeric_limits<double>::infinity();
            high = -low;
            auto scan = [&](const std::vector<const std::vector<HistoryPoint>*>& runs) {
                auto take = [&](double v) {
                    if (!std::isfinite(v) || (log && v <= 0.0)) return;
                    low = std::min(low, v);
                    high = std::max(high, v);
                };
                for (std::size_t r = 0; r < runs.size(); ++r) {
                    if (!runs[r]) continue;
                    const int terms = termCount(input, r);
                    for (const HistoryPoint& p : *runs[r]) {
                        take(p.loss);
                        for (int k = 0; k < terms; ++k) take(p.*kComponentFields[k]);
                    }
                }
            };
            scan(input.runs);
            scan(input.ghosts);
            if (!std::isfinite(low)) low = log ? 0.1 : 0.0, high = 1.0;
            if (!log) low = std::min(low, 0.0);
            if (high <= low) high = log ? low * 10.0 : low + 1.0;
        }
        const double ylow = log ? std::log10(low) : low, yhigh = log ? std::log10(high) : high;
        auto toPixel = [&](double step, double value) {
            const double v = log ? std::log10(std::max(value, low)) : value;
            return QPointF(plot.left() + plot.width() * step / static_cast<double>(lastStep),
                           plot.bottom() - plot.height() * (v - ylow) / (yhigh - ylow));
        };

        painter.setPen(Qt::black);
        painter.drawText(QRectF(box.left(), box.top(), box.width(), metrics.height()), Qt::AlignCenter,
                         QString::fromUtf8(spec.title) + (log ? QStringLiteral(" (log)") : QString()));
        painter.setPen(QColor(0xC8, 0xC8, 0xC8));
        painter.drawRect(plot);
        painter.setPen(QColor(0x50, 0x50, 0x50));
        painter.drawText(QRectF(box.left(), plot.top() - metrics.height() / 2, plot.left() - box.left() - 3, metrics.height()),
                         Qt::AlignRight | Qt::AlignVCenter, numberText(high));
        painter.drawText(QRectF(box.left(), plot.bottom() - metrics.height() / 2, plot.left() - box.left() - 3, metrics.height()),
                         Qt::AlignRight | Qt::AlignVCenter, numberText(spec.unitRange ? 0.0 : low));
        painter.drawText(QRectF(plot.left(), plot.bottom() + 1, plot.width(), metrics.height()), Qt::AlignLeft, QStringLiteral("0"));
        painter.drawText(QRectF(plot.left(), plot.bottom() + 1, plot.width(), metrics.height()), Qt::AlignRight,
                         QStringLiteral("step %1").arg(lastStep));

        painter.save();
        painter.setClipRect(plot.adjusted(-1, -1, 1, 1));
        auto stroke = [&](const QList<QPointF>& points, const QPen& pen) {
            if (points.isEmpty()) return;
            QPainterPath path(toPixel(points.front().x(), points.front().y()));
            for (qsizetype i = 1; i < points.size(); ++i) path.lineTo(toPixel(points[i].x(), points[i].y()));
            painter.setPen(pen);
            painter.setBrush(Qt::NoBrush);
            if (points.size() == 1)
                painter.drawEllipse(path.currentPosition(), 1.5, 1.5);
            else
                painter.drawPath(path);
        };
        auto drawRuns = [&](const std::vector<const std::vector<HistoryPoint>*>& runs, bool ghost) {
            for (std::size_t p = 0; p < runs.size(); ++p) {
                if (!runs[p] || runs[p]->empty()) continue;
                QColor color = comparisonPanelColor(static_cast<int>(p));
                if (ghost) color = ChartGhost::faded(color);
                for (const Curve& curve : spec.curves)
                    stroke(chartMetricSeries(*runs[p], curve.metric),
                           QPen(color, ghost ? 1.0 : 1.6, curve.style));
                if (c != 0) continue;  // the terms of a sum of losses belong to the loss chart
                for (int k = 0; k < termCount(input, p); ++k)
                    stroke(chartComponentSeries(*runs[p], k), QPen(color, ghost ? 0.8 : 1.1, kTermStyles[k]));
            }
        };
        drawRuns(input.ghosts, true);  // behind the live curves
        drawRuns(input.runs, false);
        if (c == 0) paintTermKey(painter, plot, input, metrics);
        painter.restore();
    }
    painter.restore();
}

}  // namespace marginlab

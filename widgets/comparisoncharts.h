// SPDX-License-Identifier: MIT
// ComparisonCharts: every panel's loss, precision@1 / MAP@R, hard / semi-hard and active / easy
// fractions overlaid in the panel colours on one step axis, from one RunHistory per panel. A log
// scale for the loss (panels' losses can be 20× apart), and a ghost: the previous run's curves
// kept faint when the comparison restarts with a changed parameter. Painted with QPainter
// (paintCharts), so a recording can draw the same strip.
#pragma once

#include <QString>
#include <QWidget>
#include <memory>
#include <vector>

#include "chartghost.h"
#include "comparisonworker.h"
#include "marginlab/history.h"
#include "marginlab/runinfo.h"

class QCheckBox;

namespace marginlab {

class ComparisonCharts : public QWidget {
    Q_OBJECT
public:
    explicit ComparisonCharts(QWidget* parent = nullptr);

    /// New panels (their legend titles): keeps the ghost of the old ones when enabled, then clears.
    void setPanels(const std::vector<QString>& titles);
    /// New legend titles for the same panels (histories and ghosts stay).
    void setTitles(const std::vector<QString>& titles);
    /// Per panel, the titles of its loss's weighted terms (RunInfo::componentTitles of a sum of
    /// losses; empty for a single loss): the loss chart draws each term's curve and a key for it.
    void setTerms(const std::vector<std::vector<QString>>& terms);
    /// The term titles of a run for setTerms / Input::terms (empty unless its loss is a sum).
    static std::vector<QString> termsOf(const RunInfo& run);
    int panelCount() const { return static_cast<int>(m_histories.size()); }
    const RunHistory& history(int panel) const { return m_histories.at(static_cast<std::size_t>(panel)); }
    const ChartGhost& ghost(int panel) const { return m_ghosts.at(static_cast<std::size_t>(panel)); }
    const std::vector<std::vector<QString>>& terms() const { return m_terms; }
    bool logScale() const { return m_logScale; }
    bool ghostEnabled() const { return m_ghostEnabled; }

    /// What paintCharts draws.
    struct Input {
        std::vector<const std::vector<HistoryPoint>*> runs;    ///< per panel
        std::vector<const std::vector<HistoryPoint>*> ghosts;  ///< per panel (empty vectors: none)
        std::vector<QString> titles;
        std::vector<std::vector<QString>> terms;  ///< per panel (may be shorter: no terms)
        bool logScale = false;
    };
    /// Paints the legend and the four charts into `area` of any painter.
    static void paintCharts(QPainter& painter, const QRectF& area, const Input& input);
    /// The chart areas paintCharts uses in `area` (legend excluded): loss, retrieval, hard / semi-hard, active / easy.
    static std::vector<QRectF> chartRects(const QRectF& area);

public slots:
    /// Starts over (a restarted run): the current curves become the ghost when it is enabled.
    void clear();
    void append(std::shared_ptr<const marginlab::ComparisonState> state);
    void setLogScale(bool on);
    void setGhostEnabled(bool on);

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QRectF canvas() const;

    std::vector<RunHistory> m_histories;
    std::vector<ChartGhost> m_ghosts;
    std::vector<QString> m_titles;
    std::vector<std::vector<QString>> m_terms;
    QCheckBox* m_logBox = nullptr;
    QCheckBox* m_ghostBox = nullptr;
    QWidget* m_bar = nullptr;
    bool m_logScale = false;
    bool m_ghostEnabled = false;
};

}  // namespace marginlab

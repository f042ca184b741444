// SPDX-License-Identifier: MIT
// The chart strip of a recorded frame: loss, retrieval (precision@1, MAP@R) and tuple fractions
// against the step, drawn with QPainter from the run's history — the same RunHistory the app's
// charts show — so a recording carries its curves with it.
#pragma once

#include "marginlab/history.h"

#include <QPainter>
#include <QRectF>

#include <string>
#include <vector>

namespace marginlab {

/**
 * Paints three small charts side by side into `area`: the loss, precision@1 and MAP@R, and the
 * active / easy / semi-hard / hard fractions, over steps 0 … max(lastStep, the history's last).
 * `scale` multiplies text and line sizes (ViewOptions::textScale). With `componentTitles`
 * (RunInfo::componentTitles of a multiple_losses run) the loss chart also draws each weighted term
 * (HistoryPoint::component1…) under its title, beside the total.
 */
void paintChartStrip(QPainter& painter, const QRectF& area, const std::vector<HistoryPoint>& history, long lastStep,
                     double scale = 1.0, const std::vector<std::string>& componentTitles = {});

}  // namespace marginlab

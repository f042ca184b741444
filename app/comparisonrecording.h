// SPDX-License-Identifier: MIT
// Recording a comparison: every panel trained in lockstep (TrainerGroup), painted side by side
// with its title bar as the app shows it, and one chart strip overlaying every panel's curves —
// the same frame loop, sinks and sizes as a single recording.
#pragma once

#include "recorder.h"

#include "marginlab/scene/comparisonfile.h"

namespace marginlab {

/// Records `comparison` from its start into `sink` (not yet opened). In-between frames do not
/// apply (every panel moves by whole steps). True only when the file is complete.
bool recordComparison(const ComparisonFile& comparison, const RecordSettings& settings, FrameSink& sink,
                      const std::function<bool(const RecordProgress&)>& progress, QString* error);

/// One frame of the comparison after settings.steps steps, as PNG, SVG or PDF.
bool recordComparisonStill(const ComparisonFile& comparison, const RecordSettings& settings, const QString& path,
                           QString* error);

}  // namespace marginlab

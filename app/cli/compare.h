// SPDX-License-Identifier: MIT
// `marginlab-cli train COMPARISON.json --steps K`: the panels of a comparison trained in lockstep
// (TrainerGroup), printed as one CSV table with a panel column, so a comparison can be checked
// without a display.
#pragma once

#include "marginlab/scene/comparisonfile.h"

#include <ostream>

namespace marginlab::cli {

/**
 * Trains every panel of `comparison` for `steps` steps (metrics every `metricsEvery`) and writes
 *
 *   step,panel,loss,active,precision_at_1,map_at_r,easy,semi_hard,hard,collapse,title
 *
 * one row per panel per step from step 0 to `steps`, panels in file order (panel = 0, 1, ...;
 * title = the panel's title, quoted). The fractions are of the loss's tuples, "nan" when the
 * loss has none (or no triplet regions); precision, MAP@R and collapse (mean pairwise distance
 * relative to step 0) are the last computed ones. A
 * diverged panel stops (a message on `err`) while the others go on; returns 3 if any diverged.
 * The header goes out with the first row. A write error on `out` (a full disk, a closed pipe)
 * throws std::runtime_error("cannot write to standard output").
 */
int trainComparison(const ComparisonFile& comparison, long steps, int metricsEvery, std::ostream& out, std::ostream& err);

}  // namespace marginlab::cli

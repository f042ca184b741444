// SPDX-License-Identifier: MIT
// Diagnosis: what is going wrong with a run, in one sentence a learner can act on. The 2D view
// prints it on the canvas; it is a pure function of the snapshot, so tests can ask it directly.
#pragma once

#include "marginlab/loss.h"
#include "marginlab/trainer.h"

#include <QString>

namespace marginlab {

struct Diagnosis {
    enum class Kind { None, Diverged, DeadGradient, Collapse };
    Kind kind = Kind::None;
    QString title;     ///< e.g. "No active tuples"
    QString sentence;  ///< why it happens and what to try
};

/// Mean pairwise distance below this fraction of its start counts as collapse.
inline constexpr double kCollapseThreshold = 0.2;

/// The most urgent problem of `snapshot` (divergence, then a dead gradient, then collapse).
Diagnosis diagnose(const Snapshot& snapshot, const LossInfo* loss);

}  // namespace marginlab

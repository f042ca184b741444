// SPDX-License-Identifier: MIT
// Diagnosis: the state of a run in one sentence a learner can act on — diverged, stuck, collapsed,
// or simply converged (a calm note, not an alarm). Frames print it on the canvas; it is a pure
// function of the snapshot, so tests can ask it directly.
#pragma once

#include "marginlab/loss.h"
#include "marginlab/trainer.h"

#include <QString>

namespace marginlab {

struct Diagnosis {
    enum class Kind { None, Diverged, Stuck, Collapse, Converged };
    Kind kind = Kind::None;
    QString title;     ///< e.g. "No active tuples — the loss is stuck"
    QString sentence;  ///< why it happens and what to try
    bool isProblem() const { return kind == Kind::Diverged || kind == Kind::Stuck || kind == Kind::Collapse; }
};

/// Mean pairwise distance below this fraction of its start counts as shrinking.
inline constexpr double kCollapseThreshold = 0.2;
/// Retrieval at or above this precision@1 means the classes are apart.
inline constexpr double kSeparatedPrecision = 0.999;
/// A collapse is a shrink in which the classes also run together: precision@1 below this.
inline constexpr double kCollapsedPrecision = 0.9;

/**
 * The state of `snapshot`, most urgent first: divergence; a zero gradient while classes are still
 * mixed (stuck) or with every class apart (converged); all points shrinking together with the
 * classes running into each other (collapse). A shrink that keeps the classes apart is no problem.
 */
Diagnosis diagnose(const Snapshot& snapshot, const LossInfo* loss);

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Threshold-consistent margin (TCM) term (Zhang et al., "Threshold-Consistent Margin Loss for
 * Open-World Deep Metric Learning", 2023), pytorch-metric-learning's
 * ThresholdConsistentMarginLoss(lambda_plus=1, lambda_minus=1, margin_plus=0.9, margin_minus=0.5).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters. Cosine similarity s. Over the listed
 * positive pairs P and negative pairs Nn (every ordered pair without a miner, mined pairs with one):
 *
 *     pos = Σ_{P: s ≤ m⁺} (m⁺ − s) / #{P: s ≤ m⁺}      (0 if none)
 *     neg = Σ_{Nn: s ≥ m⁻} (s − m⁻) / #{Nn: s ≥ m⁻}     (0 if none)
 *     loss = λ⁺·pos + λ⁻·neg
 *
 * The masks are constants (no gradient through the counts). TCM is a regularizer meant to be
 * added to a base loss: the PML class (in the version read) takes that base loss as a
 * constructor argument and returns base + TCM; here it is the TCM term alone (MarginLab trains
 * one loss; compare with PML by subtracting the base loss, or with a base loss that is 0).
 * Statistics: tuples = pairs, active = pairs inside their mask.
 * Cost: O(N²) time; all pairs fused row by row in O(N·D) memory (two passes), mined lists on an N×N
 * matrix.
 *
 * Force split: the attraction is the gradient through the positive pairs' similarities.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class ThresholdConsistentMarginLoss final : public Loss {
public:
    struct Options {
        Real lambdaPlus = 1.0;
        Real lambdaMinus = 1.0;
        Real marginPlus = 0.9;
        Real marginMinus = 0.5;
    };

    explicit ThresholdConsistentMarginLoss(const Options& options) : m_options(options) {}

    std::string_view name() const override { return "threshold_consistent_margin"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Options m_options;
};

}  // namespace marginlab

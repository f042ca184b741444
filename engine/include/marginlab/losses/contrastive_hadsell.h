// SPDX-License-Identifier: MIT
/**
 * Hadsell–Chopra–LeCun contrastive loss (CVPR 2006, "Dimensionality Reduction by Learning an
 * Invariant Mapping"); not in pytorch-metric-learning (PML's ContrastiveLoss is not squared and
 * averages its halves separately, see contrastive.h).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner.
 * With d_ij = ‖e_i − e_j‖₂ (e = x, or x̂ = x/‖x‖ when `normalize` is set), over all unordered
 * pairs i < j:
 *
 *     term_ij = ½ d_ij²                      if y_i = y_j
 *     term_ij = ½ max(0, margin − d_ij)²     if y_i ≠ y_j
 *     loss    = Σ_{i<j} term_ij / (N(N−1)/2)          (mean over all pairs)
 *
 * Defaults: margin 1.0, normalize false (the paper's plain Euclidean distance).
 * 0 with a zero gradient when N < 2. Statistics: tuples = pairs, active = non-zero terms.
 * O(N²) time, O(N·D) extra memory (distance rows on demand).
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the same-label
 * pairs' d²/2 terms, at both ends of each pair.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class HadsellContrastiveLoss final : public Loss {
public:
    HadsellContrastiveLoss(Real margin, bool normalize);

    std::string_view name() const override { return "contrastive_hadsell"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_margin;
    DistanceSpec m_distance;
};

}  // namespace marginlab

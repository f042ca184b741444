// SPDX-License-Identifier: MIT
/**
 * Centroid triplet loss: the linear upper bound of the triplet loss by class centers
 * (T.-T. Do et al., "A Theoretically Sound Upper Bound on the Triplet Loss for Improving the
 * Efficiency of Deep Distance Metric Learning", CVPR 2019), without its constant terms.
 * Not in pytorch-metric-learning.
 *
 * Shapes: embeddings N×D, labels N. No owned parameters: the centers are batch statistics.
 * With e = x (or x̂ = x/‖x‖ when `normalize` is set), the classes m present in the batch
 * (C of them) and their batch means c_m = (1/|m|) Σ_{y_i = m} e_i:
 *
 *     ℓ_i  = ‖e_i − c_{y_i}‖₂ − 1/(3(C−1)) · Σ_{m ≠ y_i} ‖e_i − c_m‖₂
 *     loss = (1/N) Σ_i ℓ_i                      (may be negative: constants are dropped)
 *
 * The gradient flows through the means (each c_m depends on its members). 0 with a zero
 * gradient when fewer than 2 classes are present. Distance: Euclidean, normalize default false.
 * Statistics: tuples = N samples, active = #(ℓ_i > 0). O(N·C·D) time.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the own-class terms
 * ‖e_i − c_{y_i}‖: to e_i and, through the mean c_{y_i}, to each of its classmates; the other-class
 * distances carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class CentroidTripletLoss final : public Loss {
public:
    explicit CentroidTripletLoss(bool normalize);

    std::string_view name() const override { return "centroid_triplet"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    bool m_normalize;
};

}  // namespace marginlab

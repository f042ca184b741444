// SPDX-License-Identifier: MIT
/**
 * Generalized lifted structure loss (Hermans et al. 2017, "In defense of the triplet loss"), as
 * pytorch-metric-learning's `GeneralizedLiftedStructureLoss(neg_margin=1, pos_margin=0)`
 * computes it.
 *
 * Input: embeddings N×D, labels N. With M the distance matrix (default: normalized Euclidean,
 * LpDistance(p=2, power=1, normalize_embeddings=True); configurable), per anchor i:
 *
 *     ℓ_i = relu( LSE_{p∈P(i)}(d_ip − mp) + LSE_{n∈N(i)}(mn − d_in) ),   LSE(∅) = 0 (PML's helper)
 *
 * P(i) = {p ≠ i : y_p = y_i}, N(i) = {n : y_n ≠ y_i}. Loss = mean of ℓ_i over all N anchors
 * (MeanReducer). For a similarity the margins flip as in PML (mp − s_ip, s_in − mn).
 * Because LSE(∅) = 0, an anchor without positives still pays for its negatives (and one class
 * only still pays for the positives): the value is 0 only when there is no pair at all
 * (PML's "every index list has length ≤ 1" rule). O(N²) time and memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the d_ip of the
 * positive LSE; the negative LSE carries the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class GeneralizedLiftedStructureLoss final : public Loss {
public:
    GeneralizedLiftedStructureLoss(Real negativeMargin, Real positiveMargin, const DistanceSpec& distance);
    std::string_view name() const override { return "generalized_lifted_structure"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_negativeMargin;
    Real m_positiveMargin;
    DistanceSpec m_distance;
};

}  // namespace marginlab

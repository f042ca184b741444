// SPDX-License-Identifier: MIT
/**
 * Neighbourhood components analysis loss (Goldberger et al., NIPS 2004),
 * pytorch-metric-learning's NCALoss(softmax_scale=1).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner.
 * With z_ij = −σ · softmax_scale · M_ij (σ = +1 for a distance, −1 for a similarity: PML negates
 * a distance) and the diagonal excluded (PML fills it with −∞):
 *
 *     q_ij = softmax_{j ≠ i}(z_ij),    p_i = Σ_{j ≠ i, y_j = y_i} q_ij
 *     loss = mean over the points with p_i ≠ 0 of −log p_i            (MeanReducer, "element")
 *
 * A point without classmates has p_i = 0 and is left out of the mean (PML's `exp != 0`).
 * 0 with zero gradients when N ≤ 1 or no point has a classmate (PML would take the mean of an
 * empty tensor, NaN; the engine's "no valid tuple" rule gives 0).
 * Default distance (PML): LpDistance(p=2, power=2, normalize_embeddings=True), squared
 * Euclidean between normalized points; configurable.
 * Statistics: tuples = points with p_i ≠ 0, active = those with −log p_i > 0.
 * Cost: O(N²) time, one N×N matrix.
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): the
 * softmax of batch row i runs over every reference row (nothing is excluded: a copy of x_i in the
 * reference is a neighbour at distance 0, as in PML, where only `query is reference` fills the
 * diagonal), p_i sums the reference rows of x_i's class, and each term is weighted by PML's
 * convert_to_weights(using_ref=True): w_i = (times i is an anchor of the listed tuples) / (the most
 * times any anchor is), 1 for every point without tuples or when every list is empty:
 *
 *     loss = mean over the batch points with p_i ≠ 0 of −w_i · log p_i
 *
 * No gradient reaches the reference. O(N·M) time and memory.
 *
 * Force split: the attraction is the gradient through the same-label entries M_ij (the
 * numerator's classmates, which also appear in the denominator), the repulsion through the rest.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class NcaLoss final : public Loss {
public:
    NcaLoss(Real softmaxScale, const DistanceSpec& distance);

    std::string_view name() const override { return "nca"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference neighbours.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_softmaxScale;
    DistanceSpec m_distance;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Tuplet margin loss (Yu & Tao, "Deep Metric Learning with Tuplet Margin Loss", ICCV 2019),
 * pytorch-metric-learning's TupletMarginLoss(margin=5.73, scale=64) (margin in degrees).
 *
 * Shapes: embeddings N×D, labels N. Cosine similarity s (always normalized; PML asserts it).
 * For every listed positive pair (a,p), with θ_ap = arccos(s_ap) and m the margin in radians:
 *
 *     ℓ_ap = log(1 + Σ_{(a,n) listed} exp(scale · (s_an − cos(θ_ap − m))))
 *     loss = mean over the listed positive pairs of ℓ_ap            (MeanReducer, "pos_pair")
 *
 * A pair whose anchor has no listed negative gives ℓ = 0 and still counts in the mean.
 * Lists: every ordered pair without a miner; the mined pairs (or the (a,p), (a,n) of mined
 * triplets, duplicates kept) with one. 0 with zero gradients when there is no positive or no
 * negative pair (and, as GenericPairLoss, when both lists have at most one entry).
 * s_ap is clamped to [−1, 1] before arccos, and sin θ_ap to ≥ 1e-12 in the slope
 * ∂cos(θ−m)/∂s = sin(θ−m)/sin θ (PML has no clamp: identical directions give NaN there).
 *
 * Statistics: tuples = positive pairs, active = pairs with ℓ > 0.
 * Cost: O(N²) time with all pairs, fused row by row (O(N·D) memory, no pair list); O(N + |P|·|Nn|/N)
 * with mined lists grouped by anchor (N×N matrix).
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): the
 * same terms on the batch × reference cosine matrix over the listed pairs (every batch × reference
 * pair without tuples, no self pair removed; duplicates kept), mean over the listed positive
 * pairs; no gradient reaches the reference. O(N·M·D + |P| + |Nn|) time, the N×M matrix.
 *
 * Force split: the attraction is the gradient through s_ap (the positive pairs), the repulsion
 * through s_an.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class TupletMarginLoss final : public Loss {
public:
    TupletMarginLoss(Real marginDegrees, Real scale);

    std::string_view name() const override { return "tuplet_margin"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;
    /// The listed pairs' value and statistics on cosine matrix s; ∂L/∂s added to *grad if given.
    LossOutput overLists(const Matrix& s, Matrix* grad, const std::vector<Pair>& positives,
                         const std::vector<Pair>& negatives) const;

    Real m_margin;  // radians
    Real m_scale;
};

}  // namespace marginlab

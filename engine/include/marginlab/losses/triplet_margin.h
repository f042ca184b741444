// SPDX-License-Identifier: MIT
/**
 * Triplet margin loss, pytorch-metric-learning's TripletMarginLoss (loss-conventions.md §1).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters.
 * With δ the ordering distance (δ = M for a distance, δ = −M for a similarity), per triplet
 * (a, p, n), y_a = y_p ≠ y_n, a ≠ p:
 *
 *     v = δ_ap − δ_an + m        (distance: d_ap − d_an + m; similarity: s_an − s_ap + m)
 *     t = relu(v)                (softplus(v) with smooth_loss)
 *
 * swap: δ_an is replaced by min(δ_an, δ_pn) (the positive may be the closer "anchor").
 * Tuples: every triplet without a miner; the mined triplets (duplicates count twice) with one;
 * mined pairs are joined into (a1[i], p[i], n[j]) for a1[i] == a2[j] as PML does.
 * Reduction: "avg_non_zero" (PML default, AvgNonZeroReducer): Σt / #(t > 0), 0 if no t > 0;
 * "mean": Σt / |T|. Defaults (PML): margin 0.05, swap false, smooth_loss false, distance
 * LpDistance(p=2, power=1, normalize_embeddings=True).
 *
 * Statistics: tuples = triplets looked at, active = #(t > 0), and the regions of
 * gap = δ_an − δ_ap (unswapped) against the loss margin: hard gap ≤ 0, semi-hard 0 < gap ≤ m,
 * easy gap > m.
 *
 * Complexity: all triplets (no miner, or a TripletGapFilter measured with the loss's own
 * distance) are handled without enumerating them, with the exact value, gradient and region
 * counts: O(N² log N) time in the worst case (O(N²) expected), one distance row at a time, i.e.
 * O(N·D) extra memory (see src/losses/triplet_sweep.h). Explicit lists (mined triplets, joined
 * pairs) are evaluated triplet by triplet from the embedded points: O(|list|·D) time, O(N·D)
 * memory per thread, no N×N matrix. swap or smooth_loss with every triplet, and filters under
 * another distance, loop over the triplets (N×N matrix, O(1) memory per triplet).
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through every δ_ap
 * (anchor–positive), at both a and p; δ_an (and δ_pn with swap) carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class TripletMarginLoss final : public Loss {
public:
    enum class Reduction { AverageNonZero, Mean };

    struct Options {
        Real margin = 0.05;
        bool swap = false;
        bool smoothLoss = false;
        Reduction reduction = Reduction::AverageNonZero;
    };

    TripletMarginLoss(const Options& options, const DistanceSpec& distance);

    std::string_view name() const override { return "triplet_margin"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;
    LossOutput evaluateBatchAll(const LossInput& input, const TripletGapFilter* filter, bool withGradient) const;
    LossOutput evaluateList(const LossInput& input, const std::vector<Triplet>& list,
                            bool withGradient) const;
    LossOutput evaluateLoop(const LossInput& input, bool withGradient) const;

    Options m_options;
    DistanceSpec m_distance;
};

}  // namespace marginlab

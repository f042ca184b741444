// SPDX-License-Identifier: MIT
/**
 * pytorch-metric-learning's CentroidTripletLoss(margin=0.05, swap=False, smooth_loss=False)
 * (Wieczorek et al., "On the Unreasonable Effectiveness of Centroids in Image Retrieval", 2021):
 * a triplet margin loss whose positives and negatives are class centroids. Distinct from
 * `centroid_triplet` (Do et al.'s upper bound, centroid_triplet.h).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner.
 * Classes k in order of first appearance, members ascending; M = the largest class size. For
 * every instance row r = 0..M−1 with at least two classes having an r-th member:
 *
 *   anchors       q_k = x of the r-th member of each such class k
 *   positives     c⁺_k = mean of class k's other members (leave-one-out centroid)
 *   negatives     c⁻_j = mean of all members of class j, for every class j
 *
 * and triplets (q_k, c⁺_k, c⁻_j), j ≠ k, enter PML's TripletMarginLoss (distance default
 * LpDistance(normalized): anchors and centroids are normalized *after* averaging; configurable):
 *
 *     t = relu(σ(M(q, c⁺) − M(q, c⁻)) + margin)     (softplus with smooth_loss; swap as triplet_margin)
 *     loss = Σ t / #(t > 0)                          (AvgNonZeroReducer)
 *
 * The triplets are PML's exactly, including its index arithmetic: PML enumerates all triplets of
 * the row's [anchors, c⁺, c⁻] labels, keeps the first third, reshapes to one row per anchor and
 * takes torch.chunk pieces. For balanced batches with P ≤ 4 classes that is every (q_k, c⁺_k,
 * c⁻_j); for P ≥ 5 the last torch.chunk of each anchor's 3(P − 1) negatives is 3 wide, so only the
 * last 3 of the P − 1 negative centroids (in class order) are kept; with unequal class sizes
 * a class missing the r-th member lends its negative centroid sample 0's label (PML pads the
 * query list with index 0). The engine reproduces this arithmetic rather than "fixing" it, so that
 * values match PML; a row whose reshape PML would reject is skipped.
 * Classes with a single member are left out (PML raises a ValueError on them).
 * The gradient flows through the centroids to every member. 0 with zero gradients without triplets.
 * Statistics: tuples = triplets, active = #(t > 0). Cost: O(N·D + M·P·(P² + D)) time, O(M·P·D)
 * memory (a mean is formed from its class's sum in O(D), and differentiated the same way).
 *
 * Force split: the attraction is the gradient through M(q, c⁺) (to the query and, through the
 * leave-one-out mean, to its classmates); M(q, c⁻) and M(c⁺, c⁻) (swap) carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class PmlCentroidTripletLoss final : public Loss {
public:
    struct Options {
        Real margin = 0.05;
        bool swap = false;
        bool smoothLoss = false;
    };

    PmlCentroidTripletLoss(const Options& options, const DistanceSpec& distance);

    std::string_view name() const override { return "centroid_triplet_pml"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Options m_options;
    DistanceSpec m_distance;
};

}  // namespace marginlab

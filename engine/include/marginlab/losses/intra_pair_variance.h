// SPDX-License-Identifier: MIT
/**
 * Intra-pair variance loss (Yu et al., "Deep Metric Learning with Tuplet Margin Loss", ICCV 2019),
 * pytorch-metric-learning's IntraPairVarianceLoss(pos_eps=0.01, neg_eps=0.01).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters.
 * Over the listed positive pairs P (values s_ap of the matrix M) and negative pairs Nn, with
 * μ_P, μ_N their means (the gradient flows through the means too):
 *
 *   similarity (default cosine):
 *     pos_ap = relu((1 − pos_eps) μ_P − s_ap)²,   neg_an = relu(s_an − (1 + neg_eps) μ_N)²
 *   distance:
 *     pos_ap = relu(d_ap − (1 + pos_eps) μ_P)²,   neg_an = relu((1 − neg_eps) μ_N − d_an)²
 *   loss = mean_P(pos) + mean_Nn(neg)                     (MeanReducer on each, summed)
 *
 * A half with no pairs contributes 0. 0 with zero gradients when both lists have at most one
 * entry (GenericPairLoss). Lists: every ordered pair without a miner, mined pairs with one.
 * Default distance (PML): CosineSimilarity; configurable.
 * Statistics: tuples = pairs, active = non-zero terms. Cost: O(N²) time; all pairs fused row by row in O(N·D)
 * memory (three passes), mined lists on an N×N matrix.
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): the
 * same halves on M = distance(batch, reference) over the listed pairs (every batch × reference
 * pair without tuples, no self pair removed; duplicates kept); no gradient reaches the reference.
 * O(N·M·D + |P| + |Nn|) time, the N×M matrix.
 *
 * Force split: the attraction is the gradient through the positive pairs' entries (their
 * terms and μ_P), the repulsion through the negative pairs'.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class IntraPairVarianceLoss final : public Loss {
public:
    IntraPairVarianceLoss(Real positiveEpsilon, Real negativeEpsilon, const DistanceSpec& distance);

    std::string_view name() const override { return "intra_pair_variance"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;
    /// The listed pairs' value and statistics on matrix m; ∂L/∂M added to *grad if given.
    LossOutput overLists(const Matrix& m, Matrix* grad, const std::vector<Pair>& positives,
                         const std::vector<Pair>& negatives) const;

    Real m_positiveEpsilon;
    Real m_negativeEpsilon;
    DistanceSpec m_distance;
};

}  // namespace marginlab

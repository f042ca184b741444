// SPDX-License-Identifier: MIT
/**
 * Lifted structure loss (Song et al. 2016), as pytorch-metric-learning's
 * `LiftedStructureLoss(neg_margin=1, pos_margin=0)` computes it.
 *
 * Input: embeddings N×D, labels N. With M the distance matrix (default: PML's normalized
 * Euclidean distance, LpDistance(p=2, power=1, normalize_embeddings=True); configurable) and
 * for every ordered positive pair (a,p), a ≠ p, y_a = y_p:
 *
 *     J_ap = log( Σ_{n: y_n≠y_a} e^{mn − d_an} + Σ_{n: y_n≠y_p} e^{mn − d_pn} ) + d_ap − mp
 *     ℓ_ap = relu(J_ap)² / 2
 *
 * Loss = mean of ℓ_ap over all |P| ordered positive pairs (PML's MeanReducer; equal to Song et
 * al.'s 1/(2|P̂|) Σ over unordered pairs). For a similarity s (cosine, dot product) PML's margin
 * convention flips the signs: d_ap − mp becomes mp − s_ap and mn − d_an becomes s_an − mn.
 * No positive pair or no negative pair → value 0, zero gradient. All pairs, no miner.
 * O(N²) time and memory.
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): PML's
 * pair-based loss on M = distance(batch, reference) over the listed pairs (every batch × reference
 * pair without tuples, no self pair removed; duplicates kept). For a positive pair (a, p), p a
 * reference row, the negatives are the listed (b, n) with b = a or b = p: PML compares the
 * reference index p with the batch index b (`a2 == p`), so a batch point whose index equals p
 * lends its negatives; kept here, it is what PML computes. No such negative: the log term is 0.
 * Mean over the listed positive pairs; no gradient reaches the reference. The negatives are
 * grouped by batch anchor, so the cost is O(N·M·D + |P| + |Nn|) time and the N×M matrix.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the same-label d_ap;
 * the negatives' LSE terms carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class LiftedStructureLoss final : public Loss {
public:
    LiftedStructureLoss(Real negativeMargin, Real positiveMargin, const DistanceSpec& distance);
    std::string_view name() const override { return "lifted_structure"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_negativeMargin;
    Real m_positiveMargin;
    DistanceSpec m_distance;
};

}  // namespace marginlab

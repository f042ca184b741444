// SPDX-License-Identifier: MIT
/**
 * Multi-similarity loss (Wang et al. 2019), as pytorch-metric-learning's
 * `MultiSimilarityLoss(alpha=2, beta=50, base=0.5)` computes it.
 *
 * Input: embeddings N×D, labels N, optionally mined pairs. Cosine similarity s (fixed). Per anchor i:
 *
 *     ℓ_i = (1/α)·log(1 + Σ_{p∈P(i)} e^{−α(s_ip − λ)}) + (1/β)·log(1 + Σ_{n∈N(i)} e^{β(s_in − λ)})
 *
 * (each term 0 for an empty set). Loss = mean over all N anchors (MeanReducer: anchors without
 * pairs contribute 0 but count).
 *
 * Without a miner P(i)/N(i) are all positives/negatives of i. With mined tuples (pairs, e.g. from
 * the MultiSimilarityMiner; triplets are converted to pairs like PML's convert_to_pairs) P(i)/N(i)
 * are the mined positive/negative pairs whose first index is i. As in PML the mined lists are
 * written into N×N masks, so a pair listed twice counts once. PML's "every index list has
 * length ≤ 1 → 0" rule applies. O(N²) time and memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the same-label s_ip;
 * the s_in carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class MultiSimilarityLoss final : public Loss {
public:
    MultiSimilarityLoss(Real positiveScale, Real negativeScale, Real base);
    std::string_view name() const override { return "multi_similarity"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_positiveScale;  // α
    Real m_negativeScale;  // β
    Real m_base;           // λ
};

}  // namespace marginlab

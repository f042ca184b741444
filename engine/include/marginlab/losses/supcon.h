// SPDX-License-Identifier: MIT
/**
 * Supervised contrastive loss (Khosla et al. 2020), PML `SupConLoss(temperature=0.1)`.
 *
 * Shapes: embeddings N×D, labels N; no owned parameters. Similarity s_ij = cosine (PML default
 * CosineSimilarity); with a distance d instead, s_ij = −d_ij. For each anchor i:
 *
 *     log_prob_ij = s_ij/τ − LSE_{k ∈ P(i) ∪ N(i)}(s_ik/τ)        (all k ≠ i without a miner)
 *     ℓ_i = −(1/|P(i)|) Σ_{p∈P(i)} log_prob_ip                     (0 if P(i) is empty)
 *
 * Loss = AvgNonZero over anchors: the mean of the ℓ_i that are > 0 (the count is a constant in
 * the gradient). 0 with zero gradient if the batch has no positive or no negative pair.
 *
 * With mined tuples, P(i) and N(i) are the mined pairs with anchor i (as masks, so duplicates
 * collapse, like PML's mat-based pair losses); PML's "every list has ≤ 1 entry → 0" rule applies.
 * A gap-filtered Tuples::Kind::All gives the masks of the pairs its kept triplets use.
 *
 * Cost: O(N²·D) time and O(N·D) memory without a miner; O(N² log N) time, O(N²) memory with one.
 *
 * With a reference set (LossInput::referenceEmbeddings, CrossBatchMemory): s_ij between batch
 * anchor i and reference row j, P(i) / N(i) the listed (or all) reference pairs as masks; the
 * gradient reaches the batch only.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the same-label
 * similarities s_ip, their share of the denominator's LSE included; the s_in carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class SupConLoss final : public Loss {
public:
    SupConLoss(Real temperature, const DistanceSpec& distance);
    std::string_view name() const override { return "supcon"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_temperature;
    DistanceSpec m_distance;
};

}  // namespace marginlab

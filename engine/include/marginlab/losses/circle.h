// SPDX-License-Identifier: MIT
/**
 * Circle loss (Sun et al. 2020), as pytorch-metric-learning's `CircleLoss(m=0.4, gamma=80)`
 * computes it.
 *
 * Input: embeddings N×D, labels N. Cosine similarity s_ij = x̂_i·x̂_j (fixed).
 * O_p = 1+m, O_n = −m, Δ_p = 1−m, Δ_n = m. For anchor i:
 *
 *     z_ip = −γ·α_ip·(s_ip − Δ_p),  α_ip = relu(O_p − s_ip),   p ∈ P(i)
 *     z_in =  γ·α_in·(s_in − Δ_n),  α_in = relu(s_in − O_n),   n ∈ N(i)
 *     ℓ_i  = softplus( LSE_{P(i)} z_ip + LSE_{N(i)} z_in ),     ℓ_i = 0 if P(i) or N(i) is empty
 *
 * (softplus with torch's threshold: exactly v above 20). Loss = mean of the ℓ_i that are > 0
 * (AvgNonZeroReducer); 0 if none.
 *
 * GRADIENT: as in PML the weights α_ip, α_in are detached (constants in the backward pass), so
 * the returned gradient is ∂/∂x of the expression with α frozen at its current value — it is
 * deliberately NOT the derivative of the value. O(N²) time and memory.
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): s is the
 * batch × reference cosine matrix and P(i), N(i) the reference rows of the listed pairs (every
 * batch × reference pair without tuples, no self pair removed; PML's mat_based_loss masks, so a
 * pair listed twice counts once; a pair in both lists takes the negative logit in both sums).
 * Same reduction over the N batch anchors; no gradient reaches the reference. O(N·M) time and memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient (with α detached, as above)
 * through the same-label s_ip; the s_in carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class CircleLoss final : public Loss {
public:
    CircleLoss(Real relaxation, Real scale);
    std::string_view name() const override { return "circle"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_relaxation;  // m
    Real m_scale;       // γ
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * PNP loss (Li et al., "Rethinking the Optimization of Average Precision: Only Penalizing
 * Negative Instances before Positive Ones is Enough", AAAI 2022), pytorch-metric-learning's
 * PNPLoss(b=2, alpha=1, anneal=0.01, variant="O").
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner. Cosine similarity s.
 * For a query i and each j in P⁺(i) = {j : y_j = y_i} (the query itself included, as PML's
 * I_pos diagonal), the soft count of negatives ranked before j:
 *
 *     R_ij = Σ_{k: y_k ≠ y_i} σ((s_ik − s_ij)/anneal),   σ(t) = 1/(1 + e^{clamp(−t, −50, 50)})
 *     f(R) = R (O) | log(1+R) (Ds) | (1+R)^−alpha (Dq) | (1+R) log(1+R) (Iu) | (bR − log(1+bR))/b² (Ib)
 *     loss = (1/N) Σ_{i with classmates} (1/|P⁺(i)|) Σ_{j ∈ P⁺(i)} f(R_ij)     (1 − that for Dq)
 *
 * The clamp passes no gradient beyond ±50 (with anneal 0.01: similarity gaps above 0.5).
 * Points without classmates contribute 0 but count in N (PML divides 0 by 0 for them and returns
 * NaN; the engine takes 0). 0 with zero gradients when no point has a classmate.
 * Statistics: tuples = queries with classmates, active = those with a non-zero term.
 * Cost: O(N³) time (every query, positive and negative), one N×N matrix: for small batches.
 *
 * Force split: the attraction is the gradient through s_ij (the positives' similarities), the
 * repulsion through s_ik (the negatives').
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class PnpLoss final : public Loss {
public:
    enum class Variant { Ds, Dq, Iu, Ib, O };

    PnpLoss(Real b, Real alpha, Real anneal, Variant variant);

    std::string_view name() const override { return "pnp"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_b;
    Real m_alpha;
    Real m_anneal;
    Variant m_variant;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Histogram loss (Ustinova & Lempitsky, "Learning Deep Embeddings with Histogram Loss", NIPS
 * 2016), pytorch-metric-learning's HistogramLoss(n_bins=100) (or delta = 2 / n_bins).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner. Cosine similarity s ∈ [−1, 1].
 * The pairs are the *unordered* pairs {i, j} that occur in some triplet (PML builds them from all
 * triplets): positive pairs {a, p} whose points have a negative somewhere, negative pairs {i, j}
 * where i or j has a classmate. Nodes t_r = −1 + rΔ, r = 0..R (R = n_bins, Δ = 2/R). Each value
 * s in bin r = ⌊(s + 1)/Δ⌋ (computed in float32 as PML does, clamped to R − 1 so that s = 1 stays
 * inside) is split linearly between its two nodes:
 *
 *     h[r]   += (t_{r+1} − s)/Δ / |pairs|,       h[r+1] += (s − t_r)/Δ / |pairs|
 *     loss = Σ_r h⁻[r] · Φ⁺[r],   Φ⁺[r] = Σ_{k ≤ r} h⁺[k]         (probability that a random
 *                                                                negative beats a random positive)
 *
 * The bin index is piecewise constant (no gradient); the loss is continuous in s. Gradients:
 * ∂/∂s_ap = −h⁻[r]/(Δ|P|), ∂/∂s_an = h⁺[r+1]/(Δ|Nn|) (r = the value's bin).
 * 0 with zero gradients when there is no triplet. Statistics: tuples = unordered pairs,
 * active = 1 when the loss is positive (the loss is one number, not a sum of terms).
 * Cost: O(N² + R) time, fused row by row in O(N·D + R) memory (no pair list, no N×N matrix).
 *
 * Force split: the attraction is the gradient through the positive pairs' similarities (h⁺).
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class HistogramLoss final : public Loss {
public:
    explicit HistogramLoss(int bins);

    std::string_view name() const override { return "histogram"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    int m_bins;
    Real m_delta;
};

}  // namespace marginlab

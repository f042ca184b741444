// SPDX-License-Identifier: MIT
/**
 * Normalized softmax loss (Zhai & Wu, "Classification is a Strong Baseline for Deep Metric
 * Learning", BMVC 2019) — PML `NormalizedSoftmaxLoss(temperature=0.05)`.
 *
 *   inputs: X (N×D) embeddings, labels y_i ∈ [0, C), owned W (C×D, row c = class c; PML's
 *           `loss.W` is Wᵀ), ownedBlocks = 1.
 *   c_ic = x̂_i · ŵ_c  (both rows normalized by x / max(‖x‖, 1e-12): PML's DotProductSimilarity)
 *   ℓ_ic = c_ic / T
 *   L    = (1/N) Σ_i CE(ℓ_i, y_i),  CE(ℓ, y) = −ℓ_y + log Σ_c exp ℓ_c     (MeanReducer)
 *
 * Returns ∂L/∂X (N×D) and ∂L/∂W (C×D). No miner. N = 0 gives 0.
 * Labels outside [0, C) are a programmer error (asserted; see class_labels.h).
 * Statistics: tuples = samples, active = samples with CE > 0; no margin regions.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the own-class logit
 * c_{i,y_i}/T (tangent to the sphere at x̂_i, towards ŵ_{y_i}); the other logits carry the
 * repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class NormalizedSoftmaxLoss final : public Loss {
public:
    explicit NormalizedSoftmaxLoss(Real temperature = 0.05);
    std::string_view name() const override { return "normalized_softmax"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    Real m_temperature;
};

}  // namespace marginlab

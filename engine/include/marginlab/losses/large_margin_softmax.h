// SPDX-License-Identifier: MIT
/**
 * L-Softmax / large-margin softmax (Liu et al., ICML 2016) — PML
 * `LargeMarginSoftmaxLoss(margin=4, scale=1)`, margin an integer m ≥ 1.
 *
 *   inputs: X (N×D), labels y_i ∈ [0, C), owned W (C×D, row c = class c), ownedBlocks = 1.
 *   c_ic = x̂_i · ŵ_c,   c = c_{i,y_i},   θ_i = arccos(clamp(c, −1, 1))
 *   cos(mθ) = Σ_{j=0}^{⌊m/2⌋} (−1)^j C(m,2j) c^{m−2j} (1−c²)^j   (of the UN-clamped c)
 *   k_i = ⌊θ_i / (π/m)⌋  (piecewise constant, no gradient),  ψ_i = (−1)^{k_i} cos(mθ_i) − 2k_i
 *   ℓ_ic = s·‖x_i‖·‖w_c‖·(c = y_i ? ψ_i : c_ic)   (raw norms of x_i and of the class row)
 *   L = (1/N) Σ_i CE(ℓ_i, y_i)   (MeanReducer)
 *
 * Returns ∂L/∂X and ∂L/∂W; the norms are differentiated (d‖v‖/dv = v/‖v‖, taken as 0 at v = 0
 * where torch would give NaN). ψ is continuous and C¹ in θ across the k sectors. No miner.
 * No λ-annealing of the paper (PML has none either). Labels are asserted (class_labels.h).
 * Statistics: easy / semi-hard / hard with and without the margin (target logit ψ vs c).
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the target logit
 * ℓ_{i,y_i}, its factor ‖x_i‖ included; the other logits carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class LargeMarginSoftmaxLoss final : public Loss {
public:
    explicit LargeMarginSoftmaxLoss(int margin = 4, Real scale = 1.0);
    std::string_view name() const override { return "large_margin_softmax"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    int m_margin;
    Real m_scale;
};

}  // namespace marginlab

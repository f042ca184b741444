// SPDX-License-Identifier: MIT
/**
 * SphereFace / A-Softmax (Liu et al., CVPR 2017) — PML `SphereFaceLoss(margin=4, scale=1)`.
 *
 * Exactly L-Softmax (large_margin_softmax.h: ψ_i, k_i, the multiple-angle polynomial of the
 * un-clamped cosine) without the class-weight norm, i.e. with the weights normalized:
 *   ℓ_ic = s·‖x_i‖·(c = y_i ? ψ_i : c_ic),   L = (1/N) Σ_i CE(ℓ_i, y_i)   (MeanReducer)
 *
 *   inputs: X (N×D), labels y_i ∈ [0, C), owned W (C×D, row c = class c), ownedBlocks = 1.
 * Returns ∂L/∂X (through ‖x_i‖ and x̂_i) and ∂L/∂W (through ŵ_c only). No miner.
 * Labels are asserted (class_labels.h). Statistics as for L-Softmax.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the target logit
 * ℓ_{i,y_i}, its factor ‖x_i‖ included; the other logits carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class SphereFaceLoss final : public Loss {
public:
    explicit SphereFaceLoss(int margin = 4, Real scale = 1.0);
    std::string_view name() const override { return "sphereface"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    int m_margin;
    Real m_scale;
};

}  // namespace marginlab

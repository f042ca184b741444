// SPDX-License-Identifier: MIT
/**
 * CosFace / large-margin cosine loss (Wang et al., CVPR 2018; also AM-Softmax, Wang et al. 2018)
 * — PML `CosFaceLoss(margin=0.35, scale=64)`.
 *
 *   inputs: X (N×D), labels y_i ∈ [0, C), owned W (C×D, row c = class c), ownedBlocks = 1.
 *   c_ic = x̂_i · ŵ_c                      (PML's CosineSimilarity: both sides normalized)
 *   ℓ_ic = s · (c_ic − m·[c = y_i])
 *   L    = (1/N) Σ_i CE(ℓ_i, y_i)          (MeanReducer)
 *
 * Returns ∂L/∂X and ∂L/∂W. No miner. Labels outside [0, C) are asserted (class_labels.h).
 * Statistics per sample: hard = s·c_iy not above every other logit, semi-hard = above them only
 * without the margin, easy = above them with the margin; active = samples with CE > 0.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the target logit
 * s·(c_{i,y_i} − m); the other logits carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class CosFaceLoss final : public Loss {
public:
    explicit CosFaceLoss(Real margin = 0.35, Real scale = 64.0);
    std::string_view name() const override { return "cosface"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    Real m_margin;
    Real m_scale;
};

}  // namespace marginlab

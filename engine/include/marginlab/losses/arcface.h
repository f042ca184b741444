// SPDX-License-Identifier: MIT
/**
 * ArcFace / additive angular margin (Deng et al., CVPR 2019) — PML
 * `ArcFaceLoss(margin=28.6, scale=64)`, the margin given in DEGREES (m = margin·π/180 rad).
 *
 *   inputs: X (N×D), labels y_i ∈ [0, C), owned W (C×D, row c = class c), ownedBlocks = 1.
 *   c_ic = x̂_i · ŵ_c,   θ_i = arccos(clamp(c_{i,y_i}, −1, 1))
 *   φ_i  = cos(θ_i + m)           if θ_i ≤ π − m
 *        = cos(θ_i) − m·sin(m)    otherwise (PML's "keep the logit monotone" fallback)
 *   ℓ_ic = s·φ_i for c = y_i, s·c_ic otherwise;  L = (1/N) Σ_i CE(ℓ_i, y_i)   (MeanReducer)
 *
 * Returns ∂L/∂X and ∂L/∂W. No miner. Labels outside [0, C) are asserted (class_labels.h).
 *
 * Derivative at |c| → 1: dφ/dc = sin(θ+m)/sin θ grows like 1/θ as θ → 0, but ∂c/∂x has norm
 * sin θ/‖x‖, so the gradient with respect to X and W stays bounded (a cone tip, like |x| at 0).
 * sin θ is computed as √((1−c)(1+c)), so any in-range c (|c| < 1) gives a finite derivative.
 * For |c| ≥ 1 (exactly on ±ŵ, or past it by rounding) we use dφ/dc = 0 on both branches:
 * torch's clamp also gives 0 outside [−1, 1]; exactly at ±1 torch's arccos backward gives
 * ±inf·0 (inf or NaN) — we give 0, the value that does not matter anyway since ∂c/∂x = 0 there.
 * Statistics: easy / semi-hard / hard as for CosFace (with and without the margin).
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the target logit
 * s·φ_i; the other logits carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class ArcFaceLoss final : public Loss {
public:
    /// marginDegrees: PML's `margin` (degrees).
    explicit ArcFaceLoss(Real marginDegrees = 28.6, Real scale = 64.0);
    std::string_view name() const override { return "arcface"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    Real m_margin;  // radians
    Real m_scale;
};

}  // namespace marginlab

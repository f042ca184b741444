// SPDX-License-Identifier: MIT
/**
 * Combined margin (Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face
 * Recognition", CVPR 2019, eq. 4 and Table 2 "CM1 (1, 0.3, 0.2)"; InsightFace's
 * CombinedMarginLoss). PML has no such loss. One loss covering SphereFace-style multiplicative
 * (m1), ArcFace additive angular (m2) and CosFace additive cosine (m3) margins.
 *
 *   inputs: X (N×D), labels y_i ∈ [0, C), owned W (C×D, row c = class c), ownedBlocks = 1.
 *   c_ic = x̂_i · ŵ_c,   θ_i = arccos(clamp(c_{i,y_i}, −1, 1)),   θ* = (π − m2)/m1
 *   φ_i  = cos(m1·θ_i + m2) − m3                 if m1·θ_i + m2 ≤ π
 *        = clamp(c_{i,y_i}) − cos θ* − 1 − m3    otherwise (θ_i > θ*)
 *   ℓ_ic = s·φ_i for c = y_i, s·c_ic otherwise;  L = (1/N) Σ_i CE(ℓ_i, y_i)   (mean over samples)
 * Parameters: margin1 = m1 (1.0), margin2 = m2 (0.3, radians), margin3 = m3 (0.2), scale s (64):
 * the paper's CM1. (m1,m2,m3) = (1,0,m) is CosFace (to rounding: cos(arccos c) for c); (1,m,0) is
 * ArcFace wherever θ ≤ π − m.
 *
 * Fallback (our choice): past θ*, cos(m1θ + m2) would rise again. We continue with cos θ shifted
 * so that φ is continuous at θ* (both sides equal −1 − m3) and strictly decreasing in θ on all of
 * [0, π] (given m1 > 0, m2 ≥ 0). This differs from ArcFace's fallback cos θ − m·sin m, which jumps
 * at θ = π − m (by 1 − cos m − m·sin m ≈ 0.12 for m = 0.5); continuity was preferred here.
 * Derivatives: dφ/dc = m1·sin(m1θ + m2)/sin θ, resp. 1; both taken as 0 when |c| ≥ 1 (see
 * arcface.h for why this is harmless and finite for every in-range c).
 * Labels are asserted (class_labels.h). Statistics: easy / semi-hard / hard with and without margin.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the target logit
 * s·φ_i; the other logits carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class CombinedMarginLoss final : public Loss {
public:
    explicit CombinedMarginLoss(Real margin1 = 1.0, Real margin2 = 0.3, Real margin3 = 0.2, Real scale = 64.0);
    std::string_view name() const override { return "combined_margin"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    Real m_margin1;
    Real m_margin2;
    Real m_margin3;
    Real m_scale;
};

}  // namespace marginlab

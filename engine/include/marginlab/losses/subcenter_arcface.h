// SPDX-License-Identifier: MIT
/**
 * Sub-center ArcFace (Deng et al., "Sub-center ArcFace", ECCV 2020), pytorch-metric-learning's
 * SubCenterArcFaceLoss(num_classes, embedding_size, margin=28.6, scale=64, sub_centers=3).
 *
 * Shapes: embeddings N×D, labels y_i ∈ [0, C), owned W with K·C rows (K = sub-centers), in K
 * blocks of C rows: row k·C + c is sub-center k of class c (ownedBlocks = K). PML's W is D×(C·K)
 * with column c·K + k for that sub-center: our row k·C + c = PML's column c·K + k. Block 0 is
 * thus a complete set of class weights (what a view drawing one arrow per class shows).
 *
 *   c_ic = max_k x̂_i · ŵ_{k·C+c}          (the closest sub-center; ties: the lowest k)
 *   θ_i = arccos(clamp(c_{i,y_i}, −1, 1))
 *   φ_i = cos(θ_i + m) if θ_i ≤ π − m, else cos θ_i − m·sin m     (m = margin·π/180, ArcFace)
 *   ℓ_ic = s·φ_i for c = y_i, s·c_ic otherwise;   L = (1/N) Σ_i CE(ℓ_i, y_i)   (MeanReducer)
 *
 * The max routes each gradient to the chosen sub-center only (torch's max backward). Defaults
 * (PML): margin 28.6°, scale 64, K = 3 (the catalogue entry fixes K = 3: the owned block count
 * is a property of the catalogue entry, not a parameter). No miner.
 * Derivative at |c| ≥ 1 as ArcFace (arcface.h): dφ/dc = 0 there.
 * Statistics: tuples = samples, active = CE > 0. Cost: O(N·K·C·D) time, O(N·K·C) memory.
 *
 * Force split: the attraction is the gradient through the target logit s·φ_i (the point's
 * own class's chosen sub-center); the other classes' logits carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class SubCenterArcFaceLoss final : public Loss {
public:
    SubCenterArcFaceLoss(Real marginDegrees, Real scale, int subCenters);

    std::string_view name() const override { return "subcenter_arcface"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_margin;  // radians
    Real m_scale;
    int m_subCenters;
};

}  // namespace marginlab

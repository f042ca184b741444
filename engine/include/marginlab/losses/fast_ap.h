// SPDX-License-Identifier: MIT
/**
 * FastAP (Cakir et al., "Deep Metric Learning to Rank", CVPR 2019), pytorch-metric-learning's
 * FastAPLoss(num_bins=10).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner. Distance: LpDistance with
 * p = 2 (PML asserts it), default power 2 normalized, i.e. d_ij = ‖x̂_i − x̂_j‖² ∈ [0, 4].
 * Nodes t_r, r = 0..R (R = num_bins), evenly spaced on [0, 2^power] (torch.linspace in float32,
 * as PML builds them), Δ = 2^power / R. Per anchor i, with the triangular pulse
 * b_r(d) = relu(1 − |d − t_r|/Δ):
 *
 *     h⁺_r = Σ_{p ∈ P(i)} b_r(d_ip),   h⁻_r = Σ_{n ∈ N(i)} b_r(d_in)
 *     H⁺_r = Σ_{k ≤ r} h⁺_k,           H_r = Σ_{k ≤ r} (h⁺_k + h⁻_k)
 *     AP_i = (1/|P(i)|) Σ_{r: h⁺_r H⁺_r > 0, H_r > 0} h⁺_r H⁺_r / H_r
 *     loss = mean over anchors with |P(i)| > 0 of (1 − AP_i)            (MeanReducer)
 *
 * 0 with zero gradients when no anchor has a positive or no node passes the mask.
 * Statistics: tuples = anchors with positives, active = those with 1 − AP_i > 0.
 * Cost: O(N² + N·R) time, one N×N matrix.
 *
 * Force split: the attraction is the gradient through the positive distances (h⁺), the
 * repulsion through the negative ones (h⁻).
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class FastApLoss final : public Loss {
public:
    FastApLoss(int bins, const DistanceSpec& distance);

    std::string_view name() const override { return "fast_ap"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    int m_bins;
    DistanceSpec m_distance;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * P2SGrad (Zhang et al., "P2SGrad: Refined Gradients for Optimizing Deep Face Models", CVPR
 * 2019), pytorch-metric-learning's P2SGradLoss(descriptors_dim, num_classes): the MSE between the
 * cosines to the class weights and the one-hot labels.
 *
 * Shapes: embeddings N×D, labels y_i ∈ [0, C), owned W (C×D, row c = class c; PML's `weight` is
 * D×C). PML first renormalizes the weight *data* in place (renorm(2, 1, 1e-5)·1e5: each column
 * scaled to ŵ_c = w_c·1e-5/(‖w_c‖ + 1e-7)·1e5, unit up to 1e-7/‖w_c‖), outside the autograd graph:
 *
 *     c_ic = clamp(x_i · ŵ_c / ‖x_i‖, −1, 1)
 *     loss = (1/(N·C)) Σ_i Σ_c (c_ic − [c = y_i])²                      (nn.MSELoss, mean)
 *
 * Gradients: ∂/∂x_i through ‖x_i‖ and the dot products (0 where the clamp is active); ∂/∂W is
 * the gradient with respect to ŵ (PML's parameter holds ŵ when backward runs), i.e.
 * (2/(N·C)) Σ_i (c_ic − [c = y_i]) x_i/‖x_i‖ — NOT the derivative through the normalization,
 * so, like circle loss, the owned gradient is not the finite difference of the value.
 * No miner. Statistics: tuples = samples, active = samples with a non-zero error.
 * Cost: O(N·C·D) time.
 *
 * Force split: the attraction is the gradient through each point's own-class cosine c_{i,y_i}.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class P2SGradLoss final : public Loss {
public:
    std::string_view name() const override { return "p2sgrad"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Plain softmax cross-entropy with a linear classifier (no bias, nothing normalized): the
 * baseline every margin-softmax paper starts from (e.g. Liu et al., "Large-Margin Softmax Loss
 * for Convolutional Neural Networks", ICML 2016, eq. 1 with the bias dropped; Goodfellow,
 * Bengio & Courville, "Deep Learning", §6.2.2.3). PML has no such loss.
 *
 *   inputs: X (N×D), labels y_i ∈ [0, C), owned W (C×D, row c = class c), ownedBlocks = 1.
 *   ℓ_ic = w_c · x_i
 *   L    = (1/N) Σ_i CE(ℓ_i, y_i)   (mean over samples)
 * No parameters. Returns ∂L/∂X = G W and ∂L/∂W = Gᵀ X with G_ic = (softmax(ℓ_i)_c − [c = y_i])/N.
 * Labels outside [0, C) are asserted (class_labels.h). No margin regions in the statistics.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the own-class logit
 * w_{y_i}·x_i (so it points along w_{y_i}); the other logits carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class SoftmaxLoss final : public Loss {
public:
    std::string_view name() const override { return "softmax"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;
};

}  // namespace marginlab

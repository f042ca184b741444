// SPDX-License-Identifier: MIT
/**
 * Center loss with softmax (Wen, Zhang, Li, Qiao, "A Discriminative Feature Learning Approach
 * for Deep Face Recognition", ECCV 2016). Not in pytorch-metric-learning (PML 2.8.1 has no center
 * loss), so names and reduction are ours.
 *
 * Shapes: embeddings X (N×D), labels y_i ∈ [0, C), owned matrix (2C×D, ownedBlocks = 2):
 * rows 0..C−1 are the linear-classifier weights W (row c = w_c), rows C..2C−1 the centers c_c.
 *
 *   L = (1/N) Σ_i CE(W x_i, y_i)  +  λ · ½ · (1/N) Σ_i ‖x_i − c_{y_i}‖²
 *
 * with CE(ℓ, y) = −ℓ_y + log Σ_c exp(ℓ_c), logits ℓ_ic = w_c · x_i (no bias, no normalization:
 * the raw embeddings, as in the paper). The paper sums over the mini-batch; we take means so the
 * value does not grow with N (the ratio λ between the two terms is unchanged).
 *
 * Centers are learned by plain gradient descent through gradOwned (∂L/∂c_c =
 * −(λ/N) Σ_{i: y_i=c} (x_i − c_c)). We do NOT implement the paper's separate center update
 * (c_j ← c_j − α·Σ_{i: y_i=j}(c_j − x_i)/(1 + n_j), α = 0.5): the engine's optimizer owns every
 * parameter update. Consequence: the centers move at a rate proportional to λ·(n_c/N)·lr.
 *
 * Parameter `lambda_c` (λ), default 0.1. The paper used λ = 0.003 for 512-D face features with
 * its separate α update. In 2-D/3-D the softmax term pushes features radially outward (their
 * norms grow with the classifier's confidence), and our centers only learn through the λ-scaled
 * gradient: λ = 0.003 leaves the centers almost frozen and the compaction invisible, while
 * λ ≈ 0.1 gives visibly compact, still separable clusters (the paper's own 2-D MNIST plots show
 * clusters tightening as λ grows). Raise it (≈1) for stronger pull; λ = 0 is plain softmax.
 * Empty batch: 0 with zero gradients. No miner.
 * Statistics: tuples = N samples; active = samples whose term (CE + center part) is > 0.
 * Cost O(N·C·D) time, O(N·C) memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the own-class logit
 * w_{y_i}·x_i and the whole center term (it involves c_{y_i} only); the other logits carry the
 * repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class CenterLoss final : public Loss {
public:
    explicit CenterLoss(Real lambda = 0.1) : m_lambda(lambda) {}

    std::string_view name() const override { return "center"; }
    /// Throws std::invalid_argument if the owned matrix or the labels do not fit (see above).
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    Real m_lambda;
};

}  // namespace marginlab

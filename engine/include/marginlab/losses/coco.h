// SPDX-License-Identifier: MIT
/**
 * Congenerous cosine (COCO) loss (Liu, Li, Wang 2017: "Learning Deep Features via Congenerous
 * Cosine Loss for Person Recognition", and its v2 "Rethinking Feature Discrimination and
 * Polymerization for Large-scale Recognition"). Not in pytorch-metric-learning.
 *
 * Shapes: embeddings X (N×D), labels y_i ∈ [0, C), owned matrix (C×D, ownedBlocks = 1):
 * row k = learned centroid c_k of class k. Cosine only: s_ik = x̂_i · ĉ_k (both normalized).
 *
 *   L = (1/N) Σ_i CE(α · s_i·, y_i) = (1/N) Σ_i [ −α s_{i,y_i} + log Σ_k exp(α s_ik) ]
 *
 * The paper sums over the mini-batch; we take the mean (value independent of N). Its
 * denominator includes the true class (as written here), like a softmax over centroids.
 *
 * Parameter `scale` (α), default 16. PML has no such loss; the paper's v2 derives a lower bound
 * on α from the fact that with unit-norm features and centroids the logits are confined to
 * [−α, α], so a small α caps the true-class posterior below 1 however well the points are
 * placed. We do not restate the paper's formula; we evaluate the same effect directly for a 2-D
 * case: C = 10 centroids evenly spaced on the circle and each feature exactly on its centroid
 * give the posterior 1 / (1 + Σ_{k=1}^{9} e^{α(cos(2πk/10) − 1)})
 * = 0.69 at α = 8, 0.91 at α = 16, 0.996 at α = 32 (for C ≤ 4 it exceeds 0.9999 at α = 16).
 * α = 16 therefore lets training reach a confident posterior without the saturated, very steep
 * gradients of α = 32..64 that make a 2-D toy jumpy.
 * Empty batch: 0 with zero gradients. No miner.
 * Statistics: tuples = N samples; active = samples with a cross-entropy term > 0.
 * Cost O(N·C·D) time, O(N·C) memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the own-centroid
 * logit α·s_{i,y_i}; the other centroids carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class CocoLoss final : public Loss {
public:
    explicit CocoLoss(Real scale = 16.0) : m_scale(scale) {}

    std::string_view name() const override { return "coco"; }
    /// Throws std::invalid_argument if the owned matrix or the labels do not fit (see above).
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

private:
    Real m_scale;
};

}  // namespace marginlab

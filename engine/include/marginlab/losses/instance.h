// SPDX-License-Identifier: MIT
/**
 * Instance loss (Zheng et al., "Dual-Path Convolutional Image-Text Embeddings with Instance
 * Loss", ACM TOMM 2020), pytorch-metric-learning's InstanceLoss(gamma=64), with labels.
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner. Cosine similarity s.
 * With k_i = the rank of y_i among the distinct labels of the batch (torch.unique's inverse
 * index, 0 for the smallest label), each row of γ·S is a logit vector over the N *samples*:
 *
 *     ℓ_i = CE(γ · s_i·, k_i) = −γ s_{i,k_i} + log Σ_j e^{γ s_ij}       (j over every sample, i included)
 *     loss = mean_i ℓ_i                                                  (MeanReducer)
 *
 * So the target of a point of the k-th smallest class is *sample number k*, whatever its class
 * (PML's definition with labels, kept as is: the first C samples act as class anchors). The
 * self-similarity s_ii = 1 is a constant logit (no gradient through it). N must exceed the
 * largest k_i (PML's cross-entropy fails otherwise; the engine returns 0 then, with a zero
 * gradient). Meaningful for free points in the instance form (all labels distinct: every point
 * its own class, pushed away from all others); with classes it pulls each point towards one
 * arbitrary sample of the batch.
 * Statistics: tuples = samples, active = ℓ_i > 0. Cost: O(N²) time, one N×N matrix.
 *
 * Force split: the attraction is the gradient through the same-label entries s_ij (the target
 * entry when sample k_i shares the label, and the classmates' share of the denominator).
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class InstanceLoss final : public Loss {
public:
    explicit InstanceLoss(Real gamma);

    std::string_view name() const override { return "instance"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_gamma;
};

}  // namespace marginlab

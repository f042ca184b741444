// SPDX-License-Identifier: MIT
/**
 * SoftTriple (Qian et al., "SoftTriple Loss: Deep Metric Learning Without Triplet Sampling", ICCV
 * 2019), pytorch-metric-learning's SoftTripleLoss(num_classes, embedding_size,
 * centers_per_class=10, la=20, gamma=0.1, margin=0.01).
 *
 * Shapes: embeddings N×D, labels y_i ∈ [0, C), owned centers in K blocks of C rows (K =
 * centers_per_class = 10, fixed by the catalogue entry): row k·C + c is center k of class c
 * (PML's `fc` is D×(C·K) with column c·K + k for it, as sub-center ArcFace, subcenter_arcface.h).
 *
 *     s_ick = x̂_i · ŵ_{k·C+c}                      (CosineSimilarity)
 *     S_ic  = Σ_k softmax_k(s_ick / gamma) · s_ick   (soft assignment to the class's centers)
 *     ℓ_i   = CE(la · (S_i· − margin·[c = y_i]), y_i)
 *     loss  = (1/N) Σ_i ℓ_i                          (MeanReducer)
 *
 * The gradient flows through the soft assignment (∂S/∂s_k = p_k(1 + (s_k − S)/gamma)) and both
 * normalizations, to the points and the centers. PML 2's default adds no center regularizer
 * (the old reg_weight became an optional weight regularizer); none here. No miner.
 * Statistics: tuples = samples, active = ℓ_i > 0. Cost: O(N·K·C·D) time.
 *
 * Force split: the attraction is the gradient through the point's own class's centers (S_{i,y_i}).
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class SoftTripleLoss final : public Loss {
public:
    SoftTripleLoss(int centersPerClass, Real la, Real gamma, Real margin);

    std::string_view name() const override { return "soft_triple"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    int m_centersPerClass;
    Real m_la;
    Real m_gamma;
    Real m_margin;
};

}  // namespace marginlab

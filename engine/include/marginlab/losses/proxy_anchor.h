// SPDX-License-Identifier: MIT
/**
 * Proxy-Anchor loss (Kim et al., CVPR 2020) as pytorch-metric-learning's
 * `ProxyAnchorLoss(num_classes, embedding_size, margin=0.1, alpha=32)` computes it.
 *
 * Shapes: embeddings X (N×D), labels y_i ∈ [0, C), owned matrix P (C×D, row c = proxy of class c;
 * ownedBlocks = 1). Distance: cosine similarity only, s_ic = x̂_i · p̂_c (both normalized).
 *
 *   pos_c = log(1 + Σ_{i: y_i = c} exp(−α (s_ic − δ)))
 *   neg_c = log(1 + Σ_{i: y_i ≠ c} exp( α (s_ic + δ)))
 *   L     = Σ_c pos_c / #(classes present in the batch)  +  Σ_c neg_c / C
 *
 * (PML: two sub-losses, each with a DivisorReducer, summed.) A class absent from the batch has
 * pos_c = 0 and is not counted in the first divisor; a class that is the whole batch has
 * neg_c = 0 but still counts in C. An empty batch gives 0 with zero gradients.
 * Parameters (PML names and defaults): margin δ = 0.1, alpha α = 32. No miner.
 * Statistics: tuples = the N·C sample–proxy pairs; active = pairs whose exponent is positive,
 * i.e. that sit inside their margin (positive with s < δ, negative with s > −δ).
 * Cost O(N·C·D) time, O(N·C) memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the similarity to
 * the own proxy s_{i,y_i} (the pos_c terms); the other proxies (neg_c) carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class ProxyAnchorLoss final : public Loss {
public:
    explicit ProxyAnchorLoss(Real margin = 0.1, Real alpha = 32.0) : m_margin(margin), m_alpha(alpha) {}

    std::string_view name() const override { return "proxy_anchor"; }
    /// Throws std::invalid_argument if the owned matrix or the labels do not fit (see above).
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_margin;
    Real m_alpha;
};

}  // namespace marginlab

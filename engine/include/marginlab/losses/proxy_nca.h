// SPDX-License-Identifier: MIT
/**
 * ProxyNCA loss (Movshovitz-Attias et al., ICCV 2017) as pytorch-metric-learning's
 * `ProxyNCALoss(num_classes, embedding_size, softmax_scale=1)` computes it.
 *
 * Shapes: embeddings X (N×D), labels y_i ∈ [0, C), owned matrix P (C×D, row c = proxy of class c;
 * ownedBlocks = 1). Default distance (PML's NCALoss default): LpDistance(power=2), normalized,
 * M_ic = ‖x̂_i − p̂_c‖². The distance is configurable as in PML: logits are −σ·M for a distance
 * and +σ·M for a similarity.
 *
 *   q_i = softmax_c(−σ · M_ic)[y_i]
 *   L   = mean over { i : q_i ≠ 0 } of −log q_i
 *
 * q_i is tested for exact zero as PML does (a softmax entry that underflows, which happens for
 * large σ: exp below ≈ e^−745 in double); those samples drop out of the mean (PML keeps only the
 * non-zero entries, then MeanReducer). If every q_i is 0 (or N = 0) the loss is 0 with zero
 * gradients. −log q_i itself is computed stably as LSE_c(ℓ_ic) − ℓ_{i,y_i}.
 * Parameter: softmax_scale σ = 1. No miner.
 * Statistics: tuples = N samples; active = samples kept in the mean with a term > 0.
 * Cost O(N·C·D) time, O(N·C) memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the distance to the
 * own proxy; the other proxies carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class ProxyNcaLoss final : public Loss {
public:
    explicit ProxyNcaLoss(Real softmaxScale = 1.0, const DistanceSpec& distance = DistanceSpec::lp(2, true))
        : m_softmaxScale(softmaxScale), m_distance(distance) {}

    std::string_view name() const override { return "proxy_nca"; }
    /// Throws std::invalid_argument if the owned matrix or the labels do not fit (see above).
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_softmaxScale;
    DistanceSpec m_distance;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Soft nearest neighbor loss (Frosst, Papernot, Hinton, "Analyzing and Improving Representations
 * with the Soft Nearest Neighbor Loss", ICML 2019; the loss itself goes back to Salakhutdinov &
 * Hinton 2007). Not in pytorch-metric-learning.
 *
 * Input: embeddings N×D, labels N. With d_ij the distance (default: squared Euclidean on the raw
 * embeddings, LpDistance(p=2, power=2, normalize_embeddings=False), as in the paper;
 * configurable) and temperature T (default 1.0), per anchor i with at least one positive:
 *
 *     ℓ_i = −log( Σ_{j≠i, y_j=y_i} e^{−d_ij/T} / Σ_{k≠i} e^{−d_ik/T} )
 *
 * Loss = mean of ℓ_i over the anchors that have at least one positive; 0 (zero gradient) if no
 * anchor has one. An anchor without negatives has ℓ_i = 0 exactly. For a similarity s (cosine,
 * dot product) −d_ij is replaced by +s_ij (the ordering distance, see distance.h).
 * O(N²) time and memory.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the same-label M_ij,
 * in the numerator and in the denominator; the other-label entries carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class SoftNearestNeighborLoss final : public Loss {
public:
    SoftNearestNeighborLoss(Real temperature, const DistanceSpec& distance);
    std::string_view name() const override { return "soft_nearest_neighbor"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_temperature;
    DistanceSpec m_distance;
};

}  // namespace marginlab

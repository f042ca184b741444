// SPDX-License-Identifier: MIT
/**
 * Decoupled contrastive loss (Yeh et al. 2022, "Decoupled Contrastive Learning"); not in PML.
 *
 * Shapes: embeddings N×D, labels N; no owned parameters. Similarity s_ij = cosine by default;
 * with a distance d instead, s_ij = −d_ij. NT-Xent with the positive removed from the
 * denominator: for every ordered positive pair (a,p), a ≠ p, y_a = y_p,
 *
 *     ℓ_ap = −s_ap/τ + log Σ_{n∈N(a)} exp(s_an/τ)       (N(a) = samples with y_n ≠ y_a)
 *
 * Loss = mean of ℓ_ap over all |P| ordered positive pairs (temperature τ default 0.1).
 * ℓ_ap can be negative (no softplus floor): the positive no longer competes with the negatives,
 * which is the paper's point (removes the negative-positive coupling of the InfoNCE gradient).
 * 0 with zero gradient if there is no positive or no negative pair. Unweighted DCL (the paper's
 * von-Mises-weighted DCLW variant is not offered). No miner.
 *
 * Cost: O(N²·D) time and O(N·D) memory (rows of the similarity matrix are made one at a time).
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the same-label
 * similarities s_ap; the s_an of the LSE carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class DecoupledContrastiveLoss final : public Loss {
public:
    DecoupledContrastiveLoss(Real temperature, const DistanceSpec& distance);
    std::string_view name() const override { return "decoupled_contrastive"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_temperature;
    DistanceSpec m_distance;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * NT-Xent (normalized temperature-scaled cross-entropy), PML `NTXentLoss(temperature=0.07)`.
 *
 * Shapes: embeddings N×D, labels N; no owned parameters. Similarity s_ij = cosine (PML default
 * CosineSimilarity); with a distance d instead, s_ij = −d_ij (PML negates non-inverted distances).
 * For every ordered positive pair (a,p), a ≠ p, y_a = y_p:
 *
 *     ℓ_ap = −log( e^{s_ap/τ} / (e^{s_ap/τ} + Σ_{n∈N(a)} e^{s_an/τ}) )
 *          = softplus( LSE_{n∈N(a)}(s_an/τ) − s_ap/τ )
 *
 * Loss = mean of ℓ_ap over all |P| ordered positive pairs (MeanReducer). The other positives of
 * the anchor are NOT in the denominator (unlike SupCon); with two samples per class this is
 * SimCLR's NT-Xent. 0 with zero gradient if there is no positive or no negative pair.
 * PML adds 2.2e-308 inside the log; in double that changes nothing for any temperature this
 * loss accepts, so the exact softplus form is used (no overflow, no log of an underflow).
 *
 * With mined tuples (pairs, or triplets turned into pairs as PML's convert_to_pairs does) the
 * positive pairs are the mined positive pairs (duplicates count) and the negatives of (a,p) are
 * the mined negative pairs whose anchor is a (duplicates count); a pair whose anchor has no mined
 * negative contributes 0 but still counts in the mean. PML's GenericPairLoss rule applies first:
 * if both lists have ≤ 1 entry the loss is 0. A gap-filtered Tuples::Kind::All (the triplet
 * margin miner) is not listed triplet by triplet: each pair is weighted by how many kept
 * triplets use it, which is the same sum.
 *
 * Cost: O(N²·D) time and O(N·D) memory without a miner (rows of the similarity matrix are
 * made one at a time); O(N² log N) time and O(N²) memory with a miner.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the same-label
 * similarities s_ap, at both ends; the s_an of the denominator carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class NTXentLoss final : public Loss {
public:
    NTXentLoss(Real temperature, const DistanceSpec& distance);
    std::string_view name() const override { return "ntxent"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;
    LossOutput evaluateAllPairs(const LossInput& input, bool withGradient) const;
    LossOutput evaluateMinedPairs(const LossInput& input, bool withGradient) const;

    Real m_temperature;
    DistanceSpec m_distance;
};

}  // namespace marginlab

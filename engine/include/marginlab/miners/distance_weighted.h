// SPDX-License-Identifier: MIT
/**
 * distance_weighted — PML's DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4)
 * (Wu et al. 2017, "Sampling matters"), as PML implements it.
 *
 * Distance: always normalized L2, power 1 (d ∈ [0, 2]); the weights are the inverse density of
 * distances between points uniform on the unit sphere, meaningless for any other distance, and
 * PML asserts this distance too — a different distance passed in is ignored.
 * With D = embedding dimension and d̃_an = max(d_an, cutoff):
 *   log w_an = (2 − D)·log d̃_an − ((D − 3)/2)·log(1 − d̃_an²/4)
 *   w_an = exp(log w_an − max_n log w_an)  for y_n ≠ y_a and d̃_an < nonzero_loss_cutoff,
 *   w_an = 0 otherwise, and also where log w_an is not finite (d̃ → 2, or 0·log 0 for D = 2/3),
 * normalised over n per anchor. For every ordered positive pair (a,p) (anchors ascending, then p
 * ascending) one negative n is drawn with probability w_an / Σ_n' w_an'; pairs whose anchor has
 * no weight are skipped. Output: Kind::Triplets.
 * Random: Rng seeded with MinerInput::seed, one draw of 53 bits per pair.
 * With a reference set (CrossBatchMemory), anchors come from the batch and positives and
 * negatives from the reference, d measured batch → reference; no positive is skipped as the
 * anchor's own row (PML's get_random_triplet_indices with ref_labels needs one positive, not two).
 * Deviations from PML, both on purpose: PML draws |class| positives per anchor at random with
 * replacement; here every ordered positive pair gets one negative (deterministic coverage).
 * PML subtracts one global maximum of the log-weights; here the maximum is per anchor (same
 * normalised weights, but no anchor row can underflow to all zeros).
 */
#pragma once

#include "marginlab/miner.h"

#include <vector>

namespace marginlab {

class DistanceWeightedMiner final : public Miner {
public:
    DistanceWeightedMiner(Real cutoff, Real nonzeroLossCutoff) : m_cutoff(cutoff), m_nonzeroLossCutoff(nonzeroLossCutoff) {}

    std::string_view name() const override { return "distance_weighted"; }
    Tuples mine(const MinerInput& input) const override;

    /// The normalised sampling weights (N×N; row a sums to 1, or is all zero if a has no weight).
    Matrix weights(const Points& embeddings, const Labels& labels) const;

private:
    /// Row a of weights() from the anchors × others distance matrix (others: the batch itself
    /// or a reference set, labelled `otherLabels`); returns false if the row has no weight.
    bool anchorWeights(const Matrix& distances, const Labels& labels, const Labels& otherLabels,
                       Real dimension, int anchor, std::vector<Real>* out) const;

    Real m_cutoff;
    Real m_nonzeroLossCutoff;
};

}  // namespace marginlab

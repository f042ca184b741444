// SPDX-License-Identifier: MIT
// Internal helpers of the contrastive-family losses (angular, npairs, ntxent, supcon,
// decoupled_contrastive): numerically safe scalar functions and the pair masks of a batch.
#pragma once

#include "marginlab/loss.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace marginlab::detail {

/// log(1 + eᵛ) without overflow for large v and without the torch threshold (exact in double).
inline Real stableSoftplus(Real v) { return v > 0.0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }
/// 1 / (1 + e⁻ᵛ), the derivative of stableSoftplus.
inline Real logistic(Real v) {
    if (v >= 0.0) return 1.0 / (1.0 + std::exp(-v));
    const Real e = std::exp(v);
    return e / (1.0 + e);
}

/**
 * Dense N×N positive / negative masks (row = anchor) of mined pair lists: PML's mat-based pair
 * losses set mask[a, j] = 1 per listed pair, so duplicates collapse. Only for mined tuples (the
 * all-pairs paths never build an N×N structure).
 */
struct PairMasks {
    Eigen::Index size = 0;
    std::vector<std::uint8_t> positive;  // row-major N×N
    std::vector<std::uint8_t> negative;
    Count positiveCount = 0;  // set entries
    Count negativeCount = 0;

    bool isPositive(Eigen::Index a, Eigen::Index j) const { return positive[static_cast<std::size_t>(a * size + j)] != 0; }
    bool isNegative(Eigen::Index a, Eigen::Index j) const { return negative[static_cast<std::size_t>(a * size + j)] != 0; }
};

/// Masks of the listed pairs (the lists of materializePairs).
PairMasks listedPairMasks(Eigen::Index size, const std::vector<Pair>& positives, const std::vector<Pair>& negatives);

/**
 * The similarity matrix of the all-pairs losses, one anchor row at a time, with its backward pass
 * accumulated row by row: O(N·D) memory, so no N×N matrix is ever allocated (fresh N×N buffers
 * page-fault at every call, which costs more than the arithmetic at N = 1024).
 * s_aj = e_a·e_j for similarities, −‖e_a − e_j‖^power for Lp distances (PML negates
 * non-inverted distances), e = normalized rows when the spec normalizes. Values and gradients
 * equal SelfDistance's (a zero distance gets the subgradient 0, as there).
 */
class RowSimilarities {
public:
    RowSimilarities(const DistanceSpec& spec, const Points& x);
    Eigen::Index size() const { return m_embedded.rows(); }
    /// s_a· into `out` (resized to N).
    void row(Eigen::Index a, Vector& out) const;
    /// Adds the effect of ∂L/∂s_a· (`gradRow`, size N) on the embeddings.
    void addRowGradient(Eigen::Index a, const Vector& gradRow);
    /// ∂L/∂x (N×D): everything added so far, taken back through the normalization.
    Points gradient() const;

private:
    DistanceSpec m_spec;
    Vector m_norms;  // before m_embedded: filled together
    Points m_embedded;
    Points m_gradEmbedded;
    mutable Vector m_distances;  // scratch for the Lp backward
};

/// The members (ascending indices) of each distinct label, labels ascending.
std::vector<std::vector<int>> groupByLabel(const Labels& labels);
/// Σ_c |c|(|c|−1): the number of ordered positive pairs of the groups.
Count orderedPositivePairs(const std::vector<std::vector<int>>& groups);

/// PML GenericPairLoss's early exit: every index list has length ≤ 1 → the loss is 0.
inline bool tooFewMinedPairs(const std::vector<Pair>& positives, const std::vector<Pair>& negatives) {
    return positives.size() <= 1 && negatives.size() <= 1;
}

}  // namespace marginlab::detail

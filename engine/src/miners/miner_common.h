// SPDX-License-Identifier: MIT
// Building blocks shared by the miners (internal header): ordering distances, the seeded
// random source and per-anchor sorted negatives.
#pragma once

#include "marginlab/distance.h"
#include "marginlab/types.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace marginlab::detail {

/**
 * δ = orderSign · M of the miner's distance, so that "closer" is always "smaller δ". Read through
 * the sign instead of copied: large fresh matrices are expensive to touch. Negation is exact, so
 * comparisons on δ give the same answers as PML's flipped comparisons on M.
 */
class OrderingDistances {
public:
    OrderingDistances(const DistanceSpec& spec, const Points& embeddings)
        : m_distance(spec, embeddings), m_sign(spec.orderSign()) {}

    Real operator()(Eigen::Index i, Eigen::Index j) const { return m_sign * m_distance.matrix()(i, j); }
    const Matrix& matrix() const { return m_distance.matrix(); }  ///< M itself
    Real sign() const { return m_sign; }

private:
    SelfDistance m_distance;
    Real m_sign;
};

/// A negative of an anchor with its ordering distance: (δ_an, n).
using RankedNegative = std::pair<Real, int>;

/**
 * The negatives of `anchor` (labels differing from the anchor's) as (δ_an, n), sorted
 * lexicographically: ties in δ are ordered by index, which makes every "first of the ties" choice
 * pick the lowest index. The pairs are contiguous so the O(N log N) sort stays cache-friendly.
 */
void sortedNegatives(const OrderingDistances& delta, const Labels& labels, int anchor, std::vector<RankedNegative>* out);

}  // namespace marginlab::detail

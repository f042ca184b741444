// SPDX-License-Identifier: MIT
// Building blocks shared by the miners (internal header): ordering distances, the seeded
// random source and per-anchor sorted negatives.
#pragma once

#include "marginlab/distance.h"
#include "marginlab/types.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace marginlab::detail {

/// δ = orderSign · M of the miner's distance, so that "closer" is always "smaller δ".
Matrix orderingDistances(const DistanceSpec& spec, const Points& embeddings);

/**
 * The miners' random source. std::mt19937_64's output sequence is fixed by the C++ standard,
 * but the std::*_distribution algorithms are not; drawing from the raw 64-bit outputs ourselves
 * keeps "same seed ⇒ same tuples" true across standard libraries.
 */
class MinerRandom {
public:
    explicit MinerRandom(std::uint64_t seed) : m_engine(seed) {}

    /// Uniform in {0, …, count − 1} (count ≥ 1), by rejection: no modulo bias.
    std::size_t index(std::size_t count);
    /// Uniform in [0, 1) on the grid k·2⁻⁵³.
    Real unit();

private:
    std::mt19937_64 m_engine;
};

/**
 * The negatives of `anchor` (labels differing from the anchor's) sorted by (δ_an, n): ties in δ
 * are ordered by index, which makes every "first of the ties" choice pick the lowest index.
 */
void sortedNegatives(const Matrix& delta, const Labels& labels, int anchor, std::vector<int>* out);

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "marginlab/random.h"

#include <cmath>
#include <numbers>

namespace marginlab {

std::uint64_t Rng::deriveSeed(std::uint64_t seed, std::uint64_t stream) {
    // SplitMix64 finaliser over a combination of both inputs: nearby (seed, stream) pairs give
    // unrelated mt19937_64 seeds.
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double Rng::normal() {
    if (m_hasCachedNormal) {
        m_hasCachedNormal = false;
        return m_cachedNormal;
    }
    // 1 − uniform() lies in (0, 1], so the logarithm is finite.
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    m_cachedNormal = radius * std::sin(angle);
    m_hasCachedNormal = true;
    return radius * std::cos(angle);
}

}  // namespace marginlab

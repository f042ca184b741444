// SPDX-License-Identifier: MIT
/**
 * A small, portable random-number layer.
 *
 * std::mt19937_64 is specified bit-for-bit by the standard, but the std::*_distribution classes and
 * std::shuffle are not: libstdc++, libc++ and MSVC turn the same engine output into different
 * numbers. Everything here is built from the raw 64-bit engine output with fixed arithmetic, so the
 * same seed gives the same sequence on every standard library (up to the last-bit accuracy of
 * std::log / std::sin / std::cos used by normal(), which IEEE does not pin down).
 */
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace marginlab {

/// Uniform in {0, …, n−1} from 64-bit words next() (n ≥ 1; none consumed for n = 1): Rng::uniformInt's
/// rule, shared with the engine's block-at-a-time word source so that both draw the same numbers.
/// 2⁶⁴ mod n words at the bottom of the range would be over-represented by `r % n`: they are
/// rejected. That threshold is below n, so r ≥ n passes without it: its division (half the cost
/// of a draw in FaceNet's serial pass) is only needed for r < n, almost never.
template <typename NextWord>
std::uint64_t uniformIntFromWords(std::uint64_t n, NextWord&& next) {
    if (n <= 1) return 0;
    for (;;) {
        const std::uint64_t r = next();
        if (r >= n || r >= (0 - n) % n) return r % n;
    }
}

class Rng {
public:
    explicit Rng(std::uint64_t seed = 1) : m_engine(seed) {}

    /// A seed for an independent sub-stream: SplitMix64 of (seed, stream), so that e.g. the label
    /// noise of a data set does not shift the positions when its fraction changes.
    static std::uint64_t deriveSeed(std::uint64_t seed, std::uint64_t stream);

    /// The raw 64 bits of the engine.
    std::uint64_t next() { return m_engine(); }

    /// Uniform in [0, 1): the 53 high bits times 2⁻⁵³ (every value a multiple of 2⁻⁵³).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform in [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    /// Standard normal by Box–Muller; the second value of each pair is cached for the next call.
    double normal();

    double normal(double mean, double standardDeviation) { return mean + standardDeviation * normal(); }

    /// Uniform in {0, …, n−1} without modulo bias (rejection of the short top range); n ≥ 1.
    std::uint64_t uniformInt(std::uint64_t n) {
        return uniformIntFromWords(n, [this] { return next(); });
    }

    /// Fisher–Yates with uniformInt (std::shuffle's algorithm is unspecified).
    template <typename T>
    void shuffle(std::vector<T>& values) {
        for (std::size_t i = values.size(); i > 1; --i) {
            const auto j = static_cast<std::size_t>(uniformInt(i));
            using std::swap;
            swap(values[i - 1], values[j]);
        }
    }

private:
    std::mt19937_64 m_engine;
    double m_cachedNormal = 0.0;
    bool m_hasCachedNormal = false;
};

}  // namespace marginlab

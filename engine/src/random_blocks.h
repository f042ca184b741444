// SPDX-License-Identifier: MIT
// std::mt19937_64's words a block at a time, and Rng::uniformInt's draws from them (internal
// header; NCE's noise draws in losses/nce_draws.h, FaceNet's negatives in
// miners/facenet_semihard.cpp, issue 13).
//
// Rng draws through std::mt19937_64 one word per call, its refill of 312 words a scalar loop. Here
// the same words come in the same order, a block of 312 at a time from the vector unit
// (simd::Kernels::mersenneTwist64, integer operations), so the draws made from them are Rng's draw
// for draw (tests/engine/nce_draws_test.cpp).
#pragma once

#include <cstdint>

#include "marginlab/random.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

/// std::mt19937_64 seeded with `seed`, word for word, a block of kWords words at a time.
class MersenneBlocks {
public:
    static constexpr int kWords = 312;

    MersenneBlocks() = default;
    explicit MersenneBlocks(std::uint64_t seed) { reseed(seed); }
    /// Starts over as std::mt19937_64(seed) would.
    void reseed(std::uint64_t seed) {
        // [rand.eng.mers]: x_0 = seed, x_i = f·(x_{i−1} xor (x_{i−1} >> (w − 2))) + i.
        m_state[0] = seed;
        for (int i = 1; i < kWords; ++i)
            m_state[i] =
                6364136223846793005ULL * (m_state[i - 1] ^ (m_state[i - 1] >> 62)) + std::uint64_t(i);
    }
    /// The next kWords words of the engine's output.
    const std::uint64_t* next(const simd::Kernels& kernels) {
        kernels.mersenneTwist64(m_state, m_words);
        return m_words;
    }

private:
    std::uint64_t m_state[kWords];
    std::uint64_t m_words[kWords];
};

/**
 * r mod n for a fixed n ≥ 1 and any 64-bit r, with a multiplication, additions and shifts
 * instead of a division (Granlund & Montgomery, "Division by invariant integers using
 * multiplication", 1994, fig. 4.1: m' = ⌊2⁶⁴(2ˡ − n)/n⌋ + 1, l = ⌈log₂ n⌉, and
 * q = (t + ((r − t) >> 1)) >> (l − 1) (both shifts 0 for n = 1) with t = ⌊m'·r / 2⁶⁴⌋ is ⌊r/n⌋ exactly).
 */
class ExactRemainder {
public:
    explicit ExactRemainder(std::uint64_t n) : m_divisor(n) {
        // l = ⌈log₂ n⌉ (0 for n = 1, where the two shifts are 0 and the quotient is r itself).
        const int l = n <= 1 ? 0 : 64 - __builtin_clzll(n - 1);
        const std::uint64_t power = l == 64 ? 0 : std::uint64_t{1} << l;  // 2ˡ mod 2⁶⁴
        m_multiplier = static_cast<std::uint64_t>((static_cast<Wide>(power - n) << 64) / n) + 1;
        m_firstShift = l > 0 ? 1 : 0;
        m_secondShift = l > 0 ? l - 1 : 0;
    }
    std::uint64_t operator()(std::uint64_t r) const {
        const auto t = static_cast<std::uint64_t>((static_cast<Wide>(m_multiplier) * r) >> 64);
        const std::uint64_t quotient = (t + ((r - t) >> m_firstShift)) >> m_secondShift;
        return r - quotient * m_divisor;
    }

private:
    __extension__ typedef unsigned __int128 Wide;
    std::uint64_t m_divisor;
    std::uint64_t m_multiplier = 0;
    int m_firstShift = 0;
    int m_secondShift = 0;
};

/**
 * Rng(seed)'s words and its uniformInt draws, word for word, the words made a block at a time.
 * One per thread, re-seeded per stream: it holds 5 KB of state.
 */
class BlockRng {
public:
    BlockRng() : m_kernels(&simd::kernels()) {}
    void seed(std::uint64_t seed) {
        m_blocks.reseed(seed);
        m_next = MersenneBlocks::kWords;
    }
    std::uint64_t next() {
        if (m_next == MersenneBlocks::kWords) {
            m_words = m_blocks.next(*m_kernels);
            m_next = 0;
        }
        return m_words[m_next++];
    }
    /// Rng::uniformInt(n), from these words.
    std::uint64_t uniformInt(std::uint64_t n) {
        return uniformIntFromWords(n, [this] { return next(); });
    }

private:
    const simd::Kernels* m_kernels;
    MersenneBlocks m_blocks;
    const std::uint64_t* m_words = nullptr;
    int m_next = MersenneBlocks::kWords;
};

}  // namespace marginlab::detail

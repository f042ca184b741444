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
 * Rng(seed)'s words and its uniformInt draws, word for word, the words made a block at a time.
 * One per thread, re-seeded per stream: it holds 5 KB of state. seed() before the first draw.
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

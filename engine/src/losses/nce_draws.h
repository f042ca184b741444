// SPDX-License-Identifier: MIT
// NCE's noise draws in bulk (internal header; losses/nce.cpp, issue 13).
//
// NoiseContrastiveSampler draws through Rng: std::mt19937_64 one word per call, then
// Rng::uniformInt's rejection and a 64-bit division per draw. Here the very same draws come
// from the same words in the same order, only produced faster: the engine's words a block of 312
// at a time on the vector unit (simd::Kernels::mersenneTwist64, integer operations, the same
// words as std::mt19937_64), and r mod n by a multiplication instead of a division (exact for
// every 64-bit r). Tested draw for draw against the sampler (tests/engine/nce_draws_test.cpp).
#pragma once

#include <cstdint>

#include "marginlab/random.h"
#include "random_blocks.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

/**
 * The first `total` draws of NoiseContrastiveSampler(seed, anchor).drawIndex(count), in order:
 * visit(index) for each, index in [0, count). Rng::uniformInt's rule draw for draw: a word r below
 * (2⁶⁴ − count) mod count is rejected, else the draw is r mod count; count ≤ 1 draws 0 without
 * consuming a word.
 */
template <typename Visit>
void drawNoiseIndices(std::uint64_t seed, int anchor, std::uint64_t count, std::int64_t total,
                      Visit&& visit) {
    if (count <= 1) {
        for (std::int64_t k = 0; k < total; ++k) visit(std::uint64_t{0});
        return;
    }
    const simd::Kernels& kernels = simd::kernels();
    MersenneBlocks words(Rng::deriveSeed(seed, static_cast<std::uint64_t>(anchor)));
    const ExactRemainder remainder(count);
    const std::uint64_t threshold = (0 - count) % count;
    std::int64_t left = total;
    while (left > 0) {
        const std::uint64_t* block = words.next(kernels);
        // Rejections are rare (probability threshold / 2⁶⁴ < count / 2⁶⁴): a predictable branch.
        for (int k = 0; k < MersenneBlocks::kWords && left > 0; ++k) {
            const std::uint64_t r = block[k];
            if (r < threshold) [[unlikely]]
                continue;
            visit(remainder(r));
            --left;
        }
    }
}

}  // namespace marginlab::detail

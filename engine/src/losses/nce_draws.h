// SPDX-License-Identifier: MIT
// NCE's noise draws in bulk (internal header; losses/nce.cpp, issue 13).
//
// NoiseContrastiveSampler draws through Rng: std::mt19937_64 one word per call, then
// Rng::uniformInt's rejection and a 64-bit division per draw. Here the very same draws come
// from the same words in the same order, only produced faster: the engine's words a block of 312
// at a time on the vector unit (simd::Kernels::mersenneTwist64, integer operations, the same
// words as std::mt19937_64), and r mod n by a multiplication instead of a division (exact for
// every 64-bit r), eight words at a time on the vector unit. Tested draw for draw against the
// sampler (tests/engine/nce_draws_test.cpp).
#pragma once

#include <cstdint>

#include "marginlab/random.h"
#include "random_blocks.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

/**
 * The constants of r mod n by a multiplication, additions and shifts instead of a division, exact
 * for a fixed n ≥ 1 and every 64-bit r (Granlund & Montgomery, "Division by invariant integers
 * using multiplication", 1994, fig. 4.1: m' = ⌊2⁶⁴(2ˡ − n)/n⌋ + 1, l = ⌈log₂ n⌉, and
 * q = (t + ((r − t) >> 1)) >> (l − 1) (both shifts 0 for n = 1) with t = ⌊m'·r / 2⁶⁴⌋ is ⌊r/n⌋
 * exactly), for simd::Kernels::wordRemainders. Words below `threshold` count as rejected.
 */
inline simd::RemainderMagic remainderMagic(std::uint64_t n, std::uint64_t threshold) {
    __extension__ typedef unsigned __int128 Wide;
    // l = ⌈log₂ n⌉ (0 for n = 1, where the two shifts are 0 and the quotient is r itself).
    const int l = n <= 1 ? 0 : 64 - __builtin_clzll(n - 1);
    const std::uint64_t power = l == 64 ? 0 : std::uint64_t{1} << l;  // 2ˡ mod 2⁶⁴
    simd::RemainderMagic magic;
    magic.divisor = n;
    magic.multiplier = static_cast<std::uint64_t>((static_cast<Wide>(power - n) << 64) / n) + 1;
    magic.firstShift = l > 0 ? 1 : 0;
    magic.secondShift = l > 0 ? l - 1 : 0;
    magic.threshold = threshold;
    return magic;
}

/**
 * The first `total` draws of NoiseContrastiveSampler(seed, anchor).drawIndex(count), in order:
 * visit(index) for each, index in [0, count). Rng::uniformInt's rule draw for draw: a word r below
 * (2⁶⁴ − count) mod count is rejected, else the draw is r mod count; count ≤ 1 draws 0 without
 * consuming a word. The remainders of a block's words come from the vector unit
 * (simd::Kernels::wordRemainders): one word at a time, the draws were about a third of NCE's
 * own time on an Ice Lake.
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
    const std::uint64_t threshold = (0 - count) % count;
    const simd::RemainderMagic magic = remainderMagic(count, threshold);
    std::uint64_t drawn[MersenneBlocks::kWords];
    std::int64_t left = total;
    while (left > 0) {
        const std::uint64_t* block = words.next(kernels);
        const int take = left < MersenneBlocks::kWords ? static_cast<int>(left) : MersenneBlocks::kWords;
        // Rejections are rare (probability threshold / 2⁶⁴ < count / 2⁶⁴): without one, the
        // draws are the remainders of the first `take` words.
        if (kernels.wordRemainders(block, take, magic, drawn)) {
            for (int k = 0; k < take; ++k) visit(drawn[k]);
            left -= take;
            continue;
        }
        kernels.wordRemainders(block, MersenneBlocks::kWords, magic, drawn);
        for (int k = 0; k < MersenneBlocks::kWords && left > 0; ++k) {
            if (block[k] < threshold) continue;
            visit(drawn[k]);
            --left;
        }
    }
}

}  // namespace marginlab::detail

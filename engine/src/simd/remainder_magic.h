// SPDX-License-Identifier: MIT
// The constants of an exact remainder by multiplication (internal header; see dispatch.h,
// wordRemainders, and losses/nce_draws.h, remainderMagic). Plain data only: the vector units
// include it (no inline function may be compiled there).
#pragma once

#include <cstdint>

namespace marginlab::detail::simd {

/// r mod divisor = r − q·divisor with q = (t + ((r − t) >> firstShift)) >> secondShift and
/// t = ⌊multiplier·r / 2⁶⁴⌋ (Granlund & Montgomery's fig. 4.1; remainderMagic derives them).
/// Words below `threshold` are the ones Rng::uniformInt rejects.
struct RemainderMagic {
    std::uint64_t divisor = 1;
    std::uint64_t multiplier = 0;
    int firstShift = 0;
    int secondShift = 0;
    std::uint64_t threshold = 0;
};

}  // namespace marginlab::detail::simd

// SPDX-License-Identifier: MIT
// e^v for a whole row of shifted exponents at once (internal header).
//
// The dense pair losses take one exponential per pair: N² of them, the bulk of their time. glibc's
// exp is one value at a time; this one runs two lanes with SSE2 (the x86-64 baseline), with the
// same operations in the same order on the portable path, so both give the same bits (no fused
// multiply-add on either: the x86-64 baseline has none; tests/engine/exp_row_test.cpp checks
// the two paths against each other bit for bit).
//
// Method: v = k·ln2 + r with k = round(v/ln2) (the 1.5·2⁵² shifter trick), ln2 split in two so
// that k·ln2_hi is exact (Cody–Waite), |r| ≤ 0.347; e^r by its Taylor series to r¹³ (remainder
// below 10⁻¹⁷ relative), in Horner form; 2^k put straight into the exponent bits. Error: a few
// ulp, against glibc's < 1 ulp; the tests bound it at 4 ulp on [−700, 0] and compare the losses
// with their plain references as before.
#pragma once

#include "marginlab/types.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
#include <emmintrin.h>
#endif

namespace marginlab::detail {

namespace expconst {
inline constexpr double kLog2e = 1.4426950408889634;            // 1/ln2
inline constexpr double kShifter = 6755399441055744.0;          // 1.5·2⁵²: adding it rounds to an integer
inline constexpr double kLn2High = 6.93147180369123816490e-01;  // ln2's leading 32 bits (fdlibm)
inline constexpr double kLn2Low = 1.90821492927058770002e-10;   // ln2 − kLn2High
inline constexpr double kFlush = -700.0;                        // below: exactly 0 (as shiftedExp)
inline constexpr std::int64_t kOneBits = 0x3ff0000000000000;    // the bits of 1.0
// 1/k! for k = 0..13, correctly rounded by the compiler.
inline constexpr double kInverseFactorial[14] = {
    1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0, 1.0 / 40320.0,
    1.0 / 362880.0, 1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0, 1.0 / 6227020800.0};
}  // namespace expconst

/// e^v for v ≤ 709, with v < −700 flushed to exactly 0 (see shiftedExp: below double precision
/// next to a row's largest term, and subnormal results would slow every later product). NaN
/// stays NaN. The portable form, one value: the SIMD lanes compute exactly this.
inline Real rowExp(Real v) {
    using namespace expconst;
    const Real scaled = v * kLog2e;
    const Real shifted = scaled + kShifter;
    const Real k = shifted - kShifter;
    const Real high = k * kLn2High;
    const Real low = k * kLn2Low;
    const Real r = (v - high) - low;
    Real p = kInverseFactorial[13];
    for (int i = 12; i >= 0; --i) {
        const Real product = p * r;
        p = product + kInverseFactorial[i];
    }
    std::int64_t bits = 0;
    std::memcpy(&bits, &shifted, sizeof bits);
    // The low mantissa bits of `shifted` hold 2⁵¹ + k; shifted left by 52 only k remains,
    // in the exponent field (two's complement wraps away everything above).
    const std::int64_t scaleBits = static_cast<std::int64_t>(static_cast<std::uint64_t>(bits) << 52) + kOneBits;
    Real scale = 0.0;
    std::memcpy(&scale, &scaleBits, sizeof scale);
    const Real result = p * scale;
    return v < kFlush ? 0.0 : result;
}

/// values[j] = rowExp(values[j]) for j in [0, n).
inline void expRowInPlace(Real* values, Eigen::Index n) {
    Eigen::Index j = 0;
#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
    using namespace expconst;
    const __m128d log2e = _mm_set1_pd(kLog2e), shifter = _mm_set1_pd(kShifter);
    const __m128d ln2High = _mm_set1_pd(kLn2High), ln2Low = _mm_set1_pd(kLn2Low);
    const __m128d flush = _mm_set1_pd(kFlush);
    const __m128i one = _mm_set1_epi64x(kOneBits);
    for (; j + 2 <= n; j += 2) {
        const __m128d v = _mm_loadu_pd(values + j);
        const __m128d shifted = _mm_add_pd(_mm_mul_pd(v, log2e), shifter);
        const __m128d k = _mm_sub_pd(shifted, shifter);
        const __m128d r = _mm_sub_pd(_mm_sub_pd(v, _mm_mul_pd(k, ln2High)), _mm_mul_pd(k, ln2Low));
        __m128d p = _mm_set1_pd(kInverseFactorial[13]);
        for (int i = 12; i >= 0; --i) p = _mm_add_pd(_mm_mul_pd(p, r), _mm_set1_pd(kInverseFactorial[i]));
        const __m128i scaleBits = _mm_add_epi64(_mm_slli_epi64(_mm_castpd_si128(shifted), 52), one);
        const __m128d result = _mm_mul_pd(p, _mm_castsi128_pd(scaleBits));
        // v < −700 → 0; NaN compares false and keeps its NaN result.
        _mm_storeu_pd(values + j, _mm_andnot_pd(_mm_cmplt_pd(v, flush), result));
    }
#endif
    for (; j < n; ++j) values[j] = rowExp(values[j]);
}

}  // namespace marginlab::detail

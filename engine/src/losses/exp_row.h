// SPDX-License-Identifier: MIT
// e^v for a whole row of shifted exponents at once (internal header).
//
// The dense pair losses take one exponential per pair: N² of them, the bulk of their time. glibc's
// exp is one value at a time; this one runs two lanes with SSE2 (the x86-64 baseline), with the
// same operations in the same order on the portable path, so both give the same bits (no fused
// multiply-add on either: the x86-64 baseline has none; tests/engine/exp_row_test.cpp checks
// the two paths against each other bit for bit).
//
// Method: v = (64m + i)·ln2/64 + r with 64m + i = round(64v/ln2) (the 1.5·2⁵² shifter trick),
// ln2/64 split in two so that k·ln2/64_high is exact (Cody–Waite), |r| ≤ ln2/128 ≈ 0.0054;
// e^v = 2^m · 2^(i/64) · e^r with 2^(i/64) from a 64-entry table (glibc's exp2, < 1 ulp), e^r by
// its Taylor series to r⁶ (remainder below 10⁻¹⁹ relative) in Horner form, 2^m added straight
// into the exponent bits. Error: a few ulp against glibc's < 1 ulp; the tests bound it at 4 ulp
// on [−700, 709] and compare the losses with their plain references as before.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "marginlab/types.h"

#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
#include <emmintrin.h>
#endif

namespace marginlab::detail {

namespace expconst {
inline constexpr double kScale = 92.33248261689366;     // 64/ln2
inline constexpr double kShifter = 6755399441055744.0;  // 1.5·2⁵²: adding it rounds to an integer
inline constexpr double kStepHigh =
    6.93147180369123816490e-01 / 64.0;  // ln2/64's leading 32 bits (fdlibm's split)
inline constexpr double kStepLow = 1.90821492927058770002e-10 / 64.0;  // ln2/64 − kStepHigh
inline constexpr double kFlush = -700.0;                               // below: exactly 0 (as shiftedExp)
// 1/k! for k = 0..6, correctly rounded by the compiler.
inline constexpr double kInverseFactorial[7] = {1.0,        1.0,         1.0 / 2.0,  1.0 / 6.0,
                                                1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0};
/// The bits of 2^(i/64), i = 0..63.
inline const std::array<std::int64_t, 64> kTable = [] {
    std::array<std::int64_t, 64> table{};
    for (int i = 0; i < 64; ++i) {
        const double value = std::exp2(i / 64.0);
        std::memcpy(&table[static_cast<std::size_t>(i)], &value, sizeof value);
    }
    return table;
}();
}  // namespace expconst

/// e^v for v ≤ 709, with v < −700 flushed to exactly 0 (see shiftedExp: below double precision
/// next to a row's largest term, and subnormal results would slow every later product). NaN
/// stays NaN. The portable form, one value: the SIMD lanes compute exactly this.
inline Real rowExp(Real v) {
    using namespace expconst;
    const Real scaled = v * kScale;
    const Real shifted = scaled + kShifter;
    const Real k = shifted - kShifter;
    const Real high = k * kStepHigh;
    const Real low = k * kStepLow;
    const Real r = (v - high) - low;
    Real p = kInverseFactorial[6];
    for (int i = 5; i >= 0; --i) {
        const Real product = p * r;
        p = product + kInverseFactorial[i];
    }
    std::uint64_t bits = 0;
    std::memcpy(&bits, &shifted, sizeof bits);
    // The low mantissa bits of `shifted` hold k = 64m + i (two's complement, over 2⁵¹): the low
    // 6 bits are i, and the rest shifted by 46 puts m in the exponent field (everything above
    // wraps away).
    const std::uint64_t index = bits & 63u;
    const std::uint64_t scaleBits =
        static_cast<std::uint64_t>(kTable[index]) + ((bits & ~std::uint64_t(63)) << 46);
    Real scale = 0.0;
    std::memcpy(&scale, &scaleBits, sizeof scale);
    const Real result = scale * p;
    return v < kFlush ? 0.0 : result;
}

/// values[j] = rowExp(values[j]) for j in [0, n).
inline void expRowInPlace(Real* values, Eigen::Index n) {
    Eigen::Index j = 0;
#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
    using namespace expconst;
    const __m128d scaleFactor = _mm_set1_pd(kScale), shifter = _mm_set1_pd(kShifter);
    const __m128d stepHigh = _mm_set1_pd(kStepHigh), stepLow = _mm_set1_pd(kStepLow);
    const __m128d flush = _mm_set1_pd(kFlush);
    const __m128i indexMask = _mm_set1_epi64x(63);
    for (; j + 2 <= n; j += 2) {
        const __m128d v = _mm_loadu_pd(values + j);
        const __m128d shifted = _mm_add_pd(_mm_mul_pd(v, scaleFactor), shifter);
        const __m128d k = _mm_sub_pd(shifted, shifter);
        const __m128d r = _mm_sub_pd(_mm_sub_pd(v, _mm_mul_pd(k, stepHigh)), _mm_mul_pd(k, stepLow));
        __m128d p = _mm_set1_pd(kInverseFactorial[6]);
        for (int i = 5; i >= 0; --i) p = _mm_add_pd(_mm_mul_pd(p, r), _mm_set1_pd(kInverseFactorial[i]));
        const __m128i bits = _mm_castpd_si128(shifted);
        const __m128i index = _mm_and_si128(bits, indexMask);
        const auto low = static_cast<std::size_t>(_mm_cvtsi128_si32(index));
        const auto high = static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(index, index)));
        const __m128i table = _mm_set_epi64x(kTable[high], kTable[low]);
        const __m128i scaleBits = _mm_add_epi64(table, _mm_slli_epi64(_mm_andnot_si128(indexMask, bits), 46));
        const __m128d result = _mm_mul_pd(_mm_castsi128_pd(scaleBits), p);
        // v < −700 → 0; NaN compares false and keeps its NaN result.
        _mm_storeu_pd(values + j, _mm_andnot_pd(_mm_cmplt_pd(v, flush), result));
    }
#endif
    for (; j < n; ++j) values[j] = rowExp(values[j]);
}

}  // namespace marginlab::detail

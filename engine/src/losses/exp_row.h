// SPDX-License-Identifier: MIT
// e^v for a whole row of shifted exponents at once (internal header).
//
// The dense pair losses take one exponential per pair: N² of them, the bulk of their time. glibc's
// exp is one value at a time; this one runs a row in the lanes of the vector unit chosen at
// start-up (simd/kernels_impl.h: SSE2, AVX2 or AVX-512), each lane doing rowExp's operations in
// rowExp's order with no fused multiply-add, so every unit gives rowExp's bits
// (tests/engine/dense_losses_test.cpp and simd_test.cpp check it bit for bit).
//
// Method: v = (64m + i)·ln2/64 + r with 64m + i = round(64v/ln2) (the 1.5·2⁵² shifter trick),
// ln2/64 split in two so that k·ln2/64_high is exact (Cody–Waite), |r| ≤ ln2/128 ≈ 0.0054;
// e^v = 2^m · 2^(i/64) · e^r with 2^(i/64) from a 64-entry table (glibc's exp2, < 1 ulp), e^r by
// its Taylor series to r⁵ (remainder below 4·10⁻¹⁷ relative, a sixth of an ulp) in Estrin's
// grouping, 2^m added straight
// into the exponent bits. Error: a few ulp against glibc's < 1 ulp; the tests bound it at 4 ulp
// on [−700, 709] and compare the losses with their plain references as before.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "marginlab/types.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

namespace expconst {
inline constexpr double kScale = 92.33248261689366;     // 64/ln2
inline constexpr double kShifter = 6755399441055744.0;  // 1.5·2⁵²: adding it rounds to an integer
inline constexpr double kStepHigh =
    6.93147180369123816490e-01 / 64.0;  // ln2/64's leading 32 bits (fdlibm's split)
inline constexpr double kStepLow = 1.90821492927058770002e-10 / 64.0;  // ln2/64 − kStepHigh
inline constexpr double kFlush = -700.0;                               // below: exactly 0 (as shiftedExp)
// 1/k! for k = 0..5, correctly rounded by the compiler.
inline constexpr double kInverseFactorial[6] = {1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0};
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

/// The widest range of exponents a log-sum-exp may shift by a bound instead of by its maximum: the
/// exps then lie in [e^{−600}, 1], far from overflow and from rowExp's flush to 0 (below e^{−700}),
/// so no term is lost that the maximum would keep, and the results differ only by rounding.
inline constexpr double kBoundedShiftRange = 600.0;

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
    // e^r in Estrin's grouping: (c2 + c3·r) and (c4 + c5·r) side by side, so the lanes wait on
    // three multiply-add steps instead of Horner's six; 1 + (r + …) rounds once at the end.
    const Real r2 = r * r;
    const Real second = r * kInverseFactorial[3] + kInverseFactorial[2];
    const Real fourth = r * kInverseFactorial[5] + kInverseFactorial[4];
    const Real p = 1.0 + (r + r2 * (second + r2 * fourth));
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

/// values[j] = rowExp(values[j]) for j in [0, n): the vector unit chosen at start-up
/// (simd/dispatch.h: SSE2 two lanes, AVX2 four, AVX-512 eight, each lane rowExp's operations in
/// rowExp's order, so the same bits on every unit).
inline void expRowInPlace(Real* values, Eigen::Index n) {
    simd::kernels().expInPlace(values, n, expconst::kTable.data());
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
// The batch-all sweep of one anchor, eight negatives at a time (AVX-512; see dispatch.h and
// losses/triplet_sweep.h). Compiled with the AVX-512 unit's flags (engine/CMakeLists.txt), so it
// includes nothing with out-of-line inline functions: <cstdint>, the intrinsics, plain structs.
//
// Each negative z needs two lookups in the positives' cell table: the margin boundary (the first
// sorted positive x with fl(z − x) < m, and with ≤ m) and the hard boundary (the positives below
// z). The scalar loop does them one negative after another, each a chain of dependent loads
// (cell → cell start → values); here eight chains run side by side through gathers. Per lane the
// operations, the comparisons and their confirmation are those of GapTable::firstGapBelowBoth
// and countBelow; a lane the table cannot settle falls back to a binary search over all sorted
// positives, whose answer is the same (the predicate is monotone along them). The violation's
// terms are summed one lane after another in the negatives' order: the scalar loop's bits.
#include <cstdint>
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "simd/sweep_input.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() (a self-initialised variable),
// which -Wuninitialized and -Wmaybe-uninitialized report once inlined: false positives.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace marginlab::detail::simd::avx512 {

namespace {

/// The first k in [0, n) with fl(z − sorted[k]) < bound (≤ if inclusive), n if none: the
/// definition GapTable's lookups answer (losses/triplet_sweep.h, firstGapBelow).
int firstGapBelow(const double* sorted, int n, double z, double bound, bool inclusive) {
    int low = 0, high = n;
    while (low < high) {
        const int mid = low + (high - low) / 2;
        const double gap = z - sorted[mid];
        if (inclusive ? gap <= bound : gap < bound)
            high = mid;
        else
            low = mid + 1;
    }
    return low;
}

struct Table {
    __m512d low, scale, top;
    const double* sorted;
    const int* cellStart;

    /// GapTable::cellOf for eight values: max(t, 0) gives 0 for NaN as maxsd does, then min with
    /// the last cell, truncated.
    __m256i cellOf(__m512d value) const {
        const __m512d t = _mm512_mul_pd(_mm512_sub_pd(value, low), scale);
        return _mm512_cvttpd_epi32(_mm512_min_pd(_mm512_max_pd(t, _mm512_setzero_pd()), top));
    }
    __m512d at(__m256i index) const { return _mm512_i32gather_pd(index, sorted, 8); }
    /// cellStart[cell] and cellStart[cell + 1] of eight cells, as one gather of adjacent pairs.
    void cellRange(__m256i cell, __m256i* begin, __m256i* end) const {
        const __m512i pairs = _mm512_i32gather_epi64(cell, cellStart, 4);
        *begin = _mm512_cvtepi64_epi32(pairs);
        *end = _mm512_cvtepi64_epi32(_mm512_srli_epi64(pairs, 32));
    }
};

/// Adds 1 to the lanes of `count` that `mask` selects.
inline __m256i addOnes(__m256i count, __mmask8 mask) {
    return _mm256_mask_add_epi32(count, mask, count, _mm256_set1_epi32(1));
}

inline __m512i widenSum(__m512i sum, __m256i values, __mmask8 valid) {
    return _mm512_add_epi64(sum, _mm512_cvtepi32_epi64(_mm256_maskz_mov_epi32(valid, values)));
}

}  // namespace

void sweepUnfiltered(const SweepInput& in, int* activeBegins, double* coefficients, SweepTotals* totals) {
    const Table table{_mm512_set1_pd(in.low), _mm512_set1_pd(in.scale), _mm512_set1_pd(in.top), in.sorted,
                      in.cellStart};
    const __m512d sign = _mm512_set1_pd(in.sign);
    const __m512d margin = _mm512_set1_pd(in.margin);
    const __m512d zero = _mm512_setzero_pd();
    const __m512d negativeZero = _mm512_set1_pd(-0.0);
    const __m512d prefixAll = _mm512_set1_pd(in.prefix[in.positives]);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i padding = _mm256_set1_epi32(4);  // GapTable::kPadding
    const __m256i p = _mm256_set1_epi32(in.positives);
    __m512i hard = _mm512_setzero_si512(), semiHard = hard, easy = hard, active = hard;
    double violation = 0.0;
    alignas(64) int strictFrom[8], inclusiveFrom[8], hardFrom[8];
    alignas(64) double zs[8], terms[8];
    for (int t = 0; t < in.count; t += 8) {
        const int lanes = in.count - t < 8 ? in.count - t : 8;
        const __mmask8 valid = static_cast<__mmask8>((1u << lanes) - 1u);
        // Lanes past the end read index 0 and compute harmless values that nothing keeps.
        const __m256i j = _mm256_maskz_loadu_epi32(valid, in.negatives + t);
        const __m512d z = _mm512_mul_pd(sign, _mm512_mask_i32gather_pd(zero, valid, j, in.row, 8));

        // The margin boundary (firstGapBelowBoth): the cell of z − m, its neighbours and 4 slots.
        const __m256i cell = table.cellOf(_mm512_sub_pd(z, margin));
        __m256i begin, end;
        table.cellRange(cell, &begin, &end);
        const __m512d before = _mm512_sub_pd(z, table.at(_mm256_sub_epi32(begin, one)));
        const __m512d after = _mm512_sub_pd(z, table.at(end));
        // "Not <" and "not ≤": the predicates' failures, NaN failing both.
        __mmask8 confirmed = _mm512_cmp_pd_mask(before, margin, _CMP_NLE_UQ) &
                             static_cast<__mmask8>(~_mm512_cmp_pd_mask(after, margin, _CMP_NLT_UQ)) &
                             _mm256_cmp_epi32_mask(_mm256_sub_epi32(end, begin), padding, _MM_CMPINT_LE);
        __m256i strict = begin, inclusive = begin;
        for (int k = 0; k < 4; ++k) {
            const __m512d gap = _mm512_sub_pd(z, table.at(_mm256_add_epi32(begin, _mm256_set1_epi32(k))));
            strict = addOnes(strict, _mm512_cmp_pd_mask(gap, margin, _CMP_NLT_UQ));
            inclusive = addOnes(inclusive, _mm512_cmp_pd_mask(gap, margin, _CMP_NLE_UQ));
        }

        // The hard boundary (countBelow): the positives below z, from z's own cell; z finite.
        const __m256i cellZ = table.cellOf(z);
        __m256i beginZ, endZ;
        table.cellRange(cellZ, &beginZ, &endZ);
        const __mmask8 finite = _mm512_cmp_pd_mask(_mm512_sub_pd(z, z), zero, _CMP_EQ_OQ);
        const __mmask8 confirmedZ =
            finite & _mm256_cmp_epi32_mask(_mm256_sub_epi32(endZ, beginZ), padding, _MM_CMPINT_LE);
        __m256i below = beginZ;
        for (int k = 0; k < 4; ++k)
            below = addOnes(
                below,
                _mm512_cmp_pd_mask(table.at(_mm256_add_epi32(beginZ, _mm256_set1_epi32(k))), z, _CMP_LT_OQ));

        const __mmask8 unsettled = valid & static_cast<__mmask8>(~(confirmed & confirmedZ));
        if (unsettled) {  // rare: crowded cells, boundaries rounded into the next cell, NaN, ±∞
            _mm256_store_si256(reinterpret_cast<__m256i*>(strictFrom), strict);
            _mm256_store_si256(reinterpret_cast<__m256i*>(inclusiveFrom), inclusive);
            _mm256_store_si256(reinterpret_cast<__m256i*>(hardFrom), below);
            _mm512_store_pd(zs, z);
            for (int k = 0; k < lanes; ++k) {
                if (!((unsettled >> k) & 1)) continue;
                if (!((confirmed >> k) & 1)) {
                    strictFrom[k] = firstGapBelow(in.sorted, in.size, zs[k], in.margin, false);
                    inclusiveFrom[k] = firstGapBelow(in.sorted, in.size, zs[k], in.margin, true);
                }
                if (!((confirmedZ >> k) & 1))
                    hardFrom[k] = firstGapBelow(in.sorted, in.size, zs[k], 0.0, true);
            }
            strict = _mm256_load_si256(reinterpret_cast<const __m256i*>(strictFrom));
            inclusive = _mm256_load_si256(reinterpret_cast<const __m256i*>(inclusiveFrom));
            below = _mm256_load_si256(reinterpret_cast<const __m256i*>(hardFrom));
        }

        // The counts of sweepNegatives with the kept range [0, p).
        const __m256i semiFrom = in.semiIncludesMargin ? inclusive : strict;
        hard = widenSum(hard, _mm256_sub_epi32(p, below), valid);
        semiHard = widenSum(
            semiHard, _mm256_max_epi32(_mm256_sub_epi32(below, semiFrom), _mm256_setzero_si256()), valid);
        easy = widenSum(easy, _mm256_min_epi32(semiFrom, below), valid);
        const __m256i activeCount = _mm256_sub_epi32(p, strict);
        active = widenSum(active, activeCount, valid);
        const __m512d count = _mm512_cvtepi32_pd(activeCount);
        // (prefix[p] − prefix[activeFrom]) + activeCount·(m − z), as the scalar loop rounds it.
        const __m512d term =
            _mm512_add_pd(_mm512_sub_pd(prefixAll, _mm512_i32gather_pd(strict, in.prefix, 8)),
                          _mm512_mul_pd(count, _mm512_sub_pd(margin, z)));
        _mm512_store_pd(terms, term);
        for (int k = 0; k < lanes; ++k) violation += terms[k];
        _mm256_mask_storeu_epi32(activeBegins + t, valid, strict);
        // −activeCount with the scalar loop's sign of zero (−0.0 for none).
        _mm512_mask_i32scatter_pd(coefficients, valid, j, _mm512_xor_pd(count, negativeZero), 8);
    }
    totals->tuples = static_cast<std::int64_t>(in.count) * in.positives;
    totals->active = _mm512_reduce_add_epi64(active);
    totals->easy = _mm512_reduce_add_epi64(easy);
    totals->semiHard = _mm512_reduce_add_epi64(semiHard);
    totals->hard = _mm512_reduce_add_epi64(hard);
    totals->violation = violation;
}

}  // namespace marginlab::detail::simd::avx512

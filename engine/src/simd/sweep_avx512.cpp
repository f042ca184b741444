// SPDX-License-Identifier: MIT
// The batch-all sweep of one anchor, eight negatives at a time (AVX-512; see dispatch.h and
// losses/triplet_sweep.h). Compiled with the AVX-512 unit's flags (engine/CMakeLists.txt), so it
// includes nothing with out-of-line inline functions: <cstdint>, the intrinsics, plain structs.
//
// Each negative z needs two lookups in the positives' cell table: the margin boundary (the first
// sorted positive x with fl(z − x) < m, and with ≤ m) and the hard boundary (the positives below
// z); a TripletMarginMiner filter with a high bound adds a third (firstGapBelowOne). The scalar
// loop does them one negative after another, each a chain of dependent loads (cell → cell start →
// values); here eight chains run side by side, each step's eight loads paired into one register
// (loadAt: not the gather instructions, which are slower on Zen 4). Per lane the operations, the
// comparisons and their confirmation are those of GapTable::firstGapBelowBoth and countBelow,
// except that the cell's neighbours are read only where the cell's place cannot prove what they
// would show (prove, below: almost never); a lane the table cannot settle falls back to a binary
// search over all sorted positives, whose answer is the same (the predicate is monotone along
// them: the caller sends only anchors whose positives are all finite). The violation's terms are
// summed one lane after another in the negatives' order: the scalar loop's bits. The hard boundary's lookup
// alone is also exported (countBelow) for the TF-Addons semi-hard miner, which ranks every negative among the
// positives, and a single bound's lookup (gapBoundaries) for the filters the sweep kernel does not take.
#include <cstdint>
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "simd/sweep_input.h"
#include "simd/sweep_search.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() (a self-initialised variable),
// which -Wuninitialized and -Wmaybe-uninitialized report once inlined: false positives.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace marginlab::detail::simd::avx512 {

namespace {

/// base[index[0..8)] as eight loads paired into a register: on Zen 4 about twice the throughput
/// of a gather (whose eight elements are sequenced by microcode), and the sweep is bound by them.
/// Every index must be readable: no mask.
inline __m512d loadAt(const double* base, const int* index) {
    const __m128d q0 = _mm_loadh_pd(_mm_load_sd(base + index[0]), base + index[1]);
    const __m128d q1 = _mm_loadh_pd(_mm_load_sd(base + index[2]), base + index[3]);
    const __m128d q2 = _mm_loadh_pd(_mm_load_sd(base + index[4]), base + index[5]);
    const __m128d q3 = _mm_loadh_pd(_mm_load_sd(base + index[6]), base + index[7]);
    return _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_insertf128_pd(_mm256_castpd128_pd256(q0), q1, 1)),
                              _mm256_insertf128_pd(_mm256_castpd128_pd256(q2), q3, 1), 1);
}
/// loadAt with the indices in a register.
inline __m512d loadAt(const double* base, __m256i index) {
    alignas(32) int lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), index);
    return loadAt(base, lanes);
}

/// The 64 bits at base + index[k] for eight k (loadAt for pairs of ints).
inline __m512i loadPairsAt(const int* base, __m256i index) {
    alignas(32) int at[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(at), index);
    auto pair = [&](int k) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(base + at[k])); };
    const __m256i low = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(pair(0), pair(1))),
                                                _mm_unpacklo_epi64(pair(2), pair(3)), 1);
    const __m256i high = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(pair(4), pair(5))),
                                                 _mm_unpacklo_epi64(pair(6), pair(7)), 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
}

/// base[index[k]] and base[index[k] + 1] for eight k, as two registers: one 16-byte load per
/// lane instead of two loadAt, whose index extraction and inserts cost as much as the loads.
/// Every index + 1 must be readable: no mask.
inline void loadTwoAt(const double* base, __m256i index, __m512d* first, __m512d* second) {
    alignas(32) int at[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(at), index);
    auto two = [&](int k, int l) {
        return _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(base + at[k])),
                                    _mm_loadu_pd(base + at[l]), 1);
    };
    // low = (x0, y0, x1, y1, x2, y2, x3, y3), high the same for lanes 4 to 7: the even elements
    // of the pair are the first slots, the odd ones the second.
    const __m512d low = _mm512_insertf64x4(_mm512_castpd256_pd512(two(0, 1)), two(2, 3), 1);
    const __m512d high = _mm512_insertf64x4(_mm512_castpd256_pd512(two(4, 5)), two(6, 7), 1);
    *first = _mm512_permutex2var_pd(low, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), high);
    *second = _mm512_permutex2var_pd(low, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), high);
}

struct Table {
    __m512d low, scale, top;
    const double* sorted;
    const int* cellStart;
    __m256i size;

    /// GapTable::cellOf for eight values: max(t, 0) gives 0 for NaN as maxsd does, then min with
    /// the last cell, truncated.
    __m256i cellOf(__m512d value) const {
        const __m512d t = _mm512_mul_pd(_mm512_sub_pd(value, low), scale);
        return _mm512_cvttpd_epi32(_mm512_min_pd(_mm512_max_pd(t, _mm512_setzero_pd()), top));
    }
    /// sorted[index] for indices in [−1, size + kPadding]: the sentinels make them all readable.
    __m512d at(__m256i index) const { return loadAt(sorted, index); }
    /// at(index) and at(index + 1), for indices in [−1, size + kPadding − 1].
    void atTwo(__m256i index, __m512d* first, __m512d* second) const {
        loadTwoAt(sorted, index, first, second);
    }
    /// The lanes of `mask` only (0.0 elsewhere): the neighbours, read in the rare lanes that need them.
    __m512d atIn(__mmask8 mask, __m256i index) const {
        return _mm512_mask_i32gather_pd(_mm512_setzero_pd(), mask, index, sorted, 8);
    }
    /// cellStart[cell] and cellStart[cell + 1] of eight cells, loaded as adjacent pairs.
    void cellRange(__m256i cell, __m256i* begin, __m256i* end) const {
        const __m512i pairs = loadPairsAt(cellStart, cell);
        *begin = _mm512_cvtepi64_epi32(pairs);
        *end = _mm512_cvtepi64_epi32(_mm512_srli_epi64(pairs, 32));
    }
};

/// The slack of prove() for a bound (sweep_search.h), in every lane.
inline __m512d proofSlack8(double low, double scale, double top, double bound) {
    return _mm512_set1_pd(proofSlack(low, scale, top, bound));
}

/// The lanes whose neighbours of the cell [begin, end) of value = z − bound need not be read.
/// With t = fl(fl(value − low)·scale) and c its cell, every sorted x before the cell has
/// t(x) < c and every x after it t(x) ≥ c + 1 (cellOf is monotone). When t − c ≥ slack, the
/// rounding of t, t(x) and value (bounded by the slack) cannot bring x within half an ulp of
/// bound of z − bound: fl(z − x) > bound, so "gap ≤ bound" fails before the cell; when
/// (c + 1) − t ≥ slack, fl(z − x) < bound after it. The sentinels settle the rest the way the
/// reads would: nothing before the first value (z − (−∞) fails both, even as NaN), and +∞ after
/// the last, which holds for every z < +∞.
struct Proof {
    __mmask8 failsBefore, holdsAfter;
};
inline Proof prove(const Table& table, __m512d z, __m512d value, __m512d slack, __m256i begin, __m256i end) {
    const __m512d t = _mm512_mul_pd(_mm512_sub_pd(value, table.low), table.scale);
    const __m512d cell = _mm512_cvtepi32_pd(
        _mm512_cvttpd_epi32(_mm512_min_pd(_mm512_max_pd(t, _mm512_setzero_pd()), table.top)));
    const __m512d one = _mm512_set1_pd(1.0);
    const __mmask8 first = _mm256_cmp_epi32_mask(begin, _mm256_setzero_si256(), _MM_CMPINT_EQ);
    const __mmask8 last = _mm256_cmp_epi32_mask(end, table.size, _MM_CMPINT_EQ) &
                          _mm512_cmp_pd_mask(z, _mm512_set1_pd(__builtin_inf()), _CMP_LT_OQ);
    return {static_cast<__mmask8>(_mm512_cmp_pd_mask(_mm512_sub_pd(t, cell), slack, _CMP_GE_OQ) | first),
            static_cast<__mmask8>(
                _mm512_cmp_pd_mask(_mm512_sub_pd(_mm512_add_pd(cell, one), t), slack, _CMP_GE_OQ) | last)};
}

/// The lanes whose cell [begin, end) holds more than k values: those whose slot k is in the cell.
inline __mmask8 inCellAt(__m256i begin, __m256i end, int k) {
    return _mm256_cmp_epi32_mask(_mm256_sub_epi32(end, begin), _mm256_set1_epi32(k), _MM_CMPINT_NLE);
}

/// Adds 1 to the lanes of `count` that `mask` selects.
inline __m256i addOnes(__m256i count, __mmask8 mask) {
    return _mm256_mask_add_epi32(count, mask, count, _mm256_set1_epi32(1));
}

inline __m512i widenSum(__m512i sum, __m256i values, __mmask8 valid) {
    return _mm512_add_epi64(sum, _mm512_cvtepi32_epi64(_mm256_maskz_mov_epi32(valid, values)));
}

/// Calls count(k, sorted[begin + k]) for the slots k < 4 of the cells [begin, end). Most cells
/// hold at most one value, but among the lanes some often hold two: the first two slots are read
/// always (one paired load, and no branch that half the groups would mispredict), the other two
/// only when some cell reaches them.
template <typename Count>
inline void forEachSlot(const Table& table, __m256i begin, __m256i end, Count count) {
    __m512d first, second;
    table.atTwo(begin, &first, &second);
    count(0, first);
    count(1, second);
    for (int k = 2; k < 4 && inCellAt(begin, end, k); ++k)
        count(k, table.at(_mm256_add_epi32(begin, _mm256_set1_epi32(k))));
}

/// Eight cells' ranges [begin, end) in the sorted positives.
struct Cells {
    __m256i begin, end;
    static Cells of(const Table& table, __m512d value) {
        Cells out;
        table.cellRange(table.cellOf(value), &out.begin, &out.end);
        return out;
    }
    static Cells load(const int* begins, const int* ends) {
        return {_mm256_load_si256(reinterpret_cast<const __m256i*>(begins)),
                _mm256_load_si256(reinterpret_cast<const __m256i*>(ends))};
    }
    void store(int* begins, int* ends) const {
        _mm256_store_si256(reinterpret_cast<__m256i*>(begins), begin);
        _mm256_store_si256(reinterpret_cast<__m256i*>(ends), end);
    }
};

/// One table lookup for eight z: the first sorted position with fl(z − x) < bound (`strict`) and
/// with ≤ bound (`inclusive`), as GapTable::firstGapBelowBoth: the cell of z − bound, its
/// neighbours and kPadding = 4 slots. `confirmed`: the lanes whose cell settles the predicates
/// the caller needs (both, or the one of firstGapBelowOne<Inclusive>).
struct Lookup {
    __m256i strict, inclusive;
    __mmask8 confirmed;
};

enum class Needs { Both, Strict, Inclusive };

template <Needs needs>
inline Lookup lookUp(const Table& table, __m512d z, __m512d bound, __m512d slack, Cells cells) {
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i begin = cells.begin, end = cells.end;
    // "Not <" and "not ≤": the predicates' failures, NaN failing both. Before the cell the
    // predicate needed must fail (for both: even "≤"), after it hold (for both: even "<"). The
    // cell proves both in almost every lane (prove); the others read their neighbours.
    const Proof proof = prove(table, z, _mm512_sub_pd(z, bound), slack, begin, end);
    __mmask8 failsBefore = proof.failsBefore, failsAfter = 0;
    const auto readBefore = static_cast<__mmask8>(~proof.failsBefore);
    const auto readAfter = static_cast<__mmask8>(~proof.holdsAfter);
    if (readBefore) {
        const __m512d before = _mm512_sub_pd(z, table.atIn(readBefore, _mm256_sub_epi32(begin, one)));
        failsBefore |= _mm512_mask_cmp_pd_mask(readBefore, before, bound,
                                               needs == Needs::Strict ? _CMP_NLT_UQ : _CMP_NLE_UQ);
    }
    if (readAfter) {
        const __m512d after = _mm512_sub_pd(z, table.atIn(readAfter, end));
        failsAfter = _mm512_mask_cmp_pd_mask(readAfter, after, bound,
                                             needs == Needs::Inclusive ? _CMP_NLE_UQ : _CMP_NLT_UQ);
    }
    const __mmask8 small =
        _mm256_cmp_epi32_mask(_mm256_sub_epi32(end, begin), _mm256_set1_epi32(4), _MM_CMPINT_LE);
    Lookup out{begin, begin, static_cast<__mmask8>(failsBefore & ~failsAfter & small)};
    // A slot past its cell's end holds the predicate in a confirmed lane (it is at or after the
    // cell's next value) and adds nothing; an unconfirmed lane is settled afterwards.
    auto count = [&](int k, __m512d x) {
        const __mmask8 inCell = inCellAt(begin, end, k);
        const __m512d gap = _mm512_sub_pd(z, x);
        if (needs != Needs::Inclusive)
            out.strict = addOnes(out.strict, _mm512_mask_cmp_pd_mask(inCell, gap, bound, _CMP_NLT_UQ));
        if (needs != Needs::Strict)
            out.inclusive = addOnes(out.inclusive, _mm512_mask_cmp_pd_mask(inCell, gap, bound, _CMP_NLE_UQ));
    };
    forEachSlot(table, begin, end, count);
    return out;
}

/// GapTable::countBelow for eight z: the positives below z, from z's own cell; z finite.
inline Lookup countBelow(const Table& table, __m512d z, Cells cells) {
    const __m256i begin = cells.begin, end = cells.end;
    const __mmask8 finite = _mm512_cmp_pd_mask(_mm512_sub_pd(z, z), _mm512_setzero_pd(), _CMP_EQ_OQ);
    Lookup out{begin, begin,
               static_cast<__mmask8>(finite & _mm256_cmp_epi32_mask(_mm256_sub_epi32(end, begin),
                                                                    _mm256_set1_epi32(4), _MM_CMPINT_LE))};
    // Values past z's cell are not below z: only the cell's own slots are compared.
    auto count = [&](int k, __m512d x) {
        out.inclusive =
            addOnes(out.inclusive, _mm512_mask_cmp_pd_mask(inCellAt(begin, end, k), x, z, _CMP_LT_OQ));
    };
    forEachSlot(table, begin, end, count);
    return out;
}

/// countBelow's unconfirmed lanes settled. A finite z is ordered against every value outside its
/// cell by the cells, so a crowded cell is searched alone: the top of normalized embeddings'
/// distances (near 2, where their density has no bound) crowds cells, and a search over all the
/// positives there, lane after lane, took T's sweep about a tenth of its time.
template <typename Sorted>
inline __m256i settleBelow(const Lookup& below, Cells cells, __mmask8 valid, const double* zs,
                           const Sorted& in) {
    const auto open = static_cast<__mmask8>(valid & ~below.confirmed);
    if (!open) return below.inclusive;
    alignas(32) int lanes[8], begins[8], ends[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), below.inclusive);
    _mm256_store_si256(reinterpret_cast<__m256i*>(begins), cells.begin);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ends), cells.end);
    for (int k = 0; k < 8; ++k) {
        if (!((open >> k) & 1)) continue;
        const double z = zs[k];
        lanes[k] = z - z == 0.0 ? countBelowIn(in.sorted, begins[k], ends[k], z)
                                : firstGapBelow(in.sorted, in.size, z, 0.0, true);
    }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
}

/// Replaces the unconfirmed lanes of `value` by the binary search (rare: crowded cells,
/// boundaries rounded into the next cell, NaN, ±∞).
template <typename Sorted>
inline __m256i settle(__m256i value, __mmask8 unconfirmed, const double* zs, const Sorted& in, double bound,
                      bool inclusive) {
    if (!unconfirmed) return value;
    alignas(32) int lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), value);
    for (int k = 0; k < 8; ++k)
        if ((unconfirmed >> k) & 1) lanes[k] = firstGapBelow(in.sorted, in.size, zs[k], bound, inclusive);
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
}

/**
 * The sweep of losses/triplet_sweep.cpp, eight negatives at a time: sweepNegatives without a
 * filter (HasHigh = HasLow = false: activeBegins recorded) or sweepOrdered with one (the kept
 * range [keptBegin, keptEnd) from the high bound and, with a low bound, the hard boundary; the
 * positives' difference array updated in place).
 */
template <bool HasHigh, bool HighInclusive, bool HasLow>
void sweep(const SweepInput& in, int* activeBegins, std::int64_t* difference, double* coefficients,
           SweepTotals* totals) {
    const Table table{_mm512_set1_pd(in.low), _mm512_set1_pd(in.scale),  _mm512_set1_pd(in.top), in.sorted,
                      in.cellStart,           _mm256_set1_epi32(in.size)};
    const __m512d marginSlack = proofSlack8(in.low, in.scale, in.top, in.margin),
                  highSlack = proofSlack8(in.low, in.scale, in.top, in.high);
    const __m512d sign = _mm512_set1_pd(in.sign);
    const __m512d margin = _mm512_set1_pd(in.margin);
    const __m512d high = _mm512_set1_pd(in.high);
    const __m512d negativeZero = _mm512_set1_pd(-0.0);
    const __m256i p = _mm256_set1_epi32(in.positives);
    __m512i tuples = _mm512_setzero_si512(), hard = tuples, semiHard = tuples, easy = tuples, active = tuples;
    double violation = 0.0;
    alignas(64) double terms[8];
    alignas(32) int activeFrom[8], keptEnds[8];
    // Two passes over each block of negatives: first their values and the cells each lookup
    // reads, then the lookups themselves. In one pass every group of eight waited on a chain of
    // three loads (row → cell → values) and its long body kept the next group from starting.
    constexpr int kBlock = 256;
    alignas(64) double zBlock[kBlock];
    alignas(32) int marginBegin[kBlock], marginEnd[kBlock], zeroBegin[kBlock], zeroEnd[kBlock];
    alignas(32) int highBegin[HasHigh ? kBlock : 8], highEnd[HasHigh ? kBlock : 8];
    for (int first = 0; first < in.count; first += kBlock) {
        const int blockCount = in.count - first < kBlock ? in.count - first : kBlock;
        for (int t = 0; t < blockCount; t += 8) {
            const __mmask8 valid =
                static_cast<__mmask8>(blockCount - t < 8 ? (1u << (blockCount - t)) - 1u : 0xffu);
            // Lanes past the end (the last group only) read index 0 and compute harmless values
            // that nothing keeps.
            const __m512d at =
                valid == 0xff ? loadAt(in.row, in.negatives + first + t)
                              : _mm512_mask_i32gather_pd(
                                    _mm512_setzero_pd(), valid,
                                    _mm256_maskz_loadu_epi32(valid, in.negatives + first + t), in.row, 8);
            const __m512d z = _mm512_mul_pd(sign, at);
            _mm512_store_pd(zBlock + t, z);
            Cells::of(table, _mm512_sub_pd(z, margin)).store(marginBegin + t, marginEnd + t);
            Cells::of(table, z).store(zeroBegin + t, zeroEnd + t);
            if constexpr (HasHigh) Cells::of(table, _mm512_sub_pd(z, high)).store(highBegin + t, highEnd + t);
        }
        for (int t = 0; t < blockCount; t += 8) {
            const int lanes = blockCount - t < 8 ? blockCount - t : 8;
            const __mmask8 valid = static_cast<__mmask8>((1u << lanes) - 1u);
            const __m256i j = _mm256_maskz_loadu_epi32(valid, in.negatives + first + t);
            const double* zs = zBlock + t;
            const __m512d z = _mm512_load_pd(zs);

            Lookup atMargin = lookUp<Needs::Both>(table, z, margin, marginSlack,
                                                  Cells::load(marginBegin + t, marginEnd + t));
            const __mmask8 marginOpen = valid & static_cast<__mmask8>(~atMargin.confirmed);
            atMargin.strict = settle(atMargin.strict, marginOpen, zs, in, in.margin, false);
            atMargin.inclusive = settle(atMargin.inclusive, marginOpen, zs, in, in.margin, true);
            const Cells atZero = Cells::load(zeroBegin + t, zeroEnd + t);
            const __m256i zero = settleBelow(countBelow(table, z, atZero), atZero, valid, zs, in);
            __m256i keptBegin = _mm256_setzero_si256();
            if constexpr (HasHigh) {
                const Lookup atHigh = lookUp < HighInclusive
                                          ? Needs::Inclusive
                                          : Needs::Strict > (table, z, high, highSlack,
                                                             Cells::load(highBegin + t, highEnd + t));
                keptBegin =
                    settle(HighInclusive ? atHigh.inclusive : atHigh.strict,
                           valid & static_cast<__mmask8>(~atHigh.confirmed), zs, in, in.high, HighInclusive);
            }

            // The counts of sweepOrdered / sweepNegatives.
            const __m256i keptEnd = HasLow ? _mm256_max_epi32(keptBegin, zero) : p;
            const __m256i hardFrom = HasLow ? keptEnd : zero;
            const __m256i semiFrom = in.semiIncludesMargin ? atMargin.inclusive : atMargin.strict;
            tuples = widenSum(tuples, _mm256_sub_epi32(keptEnd, keptBegin), valid);
            hard = widenSum(hard, _mm256_sub_epi32(keptEnd, hardFrom), valid);
            semiHard = widenSum(
                semiHard, _mm256_max_epi32(_mm256_sub_epi32(hardFrom, semiFrom), _mm256_setzero_si256()),
                valid);
            easy = widenSum(easy, _mm256_sub_epi32(_mm256_min_epi32(semiFrom, hardFrom), keptBegin), valid);
            const __m256i activeCount = _mm256_sub_epi32(keptEnd, atMargin.strict);
            active = widenSum(active, activeCount, valid);
            const __m512d count = _mm512_cvtepi32_pd(activeCount);
            // The negatives' part of the violation, activeCount·(m − z), summed one negative after
            // another as the scalar loop does (the positives' part is TripletSweep::anchor's).
            const __m512d term = _mm512_mul_pd(count, _mm512_sub_pd(margin, z));
            _mm512_store_pd(terms, term);
            for (int k = 0; k < lanes; ++k) violation += terms[k];
            if (difference) {
                // Lanes may share a boundary: one at a time, not a scatter.
                _mm256_store_si256(reinterpret_cast<__m256i*>(activeFrom), atMargin.strict);
                _mm256_store_si256(reinterpret_cast<__m256i*>(keptEnds), keptEnd);
                for (int k = 0; k < lanes; ++k) {
                    ++difference[activeFrom[k]];
                    if (HasLow) --difference[keptEnds[k]];
                }
            } else {
                _mm256_mask_storeu_epi32(activeBegins + first + t, valid, atMargin.strict);
            }
            // −activeCount with the scalar loop's sign of zero (−0.0 for none).
            _mm512_mask_i32scatter_pd(coefficients, valid, j, _mm512_xor_pd(count, negativeZero), 8);
        }
    }
    totals->tuples = _mm512_reduce_add_epi64(tuples);
    totals->active = _mm512_reduce_add_epi64(active);
    totals->easy = _mm512_reduce_add_epi64(easy);
    totals->semiHard = _mm512_reduce_add_epi64(semiHard);
    totals->hard = _mm512_reduce_add_epi64(hard);
    totals->violation = violation;
}

}  // namespace

void countBelow(const CellTable& cells, const double* values, int n, int* ranks) {
    const Table table{_mm512_set1_pd(cells.low), _mm512_set1_pd(cells.scale),
                      _mm512_set1_pd(cells.top), cells.sorted,
                      cells.cellStart,           _mm256_set1_epi32(cells.size)};
    alignas(64) double zs[8];
    for (int t = 0; t < n; t += 8) {
        const __mmask8 valid = static_cast<__mmask8>(n - t < 8 ? (1u << (n - t)) - 1u : 0xffu);
        // Lanes past the end count below 0.0 and are not stored.
        const __m512d z = _mm512_maskz_loadu_pd(valid, values + t);
        _mm512_store_pd(zs, z);
        const Cells at = Cells::of(table, z);
        const __m256i rank = settleBelow(countBelow(table, z, at), at, valid, zs, cells);
        _mm256_mask_storeu_epi32(ranks + t, valid, rank);
    }
}

void gapBoundaries(const CellTable& cells, const double* values, int n, double bound, int* strict,
                   int* inclusive) {
    const Table table{_mm512_set1_pd(cells.low), _mm512_set1_pd(cells.scale),
                      _mm512_set1_pd(cells.top), cells.sorted,
                      cells.cellStart,           _mm256_set1_epi32(cells.size)};
    const __m512d limit = _mm512_set1_pd(bound),
                  slack = proofSlack8(cells.low, cells.scale, cells.top, bound);
    alignas(64) double zs[8];
    for (int t = 0; t < n; t += 8) {
        const __mmask8 valid = static_cast<__mmask8>(n - t < 8 ? (1u << (n - t)) - 1u : 0xffu);
        const __m512d z = _mm512_maskz_loadu_pd(valid, values + t);
        _mm512_store_pd(zs, z);
        const Cells at = Cells::of(table, _mm512_sub_pd(z, limit));
        if (strict && inclusive) {
            const Lookup found = lookUp<Needs::Both>(table, z, limit, slack, at);
            const __mmask8 open = valid & static_cast<__mmask8>(~found.confirmed);
            _mm256_mask_storeu_epi32(strict + t, valid, settle(found.strict, open, zs, cells, bound, false));
            _mm256_mask_storeu_epi32(inclusive + t, valid,
                                     settle(found.inclusive, open, zs, cells, bound, true));
        } else if (strict) {
            const Lookup found = lookUp<Needs::Strict>(table, z, limit, slack, at);
            const __mmask8 open = valid & static_cast<__mmask8>(~found.confirmed);
            _mm256_mask_storeu_epi32(strict + t, valid, settle(found.strict, open, zs, cells, bound, false));
        } else {
            const Lookup found = lookUp<Needs::Inclusive>(table, z, limit, slack, at);
            const __mmask8 open = valid & static_cast<__mmask8>(~found.confirmed);
            _mm256_mask_storeu_epi32(inclusive + t, valid,
                                     settle(found.inclusive, open, zs, cells, bound, true));
        }
    }
}

void tripletSweep(const SweepInput& in, int* activeBegins, std::int64_t* difference, double* coefficients,
                  SweepTotals* totals) {
    if (!in.hasHigh && !in.hasLow)
        return sweep<false, false, false>(in, activeBegins, difference, coefficients, totals);
    if (!in.hasHigh) return sweep<false, false, true>(in, activeBegins, difference, coefficients, totals);
    if (in.highInclusive)
        return in.hasLow ? sweep<true, true, true>(in, activeBegins, difference, coefficients, totals)
                         : sweep<true, true, false>(in, activeBegins, difference, coefficients, totals);
    return in.hasLow ? sweep<true, false, true>(in, activeBegins, difference, coefficients, totals)
                     : sweep<true, false, false>(in, activeBegins, difference, coefficients, totals);
}

}  // namespace marginlab::detail::simd::avx512

// SPDX-License-Identifier: MIT
// The batch-all sweep of one anchor, four negatives at a time (AVX2; see dispatch.h and
// losses/triplet_sweep.h): sweep_avx512.cpp's lookups and proofs, lane for lane, on the units
// without AVX-512 (Zen 2 and 3, Intel's client cores). Compiled with the AVX2 unit's flags, so it
// includes nothing with out-of-line inline functions: <cstdint>, the intrinsics, plain structs
// and the unit-local searches of sweep_search.h.
//
// AVX2 has no mask registers: a lane's yes / no is a vector of all ones or zeros, four to a
// register, and every index rides in a 64-bit lane beside its double, so a comparison of the
// doubles is directly a mask of the indices (a true lane is −1: subtracting it adds one). There
// is no conversion from 64-bit integers to doubles either; the counts here lie in [0, 2⁵²), where
// setting the exponent bits of 2⁵² and subtracting 2⁵² converts exactly.
#include <cstdint>
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "simd/sweep_input.h"
#include "simd/sweep_search.h"

namespace marginlab::detail::simd::avx2 {

namespace {

/// base[index[0..4)] as four loads paired into a register (the gather instruction is slower on
/// Zen 2 and 3, and no faster on Intel's cores, than the loads it stands for).
inline __m256d loadAt(const double* base, const std::int64_t* index) {
    const __m128d low = _mm_loadh_pd(_mm_load_sd(base + index[0]), base + index[1]);
    const __m128d high = _mm_loadh_pd(_mm_load_sd(base + index[2]), base + index[3]);
    return _mm256_insertf128_pd(_mm256_castpd128_pd256(low), high, 1);
}
/// loadAt with the indices in a register.
inline __m256d loadAt(const double* base, __m256i index) {
    alignas(32) std::int64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), index);
    return loadAt(base, lanes);
}

/// base[index[k]] and base[index[k] + 1] for four k, as two registers: one 16-byte load per
/// lane instead of two loadAt. Every index + 1 must be readable.
inline void loadTwoAt(const double* base, __m256i index, __m256d* first, __m256d* second) {
    alignas(32) std::int64_t at[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(at), index);
    // (x0, y0, x2, y2) and (x1, y1, x3, y3): unpacking within each 128-bit half puts the lanes back in order.
    const __m256d even = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(base + at[0])),
                                              _mm_loadu_pd(base + at[2]), 1);
    const __m256d odd = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(base + at[1])),
                                             _mm_loadu_pd(base + at[3]), 1);
    *first = _mm256_unpacklo_pd(even, odd);
    *second = _mm256_unpackhi_pd(even, odd);
}

inline __m256i asMask(__m256d compared) {
    return _mm256_castpd_si256(compared);
}
inline int bits(__m256i mask) {
    return _mm256_movemask_pd(_mm256_castsi256_pd(mask));
}
/// Adds 1 to the lanes of `count` that `mask` selects (a selected lane is −1).
inline __m256i addOnes(__m256i count, __m256i mask) {
    return _mm256_sub_epi64(count, mask);
}
inline __m256i max64(__m256i a, __m256i b) {
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a));
}
inline __m256i min64(__m256i a, __m256i b) {
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b));
}
/// The lanes selected by the low `lanes` bits: the valid lanes of a group of four.
inline __m256i firstLanes(int lanes) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(lanes), _mm256_setr_epi64x(0, 1, 2, 3));
}
/// Counts in [0, 2⁵²) as doubles, exactly.
inline __m256d toDouble(__m256i count) {
    const __m256d magic = _mm256_set1_pd(0x1p52);
    return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(count, _mm256_castpd_si256(magic))), magic);
}

struct Table {
    __m256d low, scale, top;
    const double* sorted;
    const int* cellStart;
    __m256i size;

    /// GapTable::cellOf for four values: max(t, 0) gives 0 for NaN as maxsd does, then min with
    /// the last cell, truncated.
    __m128i cellOf(__m256d value) const {
        const __m256d t = _mm256_mul_pd(_mm256_sub_pd(value, low), scale);
        return _mm256_cvttpd_epi32(_mm256_min_pd(_mm256_max_pd(t, _mm256_setzero_pd()), top));
    }
    /// sorted[index] for indices in [−1, size + kPadding]: the sentinels make them all readable.
    __m256d at(__m256i index) const { return loadAt(sorted, index); }
    /// at(index) and at(index + 1), for indices in [−1, size + kPadding − 1].
    void atTwo(__m256i index, __m256d* first, __m256d* second) const {
        loadTwoAt(sorted, index, first, second);
    }
    /// cellStart[cell] and cellStart[cell + 1] of four cells, loaded as adjacent pairs.
    void cellRange(__m128i cell, __m256i* begin, __m256i* end) const {
        alignas(16) int at[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(at), cell);
        auto pair = [&](int k) {
            return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(cellStart + at[k]));
        };
        const __m256i pairs =
            _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(pair(0), pair(1))),
                                    _mm_unpacklo_epi64(pair(2), pair(3)), 1);
        // Both halves are indices in [0, size]: non-negative, so zero extension is exact.
        *begin = _mm256_and_si256(pairs, _mm256_set1_epi64x(0xffffffff));
        *end = _mm256_srli_epi64(pairs, 32);
    }
};

/// sweep_avx512.cpp's prove for four lanes: the lanes whose cell proves that the predicates fail
/// before it and hold after it, so its neighbours need not be read (the error analysis is there).
struct Proof {
    __m256i failsBefore, holdsAfter;
};
inline Proof prove(const Table& table, __m256d z, __m256d value, __m256d slack, __m256i begin, __m256i end) {
    const __m256d t = _mm256_mul_pd(_mm256_sub_pd(value, table.low), table.scale);
    const __m256d cell = _mm256_cvtepi32_pd(
        _mm256_cvttpd_epi32(_mm256_min_pd(_mm256_max_pd(t, _mm256_setzero_pd()), table.top)));
    const __m256i first = _mm256_cmpeq_epi64(begin, _mm256_setzero_si256());
    const __m256i last =
        _mm256_and_si256(_mm256_cmpeq_epi64(end, table.size),
                         asMask(_mm256_cmp_pd(z, _mm256_set1_pd(__builtin_inf()), _CMP_LT_OQ)));
    const __m256d one = _mm256_set1_pd(1.0);
    return {_mm256_or_si256(asMask(_mm256_cmp_pd(_mm256_sub_pd(t, cell), slack, _CMP_GE_OQ)), first),
            _mm256_or_si256(
                asMask(_mm256_cmp_pd(_mm256_sub_pd(_mm256_add_pd(cell, one), t), slack, _CMP_GE_OQ)), last)};
}

/// The lanes whose cell [begin, end) holds more than k values: those whose slot k is in the cell.
inline __m256i inCellAt(__m256i begin, __m256i end, int k) {
    return _mm256_cmpgt_epi64(_mm256_sub_epi64(end, begin), _mm256_set1_epi64x(k));
}
/// The lanes whose cell holds at most kPadding = 4 values.
inline __m256i smallCell(__m256i begin, __m256i end) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(5), _mm256_sub_epi64(end, begin));
}

/// Four cells' ranges [begin, end) in the sorted positives.
struct Cells {
    __m256i begin, end;
    static Cells of(const Table& table, __m256d value) {
        Cells out;
        table.cellRange(table.cellOf(value), &out.begin, &out.end);
        return out;
    }
    static Cells load(const std::int64_t* begins, const std::int64_t* ends) {
        return {_mm256_load_si256(reinterpret_cast<const __m256i*>(begins)),
                _mm256_load_si256(reinterpret_cast<const __m256i*>(ends))};
    }
    void store(std::int64_t* begins, std::int64_t* ends) const {
        _mm256_store_si256(reinterpret_cast<__m256i*>(begins), begin);
        _mm256_store_si256(reinterpret_cast<__m256i*>(ends), end);
    }
};

/// One table lookup for four z, as sweep_avx512.cpp's lookUp: the first sorted position with
/// fl(z − x) < bound (`strict`) and with ≤ bound (`inclusive`); `confirmed`: the lanes whose cell
/// settles the predicates the caller needs.
struct Lookup {
    __m256i strict, inclusive;
    int confirmed;  // one bit per lane
};

enum class Needs { Both, Strict, Inclusive };

/// Calls count(k, sorted[begin + k]) for the slots k < 4 of the cells [begin, end). Most cells
/// hold at most one value, but among the lanes some often hold two: the first two slots are read
/// always (one paired load, and no branch that half the groups would mispredict), the other two
/// only when some cell reaches them.
template <typename Count>
inline void forEachSlot(const Table& table, __m256i begin, __m256i end, Count count) {
    __m256d first, second;
    table.atTwo(begin, &first, &second);
    count(0, first);
    count(1, second);
    for (int k = 2; k < 4 && bits(inCellAt(begin, end, k)); ++k)
        count(k, table.at(_mm256_add_epi64(begin, _mm256_set1_epi64x(k))));
}

template <Needs needs>
inline Lookup lookUp(const Table& table, __m256d z, __m256d bound, __m256d slack, Cells cells) {
    const __m256i begin = cells.begin, end = cells.end;
    // "Not <" and "not ≤": the predicates' failures, NaN failing both. Before the cell the
    // predicate needed must fail (for both: even "≤"), after it hold (for both: even "<").
    const Proof proof = prove(table, z, _mm256_sub_pd(z, bound), slack, begin, end);
    __m256i failsBefore = proof.failsBefore, failsAfter = _mm256_setzero_si256();
    if (bits(proof.failsBefore) != 0xf) {
        // The neighbours are readable in every lane (the sentinels): read all four, keep the
        // unproven lanes' answers.
        const __m256d before = _mm256_sub_pd(z, table.at(_mm256_sub_epi64(begin, _mm256_set1_epi64x(1))));
        const __m256i fails =
            asMask(_mm256_cmp_pd(before, bound, needs == Needs::Strict ? _CMP_NLT_UQ : _CMP_NLE_UQ));
        failsBefore = _mm256_or_si256(failsBefore, fails);
    }
    if (bits(proof.holdsAfter) != 0xf) {
        const __m256d after = _mm256_sub_pd(z, table.at(end));
        failsAfter = _mm256_andnot_si256(
            proof.holdsAfter,
            asMask(_mm256_cmp_pd(after, bound, needs == Needs::Inclusive ? _CMP_NLE_UQ : _CMP_NLT_UQ)));
    }
    Lookup out{begin, begin,
               bits(_mm256_and_si256(_mm256_andnot_si256(failsAfter, failsBefore), smallCell(begin, end)))};
    // A slot past its cell's end holds the predicate in a confirmed lane and adds nothing.
    auto count = [&](int k, __m256d x) {
        const __m256i inCell = inCellAt(begin, end, k);
        const __m256d gap = _mm256_sub_pd(z, x);
        if (needs != Needs::Inclusive)
            out.strict =
                addOnes(out.strict, _mm256_and_si256(inCell, asMask(_mm256_cmp_pd(gap, bound, _CMP_NLT_UQ))));
        if (needs != Needs::Strict)
            out.inclusive = addOnes(out.inclusive,
                                    _mm256_and_si256(inCell, asMask(_mm256_cmp_pd(gap, bound, _CMP_NLE_UQ))));
    };
    forEachSlot(table, begin, end, count);
    return out;
}

/// GapTable::countBelow for four z: the positives below z, from z's own cell; z finite.
inline Lookup countBelow(const Table& table, __m256d z, Cells cells) {
    const __m256i begin = cells.begin, end = cells.end;
    const __m256i finite = asMask(_mm256_cmp_pd(_mm256_sub_pd(z, z), _mm256_setzero_pd(), _CMP_EQ_OQ));
    Lookup out{begin, begin, bits(_mm256_and_si256(finite, smallCell(begin, end)))};
    // Values past z's cell are not below z: only the cell's own slots are compared.
    auto count = [&](int k, __m256d x) {
        out.inclusive = addOnes(out.inclusive, _mm256_and_si256(inCellAt(begin, end, k),
                                                                asMask(_mm256_cmp_pd(x, z, _CMP_LT_OQ))));
    };
    forEachSlot(table, begin, end, count);
    return out;
}

/// countBelow's unconfirmed lanes settled, a crowded cell searched alone (sweep_avx512.cpp's
/// settleBelow).
template <typename Sorted>
inline __m256i settleBelow(const Lookup& below, Cells cells, int valid, const double* zs, const Sorted& in) {
    const int open = valid & ~below.confirmed;
    if (!open) return below.inclusive;
    alignas(32) std::int64_t lanes[4], begins[4], ends[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), below.inclusive);
    _mm256_store_si256(reinterpret_cast<__m256i*>(begins), cells.begin);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ends), cells.end);
    for (int k = 0; k < 4; ++k) {
        if (!((open >> k) & 1)) continue;
        const double z = zs[k];
        lanes[k] = z - z == 0.0
                       ? countBelowIn(in.sorted, static_cast<int>(begins[k]), static_cast<int>(ends[k]), z)
                       : firstGapBelow(in.sorted, in.size, z, 0.0, true);
    }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
}

/// Replaces the unconfirmed lanes of `value` by the binary search (rare: crowded cells,
/// boundaries rounded into the next cell, NaN, ±∞).
template <typename Sorted>
inline __m256i settle(__m256i value, int unconfirmed, const double* zs, const Sorted& in, double bound,
                      bool inclusive) {
    if (!unconfirmed) return value;
    alignas(32) std::int64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), value);
    for (int k = 0; k < 4; ++k)
        if ((unconfirmed >> k) & 1) lanes[k] = firstGapBelow(in.sorted, in.size, zs[k], bound, inclusive);
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
}

Table tableOf(double low, double scale, double top, const double* sorted, const int* cellStart, int size) {
    return {_mm256_set1_pd(low), _mm256_set1_pd(scale),   _mm256_set1_pd(top), sorted,
            cellStart,           _mm256_set1_epi64x(size)};
}

/**
 * The sweep of losses/triplet_sweep.cpp, four negatives at a time: sweepNegatives without a
 * filter (HasHigh = HasLow = false: activeBegins recorded) or sweepOrdered with one (the
 * positives' difference array updated in place). sweep_avx512.cpp's sweep, lane for lane.
 */
template <bool HasHigh, bool HighInclusive, bool HasLow>
void sweep(const SweepInput& in, int* activeBegins, std::int64_t* difference, double* coefficients,
           SweepTotals* totals) {
    const Table table = tableOf(in.low, in.scale, in.top, in.sorted, in.cellStart, in.size);
    const __m256d marginSlack = _mm256_set1_pd(proofSlack(in.low, in.scale, in.top, in.margin)),
                  highSlack = _mm256_set1_pd(proofSlack(in.low, in.scale, in.top, in.high));
    const __m256d sign = _mm256_set1_pd(in.sign);
    const __m256d margin = _mm256_set1_pd(in.margin);
    const __m256d high = _mm256_set1_pd(in.high);
    const __m256d negativeZero = _mm256_set1_pd(-0.0);
    const __m256i p = _mm256_set1_epi64x(in.positives);
    __m256i tuples = _mm256_setzero_si256(), hard = tuples, semiHard = tuples, easy = tuples, active = tuples;
    double violation = 0.0;
    alignas(32) double terms[4], negated[4];
    alignas(32) std::int64_t activeFrom[4], keptEnds[4];
    // Two passes over each block of negatives, as in sweep_avx512.cpp: first their values and
    // the cells each lookup reads, then the lookups.
    constexpr int kBlock = 256;
    alignas(32) double zBlock[kBlock];
    alignas(32) std::int64_t marginBegin[kBlock], marginEnd[kBlock], zeroBegin[kBlock], zeroEnd[kBlock];
    alignas(32) std::int64_t highBegin[HasHigh ? kBlock : 4], highEnd[HasHigh ? kBlock : 4];
    for (int first = 0; first < in.count; first += kBlock) {
        const int blockCount = in.count - first < kBlock ? in.count - first : kBlock;
        for (int t = 0; t < blockCount; t += 4) {
            const int* index = in.negatives + first + t;
            // Lanes past the end (the last group only) read row[0]: harmless values nothing keeps.
            std::int64_t at[4];
            for (int k = 0; k < 4; ++k) at[k] = t + k < blockCount ? index[k] : 0;
            const __m256d z = _mm256_mul_pd(sign, loadAt(in.row, at));
            _mm256_store_pd(zBlock + t, z);
            Cells::of(table, _mm256_sub_pd(z, margin)).store(marginBegin + t, marginEnd + t);
            Cells::of(table, z).store(zeroBegin + t, zeroEnd + t);
            if constexpr (HasHigh) Cells::of(table, _mm256_sub_pd(z, high)).store(highBegin + t, highEnd + t);
        }
        for (int t = 0; t < blockCount; t += 4) {
            const int lanes = blockCount - t < 4 ? blockCount - t : 4;
            const int valid = (1 << lanes) - 1;
            const __m256i validMask = firstLanes(lanes);
            const int* j = in.negatives + first + t;
            const double* zs = zBlock + t;
            const __m256d z = _mm256_load_pd(zs);

            Lookup atMargin = lookUp<Needs::Both>(table, z, margin, marginSlack,
                                                  Cells::load(marginBegin + t, marginEnd + t));
            const int marginOpen = valid & ~atMargin.confirmed;
            atMargin.strict = settle(atMargin.strict, marginOpen, zs, in, in.margin, false);
            atMargin.inclusive = settle(atMargin.inclusive, marginOpen, zs, in, in.margin, true);
            const Cells atZero = Cells::load(zeroBegin + t, zeroEnd + t);
            const __m256i zero = settleBelow(countBelow(table, z, atZero), atZero, valid, zs, in);
            __m256i keptBegin = _mm256_setzero_si256();
            if constexpr (HasHigh) {
                constexpr Needs needs = HighInclusive ? Needs::Inclusive : Needs::Strict;
                const Lookup atHigh =
                    lookUp<needs>(table, z, high, highSlack, Cells::load(highBegin + t, highEnd + t));
                keptBegin = settle(HighInclusive ? atHigh.inclusive : atHigh.strict,
                                   valid & ~atHigh.confirmed, zs, in, in.high, HighInclusive);
            }

            // The counts of sweepOrdered / sweepNegatives; lanes past the end add nothing.
            const __m256i keptEnd = HasLow ? max64(keptBegin, zero) : p;
            const __m256i hardFrom = HasLow ? keptEnd : zero;
            const __m256i semiFrom = in.semiIncludesMargin ? atMargin.inclusive : atMargin.strict;
            auto addValid = [&](__m256i sum, __m256i values) {
                return _mm256_add_epi64(sum, _mm256_and_si256(values, validMask));
            };
            tuples = addValid(tuples, _mm256_sub_epi64(keptEnd, keptBegin));
            hard = addValid(hard, _mm256_sub_epi64(keptEnd, hardFrom));
            semiHard =
                addValid(semiHard, max64(_mm256_sub_epi64(hardFrom, semiFrom), _mm256_setzero_si256()));
            easy = addValid(easy, _mm256_sub_epi64(min64(semiFrom, hardFrom), keptBegin));
            const __m256i activeCount =
                _mm256_and_si256(_mm256_sub_epi64(keptEnd, atMargin.strict), validMask);
            active = _mm256_add_epi64(active, activeCount);
            const __m256d count = toDouble(activeCount);
            // The negatives' part of the violation, activeCount·(m − z), summed one negative after
            // another as the scalar loop does (the positives' part is TripletSweep::anchor's).
            const __m256d term = _mm256_mul_pd(count, _mm256_sub_pd(margin, z));
            _mm256_store_pd(terms, term);
            // −activeCount with the scalar loop's sign of zero (−0.0 for none).
            _mm256_store_pd(negated, _mm256_xor_pd(count, negativeZero));
            _mm256_store_si256(reinterpret_cast<__m256i*>(activeFrom), atMargin.strict);
            if (HasLow) _mm256_store_si256(reinterpret_cast<__m256i*>(keptEnds), keptEnd);
            for (int k = 0; k < lanes; ++k) {
                violation += terms[k];
                coefficients[j[k]] = negated[k];
                if (difference) {
                    // Lanes may share a boundary: one at a time.
                    ++difference[activeFrom[k]];
                    if (HasLow) --difference[keptEnds[k]];
                } else {
                    activeBegins[first + t + k] = static_cast<int>(activeFrom[k]);
                }
            }
        }
    }
    auto total = [](__m256i sum) {
        alignas(32) std::int64_t lanes[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
        return lanes[0] + lanes[1] + lanes[2] + lanes[3];
    };
    totals->tuples = total(tuples);
    totals->active = total(active);
    totals->easy = total(easy);
    totals->semiHard = total(semiHard);
    totals->hard = total(hard);
    totals->violation = violation;
}

/// Four values from values[t…] (0.0 past n), also stored to zs. One masked load: four scalar
/// stores read back as one vector would wait for the stores to retire (no forwarding).
inline __m256d loadQueries(const double* values, int t, int n, double* zs) {
    const __m256d z = _mm256_maskload_pd(values + t, firstLanes(n - t < 4 ? n - t : 4));
    _mm256_store_pd(zs, z);
    return z;
}

inline void storeFirst(int* out, __m256i values, int lanes) {
    alignas(32) std::int64_t held[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(held), values);
    for (int k = 0; k < lanes; ++k) out[k] = static_cast<int>(held[k]);
}

}  // namespace

void countBelow(const CellTable& cells, const double* values, int n, int* ranks) {
    const Table table = tableOf(cells.low, cells.scale, cells.top, cells.sorted, cells.cellStart, cells.size);
    alignas(32) double zs[4];
    for (int t = 0; t < n; t += 4) {
        const int lanes = n - t < 4 ? n - t : 4;
        // Lanes past the end count below 0.0 and are not stored.
        const __m256d z = loadQueries(values, t, n, zs);
        const Cells at = Cells::of(table, z);
        storeFirst(ranks + t, settleBelow(countBelow(table, z, at), at, (1 << lanes) - 1, zs, cells), lanes);
    }
}

void gapBoundaries(const CellTable& cells, const double* values, int n, double bound, int* strict,
                   int* inclusive) {
    const Table table = tableOf(cells.low, cells.scale, cells.top, cells.sorted, cells.cellStart, cells.size);
    const __m256d limit = _mm256_set1_pd(bound),
                  slack = _mm256_set1_pd(proofSlack(cells.low, cells.scale, cells.top, bound));
    alignas(32) double zs[4];
    for (int t = 0; t < n; t += 4) {
        const int lanes = n - t < 4 ? n - t : 4;
        const int valid = (1 << lanes) - 1;
        const __m256d z = loadQueries(values, t, n, zs);
        const Cells at = Cells::of(table, _mm256_sub_pd(z, limit));
        if (strict && inclusive) {
            const Lookup found = lookUp<Needs::Both>(table, z, limit, slack, at);
            const int open = valid & ~found.confirmed;
            storeFirst(strict + t, settle(found.strict, open, zs, cells, bound, false), lanes);
            storeFirst(inclusive + t, settle(found.inclusive, open, zs, cells, bound, true), lanes);
        } else if (strict) {
            const Lookup found = lookUp<Needs::Strict>(table, z, limit, slack, at);
            storeFirst(strict + t, settle(found.strict, valid & ~found.confirmed, zs, cells, bound, false),
                       lanes);
        } else {
            const Lookup found = lookUp<Needs::Inclusive>(table, z, limit, slack, at);
            storeFirst(inclusive + t,
                       settle(found.inclusive, valid & ~found.confirmed, zs, cells, bound, true), lanes);
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

}  // namespace marginlab::detail::simd::avx2

// SPDX-License-Identifier: MIT
// Batch-all triplet counting without enumerating triplets (internal header).
//
// For one anchor a with ordering distances δ (δ = orderSign·M), every triplet (a,p,n) is decided by
// its gap g = fl(δ_an − δ_ap). For a fixed negative value z = δ_an, g is non-increasing in
// x = δ_ap, so every condition of the form "g < b" or "g ≤ b" holds on a suffix of the positives
// sorted by x. Locating each boundary with the exact floating-point predicate (not a rearranged
// threshold) reproduces the per-triplet decisions bit for bit, ties included. Per anchor: the
// positives are bucket-sorted (O(P) expected, O(P log P) worst), each negative's boundaries are
// found in O(1) expected / O(log P) worst time (GapLocator), and per-positive counts come from a
// difference array: O(N²) expected, O(N² log N) worst for the batch, never a list of triplets.
#pragma once

#include "marginlab/tuples.h"
#include "marginlab/types.h"

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
#include <emmintrin.h>
#endif

namespace marginlab::detail {

/// First position k of the ascending `sorted[0..n)` with fl(z − sorted[k]) < bound (≤ if
/// `inclusive`); n if there is none. Branch-free so that independent queries overlap.
inline int firstGapBelow(const Real* sorted, int n, Real z, Real bound, bool inclusive) {
    if (n == 0) return 0;
    const Real* base = sorted;
    int length = n;
    if (inclusive) {
        while (length > 1) {
            const int half = length / 2;
            base += (z - base[half - 1] <= bound) ? 0 : half;
            length -= half;
        }
        return static_cast<int>(base - sorted) + ((z - *base <= bound) ? 0 : 1);
    }
    while (length > 1) {
        const int half = length / 2;
        base += (z - base[half - 1] < bound) ? 0 : half;
        length -= half;
    }
    return static_cast<int>(base - sorted) + ((z - *base < bound) ? 0 : 1);
}

/// values[c] = values[0] + … + values[c] for c < n, in place: the bucket sorts' cell starts, in
/// the vector unit (one cell at a time, the sum was a sixth of FaceNet's sort at N = 4096).
void runningSums(int* values, int n);

/**
 * firstGapBelow in O(1) expected time: a table of B ≈ 4P equal-width value cells over the sorted
 * positives gives the one cell where the answer should lie; the answer is then confirmed with the
 * exact predicate on the cell's neighbours (monotonicity makes that a proof), and anything
 * unusual (rounding put the boundary in the next cell, crowded cells, degenerate ranges) falls
 * back to the binary search. Exact in every case, O(log P) in the worst case.
 *
 * With a table, `sorted` must be readable from sorted[−1] = −∞ to sorted[size + kPadding] = +∞
 * (sentinels): a cell's neighbours and its kPadding slots are then read without bounds tests, and
 * slots past the cell need no mask (the predicate is already settled there: see the lookups).
 *
 * A plain value (pointers and numbers): the hot loop keeps a copy in registers, which it could
 * not do with members that every store through a double pointer might have changed.
 */
struct GapTable {
    /// Slots read from a cell's first value on; cells holding more fall back to the search.
    static constexpr int kPadding = 4;
    const Real* sorted = nullptr;
    int size = 0;
    int cells = 0;  // 0: no table, always binary search
    Real low = 0.0;
    Real scale = 0.0;
    Real top = 0.0;  // cells − 1, the last cell
    const int* cellStart = nullptr;  // first sorted index whose cell is ≥ c, c = 0..cells

    int cellOf(Real value) const {
        // Clamped without branches: values outside the positives' range are common and
        // unpredictable. NaN lands in cell 0; the caller's verification handles it. Not
        // std::min/std::max: GCC turns those (they return references) into a store, a pointer
        // select and a reload, or into a branch, either doubling the cost of a lookup.
        const Real t = (value - low) * scale;
#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
        // maxsd(t, 0) is t > 0 ? t : 0 and minsd(·, top) is · < top ? · : top, NaN included.
        const __m128d above = _mm_max_sd(_mm_set_sd(t), _mm_setzero_pd());
        return _mm_cvttsd_si32(_mm_min_sd(above, _mm_set_sd(top)));
#else
        const Real above = t > Real(0) ? t : Real(0);
        return static_cast<int>(above < top ? above : top);
#endif
    }
    /// Both firstGapBelow(z, bound, false) and (…, true) from one lookup: they differ only by
    /// exact ties gap == bound, almost always inside the same cell.
    struct Boundaries {
        int strict;
        int inclusive;
    };
    Boundaries firstGapBelowBoth(Real z, Real bound) const;
    int firstGapBelow(Real z, Real bound, bool inclusive) const {
        const Boundaries found = firstGapBelowBoth(z, bound);
        return inclusive ? found.inclusive : found.strict;
    }
    /// firstGapBelow(z, bound, Inclusive) alone: the same lookup with one predicate instead of
    /// two (half the comparisons), for a boundary whose other strictness nobody needs.
    template <bool Inclusive>
    int firstGapBelowOne(Real z, Real bound) const;
    /// firstGapBelow(z, 0, true) = the number of values below z. Cheaper: with bound 0 the query
    /// is z itself, placed by the same cellOf as the values, so cells alone order it against
    /// every value outside its own cell (no neighbours to confirm).
    int countBelow(Real z) const;

private:
    /// The rare cases the cell cannot settle: a binary search over the relevant range. Kept out
    /// of line so the hot loop stays small.
    [[gnu::noinline]] int searchGapBelow(Real z, Real bound, bool inclusive) const;
};

[[gnu::always_inline]] inline GapTable::Boundaries GapTable::firstGapBelowBoth(Real z, Real bound) const {
    if (cells != 0) {
        const Real* x = sorted;
        // The boundary is near x = z − bound. The predicates are monotone in x, so the cell's
        // members are the only candidates if, before the cell, even "gap ≤ bound" fails and,
        // after it, even "gap < bound" holds; the latter then also holds on every slot past
        // the cell's end, so counting the failures over all kPadding slots counts the cell's.
        const int cell = cellOf(z - bound);
        const int begin = cellStart[cell];
        const int end = cellStart[cell + 1];
#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
        // Six gaps in three pairs: (before, slot 0), (slots 1, 2), (slot 3, after). cmpnlt and
        // cmpnle are "not <" and "not ≤": the predicates' failures, NaN failing both as in the
        // scalar code below.
        const __m128d zz = _mm_set1_pd(z);
        const __m128d limit = _mm_set1_pd(bound);
        const __m128d g0 = _mm_sub_pd(zz, _mm_loadu_pd(x + begin - 1));
        const __m128d g1 = _mm_sub_pd(zz, _mm_loadu_pd(x + begin + 1));
        const __m128d g2 = _mm_sub_pd(zz, _mm_setr_pd(x[begin + 3], x[end]));
        const int strict0 = _mm_movemask_pd(_mm_cmpnlt_pd(g0, limit));
        const int strict1 = _mm_movemask_pd(_mm_cmpnlt_pd(g1, limit));
        const int strict2 = _mm_movemask_pd(_mm_cmpnlt_pd(g2, limit));
        const int inclusive0 = _mm_movemask_pd(_mm_cmpnle_pd(g0, limit));
        const int inclusive1 = _mm_movemask_pd(_mm_cmpnle_pd(g1, limit));
        const int inclusive2 = _mm_movemask_pd(_mm_cmpnle_pd(g2, limit));
        const bool confirmed = (inclusive0 & 1) & !(strict2 >> 1) & (end - begin <= kPadding);
        if (confirmed)
            return {begin + (strict0 >> 1) + (strict1 & 1) + (strict1 >> 1) + (strict2 & 1),
                    begin + (inclusive0 >> 1) + (inclusive1 & 1) + (inclusive1 >> 1) + (inclusive2 & 1)};
#else
        const bool confirmed = !(z - x[begin - 1] <= bound) & (z - x[end] < bound) & (end - begin <= kPadding);
        if (confirmed) {
            Boundaries found{begin, begin};
            for (int k = 0; k < kPadding; ++k) {
                const Real gap = z - x[begin + k];
                found.strict += !(gap < bound);
                found.inclusive += !(gap <= bound);
            }
            return found;
        }
#endif
    }
    return {searchGapBelow(z, bound, false), searchGapBelow(z, bound, true)};
}

template <bool Inclusive>
[[gnu::always_inline]] inline int GapTable::firstGapBelowOne(Real z, Real bound) const {
    if (cells != 0) {
        // firstGapBelowBoth's confirmation with only this predicate: before the cell it fails, after
        // the cell it holds (so it holds on every slot past the cell's end too), the cell is small.
        const Real* x = sorted;
        const int cell = cellOf(z - bound);
        const int begin = cellStart[cell];
        const int end = cellStart[cell + 1];
#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
        const __m128d zz = _mm_set1_pd(z);
        const __m128d limit = _mm_set1_pd(bound);
        const __m128d g0 = _mm_sub_pd(zz, _mm_loadu_pd(x + begin - 1));
        const __m128d g1 = _mm_sub_pd(zz, _mm_loadu_pd(x + begin + 1));
        const __m128d g2 = _mm_sub_pd(zz, _mm_setr_pd(x[begin + 3], x[end]));
        // cmpnle / cmpnlt: the predicate's failures (NaN fails, as in the scalar code).
        const int fail0 = _mm_movemask_pd(Inclusive ? _mm_cmpnle_pd(g0, limit) : _mm_cmpnlt_pd(g0, limit));
        const int fail1 = _mm_movemask_pd(Inclusive ? _mm_cmpnle_pd(g1, limit) : _mm_cmpnlt_pd(g1, limit));
        const int fail2 = _mm_movemask_pd(Inclusive ? _mm_cmpnle_pd(g2, limit) : _mm_cmpnlt_pd(g2, limit));
        const bool confirmed = (fail0 & 1) & !(fail2 >> 1) & (end - begin <= kPadding);
        if (confirmed) return begin + (fail0 >> 1) + (fail1 & 1) + (fail1 >> 1) + (fail2 & 1);
#else
        auto holds = [&](Real value) { return Inclusive ? z - value <= bound : z - value < bound; };
        const bool confirmed = !holds(x[begin - 1]) & holds(x[end]) & (end - begin <= kPadding);
        if (confirmed) {
            int found = begin;
            for (int k = 0; k < kPadding; ++k) found += !holds(x[begin + k]);
            return found;
        }
#endif
    }
    return searchGapBelow(z, bound, Inclusive);
}

[[gnu::always_inline]] inline int GapTable::countBelow(Real z) const {
    // fl(z − x) ≤ 0 exactly when z ≤ x; cellOf is non-decreasing, so a value in a lower cell is
    // below z and one in a higher cell (or the +∞ sentinel) is not: the slots past the cell add
    // nothing. Non-finite z would break the exact correspondence.
    if (cells != 0 && std::isfinite(z)) {
        const int cell = cellOf(z);
        const int begin = cellStart[cell];
        const int end = cellStart[cell + 1];
        if (end - begin <= kPadding) {
#if defined(__SSE2__) && !defined(MARGINLAB_NO_SIMD)
            const __m128d zz = _mm_set1_pd(z);
            const int below0 = _mm_movemask_pd(_mm_cmplt_pd(_mm_loadu_pd(sorted + begin), zz));
            const int below1 = _mm_movemask_pd(_mm_cmplt_pd(_mm_loadu_pd(sorted + begin + 2), zz));
            return begin + (below0 & 1) + (below0 >> 1) + (below1 & 1) + (below1 >> 1);
#else
            int k = begin;
            for (int i = 0; i < kPadding; ++i) k += sorted[begin + i] < z;
            return k;
#endif
        }
    }
    return searchGapBelow(z, 0.0, true);
}

/// Builds a GapTable over sorted values and owns its cell index.
class GapLocator {
public:
    static constexpr int kPadding = GapTable::kPadding;
    /// `sorted` must carry GapTable's sentinels and outlive the table's use.
    void assign(const Real* sorted, int n);
    /**
     * Sorts (value, index) items by value then index, building the cell table on the way (a
     * bucket sort on the cells: O(n) expected instead of O(n log n)); bind() must then be given
     * the sorted values, with GapTable's sentinels. Returns false (items left unsorted, no table) if the values are too few
     * or their range is empty or not finite: the caller sorts them and calls assign().
     */
    bool sortWithTable(std::vector<std::pair<Real, int>>* items, std::vector<std::pair<Real, int>>* scratch);
    void bind(const Real* sorted) { m_table.sorted = sorted; }
    const GapTable& table() const { return m_table; }

private:
    GapTable m_table;
    std::vector<int> m_cellStart;
    std::vector<int> m_cellOf;  // sortWithTable's scratch: each item's cell, then each position's
};

struct TripletSweepOptions {
    Real margin = 0.05;                       ///< m ≥ 0: active iff gap < m (relu(m − gap) > 0)
    const TripletGapFilter* filter = nullptr;  ///< keep only triplets whose gap it keeps (same δ)
    bool semiHardIncludesMargin = true;        ///< PML: semi-hard 0 < gap ≤ m; FaceNet: 0 < gap < m
    /// Count the kept triplets only (TripletSweepTotals::tuples; nothing else is filled and no
    /// coefficients are written): the filter's lookups and nothing more, for mining statistics.
    bool countKeptOnly = false;
};

struct TripletSweepTotals {
    Count tuples = 0;      ///< kept triplets
    Count active = 0;      ///< kept triplets with gap < m
    Count easy = 0;
    Count semiHard = 0;
    Count hard = 0;
    /// Σ over active kept triplets of (δ_ap − δ_an + m): per anchor, the negatives' part
    /// Σ count·(m − δ_an) in their order, then the positives' Σ coverage·δ_ap in sorted order.
    Real violation = 0.0;

    TripletSweepTotals& operator+=(const TripletSweepTotals& other) {
        tuples += other.tuples;
        active += other.active;
        easy += other.easy;
        semiHard += other.semiHard;
        hard += other.hard;
        violation += other.violation;
        return *this;
    }
};

/// Per negative: its value and its boundaries, looked up beforehand on the vector unit.
struct PresetBuffers {
    std::vector<Real> values;
    std::vector<int> zeros, marginStrict, marginInclusive, highs, lows;
};

/**
 * Processes anchors one at a time, reusing its buffers. For anchor a, `row[j]` is M_aj and
 * `sign` the distance's orderSign (δ_aj = sign·row[j]). If `coefficients` is given it receives,
 * for every j, ∂(Σ_active (δ_ap − δ_an + m))/∂δ_aj: the number of active kept negatives for a
 * positive j, minus the number of active kept positives for a negative j, 0 otherwise.
 */
class TripletSweep {
public:
    /// `labels` must outlive the sweep; anchor() must be called with the same labels.
    TripletSweep(const TripletSweepOptions& options, const Labels& labels);

    void anchor(int a, const Real* row, Real sign, const Labels& labels, TripletSweepTotals* totals,
                Real* coefficients);

private:
    TripletSweepOptions m_options;
    // Indices grouped by label: the anchor's class is the range [m_classBegin[i], m_classEnd[i])
    // of m_byLabel for i = a's position, its negatives everything outside it (no per-j label test).
    std::vector<int> m_byLabel;
    std::vector<int> m_classBegin;  // per sample
    std::vector<int> m_classEnd;
    std::vector<std::pair<Real, int>> m_positives;
    std::vector<std::pair<Real, int>> m_scratch;
    std::vector<Real> m_sorted;
    GapLocator m_locator;
    std::vector<Count> m_difference;
    std::vector<int> m_negatives;   // the anchor's negatives, in m_byLabel order
    std::vector<int> m_activeBegins;  // per negative: its active positives start here…
    std::vector<int> m_keptEnds;      // …and end here (filtered sweeps; else at p)
    std::vector<Real> m_discarded;  // coefficients nobody asked for
    PresetBuffers m_preset;
};

}  // namespace marginlab::detail

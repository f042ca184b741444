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

/**
 * firstGapBelow in O(1) expected time: a table of B ≈ 2P equal-width value cells over the sorted
 * positives gives the one cell where the answer should lie; the answer is then confirmed with the
 * exact predicate on the cell's neighbours (monotonicity makes that a proof), and anything
 * unusual (rounding put the boundary in the next cell, crowded cells, degenerate ranges) falls
 * back to the binary search. Exact in every case, O(log P) in the worst case.
 *
 * A plain value (pointers and numbers): the hot loop keeps a copy in registers, which it could
 * not do with members that every store through a double pointer might have changed.
 */
struct GapTable {
    /// The sorted values are followed by kPadding readable slots.
    static constexpr int kPadding = 4;
    const Real* sorted = nullptr;
    int size = 0;
    int cells = 0;  // 0: no table, always binary search
    Real low = 0.0;
    Real scale = 0.0;
    const int* cellStart = nullptr;  // first sorted index whose cell is ≥ c, c = 0..cells

    int cellOf(Real value) const {
        // Clamped without branches (min/max instructions): values outside the positives' range
        // are common and unpredictable. NaN lands in cell 0; the caller's verification handles it.
        const Real t = (value - low) * scale;
        const Real clamped = std::min(Real(cells - 1), std::max(Real(0), t));
        return static_cast<int>(clamped);
    }
    template <bool Inclusive>
    int firstGapBelow(Real z, Real bound) const;
    int firstGapBelow(Real z, Real bound, bool inclusive) const {
        return inclusive ? firstGapBelow<true>(z, bound) : firstGapBelow<false>(z, bound);
    }
    /// Both firstGapBelow(z, bound, false) and (…, true) from one lookup: they differ only by
    /// exact ties gap == bound, almost always inside the same cell.
    struct Boundaries {
        int strict;
        int inclusive;
    };
    Boundaries firstGapBelowBoth(Real z, Real bound) const;
    /// firstGapBelow<true>(z, 0) = the number of values below z. Faster: with bound 0 the query
    /// is z itself, placed by the same cellOf as the values, so cells alone order it against
    /// every value outside its own cell (no neighbours to confirm).
    int countBelow(Real z) const;

private:
    /// The rare cases the cell cannot settle: a binary search over the relevant range. Kept out
    /// of line so the hot loop stays small.
    [[gnu::noinline]] int searchGapBelow(Real z, Real bound, bool inclusive) const;
};

template <bool Inclusive>
[[gnu::always_inline]] inline int GapTable::firstGapBelow(Real z, Real bound) const {
    const Real* x = sorted;
    auto holds = [&](Real value) {
        if constexpr (Inclusive) return z - value <= bound;
        else return z - value < bound;
    };
    if (cells != 0) {
        // The boundary is near x = z − bound; its cell's members are the only candidates if the
        // predicate is false just before the cell and true just after it (it is monotone in x).
        const int cell = cellOf(z - bound);
        const int begin = cellStart[cell];
        const int end = cellStart[cell + 1];
        const bool beforeFalse = begin == 0 || !holds(x[begin - 1]);
        const bool afterTrue = end == size || holds(x[end]);
        if (beforeFalse && afterTrue && end - begin <= kPadding) {
            // Count the cell's false predicates without a data-dependent branch (slots past
            // `end` are readable padding and masked out).
            int k = begin;
            for (int i = 0; i < kPadding; ++i) k += (begin + i < end) & !holds(x[begin + i]);
            return k;
        }
    }
    return searchGapBelow(z, bound, Inclusive);
}

[[gnu::always_inline]] inline GapTable::Boundaries GapTable::firstGapBelowBoth(Real z, Real bound) const {
    const Real* x = sorted;
    if (cells != 0) {
        const int cell = cellOf(z - bound);
        const int begin = cellStart[cell];
        const int end = cellStart[cell + 1];
        // Before the cell even "gap ≤ bound" must fail; after it even "gap < bound" must hold.
        const bool beforeFalse = begin == 0 || !(z - x[begin - 1] <= bound);
        const bool afterTrue = end == size || z - x[end] < bound;
        if (beforeFalse && afterTrue && end - begin <= kPadding) {
            Boundaries found{begin, begin};
            for (int k = 0; k < kPadding; ++k) {
                const bool inside = begin + k < end;
                const Real gap = z - x[begin + k];
                found.strict += inside & !(gap < bound);
                found.inclusive += inside & !(gap <= bound);
            }
            return found;
        }
    }
    return {searchGapBelow(z, bound, false), searchGapBelow(z, bound, true)};
}

[[gnu::always_inline]] inline int GapTable::countBelow(Real z) const {
    // fl(z − x) ≤ 0 exactly when z ≤ x; cellOf is non-decreasing, so a value in a lower cell is
    // below z and one in a higher cell is not. Non-finite z would break the exact correspondence.
    if (cells != 0 && std::isfinite(z)) {
        const int cell = cellOf(z);
        const int begin = cellStart[cell];
        const int end = cellStart[cell + 1];
        if (end - begin <= kPadding) {
            int k = begin;
            for (int i = 0; i < kPadding; ++i) k += (begin + i < end) & (sorted[begin + i] < z);
            return k;
        }
    }
    return searchGapBelow(z, 0.0, true);
}

/// Builds a GapTable over sorted values and owns its cell index.
class GapLocator {
public:
    static constexpr int kPadding = GapTable::kPadding;
    void assign(const Real* sorted, int n);
    /**
     * Sorts (value, index) items by value then index, building the cell table on the way (a
     * bucket sort on the cells: O(n) expected instead of O(n log n)); bind() must then be given
     * the sorted values. Returns false (items left unsorted, no table) if the values are too few
     * or their range is empty or not finite: the caller sorts them and calls assign().
     */
    bool sortWithTable(std::vector<std::pair<Real, int>>* items, std::vector<std::pair<Real, int>>* scratch);
    void bind(const Real* sorted) { m_table.sorted = sorted; }
    const GapTable& table() const { return m_table; }

private:
    GapTable m_table;
    std::vector<int> m_cellStart;
};

struct TripletSweepOptions {
    Real margin = 0.05;                       ///< m ≥ 0: active iff gap < m (relu(m − gap) > 0)
    const TripletGapFilter* filter = nullptr;  ///< keep only triplets whose gap it keeps (same δ)
    bool semiHardIncludesMargin = true;        ///< PML: semi-hard 0 < gap ≤ m; FaceNet: 0 < gap < m
};

struct TripletSweepTotals {
    Count tuples = 0;      ///< kept triplets
    Count active = 0;      ///< kept triplets with gap < m
    Count easy = 0;
    Count semiHard = 0;
    Count hard = 0;
    Real violation = 0.0;  ///< Σ over active kept triplets of (δ_ap − δ_an + m)

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
    std::vector<Real> m_prefix;
    GapLocator m_locator;
    std::vector<Count> m_difference;
    std::vector<int> m_negatives;   // the anchor's negatives, in m_byLabel order
    std::vector<int> m_activeBegins;  // per negative: its active positives start here…
    std::vector<int> m_keptEnds;      // …and end here (filtered sweeps; else at p)
    std::vector<Real> m_discarded;  // coefficients nobody asked for
};

}  // namespace marginlab::detail

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
 */
class GapLocator {
public:
    /// Sorted values followed by kPadding readable slots; they must outlive the locator's use.
    static constexpr int kPadding = 4;
    void assign(const Real* sorted, int n);
    /**
     * Sorts (value, index) items by value then index, building the cell table on the way (a
     * bucket sort on the cells: O(n) expected instead of O(n log n)); bind() must then be given
     * the sorted values. Returns false (items left unsorted, no table) if the values are too few
     * or their range is empty or not finite: the caller sorts them and calls assign().
     */
    bool sortWithTable(std::vector<std::pair<Real, int>>* items, std::vector<std::pair<Real, int>>* scratch);
    void bind(const Real* sorted) { m_sorted = sorted; }
    template <bool Inclusive>
    int firstGapBelow(Real z, Real bound) const;
    int firstGapBelow(Real z, Real bound, bool inclusive) const {
        return inclusive ? firstGapBelow<true>(z, bound) : firstGapBelow<false>(z, bound);
    }
    /// Both firstGapBelow(z, bound, false) (→ *strict) and (…, true) (→ *inclusive) from one
    /// lookup: they differ only by exact ties gap == bound, almost always inside the same cell.
    void firstGapBelowBoth(Real z, Real bound, int* strict, int* inclusive) const;

private:
    int cellOf(Real value) const;

    const Real* m_sorted = nullptr;
    int m_size = 0;
    int m_cells = 0;  // 0: no table, always binary search
    Real m_low = 0.0;
    Real m_scale = 0.0;
    std::vector<int> m_cellStart;  // first sorted index whose cell is ≥ c, c = 0..m_cells
};

inline int GapLocator::cellOf(Real value) const {
    // Clamped without branches (min/max instructions): values outside the positives' range are
    // common and unpredictable. NaN lands in cell 0; the caller's verification handles it.
    const Real t = (value - m_low) * m_scale;
    const Real clamped = std::min(Real(m_cells - 1), std::max(Real(0), t));
    return static_cast<int>(clamped);
}

template <bool Inclusive>
inline int GapLocator::firstGapBelow(Real z, Real bound) const {
    if (m_cells == 0) return detail::firstGapBelow(m_sorted, m_size, z, bound, Inclusive);
    const Real* x = m_sorted;
    auto holds = [&](Real value) {
        if constexpr (Inclusive) return z - value <= bound;
        else return z - value < bound;
    };
    // The boundary is near x = z − bound; its cell's members are the only candidates if the
    // predicate is false just before the cell and true just after it (it is monotone in x).
    const int cell = cellOf(z - bound);
    const int begin = m_cellStart[static_cast<std::size_t>(cell)];
    const int end = m_cellStart[static_cast<std::size_t>(cell) + 1];
    const bool beforeFalse = begin == 0 || !holds(x[begin - 1]);
    const bool afterTrue = end == m_size || holds(x[end]);
    if (!beforeFalse || !afterTrue) return detail::firstGapBelow(x, m_size, z, bound, Inclusive);
    if (end - begin > kPadding) return begin + detail::firstGapBelow(x + begin, end - begin, z, bound, Inclusive);
    // Count the cell's false predicates without a data-dependent branch (slots past `end` are
    // readable padding and masked out).
    int k = begin;
    for (int i = 0; i < kPadding; ++i) k += (begin + i < end) & !holds(x[begin + i]);
    return k;
}

inline void GapLocator::firstGapBelowBoth(Real z, Real bound, int* strict, int* inclusive) const {
    const Real* x = m_sorted;
    if (m_cells != 0) {
        const int cell = cellOf(z - bound);
        const int begin = m_cellStart[static_cast<std::size_t>(cell)];
        const int end = m_cellStart[static_cast<std::size_t>(cell) + 1];
        // Before the cell even "gap ≤ bound" must fail; after it even "gap < bound" must hold.
        const bool beforeFalse = begin == 0 || !(z - x[begin - 1] <= bound);
        const bool afterTrue = end == m_size || z - x[end] < bound;
        if (beforeFalse && afterTrue && end - begin <= kPadding) {
            int s = begin, i = begin;
            for (int k = 0; k < kPadding; ++k) {
                const bool inside = begin + k < end;
                const Real gap = z - x[begin + k];
                s += inside & !(gap < bound);
                i += inside & !(gap <= bound);
            }
            *strict = s;
            *inclusive = i;
            return;
        }
    }
    *strict = firstGapBelow<false>(z, bound);
    *inclusive = firstGapBelow<true>(z, bound);
}

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
};

}  // namespace marginlab::detail

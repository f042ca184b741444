// SPDX-License-Identifier: MIT
// Batch-all triplet counting without enumerating triplets (internal header).
//
// For one anchor a with ordering distances δ (δ = orderSign·M), every triplet (a,p,n) is decided by
// its gap g = fl(δ_an − δ_ap). For a fixed negative value z = δ_an, g is non-increasing in
// x = δ_ap, so every condition of the form "g < b" or "g ≤ b" holds on a suffix of the positives
// sorted by x. One binary search per condition, with the exact floating-point predicate (not a
// rearranged threshold), therefore reproduces the per-triplet decisions bit for bit, ties included.
// Per anchor: O(P log P) to sort the positives, O(log P) per negative: O(N² log N) for the batch.
#pragma once

#include "marginlab/tuples.h"
#include "marginlab/types.h"

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
    explicit TripletSweep(const TripletSweepOptions& options) : m_options(options) {}

    void anchor(int a, const Real* row, Real sign, const Labels& labels, TripletSweepTotals* totals,
                Real* coefficients);

private:
    TripletSweepOptions m_options;
    std::vector<std::pair<Real, int>> m_positives;
    std::vector<Real> m_sorted;
    std::vector<Real> m_prefix;
    std::vector<Count> m_difference;
};

}  // namespace marginlab::detail

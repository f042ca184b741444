// SPDX-License-Identifier: MIT
#include "losses/triplet_sweep.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if !defined(MARGINLAB_NO_SIMD)
#include "simd/dispatch.h"
#endif

namespace marginlab::detail {

void runningSums(int* values, int n) {
#if !defined(MARGINLAB_NO_SIMD)
    simd::kernels().runningSums(values, n);
#else
    int running = 0;
    for (int c = 0; c < n; ++c) values[c] = running += values[c];
#endif
}

int GapTable::searchGapBelow(Real z, Real bound, bool inclusive) const {
    if (cells != 0) {
        // Within the cell when its neighbours confirm it (a crowded cell), else everywhere.
        const int cell = cellOf(z - bound);
        const int begin = cellStart[cell];
        const int end = cellStart[cell + 1];
        auto holds = [&](Real value) { return inclusive ? z - value <= bound : z - value < bound; };
        const bool beforeFalse = begin == 0 || !holds(sorted[begin - 1]);
        const bool afterTrue = end == size || holds(sorted[end]);
        if (beforeFalse && afterTrue)
            return begin + detail::firstGapBelow(sorted + begin, end - begin, z, bound, inclusive);
    }
    return detail::firstGapBelow(sorted, size, z, bound, inclusive);
}

void GapLocator::assign(const Real* sorted, int n) {
    m_table = GapTable{};
    m_table.sorted = sorted;
    m_table.size = n;
    if (n < 16) return;  // a binary search over a few values is as fast as the table
    const Real low = sorted[0];
    const Real range = sorted[n - 1] - low;
    if (!(range > 0.0) || !std::isfinite(range)) return;
    const Real scale = Real(4 * n) / range;
    if (!std::isfinite(scale)) return;
    m_table.cells = 4 * n;
    m_table.top = Real(m_table.cells - 1);
    m_table.low = low;
    m_table.scale = scale;
    m_cellStart.assign(static_cast<std::size_t>(m_table.cells) + 1, n);
    m_table.cellStart = m_cellStart.data();
    // cellOf is non-decreasing along the sorted values: fill each cell's first index.
    int cell = 0;
    for (int k = 0; k < n; ++k) {
        const int c = m_table.cellOf(sorted[k]);
        while (cell <= c) m_cellStart[static_cast<std::size_t>(cell++)] = k;
    }
}

bool GapLocator::sortWithTable(std::vector<std::pair<Real, int>>* items,
                               std::vector<std::pair<Real, int>>* scratch) {
    const int n = static_cast<int>(items->size());
    m_table = GapTable{};
    m_table.size = n;
    if (n < 16) return false;
    Real low = (*items)[0].first, high = low;
    for (const auto& item : *items) {
        low = std::min(low, item.first);
        high = std::max(high, item.first);
    }
    const Real range = high - low;
    if (!(range > 0.0) || !std::isfinite(range)) return false;
    const Real scale = Real(4 * n) / range;
    if (!std::isfinite(scale)) return false;
    const int cells = 4 * n;
    m_table.cells = cells;
    m_table.top = Real(cells - 1);
    m_table.low = low;
    m_table.scale = scale;
    // Counting sort by cell (cellOf is non-decreasing in the value), then each cell on its own.
    m_cellStart.assign(static_cast<std::size_t>(cells) + 1, 0);
    m_table.cellStart = m_cellStart.data();
    int* start = m_cellStart.data();  // per cell: its count, its end, then (after the scatter) its start
    m_cellOf.resize(2 * static_cast<std::size_t>(n));
    int* cellOfItem = m_cellOf.data();
    int* cellAt = cellOfItem + n;  // the cell of each sorted position
    int crowded = 0;               // the largest cell, tracked per item rather than over 4n cells
    for (int k = 0; k < n; ++k) {
        const int cell = m_table.cellOf((*items)[static_cast<std::size_t>(k)].first);
        cellOfItem[k] = cell;
        crowded = std::max(crowded, ++start[cell]);
    }
    runningSums(start, cells);  // the interactive scene's step spent a tenth of its time in this sort
    start[cells] = n;
    scratch->resize(items->size());
    // Backwards from each cell's end: the items of a cell keep their order (a stable sort), and
    // the cursors finish at the cells' starts.
    for (int k = n; k-- > 0;) {
        const int at = --start[cellOfItem[k]];
        (*scratch)[static_cast<std::size_t>(at)] = (*items)[static_cast<std::size_t>(k)];
        cellAt[at] = cellOfItem[k];
    }
    constexpr int kSmall = 16;  // cells holding more are sorted outright
    if (crowded > kSmall)
        for (int c = 0; c < cells; ++c)
            if (start[c + 1] - start[c] > kSmall)
                std::sort(scratch->begin() + start[c], scratch->begin() + start[c + 1]);
    // Insertion sort of every small cell (about ½ item each on average) in one pass over the
    // positions instead of one loop per cell: the same comparisons and moves, never past the
    // item's own cell.
    std::pair<Real, int>* out = scratch->data();
    for (int i = 1; i < n; ++i) {
        const int cell = cellAt[i];
        if (cell != cellAt[i - 1] || start[cell + 1] - start[cell] > kSmall || !(out[i] < out[i - 1]))
            continue;
        const std::pair<Real, int> held = out[i];
        int j = i;
        for (; j > start[cell] && held < out[j - 1]; --j) out[j] = out[j - 1];
        out[j] = held;
    }
    items->swap(*scratch);
    return true;
}

namespace {

/// One end of a filter's kept range as a firstGapBelow query, and whether the sweep already
/// answers that exact query (same bound, same strictness) for its own counts.
struct FilterBound {
    enum class Reuse { None, Zero, MarginStrict, MarginInclusive };
    Real value = 0.0;
    bool inclusive = false;
    Reuse reuse = Reuse::None;
};

FilterBound filterBound(Real value, bool inclusive, Real margin) {
    FilterBound out{value, inclusive, FilterBound::Reuse::None};
    // countBelow(z) is firstGapBelow(z, 0, true); −0.0 == 0.0 gives the same comparisons.
    if (value == 0.0 && inclusive)
        out.reuse = FilterBound::Reuse::Zero;
    else if (value == margin)
        out.reuse = inclusive ? FilterBound::Reuse::MarginInclusive : FilterBound::Reuse::MarginStrict;
    return out;
}

/**
 * Where the sweep's own boundaries (gap ≤ 0: hard; gap < m / ≤ m: active, semi-hard) lie against
 * a filter's kept gaps, decided once from the bounds: inside the kept range (looked up per
 * negative), or before / after every kept gap (then the boundary is the kept range's begin / end
 * and needs no lookup). Kept gaps satisfy the filter's predicates, so they are never NaN.
 */
struct FilterPlan {
    enum class Where { Inside, Begin, End };
    Where zero = Where::Inside;
    Where margin = Where::Inside;
    bool zeroLookup = true;
    bool marginLookup = true;
};

/// Every kept gap g satisfies g < b (strictly) when the high bound is below b, or equal to it
/// and exclusive; every kept gap satisfies g > b when the low bound is above b, or equal and
/// exclusive.
FilterPlan filterPlan(const TripletGapFilter& filter, Real margin, const FilterBound& high,
                      const FilterBound& low, bool hasHigh, bool hasLow) {
    FilterPlan plan;
    // The hard boundary is "gap ≤ 0": kept gaps ≤ 0 are all hard (Begin); > 0, none (End).
    if (hasHigh && filter.high <= 0.0)
        plan.zero = FilterPlan::Where::Begin;
    else if (hasLow && (filter.low > 0.0 || (filter.low == 0.0 && !filter.includeLow)))
        plan.zero = FilterPlan::Where::End;
    // Active "gap < m" and semi-hard "gap ≤ m" (or < m) agree on every gap ≠ m.
    if (hasHigh && (filter.high < margin || (filter.high == margin && !filter.includeHigh)))
        plan.margin = FilterPlan::Where::Begin;
    else if (hasLow && (filter.low > margin || (filter.low == margin && !filter.includeLow)))
        plan.margin = FilterPlan::Where::End;
    auto reuses = [&](const FilterBound& bound, bool present, FilterBound::Reuse a, FilterBound::Reuse b) {
        return present && (bound.reuse == a || bound.reuse == b);
    };
    plan.zeroLookup = plan.zero == FilterPlan::Where::Inside ||
                      reuses(high, hasHigh, FilterBound::Reuse::Zero, FilterBound::Reuse::Zero) ||
                      reuses(low, hasLow, FilterBound::Reuse::Zero, FilterBound::Reuse::Zero);
    plan.marginLookup =
        plan.margin == FilterPlan::Where::Inside ||
        reuses(high, hasHigh, FilterBound::Reuse::MarginStrict, FilterBound::Reuse::MarginInclusive) ||
        reuses(low, hasLow, FilterBound::Reuse::MarginStrict, FilterBound::Reuse::MarginInclusive);
    return plan;
}

/// What one anchor's sweep over its negatives reads; everything by value or through pointers
/// the loop does not write, so it stays in registers.
struct NegativeSweep {
    const Real* row;
    Real sign;
    const int* negatives;  // indices, the anchor's class left out
    int count;
    int positives;  // p
    Real margin;
    bool semiHardIncludesMargin;
    const TripletGapFilter* filter;
    bool hasHigh, hasLow;
    FilterBound high, low;  // "gap ≤(<) high" and "gap <(≤) low" as firstGapBelow queries
    FilterPlan plan;
    bool finitePositives;  // their sum is finite, so none is NaN or ±∞: the kernels' condition
};

/// sweepNegatives' filtered lookups straight from the table, one negative after another.
struct TableLookups {
    GapTable table;
    int zero(int, Real z) const { return table.countBelow(z); }
    GapTable::Boundaries margin(int, Real z, Real m) const { return table.firstGapBelowBoth(z, m); }
    int bound(int, Real z, const FilterBound& b, bool) const {
        return table.firstGapBelow(z, b.value, b.inclusive);
    }
};

/// The same answers computed beforehand for every negative t, on the vector unit (presetOnVectorUnit).
struct PresetLookups {
    const int* zeros;
    const int* marginStrict;
    const int* marginInclusive;
    const int* highs;
    const int* lows;
    int zero(int t, Real) const { return zeros[t]; }
    GapTable::Boundaries margin(int t, Real, Real) const { return {marginStrict[t], marginInclusive[t]}; }
    int bound(int t, Real, const FilterBound&, bool high) const { return high ? highs[t] : lows[t]; }
};

/**
 * The per-negative work of TripletSweep::anchor, with local accumulators (a captured-by-reference
 * lambda kept them in memory: every negative paid a store-to-load round trip on each sum).
 * Unfiltered sweeps, the common case, skip the filter's two searches at compile time.
 */
template <bool Filtered, typename Lookups = TableLookups>
TripletSweepTotals sweepNegatives(const NegativeSweep& in, const GapTable table, int* activeBegins,
                                  int* keptEnds, Real* coefficients, const Lookups& look) {
    const Real* row = in.row;
    const Real sign = in.sign;
    const int* negatives = in.negatives;
    const int p = in.positives;
    const Real margin = in.margin;
    const bool semiIncludesMargin = in.semiHardIncludesMargin;
    Count tuples = 0, active = 0, easy = 0, semiHard = 0, hard = 0;
    Real violation = 0.0;
    for (int t = 0; t < in.count; ++t) {
        const int j = negatives[t];
        const Real z = sign * row[j];
        // The kept positives form [keptBegin, keptEnd): "gap ≤ high" holds on a suffix, "gap ≥ low"
        // on a prefix (its negation "gap < low" on a suffix).
        int keptBegin = 0, keptEnd = p;
        int activeFrom, semiFrom, hardFrom;
        if constexpr (!Filtered) {
            // Active: gap < m. Semi-hard starts at gap ≤ m (PML) or gap < m (FaceNet).
            const GapTable::Boundaries atMargin = table.firstGapBelowBoth(z, margin);
            activeFrom = atMargin.strict;
            semiFrom = semiIncludesMargin ? atMargin.inclusive : atMargin.strict;
            hardFrom = table.countBelow(z);
        } else {
            // Only the boundaries that can fall inside the kept range are looked up (FilterPlan),
            // and a filter bound at 0 or at the margin reuses that boundary's lookup: the
            // TripletMarginMiner types hard and easy need one lookup per negative, not three.
            const FilterPlan& plan = in.plan;
            const int zero = plan.zeroLookup ? look.zero(t, z) : 0;  // firstGapBelow(z, 0, true)
            const GapTable::Boundaries atMargin =
                plan.marginLookup ? look.margin(t, z, margin) : GapTable::Boundaries{0, 0};
            auto boundary = [&](const FilterBound& bound, bool high) {
                switch (bound.reuse) {
                    case FilterBound::Reuse::Zero:
                        return zero;
                    case FilterBound::Reuse::MarginStrict:
                        return atMargin.strict;
                    case FilterBound::Reuse::MarginInclusive:
                        return atMargin.inclusive;
                    case FilterBound::Reuse::None:
                        break;
                }
                return look.bound(t, z, bound, high);
            };
            keptBegin = in.hasHigh ? boundary(in.high, true) : 0;
            keptEnd = std::max(keptBegin, in.hasLow ? boundary(in.low, false) : p);
            auto place = [&](FilterPlan::Where where, int found) {
                return where == FilterPlan::Where::Inside  ? std::clamp(found, keptBegin, keptEnd)
                       : where == FilterPlan::Where::Begin ? keptBegin
                                                           : keptEnd;
            };
            hardFrom = place(plan.zero, zero);
            activeFrom = place(plan.margin, atMargin.strict);
            semiFrom = place(plan.margin, semiIncludesMargin ? atMargin.inclusive : atMargin.strict);
        }
        tuples += keptEnd - keptBegin;
        hard += keptEnd - hardFrom;
        semiHard += std::max(0, hardFrom - semiFrom);
        easy += std::min(semiFrom, hardFrom) - keptBegin;
        // Branch-free on purpose: whether a negative is active is a coin flip for the predictor.
        const int activeCount = keptEnd - activeFrom;
        active += activeCount;
        violation += activeCount * (margin - z);  // the positives' part: TripletSweep::anchor
        // Recorded here and counted afterwards into the positives' coverage (TripletSweep::anchor).
        activeBegins[t] = activeFrom;
        if constexpr (Filtered)
            if (in.hasLow) keptEnds[t] = keptEnd;
        coefficients[j] = -Real(activeCount);
    }
    TripletSweepTotals totals;
    totals.tuples = tuples;
    totals.active = active;
    totals.easy = easy;
    totals.semiHard = semiHard;
    totals.hard = hard;
    totals.violation = violation;
    return totals;
}

/**
 * Filters whose kept gaps all fall in one region, placed by one lookup per negative
 * (sweepOneRegion):
 * - Hard: "gap ≤ 0" (TripletMarginMiner's type hard, loss margin > 0). Kept: [zero, p), where
 *   zero = countBelow(z); every kept gap is hard and active.
 * - Easy: "gap > b" alone with b above the loss margin and its own lookup (type easy with the
 *   miner's margin above the loss's). Kept: [0, end), end = firstGapBelow(z, b, inclusive); every
 *   kept gap is easy and none is active.
 */
enum class OneRegion { None, Hard, Easy };

OneRegion oneRegionFilter(const NegativeSweep& in) {
    using Where = FilterPlan::Where;
    if (in.hasHigh && !in.hasLow && in.high.reuse == FilterBound::Reuse::Zero &&
        in.plan.zero == Where::Begin && in.plan.margin == Where::Begin)
        return OneRegion::Hard;
    if (!in.hasHigh && in.hasLow && in.low.reuse == FilterBound::Reuse::None && in.plan.zero == Where::End &&
        in.plan.margin == Where::End)
        return OneRegion::Easy;
    return OneRegion::None;
}

/**
 * sweepNegatives<true> for a oneRegionFilter. Hard: keptBegin = hardFrom = activeFrom = semiFrom
 * = zero, keptEnd = p. Easy: keptBegin = 0, hardFrom = activeFrom = semiFrom = keptEnd. The
 * generic loop's clamps, choices and empty counts drop out; the sums are the same in the same
 * order (the easy terms included: 0·(m − z) is NaN for an infinite z there too), hence the same
 * bits, tested against the listing.
 */
template <OneRegion region, typename Lookups>
TripletSweepTotals sweepOneRegion(const NegativeSweep& in, int* activeBegins, int* keptEnds,
                                  Real* coefficients, const Lookups& look) {
    const NegativeSweep s = in;  // a copy the stores below cannot alias: it stays in registers
    const int p = s.positives;
    Count kept = 0;
    Real violation = 0.0;
    for (int t = 0; t < s.count; ++t) {
        const int j = s.negatives[t];
        const Real z = s.sign * s.row[j];
        if constexpr (region == OneRegion::Hard) {
            const int zero = look.zero(t, z);
            const int count = p - zero;
            kept += count;
            violation += count * (s.margin - z);
            activeBegins[t] = zero;
            coefficients[j] = -Real(count);
        } else {
            const int end = std::max(0, look.bound(t, z, s.low, false));
            kept += end;
            violation += 0 * (s.margin - z);
            activeBegins[t] = end;
            keptEnds[t] = end;
            coefficients[j] = -Real(0);
        }
    }
    TripletSweepTotals totals;
    totals.tuples = kept;
    if constexpr (region == OneRegion::Hard) {
        totals.active = kept;
        totals.hard = kept;
    } else {
        totals.easy = kept;
    }
    totals.violation = violation;
    return totals;
}

/**
 * Whether a filter's kept range and the sweep's boundaries need none of the generic path's
 * choices (sweepOrdered): a high bound of its own (or none), a low bound that is exactly the hard
 * boundary "gap ≤ 0" (semi-hard's gap > 0) or none, and the margin inside the kept range. Then
 * keptBegin ≤ semiFrom ≤ activeFrom ≤ hardFrom ≤ keptEnd holds by the bounds alone (every
 * predicate reads the same fl(z − x)), so no boundary needs clamping to the kept range: the
 * TripletMarginMiner types all and semihard (margin ≥ the loss margin > 0) take this path.
 */
bool orderedFilter(const NegativeSweep& in) {
    const bool highAlone = !in.hasHigh || in.high.reuse == FilterBound::Reuse::None;
    const bool lowAtZero = !in.hasLow || in.low.reuse == FilterBound::Reuse::Zero;
    // A low bound at the hard boundary leaves no kept gap ≤ 0 (plan.zero = End, hardFrom =
    // keptEnd); without one, the hard boundary is looked up (Inside) or equals keptBegin (Begin,
    // a high bound ≤ 0 that is then the same lookup "gap ≤ 0").
    const bool zeroPlaced =
        in.hasLow ? in.plan.zero == FilterPlan::Where::End : in.plan.zero != FilterPlan::Where::End;
    return highAlone && lowAtZero && zeroPlaced && in.plan.margin == FilterPlan::Where::Inside &&
           in.margin >= 0.0;
}

/**
 * sweepNegatives<true> for an orderedFilter: T's two lookups (the margin, both strictnesses,
 * and the hard boundary) plus one single-predicate lookup for the high bound, no clamps, and the
 * kept range's end is the hard boundary when there is a low bound. The same boundaries, hence the
 * same counts, sums and coefficients, as the generic path (tested against it and the listings).
 */
template <bool HasHigh, bool HighInclusive, bool HasLow>
TripletSweepTotals sweepOrdered(const NegativeSweep& in, const GapTable table, Count* difference,
                                Real* coefficients) {
    const Real* row = in.row;
    const Real sign = in.sign;
    const int* negatives = in.negatives;
    const int p = in.positives;
    const Real margin = in.margin;
    const Real high = in.high.value;
    const bool semiIncludesMargin = in.semiHardIncludesMargin;
    Count tuples = 0, active = 0, easy = 0, semiHard = 0, hard = 0;
    Real violation = 0.0;
    for (int t = 0; t < in.count; ++t) {
        const int j = negatives[t];
        const Real z = sign * row[j];
        const int keptBegin = HasHigh ? table.firstGapBelowOne<HighInclusive>(z, high) : 0;
        const GapTable::Boundaries atMargin = table.firstGapBelowBoth(z, margin);
        const int zero = table.countBelow(z);
        // Without a low bound the generic path clamps zero to [keptBegin, p]: a no-op here, as
        // "gap ≤ 0" implies the high bound's predicate (high ≥ the margin ≥ 0).
        const int keptEnd = HasLow ? std::max(keptBegin, zero) : p;
        const int hardFrom = HasLow ? keptEnd : zero;
        const int activeFrom = atMargin.strict;
        const int semiFrom = semiIncludesMargin ? atMargin.inclusive : atMargin.strict;
        tuples += keptEnd - keptBegin;
        hard += keptEnd - hardFrom;
        semiHard += std::max(0, hardFrom - semiFrom);
        easy += std::min(semiFrom, hardFrom) - keptBegin;
        const int activeCount = keptEnd - activeFrom;
        active += activeCount;
        violation += activeCount * (margin - z);
        // The positives' difference array directly (TripletSweep::anchor's second pass otherwise):
        // the active range [activeFrom, keptEnd) covers these positives.
        ++difference[activeFrom];
        if constexpr (HasLow) --difference[keptEnd];
        coefficients[j] = -Real(activeCount);
    }
    TripletSweepTotals totals;
    totals.tuples = tuples;
    totals.active = active;
    totals.easy = easy;
    totals.semiHard = semiHard;
    totals.hard = hard;
    totals.violation = violation;
    return totals;
}

/**
 * The sweep on the vector unit (simd::Kernels::tripletSweep: the same bits) where it has one:
 * unfiltered (activeBegins recorded, as sweepNegatives<false>) or ordered (`difference` updated,
 * as sweepOrdered). False if it cannot run here: the caller's loop does the work.
 */
#if defined(MARGINLAB_NO_SIMD)
// Built without the vector units (the scalar GapTable tests): always the scalar loops.
bool sweepOnVectorUnit(const NegativeSweep&, const GapTable&, int*, Count*, Real*, TripletSweepTotals*) {
    return false;
}
#else
bool sweepOnVectorUnit(const NegativeSweep& in, const GapTable& table, int* activeBegins, Count* difference,
                       Real* coefficients, TripletSweepTotals* totals) {
    // The kernel settles a lookup its cell cannot with a plain binary search, which finds the
    // scalar loop's answer only if the positives are truly ordered: not with a NaN among them
    // (the table skips NaN when it takes the range).
    const auto kernel = simd::kernels().tripletSweep;
    if (!kernel || table.cells == 0 || !in.finitePositives) return false;
    const simd::SweepInput args{in.row,
                                in.sign,
                                in.negatives,
                                in.count,
                                in.positives,
                                in.margin,
                                in.semiHardIncludesMargin,
                                in.hasHigh,
                                in.high.inclusive,
                                in.hasLow,
                                in.high.value,
                                table.sorted,
                                table.size,
                                table.low,
                                table.scale,
                                table.top,
                                table.cellStart};
    simd::SweepTotals sums{};
    kernel(args, activeBegins, difference, coefficients, &sums);
    *totals =
        TripletSweepTotals{sums.tuples, sums.active, sums.easy, sums.semiHard, sums.hard, sums.violation};
    return true;
}
#endif

/**
 * A filtered sweep's lookups for every negative at once on the vector unit
 * (simd::Kernels::countBelow, gapBoundaries: the same answers as the table's), into `buffers`,
 * for sweepNegatives<true>: the filters the sweep kernel does not take (TripletMarginMiner's hard
 * and easy, bounds at 0 or at the margin). False where it cannot run (see sweepOnVectorUnit).
 */
#if defined(MARGINLAB_NO_SIMD)
bool presetOnVectorUnit(const NegativeSweep&, const GapTable&, PresetBuffers*, PresetLookups*) {
    return false;
}
#else
bool presetOnVectorUnit(const NegativeSweep& in, const GapTable& table, PresetBuffers* buffers,
                        PresetLookups* out) {
    const simd::Kernels& kernels = simd::kernels();
    if (!kernels.countBelow || !kernels.gapBoundaries || table.cells == 0 || !in.finitePositives)
        return false;
    const simd::CellTable cells{table.sorted, table.size, table.low, table.scale, table.top, table.cellStart};
    const std::size_t count = static_cast<std::size_t>(in.count);
    buffers->values.resize(count);
    for (int t = 0; t < in.count; ++t)
        buffers->values[static_cast<std::size_t>(t)] = in.sign * in.row[in.negatives[t]];
    auto sized = [&](std::vector<int>& v) {
        v.resize(count);
        return v.data();
    };
    const double* z = buffers->values.data();
    *out = PresetLookups{sized(buffers->zeros), sized(buffers->marginStrict), sized(buffers->marginInclusive),
                         sized(buffers->highs), sized(buffers->lows)};
    // Only what sweepNegatives<true> will read (FilterPlan; a reused bound reads zero or margin).
    if (in.plan.zeroLookup) kernels.countBelow(cells, z, in.count, buffers->zeros.data());
    if (in.plan.marginLookup)
        kernels.gapBoundaries(cells, z, in.count, in.margin, buffers->marginStrict.data(),
                              buffers->marginInclusive.data());
    auto bound = [&](const FilterBound& b, int* found) {
        kernels.gapBoundaries(cells, z, in.count, b.value, b.inclusive ? nullptr : found,
                              b.inclusive ? found : nullptr);
    };
    if (in.hasHigh && in.high.reuse == FilterBound::Reuse::None) bound(in.high, buffers->highs.data());
    if (in.hasLow && in.low.reuse == FilterBound::Reuse::None) bound(in.low, buffers->lows.data());
    return true;
}
#endif

using SweepFunction = TripletSweepTotals (*)(const NegativeSweep&, const GapTable, Count*, Real*);

SweepFunction orderedSweep(const NegativeSweep& in) {
    if (!in.hasHigh) return &sweepOrdered<false, false, true>;  // hasLow: else the sweep is unfiltered
    if (in.high.inclusive)
        return in.hasLow ? &sweepOrdered<true, true, true> : &sweepOrdered<true, true, false>;
    return in.hasLow ? &sweepOrdered<true, false, true> : &sweepOrdered<true, false, false>;
}

}  // namespace

TripletSweep::TripletSweep(const TripletSweepOptions& options, const Labels& labels) : m_options(options) {
    const int n = static_cast<int>(labels.size());
    m_byLabel.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) m_byLabel[static_cast<std::size_t>(i)] = i;
    std::stable_sort(m_byLabel.begin(), m_byLabel.end(), [&](int i, int j) {
        return labels[static_cast<std::size_t>(i)] < labels[static_cast<std::size_t>(j)];
    });
    m_classBegin.resize(static_cast<std::size_t>(n));
    m_classEnd.resize(static_cast<std::size_t>(n));
    for (int begin = 0; begin < n;) {
        int end = begin;
        const int label = labels[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(begin)])];
        while (end < n && labels[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(end)])] == label)
            ++end;
        for (int t = begin; t < end; ++t) {
            m_classBegin[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(t)])] = begin;
            m_classEnd[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(t)])] = end;
        }
        begin = end;
    }
}

void TripletSweep::anchor(int a, const Real* row, Real sign, const Labels& labels, TripletSweepTotals* totals,
                          Real* coefficients) {
    const int n = static_cast<int>(labels.size());
    if (coefficients) std::fill(coefficients, coefficients + n, Real(0));
    const int classBegin = m_classBegin[static_cast<std::size_t>(a)];
    const int classEnd = m_classEnd[static_cast<std::size_t>(a)];
    const int* byLabel = m_byLabel.data();

    m_positives.clear();
    for (int t = classBegin; t < classEnd; ++t)
        if (byLabel[t] != a) m_positives.emplace_back(sign * row[byLabel[t]], byLabel[t]);
    const int p = static_cast<int>(m_positives.size());
    if (p == 0 || classEnd - classBegin == n) return;
    const bool table = m_locator.sortWithTable(&m_positives, &m_scratch);
    if (!table) std::sort(m_positives.begin(), m_positives.end());
    // m_sorted = [−∞, the p sorted values, +∞ × (kPadding + 1)]: the table's sentinels.
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    m_sorted.assign(static_cast<std::size_t>(p + GapLocator::kPadding + 2), infinity);
    m_sorted[0] = -infinity;
    Real* sorted = m_sorted.data() + 1;
    Real sum = 0.0;
    for (int k = 0; k < p; ++k) {
        sorted[k] = m_positives[static_cast<std::size_t>(k)].first;
        sum += sorted[k];
    }
    if (table)
        m_locator.bind(sorted);
    else
        m_locator.assign(sorted, p);

    // The negatives are everything outside the anchor's class range of m_byLabel: gather them
    // into one list so the loop has a single trip count.
    m_negatives.clear();
    m_negatives.insert(m_negatives.end(), byLabel, byLabel + classBegin);
    m_negatives.insert(m_negatives.end(), byLabel + classEnd, byLabel + n);
    if (!coefficients) m_discarded.resize(static_cast<std::size_t>(n));
    Real* out = coefficients ? coefficients : m_discarded.data();

    const TripletGapFilter* filter = m_options.filter;
    NegativeSweep in{};
    in.row = row;
    in.sign = sign;
    in.negatives = m_negatives.data();
    in.count = static_cast<int>(m_negatives.size());
    in.positives = p;
    in.margin = m_options.margin;
    in.semiHardIncludesMargin = m_options.semiHardIncludesMargin;
    in.filter = filter;
    // An infinite bound keeps every finite gap: skip its search.
    in.hasHigh = filter && !(std::isinf(filter->high) && filter->high > 0);
    in.hasLow = filter && !(std::isinf(filter->low) && filter->low < 0);
    if (filter) {
        in.high = filterBound(filter->high, filter->includeHigh, m_options.margin);
        in.low = filterBound(filter->low, !filter->includeLow, m_options.margin);
        in.plan = filterPlan(*filter, m_options.margin, in.high, in.low, in.hasHigh, in.hasLow);
    }
    in.finitePositives = std::isfinite(sum);
    if (m_options.countKeptOnly) {
        const GapTable gaps = m_locator.table();
        Count kept = 0;
        for (const int j : m_negatives) {
            const Real z = sign * row[j];
            const int begin = in.hasHigh ? gaps.firstGapBelow(z, filter->high, filter->includeHigh) : 0;
            const int end =
                std::max(begin, in.hasLow ? gaps.firstGapBelow(z, filter->low, !filter->includeLow) : p);
            kept += end - begin;
        }
        totals->tuples += kept;
        return;
    }
    m_activeBegins.resize(m_negatives.size());
    m_keptEnds.resize(m_negatives.size());
    const bool filtered = in.hasHigh || in.hasLow;
    // A positive's coefficient counts the negatives whose active range [activeBegin, keptEnd)
    // covers it: a difference array over the sorted positives, summed up. The ordered path fills
    // it as it goes; the others record the ranges and count them below.
    m_difference.assign(static_cast<std::size_t>(p) + 1, 0);
    Count* difference = m_difference.data();
    const bool ordered = filtered && orderedFilter(in);
    const GapTable& gaps = m_locator.table();
    TripletSweepTotals found;
    if (!filtered) {
        if (!sweepOnVectorUnit(in, gaps, m_activeBegins.data(), nullptr, out, &found))
            found = sweepNegatives<false>(in, gaps, m_activeBegins.data(), m_keptEnds.data(), out,
                                          TableLookups{gaps});
    } else if (ordered) {
        if (!sweepOnVectorUnit(in, gaps, nullptr, difference, out, &found))
            found = orderedSweep(in)(in, gaps, difference, out);
    } else {
        PresetLookups preset{};
        int* const begins = m_activeBegins.data();
        int* const ends = m_keptEnds.data();
        const OneRegion region = oneRegionFilter(in);
        auto sweepWith = [&](const auto& look) {
            if (region == OneRegion::Hard)
                return sweepOneRegion<OneRegion::Hard>(in, begins, ends, out, look);
            if (region == OneRegion::Easy)
                return sweepOneRegion<OneRegion::Easy>(in, begins, ends, out, look);
            return sweepNegatives<true>(in, gaps, begins, ends, out, look);
        };
        found = presetOnVectorUnit(in, gaps, &m_preset, &preset) ? sweepWith(preset)
                                                                 : sweepWith(TableLookups{gaps});
    }

    if (!ordered) {
        for (std::size_t t = 0; t < m_negatives.size(); ++t) ++difference[m_activeBegins[t]];
        if (in.hasLow)  // else every kept range ends at p, past the positives' counts
            for (std::size_t t = 0; t < m_negatives.size(); ++t) --difference[m_keptEnds[t]];
    }
    // A positive's count is the number of negatives whose active range covers it: its
    // coefficient, and its value's weight in the violation. The sweeps sum the negatives' part,
    // Σ count·(m − z); here the positives' part Σ count·x, in their sorted order. (Per negative,
    // the positives' part was a difference of prefix sums: one more indexed load per negative.)
    // Every product is taken, zero counts included: a NaN or ±∞ positive leaves the sum non-finite.
    Count running = 0;
    Real covered = 0.0;
    for (int k = 0; k < p; ++k) {
        running += difference[k];
        covered += Real(running) * sorted[k];
        if (coefficients) coefficients[m_positives[static_cast<std::size_t>(k)].second] = Real(running);
    }
    found.violation += covered;
    *totals += found;
}

}  // namespace marginlab::detail

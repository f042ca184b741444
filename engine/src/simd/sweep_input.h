// SPDX-License-Identifier: MIT
// The batch-all sweep's kernel arguments (internal header; see dispatch.h). Plain data and
// <cstdint> only: the AVX-512 unit includes it (no inline function may be compiled there).
#pragma once

#include <cstdint>

namespace marginlab::detail::simd {

/**
 * One anchor's batch-all triplet sweep (losses/triplet_sweep.cpp: sweepNegatives without a
 * filter, or sweepOrdered), with its positives' cell table (GapTable, cells > 0): plain data, so
 * that a unit can read it without the engine's headers.
 */
struct SweepInput {
    const double* row;     // M_a·, read at the negatives
    double sign;           // δ = sign·M
    const int* negatives;  // `count` indices
    int count;
    int positives;  // p, the sorted positives' count
    double margin;
    bool semiIncludesMargin;
    // sweepOrdered's filter: the kept positives start at the high bound's boundary ("gap ≤ high"
    // or "< high") and, with a low bound, end at the hard boundary. Neither: no filter.
    bool hasHigh;
    bool highInclusive;
    bool hasLow;
    double high;
    // GapTable: sorted[−1] = −∞ … sorted[size + 4] = +∞, cells > 0, every value finite.
    const double* sorted;
    int size;
    double low, scale, top;
    const int* cellStart;
};
/// A GapTable alone (its fields as in SweepInput), for rank queries.
struct CellTable {
    const double* sorted;  // sorted[−1] = −∞ … sorted[size + 4] = +∞, cells > 0, every value finite
    int size;
    double low, scale, top;
    const int* cellStart;
};
/// The sweep's sums over the negatives (TripletSweepTotals).
struct SweepTotals {
    std::int64_t tuples, active, easy, semiHard, hard;
    double violation;
};

}  // namespace marginlab::detail::simd

// SPDX-License-Identifier: MIT
// The scalar searches the sweep kernels fall back on (sweep_avx2.cpp, sweep_avx512.cpp). Each
// unit compiles its own copy: the functions have internal linkage (an unnamed namespace), so the
// linker never picks one unit's instructions for another (dispatch.h).
#pragma once

namespace marginlab::detail::simd {
namespace {

/// The first k in [0, n) with fl(z − sorted[k]) < bound (≤ if inclusive), n if none: the
/// definition GapTable's lookups answer (losses/triplet_sweep.h, firstGapBelow).
inline int firstGapBelow(const double* sorted, int n, double z, double bound, bool inclusive) {
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

/// The values below z in sorted[begin, end): a branch-free binary search (whose comparisons do
/// not stall on mispredictions, as a plain one would at every step).
inline int countBelowIn(const double* sorted, int begin, int end, double z) {
    if (begin == end) return begin;
    const double* base = sorted + begin;
    int length = end - begin;
    while (length > 1) {
        const int half = length / 2;
        base = base[half] < z ? base + half : base;
        length -= half;
    }
    return static_cast<int>(base - sorted) + (*base < z ? 1 : 0);
}

/// The slack of the kernels' proofs that a cell's neighbours need not be read (sweep_avx512.cpp,
/// prove): 16 units of rounding (u = 2⁻⁵³) times the largest value, in cell units, that the
/// proof's differences can reach. Its error analysis needs 8.
inline double proofSlack(double low, double scale, double top, double bound) {
    const double u = 0x1p-53;
    return 16.0 * u * (top + 2.0 + scale * ((low < 0 ? -low : low) + (bound < 0 ? -bound : bound)));
}

}  // namespace
}  // namespace marginlab::detail::simd

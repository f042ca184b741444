// SPDX-License-Identifier: MIT
/**
 * Vector units chosen once at start-up (internal header; issue 13).
 *
 * The engine is built for the x86-64 baseline (SSE2). Hot row kernels are compiled several times
 * from one source (kernels_impl.h): portable (the baseline), AVX2 + FMA, AVX-512 (F + DQ + VL),
 * each in its own translation unit with its own flags and its own namespace, and called through a
 * table of function pointers chosen once from __builtin_cpu_supports. The AVX units include no
 * header with inline functions (no std containers, no Eigen): an inline function compiled there
 * could be picked by the linker for the whole program and run AVX code on a CPU without it.
 *
 * "The same bits" across instruction sets: every kernel is written with IEEE operations that are
 * correctly rounded (+, −, ×, ÷, sqrt) in one fixed order per element, and the units are
 * compiled with -ffp-contract=off, so no a·b + c is fused into an FMA whose single rounding
 * would differ. Wider vectors only process more elements at once; each element sees the same
 * operations in the same order. So the portable, AVX2 and AVX-512 kernels give identical results
 * bit for bit, by construction, on any machine, and a test checks it on every unit the machine
 * has (tests/engine/simd_test.cpp). A kernel that needs FMA or a different summation order
 * must state its tolerance here and in its test instead; one does (the angular products below).
 *
 * Sums and maxima over a row do not run in one chain (one addition's latency per element): they
 * run in a fixed number of lanes — 8 for sums (element j in lane j mod 8), 16 for maxima —
 * combined in a fixed tree, all written out in kernels_impl.h with an 8-lane type held in the
 * unit's own registers (4 SSE2, 2 AVX2, 1 AVX-512; below AVX-512 as an array of register-wide
 * vectors, because GCC compares and selects a too-wide vector one lane at a time). The order is
 * part of the kernel, not of the unit, so the bits stay the same on every unit; it differs from a plain
 * left-to-right loop by rounding only (the losses moved onto these kernels in issue 13 changed
 * their last bits once, relative differences ≤ 1e-14 of each gradient's largest entry).
 *
 * The products of the factorized angular loss (gramLowerUpdate, productRows) keep one chain per
 * output element instead, in the order of the summed index (the plain loop's order): each unit
 * holds a register tile of such chains of its own shape (kernels_impl.h), which decides only
 * which elements run together, never an element's bits. They are the exception to the rule
 * above: each step of a chain is a fused multiply-add on the units that have FMA (AVX2 and
 * AVX-512: std::fma's bits, so these two units agree bit for bit) and a multiply and an add on
 * the portable unit, because the products are bound by those operations (angular runs about 1.2×
 * faster fused on a Zen 4). Between the portable unit and the others an element of n terms
 * differs by at most about n·2⁻⁵³ of the sum of its terms' magnitudes (the usual bound for a dot
 * product, which both forms obey); the angular loss's value and gradients agree within 1e-12 of
 * their scale (tests/engine/angular_test.cpp). On one unit the bits are the same on any thread
 * count, as everywhere.
 *
 * Functions of the kernels beyond +, −, ×, ÷, sqrt are the kernels' own and the same on every
 * unit: the row exp (losses/exp_row.h's rowExp, ≤ 4 ulp from glibc's exp) and a log1p on [0, 1]
 * (≤ 2 ulp from glibc's, 1 ulp measured) inside softplusRow.
 *
 * MARGINLAB_SIMD=portable|avx2|avx512 in the environment caps the level (for tests and
 * benchmarks); a level the CPU lacks is never used. setSimdLevel() does the same from code.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "simd/negated_product.h"
#include "simd/remainder_magic.h"
#include "simd/sweep_input.h"

namespace marginlab::detail::simd {

enum class Level { Portable = 0, Avx2 = 1, Avx512 = 2 };

/// The kernels of one level. Shapes: `data` row-major n × dims, a row of n outputs.
struct Kernels {
    Level level;
    /// out[j] = Σ_k (data[a,k] − data[j,k])² for j in [first, n), k ascending (no FMA).
    void (*squaredDistanceRow)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                               double* out, std::ptrdiff_t first);
    /// out[j] = sqrt(squaredDistanceRow's out[j]) in the same pass (the same bits as the two).
    void (*distanceRow)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                        double* out, std::ptrdiff_t first);
    /// values[j] = sqrt(values[j]) for j in [0, n) (correctly rounded, as std::sqrt).
    void (*sqrtInPlace)(double* values, std::ptrdiff_t n);
    /// out[j] = ((0 + data[a,0]·data[j,0]) + data[a,1]·data[j,1]) + … for j in [first, n).
    void (*dotRow)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, double* out,
                   std::ptrdiff_t first);
    /// out[j] = dotRow's out[j] × factor for j in [0, n), and splitMax of out, in one pass: the same
    /// bits as dotRow, then splitAffineMax with shifts 0 and no skip.
    void (*dotRowScaledMax)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                            double factor, const double* kind, double* out, double* maxOnes,
                            double* maxZeros);
    /// The backward pass of one row of M (DistanceRows::accumulate): adds ∂(Σ_{j ≥ first} g[j]·M_aj)
    /// w.r.t. the points `data` to `grad` (both n × dims). mode 0: M = similarity (dot product);
    /// 1: Lp distance (`row` = the distances, subgradient 0 at 0); 2: squared Lp distance. The
    /// anchor's own share is summed in 8 lanes, lane (j − first) mod 8, added in a fixed tree
    /// (kernels_impl.h): one order on every unit.
    void (*accumulateRow)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                          int mode, const double* g, const double* row, double* grad, std::ptrdiff_t first);
    /// accumulateRow (first = 0) of `count` rows in turn, the same bits: row k is anchors[k] with
    /// the weights g[k] and the distances rows[k] (read in mode 1 only). In 2D, blocks of up to four
    /// rows read each point and gradient entry once per block instead of once per row.
    void (*accumulateRows)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int mode, int count,
                           const std::ptrdiff_t* anchors, const double* const* g, const double* const* rows,
                           double* grad);
    /// accumulateRows of the rows g[k][j] = values[k][j] × (labels[j] = labels[anchors[k]] ?
    /// ofOnes[k] : ofZeros[k]): the same bits as splitScale by the same-label kind row, then
    /// accumulateRows, without the scaled rows written out.
    void (*accumulateScaledRows)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int mode, int count,
                                 const std::ptrdiff_t* anchors, const double* const* values, const int* labels,
                                 const double* ofOnes, const double* ofZeros, const double* const* rows,
                                 double* grad);
    /// values[j] = detail::rowExp(values[j]) (losses/exp_row.h) for j in [0, n), bit for bit;
    /// `table` = the bits of 2^(i/64), i = 0..63 (expconst::kTable).
    void (*expInPlace)(double* values, std::ptrdiff_t n, const std::int64_t* table);
    /// Row passes split by kind[j] ∈ {1.0, 0.0} (losses/pair_rows.h): the largest values of each
    /// kind (−∞ for none; 16 lanes, lane j mod 16) and their sums (8 lanes, lane j mod 8), each
    /// combined in a fixed tree;
    /// values[j] −= the kind's shift; out[j] = values[j] × the kind's factor.
    void (*splitMax)(const double* values, const double* kind, std::ptrdiff_t n, double* ofOnes, double* ofZeros);
    void (*splitSum)(const double* values, const double* kind, std::ptrdiff_t n, double* ofOnes, double* ofZeros);
    void (*splitShift)(double* values, const double* kind, std::ptrdiff_t n, double ofOnes, double ofZeros);
    void (*splitScale)(double* out, const double* values, const double* kind, std::ptrdiff_t n, double ofOnes,
                       double ofZeros);
    /// out[j] = rowExp(values[j] − kind[j]'s shift), and the sums of out by kind: splitShift,
    /// expInPlace and splitSum in one pass, the same bits (out may be values).
    void (*splitShiftExpSum)(double* out, const double* values, const double* kind, std::ptrdiff_t n,
                             double shiftOnes, double shiftZeros, const std::int64_t* table, double* sumOnes,
                             double* sumZeros);
    /// logits[j] = dotRow's out[j] × factor, out[j] = rowExp(logits[j] − kind[j]'s shift) and the
    /// sums of out by kind: the same bits as dotRow, splitAffine by the factor, then
    /// splitShiftExpSum, in one pass over the points in 2D.
    void (*dotRowScaledExpSum)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                               double factor, const double* kind, double shiftOnes, double shiftZeros,
                               const std::int64_t* table, double* logits, double* out, double* sumOnes,
                               double* sumZeros);
    /// kind = sameLabelRow(labels, label), out[j] = rowExp(z_j − kind[j]'s shift) and the sums of
    /// out by kind, where z is row a of M through splitAffineMax (affine = shiftOnes, factorOnes,
    /// shiftZeros, factorZeros; z_skip = −∞, skip < 0: none) and M is accumulateRow's: mode 0
    /// dotRow, 1 distanceRow, 2 squaredDistanceRow; M's row is written to `row` and addRow(addTo,
    /// out) done unless they are null. The same bits as those passes, in one pass over the points in
    /// 2D. The anchor a is an index from `data`, and may be negative: a row from point `first` on
    /// is this with data, labels and the outputs offset by first, and a − first (the same lanes as
    /// the passes over the offset rows).
    /// With `product` set, also negatedSumProduct(product->out, product->offset, product->factors,
    /// out) in the same pass (the same bits). With `labels` null every entry is of kind 0 (the
    /// same bits as a label no entry has), without a label compare.
    void (*rowAffineExpSum)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, int mode,
                            const double* affine, const int* labels, int label, double* kind, std::ptrdiff_t skip,
                            double shiftOnes, double shiftZeros, const std::int64_t* table, double* row, double* out,
                            double* addTo, const NegatedProduct* product, double* sumOnes, double* sumZeros);
    /// kind = sameLabelRow(labels, label), circleRow's z (into out) and slope of dotRow's row,
    /// splitShiftExpSum of out in place (no maxima), then slope[j] = out[j] × slope[j]: the same
    /// bits as those passes, in one pass over the points in 2D.
    void (*dotRowCircleExpSum)(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                               const double* parameters, const int* labels, int label, double* kind,
                               std::ptrdiff_t skip, double shiftOnes, double shiftZeros, const std::int64_t* table,
                               double* out, double* slope, double* sumOnes, double* sumZeros);
    /// out[j] = (values[j] − shift)·factor with kind[j]'s shift and factor (out may be values).
    void (*splitAffine)(double* out, const double* values, const double* kind, std::ptrdiff_t n,
                        double shiftOnes, double factorOnes, double shiftZeros, double factorZeros);
    /// splitAffine with out[skip] = −∞ (skip < 0: none), then splitMax of out, in one pass: the
    /// same bits as the passes (out may be values).
    void (*splitAffineMax)(double* out, const double* values, const double* kind, std::ptrdiff_t n,
                           double shiftOnes, double factorOnes, double shiftZeros, double factorZeros,
                           std::ptrdiff_t skip, double* maxOnes, double* maxZeros);
    /// out[j] = (a[j]·b[j]) × kind[j]'s factor (out may be a or b).
    void (*splitScaleProduct)(double* out, const double* a, const double* b, const double* kind,
                              std::ptrdiff_t n, double ofOnes, double ofZeros);
    /// kind[j] = labels[j] == label ? 1.0 : 0.0 (the 0/1 row of the split passes).
    void (*sameLabelRow)(const int* labels, int label, std::ptrdiff_t n, double* kind);
    /// sameLabelRow and splitAffine of `values` by that row in one pass: kind[j] = [labels[j] ==
    /// label] and out[j] = (values[j] − shift)·factor with kind[j]'s pair, the same operations.
    void (*sameLabelAffine)(const int* labels, int label, const double* values, std::ptrdiff_t n,
                            double shiftOnes, double factorOnes, double shiftZeros, double factorZeros,
                            double* kind, double* out);
    /// out[j] += a[j].
    void (*addRow)(double* out, const double* a, std::ptrdiff_t n);
    /// out[j] = −((offset + a[j])·b[j]).
    void (*negatedSumProduct)(double* out, double offset, const double* a, const double* b, std::ptrdiff_t n);
    /// Lifted structure's positive pairs {i, p} of one row, p = its classmates after i, with the
    /// row's L_i = li (losses/lifted_structure.cpp). Per pair k: raw = max(li, lp[k]) + logOnePlus[k] +
    /// (distance[k] − margin), J = max(raw, 0) (NaN kept), square[k] = J², slope[k] = 2·(J·perPair),
    /// and with larger = 1/(1 + e[k]), smaller = e[k]·larger: own[k] = slope[k]·(li ≥ lp[k] ? larger :
    /// smaller), other[k] += slope[k]·(li ≥ lp[k] ? smaller : larger). Returns how many raw > 0 or NaN.
    double (*liftedPairRow)(double li, const double* lp, const double* e, const double* logOnePlus,
                            const double* distance, double margin, double perPair, std::ptrdiff_t n,
                            double* square, double* slope, double* own, double* other);
    /// The circle loss's row (losses/circle.cpp): kind[j] = 1 positive, 0 negative; parameters =
    /// {γ, O_p, O_n, Δ_p, Δ_n}; slope[j] = sign·(γ·max(sign·(s − O), 0)) with sign −1 for a
    /// positive, +1 for a negative, and exponent[j] = slope[j]·(s − Δ), but exponent[skip] = −∞ (the
    /// anchor: no pair); and splitMax of exponent, in the same pass.
    void (*circleRow)(const double* similarity, const double* kind, std::ptrdiff_t n,
                      const double* parameters, std::ptrdiff_t skip, double* exponent, double* slope,
                      double* topOnes, double* topZeros);
    /// values[j] = log1p(values[j]) for values in [0, 1] (within 4 ulp of std::log1p).
    void (*log1pUnitRow)(double* values, std::ptrdiff_t n);
    /// value[j] = softplus(v[j]) = max(v, 0) + log1p(e^{−|v|}) and slope[j] = σ(v[j]) (1/(1 + e)
    /// for v ≥ 0, e/(1 + e) below), e = rowExp(−|v|); `table` as for expInPlace.
    void (*softplusRow)(const double* v, std::ptrdiff_t n, const std::int64_t* table, double* value, double* slope);
    /// The contrastive loss's row (losses/contrastive.cpp): for j in [first, n), p = [labels[j] ==
    /// label], q = 1 − p, v = p·v⁺ + q·v⁻ with v⁺ = row[j] − mp, v⁻ = mn − row[j] (similarity:
    /// mp − row[j], row[j] − mn), term = v + |v|. sums = {Σ p·term, Σ q·term} in 8 lanes (j − first
    /// mod 8, the fixed tree); counts = {Σ p, Σ p·[v > 0], Σ q·[v > 0]}. With positiveSlope:
    /// slope = 2[v > 0]·(p·s − q·s), s = ±1 the sign of ∂v⁺/∂row, positiveSlope[j] = p·slope,
    /// negativeSlope[j] = q·slope.
    void (*contrastiveRow)(const double* row, const int* labels, int label, std::ptrdiff_t first,
                           std::ptrdiff_t n, double positiveMargin, double negativeMargin, bool similarity,
                           double* positiveSlope, double* negativeSlope, double* sums, std::int64_t* counts);
    /// Hadsell et al.'s contrastive row (losses/contrastive_hadsell.cpp): same label: term =
    /// 0.5·d·d, slope d; else r = relu(margin − d), term = 0.5·r·r, slope −r. sum = Σ term in 8
    /// lanes (the fixed tree), active = #{term > 0}; slope written if not nullptr.
    void (*hadsellRow)(const double* row, const int* labels, int label, std::ptrdiff_t first,
                       std::ptrdiff_t n, double margin, double* slope, double* sum, std::int64_t* active);
    /// The factorized angular loss's products (losses/angular.cpp). `b` is rows × stride
    /// (row-major), `stride` a multiple of 16, its columns [cols, stride) readable (zeros, say).
    /// gram (cols × stride) += bᵀb on and below the diagonal: for every p ≤ a < cols,
    ///     gram[a][p] = ((gram[a][p] + b[0][a]·b[0][p]) + b[1][a]·b[1][p]) + …  (n ascending),
    /// exactly the plain loop; some entries above the diagonal (p < stride) are updated the same
    /// way, which ones depends on the unit's register tile.
    void (*gramLowerUpdate)(const double* b, std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,
                            double* gram);
    /// out = b·w: w is cols × stride, out rows × stride, and for every n < rows, i < stride,
    ///     out[n][i] = ((0 + b[n][0]·w[0][i]) + b[n][1]·w[1][i]) + …  (p ascending, p < cols).
    void (*productRows)(const double* b, std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,
                        const double* w, double* out);
    /// The factorized angular loss's exponent row: for i < n (columns: dims columns of stride),
    ///     row[i] = scale·(((0 + columns[0][i]·point[0]) + columns[1][i]·point[1]) + …) − shift.
    void (*affineColumnsRow)(const double* columns, std::ptrdiff_t stride, std::ptrdiff_t dims,
                             const double* point, double scale, double shift, std::ptrdiff_t n, double* row);
    /// Its pull of a block (q and e: rows × stride, x: rows × dims, columns and pulled: dims
    /// columns of stride; stride a multiple of 8). For each row n, ascending:
    ///     q[n][i] = q[n][i]·e[n][i],  pulled[c][i] = pulled[c][i] + q[n][i]·x[n][c],
    ///     dots[n·dims + c] = Σ_i q[n][i]·columns[c][i]  (8 lanes, i mod 8, added in the fixed tree).
    void (*weightedPullRows)(double* q, const double* e, std::ptrdiff_t rows, std::ptrdiff_t stride,
                             const double* x, std::ptrdiff_t dims, const double* columns, double* pulled,
                             double* dots);
    /// values[c] = values[0] + … + values[c] for c < n, in place (integers: the same on every unit).
    void (*runningSums)(int* values, std::ptrdiff_t n);
    /// The least and the largest of values[0..n) (n > 0), NaN left out; returns whether any value
    /// was NaN (then *low and *high are those of the others, ±∞ if there are none).
    bool (*rowRange)(const double* values, std::ptrdiff_t n, double* low, double* high);
    /// The bucket sorts' cells (miners/miner_common.h): cells[j] = (int) min((values[j] − low)·scale,
    /// top), truncated, the scalar cellOf's operations (values not NaN, low ≤ values[j]).
    void (*bucketCells)(const double* values, std::ptrdiff_t n, double low, double scale, double top,
                        int* cells);
    /// std::mt19937_64's refill: twists the 312 words of `state` in place and writes their 312
    /// tempered outputs to `out` (integer operations: the same words on every unit).
    void (*mersenneTwist64)(std::uint64_t* state, std::uint64_t* out);
    /// Batch hard's choice for anchor a over its row δ (miners/batch_hard.cpp): *positive = the
    /// farthest j with labels[j] == labels[a], j ≠ a, *negative = the nearest j with another
    /// label, each the first index among ties, −1 if there is none; the first candidate is taken
    /// whatever its value, so a NaN there is chosen, and a later NaN never is. Comparisons and
    /// copies only: the same choice on every unit.
    void (*hardestPair)(const double* delta, const int* labels, int a, std::ptrdiff_t n, int* positive,
                        int* negative);
    /// NCE's noise draws (losses/nce_draws.h): out[k] = words[k] mod magic.divisor for k < n, by
    /// magic's multiplication, unless some words[k] < magic.threshold (a word Rng::uniformInt
    /// rejects): then false, out unspecified. Integer operations: the same on every unit; AVX-512
    /// takes divisors below 2³² eight at a time, the scalar steps the rest.
    bool (*wordRemainders)(const std::uint64_t* words, std::ptrdiff_t n, const RemainderMagic& magic,
                           std::uint64_t* out);
    /// NCE's drawn negatives (losses/nce.cpp): over j in [0, n) with labels[j] ≠ label (the
    /// anchor's negatives in index order, the t-th one drawn draws[t] times), keeps those with
    /// draws[t] ≠ 0: the k-th kept gets indices[k] = j, inputs[k] = row[j]·scale and times[k] =
    /// draws[t]. Returns how many were kept. draws, times, indices and inputs have n entries
    /// (entries past the kept ones may be written).
    int (*packDrawn)(const int* labels, int label, std::ptrdiff_t n, const double* row, double scale,
                     const int* draws, double* times, int* indices, double* inputs);
    /// losses/triplet_sweep.cpp's sweep of one anchor's negatives: sweepNegatives without a filter
    /// (difference == nullptr: activeBegins[t] recorded) or sweepOrdered (the filter in `in`;
    /// the positives' difference array updated). The same boundaries, counts and
    /// coefficients[negatives[t]] = −(active positives), and the violation summed over the
    /// negatives in their order with the same operations per term: the same bits. nullptr for a
    /// unit without one (the engine's own loop runs): AVX2 (four negatives at a time) and AVX-512
    /// (eight) have one; the portable unit's lookups are the engine's scalar loop.
    void (*tripletSweep)(const SweepInput& in, int* activeBegins, std::int64_t* difference,
                         double* coefficients, SweepTotals* totals);
    /// ranks[t] = #{k : table.sorted[k] < values[t]} for t in [0, n): the answers of
    /// GapTable::countBelow (NaN: size), eight values at a time. nullptr where tripletSweep is.
    void (*countBelow)(const CellTable& table, const double* values, int n, int* ranks);
    /// GapTable::firstGapBelow(values[t], bound, false) into strict[t] and (…, true) into
    /// inclusive[t], for t in [0, n); either may be nullptr (not computed). nullptr where
    /// tripletSweep is.
    void (*gapBoundaries)(const CellTable& table, const double* values, int n, double bound, int* strict,
                          int* inclusive);
};

/// The best level this CPU supports (ignoring MARGINLAB_SIMD).
Level supportedLevel();
/// The kernels in use: the best supported level, capped by MARGINLAB_SIMD and setSimdLevel().
const Kernels& kernels();
/// The kernels of one level, or nullptr if this CPU (or this build) lacks it.
const Kernels* kernelsFor(Level level);
/// Caps the level in use (tests, benchmarks); returns the level now in use.
Level setSimdLevel(Level cap);
std::string_view levelName(Level level);

}  // namespace marginlab::detail::simd

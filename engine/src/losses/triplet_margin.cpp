// SPDX-License-Identifier: MIT
#include "marginlab/losses/triplet_margin.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>

#include "losses/common.h"
#include "losses/reference_set.h"
#include "losses/distance_rows.h"
#include "losses/triplet_sweep.h"
#include "parallel.h"

namespace marginlab {

namespace {

LossStats tripletStats() {
    LossStats stats;
    stats.tupleKind = "triplets";
    stats.hasRegions = true;
    return stats;
}

/// The divisor of PML's reduction of the summed terms: the active triplets (AvgNonZeroReducer)
/// or all of them (mean); 0 when no triplet is active, which PML answers with a zero loss.
Count reductionDivisor(Count active, Count tuples, bool averageNonZero) {
    return active == 0 ? 0 : (averageNonZero ? active : tuples);
}

/// The zero loss with zero gradients, keeping the statistics of the triplets looked at.
LossOutput zeroWithStats(const LossInput& input, bool withGradient, const LossStats& stats) {
    LossOutput out = detail::zeroOutput(input, withGradient);
    out.stats = stats;
    return out;
}

/**
 * One listed triplet from its σ-signed distances δ_ap, δ_an (and δ_pn when swap applies), counted
 * into `stats` by its region and added to `sum`: PML's relu or softplus of
 * (δ_ap − min(δ_an, δ_pn)) + margin. Returns ∂term/∂v (0 without a gradient) and how the
 * negative's share of it splits between (a,n) and (p,n): torch.minimum's backward splits a tie evenly.
 */
struct TripletSlope {
    Real slope = 0.0;
    Real anchorShare = 1.0;
};
TripletSlope addTriplet(Real ap, Real an, const std::optional<Real>& pn, Real margin, bool smooth, bool withGradient,
                        LossStats& stats, Real& sum) {
    const Real gap = an - ap;
    ++stats.tuples;
    if (gap <= 0.0) ++stats.hard;
    else if (gap <= margin) ++stats.semiHard;
    else ++stats.easy;
    Real negative = an;
    TripletSlope out;
    if (pn) {
        if (*pn < an) {
            negative = *pn;
            out.anchorShare = 0.0;
        } else if (*pn == an) {
            out.anchorShare = 0.5;
        }
    }
    const Real v = (ap - negative) + margin;
    const Real term = smooth ? detail::softplus(v) : detail::relu(v);
    if (term > 0.0) {
        ++stats.active;
        sum += term;
    }
    if (withGradient) out.slope = smooth ? detail::softplusDerivative(v) : (v > 0.0 ? 1.0 : 0.0);
    return out;
}

}  // namespace

TripletMarginLoss::TripletMarginLoss(const Options& options, const DistanceSpec& distance)
    : m_options(options), m_distance(distance) {}

LossOutput TripletMarginLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Tuples* tuples = input.tuples;
    const bool everyTriplet = !tuples || tuples->kind == Tuples::Kind::All;
    const TripletGapFilter* filter = everyTriplet && tuples && tuples->filter ? &*tuples->filter : nullptr;
    // The sorted sweep needs v = δ_ap − δ_an + m with relu and a filter on the same δ; anything
    // else (swap's min, softplus, another distance's gaps, explicit lists) loops over triplets.
    if (everyTriplet && !m_options.swap && !m_options.smoothLoss && (!filter || filter->distance == m_distance))
        return evaluateBatchAll(input, filter, withGradient);
    if (tuples && tuples->kind == Tuples::Kind::Triplets)
        return evaluateList(input, tuples->triplets, withGradient);
    if (tuples && tuples->kind == Tuples::Kind::Pairs)
        return evaluateList(input, materializeTriplets(*tuples, input.embeddings, input.labels),
                            withGradient);
    return evaluateLoop(input, withGradient);
}

LossOutput TripletMarginLoss::evaluateBatchAll(const LossInput& input, const TripletGapFilter* filter,
                                               bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    const Eigen::Index dims = input.embeddings.cols();
    // Row by row: O(N) extra memory per thread, no N×N buffers (their page faults alone would
    // cost more than the sweep at N in the thousands).
    const detail::DistanceRows distance(m_distance, input.embeddings);
    const Real sign = m_distance.orderSign();
    detail::TripletSweepOptions options;
    options.margin = m_options.margin;
    options.filter = filter;
    const detail::TripletSweep prototype(options, input.labels);
    const bool split = detail::splitsForces(input, withGradient);

    // Anchors in chunks fixed by N alone, each with its own sums, added in chunk order: the same
    // result bit for bit on any number of threads.
    const detail::AnchorChunks chunks(n);
    struct ChunkResult {
        detail::TripletSweepTotals totals;
        Points gradEmbedded, gradSameLabel;  // unscaled: the divisor is known only at the end
    };
    std::vector<ChunkResult> results(static_cast<std::size_t>(chunks.count()));
    struct Worker {
        detail::TripletSweep sweep;
        std::vector<Real> row, coefficients, masked;
    };
    const int workerCount = detail::chunkWorkers(chunks.count());
    std::vector<Worker> workers(static_cast<std::size_t>(workerCount), Worker{prototype, {}, {}, {}});
    detail::forEachChunk(chunks.count(), workerCount, [&](int chunk, int w) {
        Worker& worker = workers[static_cast<std::size_t>(w)];
        ChunkResult& result = results[static_cast<std::size_t>(chunk)];
        worker.row.resize(static_cast<std::size_t>(n));
        if (withGradient) {
            worker.coefficients.resize(static_cast<std::size_t>(n));
            result.gradEmbedded = Points::Zero(n, dims);
        }
        if (split) result.gradSameLabel = Points::Zero(n, dims);
        for (Eigen::Index a = chunks.begin(chunk); a < chunks.end(chunk); ++a) {
            distance.row(a, worker.row.data());
            worker.sweep.anchor(static_cast<int>(a), worker.row.data(), sign, input.labels, &result.totals,
                                withGradient ? worker.coefficients.data() : nullptr);
            if (withGradient)
                distance.accumulate(a, worker.coefficients.data(), worker.row.data(), &result.gradEmbedded);
            // The positives' coefficients alone: the triplets' pull through their d_ap.
            if (split)
                distance.accumulateSameLabel(a, worker.coefficients.data(), worker.row.data(), input.labels,
                                             &result.gradSameLabel, &worker.masked);
        }
    });
    detail::TripletSweepTotals totals;
    Points gradEmbedded, gradSameLabel;
    if (withGradient) gradEmbedded = Points::Zero(n, dims);
    if (split) gradSameLabel = Points::Zero(n, dims);
    for (const ChunkResult& result : results) {
        totals += result.totals;
        if (withGradient) gradEmbedded += result.gradEmbedded;
        if (split) gradSameLabel += result.gradSameLabel;
    }

    LossStats stats = tripletStats();
    stats.tuples = totals.tuples;
    stats.active = totals.active;
    stats.easy = totals.easy;
    stats.semiHard = totals.semiHard;
    stats.hard = totals.hard;
    // AvgNonZero divides by the active count, mean by every kept triplet; both are constants of
    // the step, so the gradient is the coefficient matrix scaled once.
    const Count divisor = reductionDivisor(totals.active, totals.tuples,
                                           m_options.reduction == Reduction::AverageNonZero);
    if (divisor == 0) return zeroWithStats(input, withGradient, stats);
    LossOutput out;
    out.stats = stats;
    out.value = totals.violation / Real(divisor);
    if (withGradient) {
        gradEmbedded *= sign / Real(divisor);
        out.gradEmbeddings = distance.finish(gradEmbedded);
        if (split) out.gradFromPositives = distance.finish(gradSameLabel * (sign / Real(divisor)));
    }
    return out;
}

namespace {

/// One entry M_ij of SelfDistance's matrix from the embedded points, with SelfDistance's own
/// arithmetic for Lp: the squared differences summed in coordinate order, ((0 + d₀²) + d₁²) + …,
/// which is what its Eigen expression computes (tests/engine/mined_triplets_test.cpp compares the
/// bits); (e_i − e_j) and (e_j − e_i) square alike. So the list path sees the very values (and
/// ties) of the matrix.
template <int FixedDims>
[[gnu::always_inline]] inline Real distanceEntry(const DistanceSpec& spec, const Real* e, Eigen::Index dims,
                                                 int i, int j) {
    const Eigen::Index d = FixedDims > 0 ? FixedDims : dims;  // a constant: the loops unroll
    const Real* a = e + i * d;
    const Real* b = e + j * d;
    if (spec.isSimilarity()) {
        Real dot = 0.0;
        for (Eigen::Index k = 0; k < d; ++k) dot += a[k] * b[k];
        return dot;
    }
    if (i == j) return 0.0;
    Real squared = 0.0;
    for (Eigen::Index k = 0; k < d; ++k) {
        const Real difference = a[k] - b[k];
        squared += difference * difference;
    }
    return spec.power == 2 ? squared : std::sqrt(squared);
}

/// Adds c·∂M_ij/∂e to `grad` (∂L/∂e, row-major like e), SelfDistance::backward's rule for one entry.
template <int FixedDims>
[[gnu::always_inline]] inline void accumulateEntry(const DistanceSpec& spec, const Real* e, Eigen::Index dims,
                                                   int i, int j, Real value, Real c, Real* grad) {
    const Eigen::Index d = FixedDims > 0 ? FixedDims : dims;
    const Real* a = e + i * d;
    const Real* b = e + j * d;
    Real* ga = grad + i * d;
    Real* gb = grad + j * d;
    if (spec.isSimilarity()) {
        for (Eigen::Index k = 0; k < d; ++k) {
            ga[k] += c * b[k];
            gb[k] += c * a[k];
        }
        return;
    }
    const Real w = spec.power == 2 ? 2.0 * c : (value > 0.0 ? c / value : 0.0);
    if (w == 0.0) return;
    for (Eigen::Index k = 0; k < d; ++k) {
        const Real step = w * (a[k] - b[k]);
        ga[k] += step;
        gb[k] -= step;
    }
}

/// What evaluateList's runs share.
struct ListPass {
    const std::vector<Triplet>& list;
    const DistanceSpec& spec;
    const Real* e;  // the embedded points, row-major N×D
    Eigen::Index dims;
    Real sign, margin;
    bool swap, smooth, withGradient, split;
    const Labels& labels;
};

/// The sums of one run of the list: its statistics, Σ terms and their unscaled gradients.
struct ListRunResult {
    LossStats stats;
    Real sum = 0.0;
    Points grad, gradSameLabel;
};

/// x where `keep`, +0.0 elsewhere, by the bits (an integer mask): adding it to a sum that is never
/// −0.0 leaves the sum as `keep ? sum + x : sum` would. A select on doubles would be a branch in
/// this file (GCC does not if-convert them under -ftrapping-math), and a mispredicted one here.
inline Real keptOrZero(Real x, bool keep) {
    return std::bit_cast<Real>(std::bit_cast<std::uint64_t>(x) & (std::uint64_t{0} - std::uint64_t{keep}));
}

/// The triplets [begin, end) of the list, in order. FixedDims > 0 is the dimension as a
/// compile-time constant (2 and 3, the app's), 0 any. In blocks, two passes each: the terms and
/// the statistics of every triplet, without branches on the data (which region a mined triplet
/// falls in, and whether it is active, are coin flips for the predictor: those branches were a
/// quarter of this loop's time), noting the triplets with a slope; then the gradients of those,
/// in the list's order, from the distances the first pass measured.
template <int FixedDims>
void evaluateRun(const ListPass& in, std::ptrdiff_t begin, std::ptrdiff_t end, ListRunResult* result) {
    const DistanceSpec& spec = in.spec;
    const Real* e = in.e;
    const Eigen::Index dims = in.dims;
    const Real sign = in.sign;
    const Real margin = in.margin;
    Count hard = 0, semiHard = 0, easy = 0, active = 0;
    Real sum = 0.0;
    Real* grad = in.withGradient ? result->grad.data() : nullptr;
    Real* gradSameLabel = in.split ? result->gradSameLabel.data() : nullptr;
    struct Sloped {
        std::ptrdiff_t index;
        Real apValue, anValue, pnValue, slope, anchorShare;
    };
    constexpr std::ptrdiff_t kBlock = 256;
    Sloped sloped[kBlock];
    for (std::ptrdiff_t blockBegin = begin; blockBegin < end; blockBegin += kBlock) {
        const std::ptrdiff_t blockEnd = std::min(end, blockBegin + kBlock);
        int kept = 0;
        for (std::ptrdiff_t index = blockBegin; index < blockEnd; ++index) {
            const Triplet& t = in.list[static_cast<std::size_t>(index)];
            const int a = t[0], p = t[1], q = t[2];
            const Real apValue = distanceEntry<FixedDims>(spec, e, dims, a, p);
            const Real anValue = distanceEntry<FixedDims>(spec, e, dims, a, q);
            const Real ap = sign * apValue;
            const Real an = sign * anValue;
            const Real gap = an - ap;
            // if gap ≤ 0: hard, else if gap ≤ m: semi-hard, else easy (NaN: easy).
            const bool atMostZero = gap <= 0.0;
            const bool atMostMargin = gap <= margin;
            hard += atMostZero;
            semiHard += !atMostZero & atMostMargin;
            easy += !atMostZero & !atMostMargin;

            Real negative = an;
            Real anchorShare = 1.0;  // how the slope of v w.r.t. the negative distance is split
            Real pnValue = 0.0;
            if (in.swap) {
                pnValue = distanceEntry<FixedDims>(spec, e, dims, p, q);
                const Real pn = sign * pnValue;
                // torch.minimum's backward splits the gradient evenly on a tie.
                if (pn < an) {
                    negative = pn;
                    anchorShare = 0.0;
                } else if (pn == an) {
                    anchorShare = 0.5;
                }
            }
            const Real v = (ap - negative) + margin;
            // relu(v) as v's bits or +0.0 (NaN: 0), and its slope 1 or 0, without a branch.
            const bool positive = v > 0.0;
            const Real term = in.smooth ? detail::softplus(v) : keptOrZero(v, positive);
            const bool counts = term > 0.0;
            active += counts;
            sum += keptOrZero(term, counts);  // + 0.0 leaves the sum's bits as they are
            if (!grad) continue;
            const Real slope = in.smooth ? detail::softplusDerivative(v) : Real(positive);
            sloped[kept] = {index, apValue, anValue, pnValue, slope, anchorShare};
            kept += !(slope == 0.0);  // NaN slopes too: they reach the gradient, as they should
        }
        for (int k = 0; k < kept; ++k) {
            const Sloped& s = sloped[k];
            const Triplet& t = in.list[static_cast<std::size_t>(s.index)];
            const int a = t[0], p = t[1], q = t[2];
            // Each entry also goes to the attraction when its two points share a label (what
            // SelfDistance::backwardSameLabel keeps): for a valid triplet, (a,p) alone.
            auto add = [&](int i, int j, Real value, Real c) {
                accumulateEntry<FixedDims>(spec, e, dims, i, j, value, c, grad);
                if (gradSameLabel &&
                    in.labels[static_cast<std::size_t>(i)] == in.labels[static_cast<std::size_t>(j)])
                    accumulateEntry<FixedDims>(spec, e, dims, i, j, value, c, gradSameLabel);
            };
            add(a, p, s.apValue, sign * s.slope);
            if (s.anchorShare > 0.0) add(a, q, s.anValue, -sign * s.slope * s.anchorShare);
            if (s.anchorShare < 1.0) add(p, q, s.pnValue, -sign * s.slope * (1.0 - s.anchorShare));
        }
    }
    result->stats.tuples += end - begin;
    result->stats.hard += hard;
    result->stats.semiHard += semiHard;
    result->stats.easy += easy;
    result->stats.active += active;
    result->sum += sum;
}

}  // namespace

LossOutput TripletMarginLoss::evaluateList(const LossInput& input, const std::vector<Triplet>& list,
                                           bool withGradient) const {
    // An explicit list (a miner's choice: one triplet per anchor or per positive pair) is
    // evaluated triplet by triplet from the embedded points: no N×N distance or gradient matrix,
    // O(|list|·D) time. The list is cut into runs fixed by its length alone and the runs' sums
    // are added in order: the same bits on any thread count.
    const Eigen::Index n = input.embeddings.rows();
    const Eigen::Index dims = input.embeddings.cols();
    Vector norms;
    const Points embedded =
        m_distance.normalizes() ? normalizeRows(input.embeddings, &norms) : input.embeddings;
    const Real* e = embedded.data();  // row-major N×D
    const Real sign = m_distance.orderSign();
    const Real margin = m_options.margin;
    const bool split = detail::splitsForces(input, withGradient);
    const Labels& labels = input.labels;

    constexpr std::ptrdiff_t kMinRun = 1 << 14;
    const auto total = static_cast<std::ptrdiff_t>(list.size());
    const std::ptrdiff_t runLength =
        std::max(kMinRun, (total + detail::AnchorChunks::kMaxChunks - 1) / detail::AnchorChunks::kMaxChunks);
    const int runs = total == 0 ? 0 : static_cast<int>((total + runLength - 1) / runLength);
    std::vector<ListRunResult> results(static_cast<std::size_t>(runs));
    const ListPass pass{
        list,         m_distance, e,     dims, sign, margin, m_options.swap, m_options.smoothLoss,
        withGradient, split,      labels};
    detail::forEachChunk(runs, detail::chunkWorkers(runs), [&](int run, int) {
        ListRunResult& result = results[static_cast<std::size_t>(run)];
        if (withGradient) result.grad = Points::Zero(n, dims);
        if (split) result.gradSameLabel = Points::Zero(n, dims);
        const std::ptrdiff_t begin = run * runLength;
        const std::ptrdiff_t end = std::min(total, begin + runLength);
        switch (dims) {
            case 2:
                evaluateRun<2>(pass, begin, end, &result);
                break;
            case 3:
                evaluateRun<3>(pass, begin, end, &result);
                break;
            default:
                evaluateRun<0>(pass, begin, end, &result);
                break;
        }
    });

    LossStats stats = tripletStats();
    Real sum = 0.0;
    Points grad, gradSameLabel;
    if (withGradient) grad = Points::Zero(n, dims);
    if (split) gradSameLabel = Points::Zero(n, dims);
    for (const ListRunResult& result : results) {
        stats.tuples += result.stats.tuples;
        stats.active += result.stats.active;
        stats.easy += result.stats.easy;
        stats.semiHard += result.stats.semiHard;
        stats.hard += result.stats.hard;
        sum += result.sum;
        if (withGradient) grad += result.grad;
        if (split) gradSameLabel += result.gradSameLabel;
    }
    const Count divisor = reductionDivisor(stats.active, stats.tuples,
                                           m_options.reduction == Reduction::AverageNonZero);
    if (divisor == 0) return zeroWithStats(input, withGradient, stats);
    LossOutput out;
    out.stats = stats;
    out.value = sum / Real(divisor);
    if (withGradient) {
        grad /= Real(divisor);
        out.gradEmbeddings = m_distance.normalizes() ? normalizeRowsBackward(embedded, norms, grad) : grad;
        if (split) {
            gradSameLabel /= Real(divisor);
            out.gradFromPositives = m_distance.normalizes()
                                        ? normalizeRowsBackward(embedded, norms, gradSameLabel)
                                        : gradSameLabel;
        }
    }
    return out;
}

LossOutput TripletMarginLoss::evaluateLoop(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    const SelfDistance distance(m_distance, input.embeddings);
    const Matrix& matrix = distance.matrix();
    const Real sign = m_distance.orderSign();
    const Real margin = m_options.margin;
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, n);

    LossStats stats = tripletStats();
    Real sum = 0.0;
    auto visit = [&](int a, int p, int q) {
        const Real ap = sign * matrix(a, p);
        const Real an = sign * matrix(a, q);
        const std::optional<Real> pn = m_options.swap ? std::optional<Real>(sign * matrix(p, q)) : std::nullopt;
        const auto [slope, anchorShare] =
            addTriplet(ap, an, pn, margin, m_options.smoothLoss, withGradient, stats, sum);
        if (slope == 0.0) return;
        grad(a, p) += sign * slope;
        if (anchorShare > 0.0) grad(a, q) -= sign * slope * anchorShare;
        if (anchorShare < 1.0) grad(p, q) -= sign * slope * (1.0 - anchorShare);
    };

    const Tuples* tuples = input.tuples;
    if (tuples && tuples->kind == Tuples::Kind::Triplets) {
        for (const Triplet& t : tuples->triplets) visit(t[0], t[1], t[2]);
    } else if (tuples && tuples->kind == Tuples::Kind::Pairs) {
        for (const Triplet& t : materializeTriplets(*tuples, input.embeddings, input.labels)) visit(t[0], t[1], t[2]);
    } else {
        // Every triplet, possibly filtered by gaps measured with the miner's own distance.
        const TripletGapFilter* filter = tuples && tuples->filter ? &*tuples->filter : nullptr;
        std::optional<SelfDistance> filterDistance;
        if (filter && !(filter->distance == m_distance)) filterDistance.emplace(filter->distance, input.embeddings);
        const Matrix& filterMatrix = filterDistance ? filterDistance->matrix() : matrix;
        const Real filterSign = filter ? filter->distance.orderSign() : 1.0;
        const Labels& y = input.labels;
        for (int a = 0; a < n; ++a)
            for (int p = 0; p < n; ++p) {
                if (p == a || y[a] != y[p]) continue;
                for (int q = 0; q < n; ++q) {
                    if (y[q] == y[a]) continue;
                    if (filter && !filter->keeps(filterSign * (filterMatrix(a, q) - filterMatrix(a, p)))) continue;
                    visit(a, p, q);
                }
            }
    }

    const Count divisor = reductionDivisor(stats.active, stats.tuples,
                                           m_options.reduction == Reduction::AverageNonZero);
    if (divisor == 0) return zeroWithStats(input, withGradient, stats);
    LossOutput out;
    out.stats = stats;
    out.value = sum / Real(divisor);
    if (withGradient) {
        grad /= Real(divisor);
        out.gradEmbeddings = distance.backward(grad);
        if (input.splitForces) out.gradFromPositives = distance.backwardSameLabel(grad, input.labels);
    }
    return out;
}

LossOutput TripletMarginLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's TripletMarginLoss with ref_emb: triplets (a, p, n), a in the batch, p and n in the
    // reference, on M = distance(batch, reference). swap needs δ_pn between two reference rows:
    // PML reads mat[p, n] of the batch × reference matrix there (a row of the wrong set), so it
    // has no number to match; this takes the distance between the two reference rows, which
    // carries no gradient (both are detached).
    const std::vector<Triplet> triplets = detail::referenceTriplets(input);
    const Points& reference = *input.referenceEmbeddings;
    const CrossDistance distance(m_distance, input.embeddings, reference);
    const Matrix& matrix = distance.matrix();
    std::optional<SelfDistance> referenceDistance;
    if (m_options.swap && !triplets.empty()) referenceDistance.emplace(m_distance, reference);
    const Real sign = m_distance.orderSign();
    const Real margin = m_options.margin;
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(matrix.rows(), matrix.cols());
    LossStats stats = tripletStats();
    Real sum = 0.0;
    for (const Triplet& t : triplets) {
        const Real ap = sign * matrix(t[0], t[1]);
        const Real an = sign * matrix(t[0], t[2]);
        const std::optional<Real> pn =
            referenceDistance ? std::optional<Real>(sign * referenceDistance->matrix()(t[1], t[2])) : std::nullopt;
        const auto [slope, anchorShare] =
            addTriplet(ap, an, pn, margin, m_options.smoothLoss, withGradient, stats, sum);
        if (slope == 0.0) continue;
        grad(t[0], t[1]) += sign * slope;
        if (anchorShare > 0.0) grad(t[0], t[2]) -= sign * slope * anchorShare;
    }
    const Count divisor = reductionDivisor(stats.active, stats.tuples,
                                           m_options.reduction == Reduction::AverageNonZero);
    if (divisor == 0) return zeroWithStats(input, withGradient, stats);
    LossOutput out;
    out.stats = stats;
    out.value = sum / Real(divisor);
    if (withGradient) {
        grad /= Real(divisor);
        detail::referenceBackward(input, distance, grad, &out);
    }
    return out;
}

}  // namespace marginlab

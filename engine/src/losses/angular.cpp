// SPDX-License-Identifier: MIT
#include "marginlab/losses/angular.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>

#include "losses/common.h"
#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/reference_set.h"
#include "parallel.h"
#include "simd/dispatch.h"

namespace marginlab {

namespace {

// Largest 16·t·max‖x‖ for the factorized sums: each scaled factor E' ≥ e^{-8tR}, so every
// product term stays ≥ e^{-600}, far above the smallest normal double (≈ e^{-708}).
constexpr Real kFactorizedExponentRange = 600.0;
// Entries of one block of E' (rows: negatives, columns: a class's members, padded): 32768 doubles
// = 256 KB, so that the block and its product with C stay in the L2 cache.
constexpr Eigen::Index kBlockEntries = 32768;

using MatrixMap = Eigen::Map<Matrix>;

// A class's members padded to a multiple of 16 (the kernels' register tiles, dispatch.h).
Eigen::Index paddedClassWidth(Eigen::Index m) {
    return (m + 15) / 16 * 16;
}
// Negatives per block of E' for a padded class width.
Eigen::Index blockRows(Eigen::Index stride) {
    return std::max<Eigen::Index>(8, kBlockEntries / stride);
}

struct Gradients {
    Points normalized;  // ∂L/∂x̂ (anchor/positive roles)
    Points raw;         // ∂L/∂x  (negative role, the raw-x_n quirk)
    Points sameLabel;   // ∂L/∂x̂ through the cosines x̂_a·x̂_p only (the force split; empty if off)
};

}  // namespace

Eigen::Index AngularLoss::negativesPerBlock(Eigen::Index classSize) {
    return blockRows(paddedClassWidth(classSize));
}

AngularLoss::AngularLoss(Real alphaDegrees, bool allowFactorized)
    : m_alphaDegrees(alphaDegrees), m_allowFactorized(allowFactorized) {}

LossOutput AngularLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Points& x = input.embeddings;
    const Labels& y = input.labels;
    const Eigen::Index n = x.rows(), d = x.cols();
    std::map<int, std::vector<int>> classes;
    for (int i = 0; i < static_cast<int>(y.size()); ++i) classes[y[static_cast<std::size_t>(i)]].push_back(i);
    Count positivePairs = 0;
    for (const auto& [label, members] : classes) {
        const auto m = static_cast<Count>(members.size());
        positivePairs += m * (m - 1);
    }
    if (positivePairs == 0 || classes.size() < 2) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }

    const Real tangent = std::tan(m_alphaDegrees * std::numbers::pi / 180.0);
    const Real t = tangent * tangent;
    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    Vector norms;
    const Points xh = normalizeRows(x, &norms);
    const Real largestNorm = norms.maxCoeff();
    const bool factorized = m_allowFactorized && 16.0 * t * largestNorm <= kFactorizedExponentRange;

    const bool split = detail::splitsForces(input, withGradient);
    Gradients grad{Points::Zero(n, d), Points::Zero(n, d), split ? Points::Zero(n, d) : Points()};
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;

    // All per-class buffers live in arenas kept by each thread between calls: freeing and
    // re-allocating them per class (or per step) made the allocator return memory to the system
    // each time, and the page faults cost more than the products.
    Eigen::Index largestClass = 0, largestOthers = 0;
    for (const auto& [label, members] : classes) {
        const auto m = static_cast<Eigen::Index>(members.size());
        if (m < 2) continue;
        largestClass = std::max(largestClass, m);
        largestOthers = std::max(largestOthers, n - m);
    }
    const std::size_t arenaSize =
        static_cast<std::size_t>(largestClass * largestClass + 2 * largestClass * d + 2 * largestOthers * d);

    // The classes are independent (each writes its own members' rows of the anchor-side
    // gradients): they run on the engine's threads. Each keeps its sum, its active count and its
    // negatives' gradient, added in class order afterwards, so the result is the same bits on any
    // thread count.
    std::vector<std::pair<int, const std::vector<int>*>> classList;
    for (const auto& [label, members] : classes) classList.emplace_back(label, &members);
    struct ClassResult {
        Real total = 0.0;
        Count active = 0;
        Points gradNegatives;
        std::vector<int> others;
    };
    std::vector<ClassResult> results(classList.size());
    const int classCount = static_cast<int>(classList.size());
    const int workerCount = detail::chunkWorkers(classCount);
    detail::forEachChunk(classCount, workerCount, [&](int classIndex, int) {
        const int label = classList[static_cast<std::size_t>(classIndex)].first;
        const std::vector<int>& members = *classList[static_cast<std::size_t>(classIndex)].second;
        ClassResult& result = results[static_cast<std::size_t>(classIndex)];
        thread_local std::vector<Real> arena;
        if (arena.size() < arenaSize) arena.resize(arenaSize);
        std::vector<int>& others = result.others;
        Real& total = result.total;
        const auto m = static_cast<Eigen::Index>(members.size());
        if (m < 2) return;
        const Eigen::Index k = n - m;
        others.reserve(static_cast<std::size_t>(k));
        for (int i = 0; i < static_cast<int>(n); ++i)
            if (y[static_cast<std::size_t>(i)] != label) others.push_back(i);
        Real* next = arena.data();
        auto take = [&next](Eigen::Index rows, Eigen::Index cols) {
            MatrixMap view(next, rows, cols);
            next += rows * cols;
            return view;
        };
        MatrixMap anchors = take(m, d), negatives = take(k, d), cosines = take(m, m);
        MatrixMap gradAnchors = take(m, d), gradNegatives = take(k, d);
        for (Eigen::Index i = 0; i < m; ++i) anchors.row(i) = xh.row(members[static_cast<std::size_t>(i)]);
        for (Eigen::Index j = 0; j < k; ++j) negatives.row(j) = x.row(others[static_cast<std::size_t>(j)]);
        cosines.noalias() = anchors * anchors.transpose();
        gradAnchors.setZero();
        gradNegatives.setZero();

        if (factorized) {
            // E'_in = exp(4t x̂_i·x_n − α); Σ_n exp(f_apn) = e^{2α−2(1+t)s_ap} · (E'E'ᵀ)_ap.
            // E' is never stored whole: it is rebuilt in blocks of negatives (rows n, columns i)
            // small enough for the L2 cache, once for K = E'E'ᵀ and once for the gradient. The
            // two products of m² per negative run in the vector units' kernels
            // (simd::Kernels::gramLowerUpdate, productRows), whose sums run in n (or p) order
            // on every unit: the same bits on any thread count, fused multiply-adds on the units
            // with FMA (simd/dispatch.h states the tolerance against the portable unit's).
            const Eigen::Index stride = paddedClassWidth(m);
            const Eigen::Index block = std::min(blockRows(stride), k);
            const std::size_t scratchSize =
                static_cast<std::size_t>(d * stride + 3 * stride + 2 * m * stride + m * m +
                                         2 * block * stride + 2 * d * stride + block * d);
            thread_local std::vector<Real> scratch;
            if (scratch.size() < scratchSize) scratch.resize(scratchSize);
            Real* cursor = scratch.data();
            auto claim = [&cursor](Eigen::Index size) {
                Real* start = cursor;
                cursor += size;
                return start;
            };
            Real* const anchorColumns = claim(d * stride);  // x̂_i,c at [c·stride + i], 0 for i ≥ m
            Real* const gram = claim(m * stride);           // K (lower triangle read)
            Real* const weights = claim(m * stride);        // C: c_ap, zero diagonal and padding
            MatrixMap gradCosines(claim(m * m), m, m);
            Real* const scaled = claim(block * stride);    // E' block, row j = negative start + j
            Real* const weighted = claim(block * stride);  // (E'ᵀ C) block, then Q = E' ∘ (E'ᵀ C)
            Real* const pulled = claim(d * stride);        // Σ_n Q_in x_n,c at [c·stride + i]
            Real* const pullDots = claim(block * d);       // Σ_i Q_in x̂_i,c for the block's n
            Real* const exponents = claim(stride);         // z_ap for one a
            Real* const terms = claim(stride);             // softplus(z_ap)
            Real* const slopes = claim(stride);            // σ(z_ap)
            std::fill(anchorColumns, anchorColumns + d * stride, 0.0);
            for (Eigen::Index i = 0; i < m; ++i)
                for (Eigen::Index c = 0; c < d; ++c) anchorColumns[c * stride + i] = anchors(i, c);
            const Real scale = 4.0 * t;
            // One shift for the class, α = 4t·R with R the largest norm among its negatives: every
            // exponent 4t x̂_i·x_n − α lies in [−8tR, 0], so each product term of K stays
            // ≥ e^{−16tR} ≥ e^{−600} (kFactorizedExponentRange), a normal double, and no pass over
            // the negatives is needed to find a per-row maximum.
            Real reach = 0.0;
            for (const int other : others) reach = std::max(reach, norms(other));
            const Real shift = scale * reach;
            const detail::simd::Kernels& kernels = detail::simd::kernels();
            // row[i] = E'_ij = exp(4t · (((0 + x̂_i0 x_j0) + x̂_i1 x_j1) + …) − α) for i < m, 0 beyond.
            auto scaledRow = [&](Eigen::Index j, Real* row) {
                kernels.affineColumnsRow(anchorColumns, stride, d, &negatives(j, 0), scale, shift, m, row);
                detail::expRowInPlace(row, m);
                std::fill(row + m, row + stride, 0.0);
            };
            auto scaledBlock = [&](Eigen::Index start, Eigen::Index width) {
                for (Eigen::Index j = 0; j < width; ++j) scaledRow(start + j, scaled + j * stride);
            };
            std::fill(gram, gram + m * stride, 0.0);
            for (Eigen::Index start = 0; start < k; start += block) {
                const Eigen::Index width = std::min(block, k - start);
                scaledBlock(start, width);
                kernels.gramLowerUpdate(scaled, width, m, stride, gram);
            }
            // c_ap = σ(z_ap) / K_ap / |P| turns E'_an E'_pn into the weight of n in ℓ_ap (ℓ_ap = ℓ_pa).
            std::fill(weights, weights + m * stride, 0.0);
            gradCosines.setZero();
            // softplus(z) and σ(z) a row at a time in the vector unit (dispatch.h: the same bits on
            // every unit), in place of a scalar exp and log1p per pair.
            for (Eigen::Index a = 1; a < m; ++a) {
                for (Eigen::Index p = 0; p < a; ++p)  // the lower triangle holds K
                    exponents[p] =
                        std::log(gram[a * stride + p]) + shift + shift - 2.0 * (1.0 + t) * cosines(a, p);
                kernels.softplusRow(exponents, a, detail::expconst::kTable.data(), terms, slopes);
                for (Eigen::Index p = 0; p < a; ++p) {
                    const Real term = terms[p], sigma = slopes[p];
                    total += 2.0 * term;  // (a,p) and (p,a)
                    if (term > 0.0) result.active += 2;
                    weights[a * stride + p] = weights[p * stride + a] =
                        sigma / gram[a * stride + p] * perPair;
                    gradCosines(a, p) = gradCosines(p, a) = -2.0 * (1.0 + t) * sigma * perPair;
                }
            }
            if (withGradient) {
                // Both roles of each pair give the factor 2: ∂x̂_i = 2 Σ_p g_ip x̂_p + 8t Σ_n Q_in x_n,
                // ∂x_n = 8t Σ_i Q_in x̂_i, with Q = E' ∘ (C E').
                gradAnchors.noalias() += 2.0 * gradCosines * anchors;
                if (split) {
                    const Points cosinePart = 2.0 * gradCosines * anchors;  // the x̂_a·x̂_p terms alone
                    for (Eigen::Index i = 0; i < m; ++i)
                        grad.sameLabel.row(members[static_cast<std::size_t>(i)]) += cosinePart.row(i);
                }
                std::fill(pulled, pulled + d * stride, 0.0);
                for (Eigen::Index start = 0; start < k; start += block) {
                    const Eigen::Index width = std::min(block, k - start);
                    scaledBlock(start, width);
                    kernels.productRows(scaled, width, m, stride, weights, weighted);
                    kernels.weightedPullRows(weighted, scaled, width, stride, &negatives(start, 0), d,
                                             anchorColumns, pulled, pullDots);
                    for (Eigen::Index j = 0; j < width; ++j)
                        for (Eigen::Index c = 0; c < d; ++c)
                            gradNegatives(start + j, c) += (8.0 * t) * pullDots[j * d + c];
                }
                for (Eigen::Index i = 0; i < m; ++i)
                    for (Eigen::Index c = 0; c < d; ++c)
                        gradAnchors(i, c) += (8.0 * t) * pulled[c * stride + i];
            }
        } else {
            std::vector<Real> exponents(static_cast<std::size_t>(k)), softmax(static_cast<std::size_t>(k));
            for (Eigen::Index a = 0; a < m; ++a)
                for (Eigen::Index p = 0; p < m; ++p) {
                    if (a == p) continue;
                    const Eigen::RowVectorXd direction = (4.0 * t) * (anchors.row(a) + anchors.row(p));
                    const Real offset = 2.0 * (1.0 + t) * cosines(a, p);
                    for (Eigen::Index j = 0; j < k; ++j)
                        exponents[static_cast<std::size_t>(j)] = direction.dot(negatives.row(j)) - offset;
                    const Real term = detail::logSumExp(exponents, true, softmax);
                    total += term;
                    if (term > 0.0) ++result.active;
                    if (!withGradient) continue;
                    Real weightSum = 0.0;
                    Eigen::RowVectorXd pulled = Eigen::RowVectorXd::Zero(d);
                    for (Eigen::Index j = 0; j < k; ++j) {
                        const Real w = softmax[static_cast<std::size_t>(j)] * perPair;
                        weightSum += w;
                        pulled += w * negatives.row(j);
                        gradNegatives.row(j) += w * direction;
                    }
                    gradAnchors.row(a) += (4.0 * t) * pulled - 2.0 * (1.0 + t) * weightSum * anchors.row(p);
                    gradAnchors.row(p) += (4.0 * t) * pulled - 2.0 * (1.0 + t) * weightSum * anchors.row(a);
                    if (split) {
                        const Real cosineSlope = -2.0 * (1.0 + t) * weightSum;  // ∂ℓ_ap/∂(x̂_a·x̂_p)
                        const int anchor = members[static_cast<std::size_t>(a)];
                        const int positive = members[static_cast<std::size_t>(p)];
                        grad.sameLabel.row(anchor) += cosineSlope * anchors.row(p);
                        grad.sameLabel.row(positive) += cosineSlope * anchors.row(a);
                    }
                }
        }
        if (withGradient) {
            // Each point is an anchor of its own class only: these rows are this class's alone.
            for (Eigen::Index i = 0; i < m; ++i)
                grad.normalized.row(members[static_cast<std::size_t>(i)]) += gradAnchors.row(i);
            result.gradNegatives = gradNegatives;
        }
    });
    Real total = 0.0;
    for (const ClassResult& result : results) {
        total += result.total;
        out.stats.active += result.active;
        if (!withGradient || result.gradNegatives.rows() == 0) continue;
        for (Eigen::Index j = 0; j < result.gradNegatives.rows(); ++j)
            grad.raw.row(result.others[static_cast<std::size_t>(j)]) += result.gradNegatives.row(j);
    }
    out.value = total * perPair;
    if (withGradient) out.gradEmbeddings = normalizeRowsBackward(xh, norms, grad.normalized) + grad.raw;
    if (split) out.gradFromPositives = normalizeRowsBackward(xh, norms, grad.sameLabel);
    return out;
}

LossOutput AngularLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's AngularLoss with ref_emb: anchors x̂_a from the batch, positives r̂_p from the
    // reference, and every reference row of another label as a negative (raw, as in the batch
    // form); the gradient reaches the batch anchors only.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size());
    if (positives.empty() || negatives.empty()) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
    const Points& x = input.embeddings;
    const Points& reference = *input.referenceEmbeddings;
    const Labels& y = input.labels;
    const Labels& referenceLabels = *input.referenceLabels;
    const Eigen::Index n = x.rows(), d = x.cols(), m = reference.rows();
    const Real tangent = std::tan(m_alphaDegrees * std::numbers::pi / 180.0);
    const Real t = tangent * tangent;
    const Real perPair = 1.0 / static_cast<Real>(positives.size());
    Vector norms;
    const Points xh = normalizeRows(x, &norms);
    const Points rh = normalizeRows(reference);
    const bool split = detail::splitsForces(input, withGradient);
    Points gradNormalized, gradSameLabel;
    if (withGradient) gradNormalized = Points::Zero(n, d);
    if (split) gradSameLabel = Points::Zero(n, d);
    std::vector<Real> f(static_cast<std::size_t>(m));
    Eigen::RowVectorXd towardsNegatives(d);
    Real total = 0.0;
    for (const Pair& pair : positives) {
        const int a = pair[0], p = pair[1];
        const Eigen::RowVectorXd middle = xh.row(a) + rh.row(p);
        const Real cosine = xh.row(a).dot(rh.row(p));
        Real top = 0.0;  // the "1" of LSE₁ is e^0
        for (Eigen::Index j = 0; j < m; ++j) {
            if (referenceLabels[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(a)]) continue;
            const Real value = 4.0 * t * middle.dot(reference.row(j)) - 2.0 * (1.0 + t) * cosine;
            f[static_cast<std::size_t>(j)] = value;
            top = std::max(top, value);
        }
        Real sum = std::exp(-top);
        for (Eigen::Index j = 0; j < m; ++j)
            if (referenceLabels[static_cast<std::size_t>(j)] != y[static_cast<std::size_t>(a)])
                sum += std::exp(f[static_cast<std::size_t>(j)] - top);
        const Real term = top + std::log(sum);
        total += term;
        if (term > 0.0) ++out.stats.active;
        if (!withGradient) continue;
        // ∂ℓ/∂f_j = w_j (softmax with the 1); ∂f_j/∂x̂_a = 4t r_j − 2(1+t) r̂_p.
        towardsNegatives.setZero();
        Real weights = 0.0;
        for (Eigen::Index j = 0; j < m; ++j) {
            if (referenceLabels[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(a)]) continue;
            const Real w = std::exp(f[static_cast<std::size_t>(j)] - top) / sum;
            towardsNegatives += w * reference.row(j);
            weights += w;
        }
        const Eigen::RowVectorXd attraction = -2.0 * (1.0 + t) * weights * perPair * rh.row(p);
        gradNormalized.row(a) += 4.0 * t * perPair * towardsNegatives + attraction;
        if (split) gradSameLabel.row(a) += attraction;
    }
    out.value = total * perPair;
    if (withGradient) {
        out.gradEmbeddings = normalizeRowsBackward(xh, norms, gradNormalized);
        if (split) out.gradFromPositives = normalizeRowsBackward(xh, norms, gradSameLabel);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/angular.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>

#include "losses/common.h"
#include "losses/contrastive_support.h"
#include "losses/reference_set.h"
#include "parallel.h"

namespace marginlab {

namespace {

// Largest 16·t·max‖x‖ for the factorized sums: each scaled factor E' ≥ e^{-8tR}, so every
// product term stays ≥ e^{-600}, far above the smallest normal double (≈ e^{-708}).
constexpr Real kFactorizedExponentRange = 600.0;
// Entries of one column block of E' (12288 doubles = 96 KB, under glibc's mmap threshold).
constexpr Eigen::Index kBlockEntries = 12288;

using MatrixMap = Eigen::Map<Matrix>;
using VectorMap = Eigen::Map<Vector>;

// Columns per block of E' for a class of m rows.
Eigen::Index blockWidth(Eigen::Index m) { return std::max<Eigen::Index>(16, kBlockEntries / m); }

struct Gradients {
    Points normalized;  // ∂L/∂x̂ (anchor/positive roles)
    Points raw;         // ∂L/∂x  (negative role, the raw-x_n quirk)
    Points sameLabel;   // ∂L/∂x̂ through the cosines x̂_a·x̂_p only (the force split; empty if off)
};

}  // namespace

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

    // All per-class buffers live in one arena allocated once per call: freeing and re-allocating
    // them per class made the allocator return memory to the system each time, and the page
    // faults cost more than the products.
    Eigen::Index largestClass = 0, largestOthers = 0, largestWork = 0;
    for (const auto& [label, members] : classes) {
        const auto m = static_cast<Eigen::Index>(members.size());
        if (m < 2) continue;
        largestClass = std::max(largestClass, m);
        largestOthers = std::max(largestOthers, n - m);
        largestWork = std::max(largestWork, m * std::min(blockWidth(m), n - m));
    }
    const std::size_t arenaSize =
        static_cast<std::size_t>(4 * largestClass * largestClass + 2 * largestClass * d +
                                 2 * largestOthers * d + 2 * largestWork + largestClass);

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
    struct Worker {
        std::vector<Real> arena;
    };
    const int classCount = static_cast<int>(classList.size());
    const int workerCount = detail::chunkWorkers(classCount);
    std::vector<Worker> workers(static_cast<std::size_t>(workerCount));
    detail::forEachChunk(classCount, workerCount, [&](int classIndex, int worker) {
        const int label = classList[static_cast<std::size_t>(classIndex)].first;
        const std::vector<int>& members = *classList[static_cast<std::size_t>(classIndex)].second;
        ClassResult& result = results[static_cast<std::size_t>(classIndex)];
        std::vector<Real>& arena = workers[static_cast<std::size_t>(worker)].arena;
        if (arena.size() != arenaSize) arena.assign(arenaSize, 0.0);
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
            // E'_in = exp(4t x̂_i·x_n − α_i); Σ_n exp(f_apn) = e^{α_a+α_p−2(1+t)s_ap} · (E'E'ᵀ)_ap.
            // E' (m×k) is never stored whole: it is rebuilt in column blocks of ≤ ~96 KB, because
            // large fresh buffers cost more in page faults than the products themselves.
            const Eigen::Index block = blockWidth(m);
            Real* const workStorage = next;
            Real* const qStorage = next + m * std::min(block, k);
            next = qStorage + m * std::min(block, k);
            VectorMap rowShift(next, m);
            next += m;
            MatrixMap products = take(m, m), weights = take(m, m), gradCosines = take(m, m);
            auto scaledBlock = [&](Eigen::Index start, Eigen::Index width) {
                MatrixMap target(workStorage, m, width);
                target.noalias() = anchors * negatives.middleRows(start, width).transpose();
                target *= 4.0 * t;
                for (Eigen::Index i = 0; i < m; ++i) target.row(i).array() = (target.row(i).array() - rowShift(i)).exp();
                return target;
            };
            rowShift.setConstant(-std::numeric_limits<Real>::infinity());
            for (Eigen::Index start = 0; start < k; start += block) {
                const Eigen::Index width = std::min(block, k - start);
                MatrixMap work(workStorage, m, width);
                work.noalias() = anchors * negatives.middleRows(start, width).transpose();
                rowShift = rowShift.cwiseMax((4.0 * t) * work.rowwise().maxCoeff());
            }
            products.setZero();
            for (Eigen::Index start = 0; start < k; start += block) {
                const Eigen::Index width = std::min(block, k - start);
                products.selfadjointView<Eigen::Lower>().rankUpdate(scaledBlock(start, width));
            }
            // c_ap = σ(z_ap) / K_ap / |P| turns E'_an E'_pn into the weight of n in ℓ_ap (ℓ_ap = ℓ_pa).
            weights.setZero();
            gradCosines.setZero();
            for (Eigen::Index a = 0; a < m; ++a)
                for (Eigen::Index p = 0; p < a; ++p) {
                    const Real product = products(a, p);  // lower triangle holds K
                    const Real z = std::log(product) + rowShift(a) + rowShift(p) - 2.0 * (1.0 + t) * cosines(a, p);
                    const Real term = detail::stableSoftplus(z);
                    total += 2.0 * term;  // (a,p) and (p,a)
                    if (term > 0.0) result.active += 2;
                    const Real sigma = detail::logistic(z);
                    weights(a, p) = weights(p, a) = sigma / product * perPair;
                    gradCosines(a, p) = gradCosines(p, a) = -2.0 * (1.0 + t) * sigma * perPair;
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
                for (Eigen::Index start = 0; start < k; start += block) {
                    const Eigen::Index width = std::min(block, k - start);
                    const MatrixMap work = scaledBlock(start, width);
                    MatrixMap q(qStorage, m, width);
                    q.noalias() = weights * work;
                    q.array() *= work.array();
                    gradAnchors.noalias() += (8.0 * t) * (q * negatives.middleRows(start, width));
                    gradNegatives.middleRows(start, width).noalias() += (8.0 * t) * (q.transpose() * anchors);
                }
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

// SPDX-License-Identifier: MIT
#include "marginlab/losses/generalized_lifted_structure.h"

#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"
#include "losses/triangle_rows.h"
#include "parallel.h"
#include "simd/dispatch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace marginlab {

namespace {

/**
 * The loss over the upper triangle j > i, for normalized points: M then lies within known bounds
 * (DistanceRows::bounds), and each kind's z = affine(M) is shifted by its high end over them, the
 * same shift for every row. So E_ij = e^{z_ij − shift} is symmetric, each pair's exponential serves
 * the sums of both its rows, and the backward pass takes each pair once with both rows' factors,
 * ∂L/∂M_ij = (f_i + f_j)·E_ij — half the backward rows of the full-row pass. The rows go class by
 * class (ClassOrder): the part j > i of row i is its positives up to the end of its class, then
 * only negatives, so each run is one kind and needs no label compare. Two passes over the
 * triangle, rows in AnchorChunks on the engine's threads; what a row adds to other rows goes into
 * its chunk's own vectors, added in chunk order: the same bits on any thread count.
 */
LossOutput generalizedLiftedOverTriangle(const LossInput& callers, bool withGradient, const DistanceSpec& spec,
                                         const Real* affine, Real positiveShift, Real negativeShift) {
    const detail::ClassOrderedRows sorted(callers, spec);
    const int n = sorted.n;
    const detail::DistanceRows& rows = sorted.rows;
    const int chunkCount = detail::AnchorChunks(n).count();
    const std::vector<int>& classEnd = sorted.classEnd;
    // Each kind's affine map as the zero kind's (no labels: every entry is of kind 0).
    const Real positiveAffine[4] = {0.0, 1.0, affine[0], affine[1]};
    const Real negativeAffine[4] = {0.0, 1.0, affine[2], affine[3]};
    // Row i's run of one kind, [from, to): E into e (M into m unless null), each E also added to
    // addTo (unless null) and, with product, −((offset + factors_j)·E) into its out. Its sum.
    auto runExps = [&](int i, bool positives, int from, int to, Real* m, Real* kind, Real* e, Real* addTo,
                       const detail::simd::NegatedProduct* product) {
        Real unused = 0.0, sum = 0.0;
        if (from >= to) return sum;
        rows.rowAffineExpSum(i, positives ? positiveAffine : negativeAffine, nullptr, kind, -1, 0.0,
                             positives ? positiveShift : negativeShift, m, e, addTo, &unused, &sum, from, product, to);
        return sum;
    };

    // Pass 1: each row's sums of E over its positives and over its negatives.
    std::vector<std::vector<Real>> positivePartial(static_cast<std::size_t>(chunkCount)),
        negativePartial(static_cast<std::size_t>(chunkCount));
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int chunk) {
        std::vector<Real>& positiveSums = positivePartial[static_cast<std::size_t>(chunk)];
        std::vector<Real>& negativeSums = negativePartial[static_cast<std::size_t>(chunk)];
        positiveSums.assign(static_cast<std::size_t>(n), 0.0);
        negativeSums.assign(static_cast<std::size_t>(n), 0.0);
        detail::TriangleScratch& scratch = detail::triangleScratch(n);
        Real* kind = scratch.rows[0].data();
        Real* e = scratch.rows[1].data();
        for (auto i = static_cast<int>(begin); i < end; ++i) {
            const int negativesFrom = classEnd[static_cast<std::size_t>(i)];
            positiveSums[static_cast<std::size_t>(i)] +=
                runExps(i, true, i + 1, negativesFrom, nullptr, kind, e, positiveSums.data(), nullptr);
            negativeSums[static_cast<std::size_t>(i)] +=
                runExps(i, false, negativesFrom, n, nullptr, kind, e, negativeSums.data(), nullptr);
        }
    });
    Vector positiveSum = Vector::Zero(n), negativeSum = Vector::Zero(n);
    for (int c = 0; c < chunkCount; ++c)
        for (int i = 0; i < n; ++i) {
            positiveSum(i) += positivePartial[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)];
            negativeSum(i) += negativePartial[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)];
        }

    // Each anchor's term and, for an active one, its rows' factors: softmax weight × ∂z/∂M (the
    // affine's factor), mean over anchors, stored negated for the backward's NegatedProduct. An
    // empty kind (LSE of nothing: 0) gets the factor 0.
    const Real anchorCount = static_cast<Real>(n);
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    Real total = 0.0;
    Vector negatedPositiveFactor = Vector::Zero(n), negatedNegativeFactor = Vector::Zero(n);
    for (int i = 0; i < n; ++i) {
        const Real sumPositive = positiveSum(i), sumNegative = negativeSum(i);
        const Real lsePositive = sumPositive > 0.0 ? positiveShift + std::log(sumPositive) : 0.0;
        const Real lseNegative = sumNegative > 0.0 ? negativeShift + std::log(sumNegative) : 0.0;
        const Real term = lsePositive + lseNegative;
        if (term <= 0.0) continue;
        total += term;
        ++out.stats.active;
        if (sumPositive > 0.0) negatedPositiveFactor(i) = -(affine[1] / (sumPositive * anchorCount));
        if (sumNegative > 0.0) negatedNegativeFactor(i) = -(affine[3] / (sumNegative * anchorCount));
    }
    out.value = total / anchorCount;
    if (!withGradient) return out;

    // Pass 2: ∂L/∂M_ij = (f_i + f_j)·E_ij for j > i, made with the exps, straight into the
    // backward pass.
    const detail::TriangleGradients grads =
        detail::accumulateOverTriangle(rows, sorted.labels(), callers.splitForces, [&](int i, Real* m, Real* g, Real* kind, Real* e) {
            const int negativesFrom = classEnd[static_cast<std::size_t>(i)];
            const detail::simd::NegatedProduct positive{negatedPositiveFactor(i), negatedPositiveFactor.data(), g};
            const detail::simd::NegatedProduct negative{negatedNegativeFactor(i), negatedNegativeFactor.data(), g};
            runExps(i, true, i + 1, negativesFrom, m, kind, e, nullptr, &positive);
            runExps(i, false, negativesFrom, n, m, kind, e, nullptr, &negative);
        });
    out.gradEmbeddings = sorted.order.restore(grads.all);
    if (callers.splitForces) out.gradFromPositives = sorted.order.restore(grads.sameLabel);
    if (callers.owned) out.gradOwned = Points::Zero(callers.owned->rows(), callers.owned->cols());
    return out;
}

}  // namespace

GeneralizedLiftedStructureLoss::GeneralizedLiftedStructureLoss(Real negativeMargin, Real positiveMargin,
                                                               const DistanceSpec& distance)
    : m_negativeMargin(negativeMargin), m_positiveMargin(positiveMargin), m_distance(distance) {}

LossOutput GeneralizedLiftedStructureLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    // PML's rule "every index list has length ≤ 1 → 0": with all pairs that means N ≤ 1.
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives <= 1 && counts.negatives <= 1) return detail::zeroOutputWithKind(input, withGradient, "anchors");

    const Real sign = m_distance.orderSign();  // PML's margin(): x − y for a distance, y − x for a similarity
    const Real anchorCount = static_cast<Real>(n);
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    // z = sign·(M − m_p) for positives, sign·(m_n − M) = −sign·(M − m_n) for negatives (the same
    // value: a − b = −(b − a) exactly): an affine map of M per kind.
    const Real affine[4] = {m_positiveMargin, sign, m_negativeMargin, -sign};
    // With normalized points M lies within known bounds (DistanceRows::bounds), and so does each
    // kind's z, whose span is M's (the factors are ±1): at most 4. Shifting a kind by the high end
    // of its z instead of its maximum keeps every exp in [e^{−4}, 1], so nothing underflows that
    // the maximum would keep; the same shift for every row makes the exps symmetric, and the
    // loss runs over the triangle j > i.
    const std::optional<std::pair<Real, Real>> range = detail::DistanceRows::boundsOf(m_distance);
    if (range) {
        auto highEnd = [&](int k) {  // the largest z of kind k (0 positives, 1 negatives) over M's bounds
            const Real margin = affine[2 * k], factor = affine[2 * k + 1];
            return std::max((range->first - margin) * factor, (range->second - margin) * factor);
        };
        return generalizedLiftedOverTriangle(input, withGradient, m_distance, affine, highEnd(0), highEnd(1));
    }

    // Otherwise one fused pass per anchor row (distance row, terms, backward), each kind shifted
    // by its maximum: no N×N buffer.
    detail::FusedPairRows pairRows(m_distance, input.embeddings);
    pairRows.orderRowsByLabel(labels);  // the backward passes scale by the labels: a block's rows share them
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int i, detail::PairRowChunk& part) {
        Real* exponent = part.first.data();  // one row of z (positives and negatives), then e^{z − top}
        Real* kind = part.second.data();     // 1 = same label, 0 = other
        // The anchor is no pair of its own: its z is −∞.
        Real topPositive = minusInfinity, topNegative = minusInfinity;
        Real sumPositive = 0.0, sumNegative = 0.0;
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(i)], kind, n);
        // z by selects in the vector unit's lanes, and each kind's maximum in the same pass.
        detail::splitAffineMax(exponent, part.row.data(), kind, n, affine[0], affine[1], affine[2], affine[3], i,
                               &topPositive, &topNegative);
        // A kind whose top is −∞ has only −∞ entries (the anchor's own, say): they are shifted
        // by 0, not by −∞, whose −∞ − (−∞) would be NaN.
        const Real shiftPositive = topPositive == minusInfinity ? 0.0 : topPositive;
        const Real shiftNegative = topNegative == minusInfinity ? 0.0 : topNegative;
        detail::splitShiftExpSum(exponent, exponent, kind, n, shiftPositive, shiftNegative, &sumPositive,
                                 &sumNegative);
        // LSE of an empty set is 0 (PML's helper), not −∞.
        const Real lsePositive = sumPositive > 0.0 ? topPositive + std::log(sumPositive) : 0.0;
        const Real lseNegative = sumNegative > 0.0 ? topNegative + std::log(sumNegative) : 0.0;
        const Real term = lsePositive + lseNegative;
        if (term <= 0.0) return false;
        part.total += term;
        ++part.active;
        if (!withGradient) return false;
        // softmax weight × ∂z/∂M (sign for positives, −sign for negatives), mean over anchors;
        // the row factors are hoisted so the N² loop has no division. An empty kind gets the
        // factor 0, not ±∞: the anchor's own e^{−∞} = 0 is scaled too, and must give ±0 (−0 only
        // for a similarity, whose backward pass skips the anchor).
        const Real positiveFactor = sumPositive > 0.0 ? sign / (sumPositive * anchorCount) : 0.0;
        const Real negativeFactor = sumNegative > 0.0 ? -sign / (sumNegative * anchorCount) : 0.0;
        part.scaleGradientBySameLabel(exponent, kind, labels, positiveFactor, negativeFactor);
        return true;
    });
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    out.stats.active = pairRows.active();
    out.value = pairRows.total() / anchorCount;
    if (withGradient) {
        out.gradEmbeddings = pairRows.gradient(1.0);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

LossOutput GeneralizedLiftedStructureLoss::evaluateWithReference(const LossInput& input,
                                                                 bool withGradient) const {
    // PML's mat-based loss with ref_emb: on M = distance(batch, reference) with the listed pairs as
    // masks (duplicates collapse), ℓ_i = relu(LSE_{P(i)}(margin(M, mp)) + LSE_{N(i)}(margin(mn, M)))
    // with LSE of an empty set 0, mean over the N batch anchors; the gradient stops at the reference.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    if (positives.size() <= 1 && negatives.size() <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "anchors");
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& matrix = distance.matrix();
    const Eigen::Index n = matrix.rows(), m = matrix.cols();
    Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic> kind =
        Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>::Zero(n, m);  // 1 positive, 2 negative
    for (const Pair& pair : negatives) kind(pair[0], pair[1]) |= 2;
    for (const Pair& pair : positives) kind(pair[0], pair[1]) |= 1;
    const Real sign = m_distance.orderSign();  // PML's margin(): x − y for a distance, y − x for a similarity
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, m);
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    const Real anchorCount = static_cast<Real>(n);
    Real total = 0.0;
    // LSE over the entries of one kind, and (with the gradient) its softmax times `slope` into `grad`.
    auto logSumExp = [&](Eigen::Index a, std::uint8_t bit, auto&& exponent, Real slope, bool write) {
        Real top = -std::numeric_limits<Real>::infinity();
        for (Eigen::Index j = 0; j < m; ++j)
            if (kind(a, j) & bit) top = std::max(top, exponent(matrix(a, j)));
        if (top == -std::numeric_limits<Real>::infinity()) return 0.0;  // empty: 0, no gradient
        Real sum = 0.0;
        for (Eigen::Index j = 0; j < m; ++j)
            if (kind(a, j) & bit) sum += std::exp(exponent(matrix(a, j)) - top);
        if (write)
            for (Eigen::Index j = 0; j < m; ++j)
                if (kind(a, j) & bit) grad(a, j) += slope * std::exp(exponent(matrix(a, j)) - top) / sum;
        return top + std::log(sum);
    };
    auto positiveExponent = [&](Real value) { return sign * (value - m_positiveMargin); };
    auto negativeExponent = [&](Real value) { return sign * (m_negativeMargin - value); };
    for (Eigen::Index a = 0; a < n; ++a) {
        const Real v =
            logSumExp(a, 1, positiveExponent, 0.0, false) + logSumExp(a, 2, negativeExponent, 0.0, false);
        if (v <= 0.0) continue;  // relu: no loss and no gradient
        total += v;
        ++out.stats.active;
        if (withGradient) {
            logSumExp(a, 1, positiveExponent, sign / anchorCount, true);
            logSumExp(a, 2, negativeExponent, -sign / anchorCount, true);
        }
    }
    out.value = total / anchorCount;
    if (withGradient) detail::referenceBackward(input, distance, grad, &out);
    return out;
}

}  // namespace marginlab

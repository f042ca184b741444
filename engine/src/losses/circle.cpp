// SPDX-License-Identifier: MIT
#include "marginlab/losses/circle.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"

namespace marginlab {
namespace {

// The least and the largest z of one kind over s ∈ [−1, 1] (the cosine's range): z = slope·(s − Δ)
// is 0 on one side of the optimum O and a parabola with its vertex at (O + Δ)/2 on the other, so
// its extremes lie at ±1, at O or at the vertex.
std::pair<Real, Real> exponentBounds(Real scale, Real optimum, Real margin, bool positive) {
    const Real sign = positive ? -1.0 : 1.0;
    Real low = std::numeric_limits<Real>::infinity(), high = -low;
    for (Real s : {-1.0, 1.0, optimum, 0.5 * (optimum + margin)}) {
        s = std::clamp(s, -1.0, 1.0);
        const Real z = sign * scale * std::max(sign * (s - optimum), 0.0) * (s - margin);
        low = std::min(low, z);
        high = std::max(high, z);
    }
    return {low, high};
}

}  // namespace

CircleLoss::CircleLoss(Real relaxation, Real scale) : m_relaxation(relaxation), m_scale(scale) {}

LossOutput CircleLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives <= 1 && counts.negatives <= 1) return detail::zeroOutputWithKind(input, withGradient, "anchors");

    // One fused pass per anchor row (similarity row, terms, backward): no N×N buffer.
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), input.embeddings);
    pairRows.orderRowsByLabel(labels);  // the backward passes scale by the labels: a block's rows share them
    const Real optimumPositive = 1.0 + m_relaxation, optimumNegative = -m_relaxation;
    const Real marginPositive = 1.0 - m_relaxation, marginNegative = m_relaxation;
    const Real scale = m_scale;  // a local: the stores below could otherwise alias the member
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    const Real parameters[5] = {scale, optimumPositive, optimumNegative, marginPositive, marginNegative};
    // Shifting each side by its bound's high end instead of its maximum keeps every exp in
    // [e^{−600}, 1] while the side's z spans at most kBoundedShiftRange (γ = 80, m = 0.4: 320
    // and 80): nothing underflows that the maximum would keep, and the similarity row, z, its exps
    // and their sums come in one pass over the points.
    // Not structured bindings: clang 14 (the fuzz build) cannot capture those in a lambda.
    const std::pair<Real, Real> positiveBounds = exponentBounds(scale, optimumPositive, marginPositive, true);
    const std::pair<Real, Real> negativeBounds = exponentBounds(scale, optimumNegative, marginNegative, false);
    const Real positiveHigh = positiveBounds.second, negativeHigh = negativeBounds.second;
    const bool boundedShift = positiveHigh - positiveBounds.first <= detail::kBoundedShiftRange &&
                              negativeHigh - negativeBounds.first <= detail::kBoundedShiftRange;
    std::map<int, int> classSizes;
    if (boundedShift) {
        for (int label : labels) ++classSizes[label];
        pairRows.leaveRowsToFunction();
    }
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int i, detail::PairRowChunk& part) {
        Real* exponent = part.first.data();
        // ∂z_ij/∂s_ij with α frozen: PML detaches α, so the backward pass sees z as linear in s
        // (times e_ij after the bounded pass).
        Real* slope = part.second.data();
        Real* kind = part.third.data();  // 1 = positive, 0 = negative (the bounded pass writes it)
        if (!boundedShift) detail::sameLabelRow(labels, labels[static_cast<std::size_t>(i)], kind, n);
        // Selects on the kind, never branches (the label test is data-dependent and its
        // mispredictions were half of the loss's time), in the vector unit's lanes
        // (simd/kernels_impl.h). −(s − O_p) = O_p − s exactly, so the values are bit for bit those
        // of the two-branch formula; max(gap, 0) is 0.5·(gap + |gap|), exact.
        // The anchor itself gets −∞: it is left out of the maxima (taken in the same pass) and sums.
        Real topPositive = minusInfinity, topNegative = minusInfinity, sumPositive = 0.0, sumNegative = 0.0;
        if (boundedShift) {
            // An anchor without a positive or without a negative has ℓ_i = 0 (PML zeroes those rows).
            const int classSize = classSizes.at(labels[static_cast<std::size_t>(i)]);
            if (classSize == 1 || classSize == n) return false;
            topPositive = positiveHigh;
            topNegative = negativeHigh;
            pairRows.rows().dotRowCircleExpSum(i, parameters, labels, kind, i, topPositive, topNegative, exponent, slope,
                                               &sumPositive, &sumNegative);
        } else {
            detail::simd::kernels().circleRow(part.row.data(), kind, n, parameters, i, exponent, slope,
                                              &topPositive, &topNegative);
            if (topPositive == minusInfinity || topNegative == minusInfinity) return false;
            // The anchor's −∞ minus a top that is not −∞ stays −∞: e^{−∞} = 0 adds nothing to the sums.
            detail::splitShiftExpSum(exponent, exponent, kind, n, topPositive, topNegative, &sumPositive,
                                     &sumNegative);
        }
        ++part.tuples;
        const Real v = topPositive + std::log(sumPositive) + topNegative + std::log(sumNegative);
        const Real term = detail::softplus(v);
        // AvgNonZero: only terms > 0 count (softplus can underflow to exactly 0 for large γ).
        if (!(term > 0.0)) return false;
        part.total += term;
        ++part.active;
        if (!withGradient) return false;
        const Real outer = detail::softplusDerivative(v);
        // softplus' × softmax weight × ∂z/∂s with α frozen: (e·slope)·factor, as before. The
        // bounded pass has left e·slope in `slope`, and the backward pass scales it by the labels.
        if (boundedShift)
            part.scaleGradientBySameLabel(slope, kind, labels, outer / sumPositive, outer / sumNegative);
        else
            detail::splitScaleProduct(part.gradRow.data(), exponent, slope, kind, n, outer / sumPositive,
                                      outer / sumNegative);
        return true;
    });
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = pairRows.tuples();
    out.stats.active = pairRows.active();
    if (out.stats.active == 0) {
        LossOutput zero = detail::zeroOutputWithKind(input, withGradient, "anchors");
        zero.stats.tuples = out.stats.tuples;
        return zero;
    }
    const Real activeCount = static_cast<Real>(out.stats.active);
    out.value = pairRows.total() / activeCount;
    if (withGradient) {
        // the AvgNonZero count is a constant in the backward pass
        out.gradEmbeddings = pairRows.gradient(1.0 / activeCount);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0 / activeCount);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

LossOutput CircleLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's mat_based_loss with ref_emb: the listed pairs as masks over the batch × reference
    // cosine matrix, one softplus(LSE_P z + LSE_N z) per batch anchor (0 for an anchor missing
    // either side), AvgNonZero over the anchors; α detached; the gradient stops at the reference.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    if (positives.size() <= 1 && negatives.size() <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "anchors");
    const CrossDistance distance(DistanceSpec::cosine(), input.embeddings, *input.referenceEmbeddings);
    const Matrix& s = distance.matrix();
    const Eigen::Index n = s.rows(), m = s.cols();
    const detail::ReferenceMask positiveMask = detail::referenceMask(n, m, positives);
    const detail::ReferenceMask negativeMask = detail::referenceMask(n, m, negatives);
    const Real optimumPositive = 1.0 + m_relaxation, optimumNegative = -m_relaxation;
    const Real marginPositive = 1.0 - m_relaxation, marginNegative = m_relaxation;
    // z and ∂z/∂s (α frozen) of one entry; PML writes the negative logits last, so they win.
    auto logit = [&](Eigen::Index a, Eigen::Index j, Real* slope) {
        const Real value = s(a, j);
        if (negativeMask(a, j)) {
            const Real alpha = detail::relu(value - optimumNegative);
            *slope = m_scale * alpha;
            return m_scale * alpha * (value - marginNegative);
        }
        const Real alpha = detail::relu(optimumPositive - value);
        *slope = -m_scale * alpha;
        return -m_scale * alpha * (value - marginPositive);
    };
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, m);
    std::vector<Real> z(static_cast<std::size_t>(m)), slope(static_cast<std::size_t>(m));
    LossOutput out;
    out.stats.tupleKind = "anchors";
    Real total = 0.0;
    for (Eigen::Index a = 0; a < n; ++a) {
        constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
        Real topPositive = minusInfinity, topNegative = minusInfinity;
        for (Eigen::Index j = 0; j < m; ++j) {
            if (!positiveMask(a, j) && !negativeMask(a, j)) continue;
            const std::size_t k = static_cast<std::size_t>(j);
            z[k] = logit(a, j, &slope[k]);
            if (positiveMask(a, j)) topPositive = std::max(topPositive, z[k]);
            if (negativeMask(a, j)) topNegative = std::max(topNegative, z[k]);
        }
        if (topPositive == minusInfinity || topNegative == minusInfinity) continue;
        ++out.stats.tuples;
        Real sumPositive = 0.0, sumNegative = 0.0;
        for (Eigen::Index j = 0; j < m; ++j) {
            const std::size_t k = static_cast<std::size_t>(j);
            if (positiveMask(a, j)) sumPositive += std::exp(z[k] - topPositive);
            if (negativeMask(a, j)) sumNegative += std::exp(z[k] - topNegative);
        }
        const Real v = topPositive + std::log(sumPositive) + topNegative + std::log(sumNegative);
        const Real term = detail::softplus(v);
        if (!(term > 0.0)) continue;
        total += term;
        ++out.stats.active;
        if (!withGradient) continue;
        // softplus' × the softmax weight within each mask × ∂z/∂s; the 1/count comes below.
        const Real outer = detail::softplusDerivative(v);
        for (Eigen::Index j = 0; j < m; ++j) {
            const std::size_t k = static_cast<std::size_t>(j);
            Real weight = 0.0;
            if (positiveMask(a, j)) weight += std::exp(z[k] - topPositive) / sumPositive;
            if (negativeMask(a, j)) weight += std::exp(z[k] - topNegative) / sumNegative;
            grad(a, j) = outer * weight * slope[k];
        }
    }
    if (out.stats.active == 0) {
        LossOutput zero = detail::zeroOutputWithKind(input, withGradient, "anchors");
        zero.stats.tuples = out.stats.tuples;
        return zero;
    }
    const Real activeCount = static_cast<Real>(out.stats.active);
    out.value = total / activeCount;
    if (withGradient) detail::finishReferenceOutput(input, distance, grad / activeCount, &out);
    return out;
}

}  // namespace marginlab

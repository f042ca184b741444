// SPDX-License-Identifier: MIT
#include "marginlab/losses/multi_similarity.h"

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace marginlab {

MultiSimilarityLoss::MultiSimilarityLoss(Real positiveScale, Real negativeScale, Real base)
    : m_positiveScale(positiveScale), m_negativeScale(negativeScale), m_base(base) {}

LossOutput MultiSimilarityLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());

    // Which pairs each anchor sees. Mined lists are written into a mask, exactly as PML's
    // GenericPairLoss does (pos_mask[a1, p] = 1): a pair listed twice counts once. Without a
    // miner the labels decide directly (no mask to allocate).
    std::optional<detail::PairMask> mask;
    Count positiveListed = 0, negativeListed = 0;
    const bool mined = input.tuples && !(input.tuples->kind == Tuples::Kind::All && !input.tuples->filter);
    if (mined) {
        std::vector<Pair> positives, negatives;
        materializePairs(*input.tuples, input.embeddings, labels, &positives, &negatives);
        positiveListed = static_cast<Count>(positives.size());
        negativeListed = static_cast<Count>(negatives.size());
        mask = detail::PairMask::fromPairs(n, positives, negatives);
    } else {
        const detail::PairCounts counts = detail::countPairs(labels);
        positiveListed = counts.positives;
        negativeListed = counts.negatives;
    }
    // PML: "every index list has length ≤ 1" → 0.
    if (positiveListed <= 1 && negativeListed <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "anchors");
    // One fused pass per anchor row (similarity row, terms, backward): no N×N buffer.
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), input.embeddings);
    // Unmined, the backward passes scale by the labels: class by class, a block's rows share them.
    if (!mask) pairRows.orderRowsByLabel(labels);
    const Real anchorCount = static_cast<Real>(n);
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    // Cosine similarities lie in [−1, 1], so each side's z (and the "1" = e^0) lies within known
    // bounds [low, high]. Shifting a side by its high bound instead of max(0, max z) keeps every
    // exp in [e^{−600}, 1] while high − low ≤ kBoundedShiftRange, so nothing underflows that the
    // maximum would keep; the row, its exps and their sums then come in one pass over the points.
    // Only an empty side keeps the shift 0 (its term must stay exactly 0).
    auto bounds = [this](Real scale) {  // z = (s − λ)·scale at s = ±1, and the 0 of the "1"
        const Real low = std::min({0.0, (-1.0 - m_base) * scale, (1.0 - m_base) * scale});
        const Real high = std::max({0.0, (-1.0 - m_base) * scale, (1.0 - m_base) * scale});
        return std::pair{low, high};
    };
    // Not structured bindings: clang 14 (the fuzz build) cannot capture those in a lambda.
    const std::pair<Real, Real> positiveBounds = bounds(-m_positiveScale), negativeBounds = bounds(m_negativeScale);
    const Real positiveHigh = positiveBounds.second, negativeHigh = negativeBounds.second;
    const bool boundedShift = !mask && positiveHigh - positiveBounds.first <= detail::kBoundedShiftRange &&
                              negativeHigh - negativeBounds.first <= detail::kBoundedShiftRange;
    std::map<int, int> classSizes;
    if (boundedShift) {
        for (int label : labels) ++classSizes[label];
        pairRows.leaveRowsToFunction();
    }
    const Real affine[4] = {m_base, -m_positiveScale, m_base, m_negativeScale};
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int i, detail::PairRowChunk& part) {
        Real* exponent = part.first.data();
        Real* kind = part.second.data();  // 1 positive, 0 negative or not used
        // The kinds and exponents by selects in the vector unit's lanes, never branches: the label
        // test is data-dependent, and its mispredictions were most of the loss's time.
        if (mask) {
            for (int j = 0; j < n; ++j) kind[j] = mask->positive(i, j) ? 1.0 : 0.0;
        } else if (!boundedShift) {  // (the bounded pass writes it)
            detail::sameLabelRow(labels, labels[static_cast<std::size_t>(i)], kind, n);
        }
        // (s − λ)·(−α) for positives, (s − λ)·β for negatives; the pairs not used get −∞, so that
        // they drop out of the maxima and give e^{−∞} = 0.
        // The maxima (kind ≠ 1: negatives and −∞) are taken in the same pass where nothing is masked.
        Real topPositive = 0.0, topNegative = 0.0, sumPositive = 0.0, sumNegative = 0.0;
        if (boundedShift) {  // (i, i) is no pair
            const int classSize = classSizes.at(labels[static_cast<std::size_t>(i)]);
            topPositive = classSize > 1 ? positiveHigh : 0.0;
            topNegative = classSize < n ? negativeHigh : 0.0;
            pairRows.rows().rowAffineExpSum(i, affine, &labels, kind, i, topPositive, topNegative, nullptr, exponent,
                                            nullptr, &sumPositive, &sumNegative);
        } else if (mask) {
            const Real* s = part.row.data();
            detail::splitAffine(exponent, s, kind, n, m_base, -m_positiveScale, m_base, m_negativeScale);
            for (int j = 0; j < n; ++j)
                if (kind[j] == 0.0 && !mask->negative(i, j)) exponent[j] = minusInfinity;
            detail::splitMax(exponent, kind, n, &topPositive, &topNegative);
        } else {  // (i, i) is no pair
            detail::splitAffineMax(exponent, part.row.data(), kind, n, m_base, -m_positiveScale, m_base,
                                   m_negativeScale, i, &topPositive, &topNegative);
        }
        if (!boundedShift) {
            // log(1 + Σ e^z) is shifted by max(0, max z) for stability (the "1" is e^0).
            topPositive = std::max(0.0, topPositive);
            topNegative = std::max(0.0, topNegative);
            // e^{z − top}: unused pairs keep −∞ and give 0, which adds nothing to the sums
            detail::splitShiftExpSum(exponent, exponent, kind, n, topPositive, topNegative, &sumPositive,
                                     &sumNegative);
        }
        sumPositive = std::exp(-topPositive) + sumPositive;
        sumNegative = std::exp(-topNegative) + sumNegative;
        // An anchor without positives (or negatives) gets top = 0 and sum = e^0 = 1 on that side:
        // a term of exactly 0, as PML's.
        const Real termPositive = (topPositive + std::log(sumPositive)) / m_positiveScale;
        const Real termNegative = (topNegative + std::log(sumNegative)) / m_negativeScale;
        const Real term = termPositive + termNegative;
        part.total += term;
        if (term > 0.0) ++part.active;
        if (!withGradient) return false;
        // (1/α)·softmax·(−α) = −softmax for positives, (1/β)·softmax·β = +softmax for negatives.
        const Real positiveFactor = -1.0 / (sumPositive * anchorCount);
        const Real negativeFactor = 1.0 / (sumNegative * anchorCount);
        // 0 for unused pairs (e = 0)
        // A similarity: the anchor is skipped. Unmined, the kind is the labels' own, and the
        // backward pass scales from them.
        if (mask)
            part.scaleGradient(exponent, kind, positiveFactor, negativeFactor);
        else
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

LossOutput MultiSimilarityLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's mat_based_loss with ref_emb: the listed pairs become masks over the batch × reference
    // similarity matrix (a pair listed twice counts once), one term per batch anchor, mean over
    // the N anchors; the gradient stops at the reference.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    if (positives.size() <= 1 && negatives.size() <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "anchors");
    const CrossDistance distance(DistanceSpec::cosine(), input.embeddings, *input.referenceEmbeddings);
    const Matrix& s = distance.matrix();
    const Eigen::Index n = s.rows(), m = s.cols();
    // PML writes both masks, so a pair in both lists is in both sums.
    const detail::ReferenceMask positiveMask = detail::referenceMask(n, m, positives);
    const detail::ReferenceMask negativeMask = detail::referenceMask(n, m, negatives);
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, m);
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    const Real anchorCount = static_cast<Real>(n);
    Real total = 0.0;
    // (1/scale)·log(1 + Σ e^{z_j}) over the masked entries, shifted by max(0, max z) for
    // stability; adds ∂/∂s to the row of `grad` (dz/ds = ±scale cancels the 1/scale).
    auto side = [&](Eigen::Index a, const auto& mask, Real scale, Real direction) {
        Real top = 0.0;
        bool any = false;
        for (Eigen::Index j = 0; j < m; ++j)
            if (mask(a, j)) {
                top = std::max(top, direction * scale * (s(a, j) - m_base));
                any = true;
            }
        if (!any) return 0.0;
        Real sum = std::exp(-top);
        for (Eigen::Index j = 0; j < m; ++j)
            if (mask(a, j)) sum += std::exp(direction * scale * (s(a, j) - m_base) - top);
        if (withGradient)
            for (Eigen::Index j = 0; j < m; ++j)
                if (mask(a, j))
                    grad(a, j) += direction * std::exp(direction * scale * (s(a, j) - m_base) - top) /
                                  (sum * anchorCount);
        return (top + std::log(sum)) / scale;
    };
    for (Eigen::Index a = 0; a < n; ++a) {
        const Real term =
            side(a, positiveMask, m_positiveScale, -1.0) + side(a, negativeMask, m_negativeScale, 1.0);
        total += term;
        if (term > 0.0) ++out.stats.active;
    }
    out.value = total / anchorCount;
    if (withGradient) detail::referenceBackward(input, distance, grad, &out);
    return out;
}

}  // namespace marginlab

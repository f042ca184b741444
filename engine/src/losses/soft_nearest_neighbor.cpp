// SPDX-License-Identifier: MIT
#include "marginlab/losses/soft_nearest_neighbor.h"

#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace marginlab {

SoftNearestNeighborLoss::SoftNearestNeighborLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput SoftNearestNeighborLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0) return detail::zeroOutputWithKind(input, withGradient, "anchors");

    // Every anchor has a negative unless the batch is one class.
    const auto [smallest, largest] = std::minmax_element(labels.begin(), labels.end());
    const bool oneClass = smallest == labels.end() || *smallest == *largest;

    // The members of each class, ascending: the numerator's exponentials are taken over the
    // anchor's class only (about N/C of them), packed, instead of over a row of mostly −∞.
    const std::vector<std::vector<int>> groups = detail::groupByLabel(labels);
    std::vector<const std::vector<int>*> classOf(static_cast<std::size_t>(n));
    for (const auto& members : groups)
        for (int member : members) classOf[static_cast<std::size_t>(member)] = &members;
    std::size_t largestClass = 0;
    for (const auto& members : groups) largestClass = std::max(largestClass, members.size());
    const std::vector<Real> ones(largestClass, 1.0);  // the kind row of a packed row: all "ones"

    // One fused pass per anchor row (distance row, terms, backward): no N×N buffer.
    detail::FusedPairRows pairRows(m_distance, input.embeddings);
    pairRows.orderRowsByLabel(labels);  // the backward passes scale by the labels: a block's rows share them
    // logits z_ik = −δ_ik / T with δ the ordering distance (δ = d, or −s for a similarity)
    const Real factor = -m_distance.orderSign() / m_temperature;
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    // Each sum shifted by its own maximum, from part.row.
    auto exactRow = [&](int i, detail::PairRowChunk& part) {
        const Real* m = part.row.data();
        Real* shiftedAll = part.first.data();
        Real* shiftedPositive = part.second.data();
        Real* kind = part.third.data();  // 1 = same label as the anchor, 0 = other
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(i)], kind, n);
        // The row passes on the vector unit (pair_rows.h, simd/dispatch.h).
        // z = factor·M, and −∞ for the anchor: it is no neighbour of its own.
        Real topPositive = minusInfinity, topNegative = minusInfinity;
        detail::splitAffineMax(shiftedAll, m, kind, n, 0.0, factor, 0.0, factor, i, &topPositive,
                               &topNegative);
        if (topPositive == minusInfinity) return false;  // no positive: the anchor is not counted
        ++part.tuples;
        // numerator = denominator without a negative: ℓ_i = 0 exactly
        if (oneClass) return false;
        const Real topAll = std::max(topPositive, topNegative);
        // Numerator and denominator each get their own shift, so a far-away class cannot
        // underflow the numerator to 0 (and the loss to ∞) at small temperatures.
        // The positives packed in class order: z − max over the positives (the anchor: −∞).
        const std::vector<int>& members = *classOf[static_cast<std::size_t>(i)];
        const auto count = static_cast<Eigen::Index>(members.size());
        for (Eigen::Index k = 0; k < count; ++k) {
            const int p = members[static_cast<std::size_t>(k)];
            shiftedPositive[k] = p == i ? minusInfinity : shiftedAll[p] - topPositive;
        }
        // z − max over all.
        detail::splitShift(shiftedAll, kind, n, topAll, topAll);
        shiftedAll[i] = minusInfinity;  // e^{−∞} = 0: the anchor is left out
        detail::expRowInPlace(shiftedAll, n);
        detail::expRowInPlace(shiftedPositive, count);
        // Sums in the vector unit's lanes (pair_rows.h): all = positives' part + others' part.
        Real allOfOnes = 0.0, allOfZeros = 0.0, sumPositive = 0.0, zeros = 0.0;
        detail::splitSum(shiftedAll, kind, n, &allOfOnes, &allOfZeros);
        detail::splitSum(shiftedPositive, ones.data(), count, &sumPositive, &zeros);
        const Real sumAll = allOfOnes + allOfZeros;
        const Real term = (topAll + std::log(sumAll)) - (topPositive + std::log(sumPositive));
        part.total += term;
        if (term > 0.0) ++part.active;
        if (!withGradient) return false;
        // ∂ℓ_i/∂z_ik = softmax over all k − softmax over the positives; × ∂z/∂M = factor
        const Real allFactor = factor / sumAll, positiveFactor = factor / sumPositive;
        // softmax over all · factor, minus the positives' softmax · factor at their own indices:
        // the class's entries (kind 1; the anchor's gives 0 − 0 = +0) are finished here, the
        // others scaled in the backward pass.
        for (Eigen::Index k = 0; k < count; ++k) {
            const int p = members[static_cast<std::size_t>(k)];
            shiftedAll[p] = shiftedAll[p] * allFactor - shiftedPositive[k] * positiveFactor;
        }
        part.scaleGradientBySameLabel(shiftedAll, kind, labels, 1.0, allFactor);
        return true;
    };
    // z ≤ 0 for a distance (M ≥ 0), z ≤ 1/T for a similarity of normalized points: that bound can
    // shift both sums in place of their maxima, and then the numerator's exps are the
    // denominator's own, so one pass over the points makes the row, its exps and both sums, and
    // no pass packs the class. Far points lose nothing the maxima would keep unless the positives'
    // sum underflows (the class hundreds of T away): that row is redone with the maxima. A
    // similarity whose span 2/T exceeds kBoundedShiftRange, or of points not normalized, keeps
    // the maxima throughout.
    const std::optional<std::pair<Real, Real>> range = pairRows.rows().bounds();
    const bool boundedShift =
        !m_distance.isSimilarity() || (range && 2.0 * std::abs(factor) <= detail::kBoundedShiftRange);
    const Real high = m_distance.isSimilarity() ? std::abs(factor) : 0.0;
    const Real affine[4] = {0.0, factor, 0.0, factor};
    constexpr Real kSmallestSum = 1e-280;  // the largest term above e^{−644}: any flushed one is < e^{−56} of it
    if (boundedShift) pairRows.leaveRowsToFunction();
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int i, detail::PairRowChunk& part) {
        if (!boundedShift) return exactRow(i, part);
        Real* exps = part.first.data();
        Real* kind = part.third.data();  // 1 = same label as the anchor, 0 = other
        Real sumPositive = 0.0, sumOthers = 0.0;
        pairRows.rows().rowAffineExpSum(i, affine, &labels, kind, i, high, high, part.row.data(), exps, nullptr,
                                        &sumPositive, &sumOthers);
        // (also an anchor without positives: its sum is 0, and the exact pass does not count it)
        if (!(sumPositive > kSmallestSum)) return exactRow(i, part);
        ++part.tuples;
        if (oneClass) return false;  // numerator = denominator: ℓ_i = 0 exactly
        const Real sumAll = sumPositive + sumOthers;
        const Real term = std::log(sumAll) - std::log(sumPositive);  // the shifts cancel
        part.total += term;
        if (term > 0.0) ++part.active;
        if (!withGradient) return false;
        // ∂ℓ_i/∂z_ik = e_k/Σall − [k ∈ P(i)]·e_k/Σpositives, × ∂z/∂M = factor: two factors by kind
        // (the anchor's e = 0 gives +0).
        const Real allFactor = factor / sumAll, positiveFactor = factor / sumPositive;
        part.scaleGradientBySameLabel(exps, kind, labels, allFactor - positiveFactor, allFactor);
        return true;
    });
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = pairRows.tuples();
    out.stats.active = pairRows.active();
    if (out.stats.tuples == 0) return detail::zeroOutputWithKind(input, withGradient, "anchors");
    const Real anchorCount = static_cast<Real>(out.stats.tuples);
    out.value = pairRows.total() / anchorCount;
    if (withGradient) {
        out.gradEmbeddings = pairRows.gradient(1.0 / anchorCount);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0 / anchorCount);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/generalized_lifted_structure.h"

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"

#include <cmath>
#include <limits>
#include <vector>

namespace marginlab {

GeneralizedLiftedStructureLoss::GeneralizedLiftedStructureLoss(Real negativeMargin, Real positiveMargin,
                                                               const DistanceSpec& distance)
    : m_negativeMargin(negativeMargin), m_positiveMargin(positiveMargin), m_distance(distance) {}

LossOutput GeneralizedLiftedStructureLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    // PML's rule "every index list has length ≤ 1 → 0": with all pairs that means N ≤ 1.
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives <= 1 && counts.negatives <= 1) return detail::zeroOutputWithKind(input, withGradient, "anchors");

    // One fused pass per anchor row (distance row, terms, backward): no N×N buffer.
    detail::FusedPairRows pairRows(m_distance, input.embeddings);
    const Real sign = m_distance.orderSign();  // PML's margin(): x − y for a distance, y − x for a similarity
    const Real anchorCount = static_cast<Real>(n);
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int i, detail::PairRowChunk& part) {
        const Real* m = part.row.data();
        Real* exponent = part.first.data();  // one row of z (positives and negatives)
        const int label = labels[static_cast<std::size_t>(i)];
        Real topPositive = minusInfinity, topNegative = minusInfinity;
        for (int j = 0; j < n; ++j) {
            const bool positive = labels[static_cast<std::size_t>(j)] == label;
            const Real z = positive ? sign * (m[j] - m_positiveMargin) : sign * (m_negativeMargin - m[j]);
            exponent[j] = z;
            const Real kept = j == i ? minusInfinity : z;
            topPositive = std::max(topPositive, positive ? kept : minusInfinity);
            topNegative = std::max(topNegative, positive ? minusInfinity : kept);
        }
        for (int j = 0; j < n; ++j)
            exponent[j] -= labels[static_cast<std::size_t>(j)] == label ? topPositive : topNegative;
        exponent[i] = minusInfinity;
        // z now holds the shifted exponential (an empty kind's entries: none exist to read)
        detail::expRowInPlace(exponent, n);
        Real sumPositive = 0.0, sumNegative = 0.0;
        for (int j = 0; j < n; ++j) {
            const bool positive = labels[static_cast<std::size_t>(j)] == label;
            sumPositive += positive ? exponent[j] : 0.0;
            sumNegative += positive ? 0.0 : exponent[j];
        }
        // LSE of an empty set is 0 (PML's helper), not −∞.
        const Real lsePositive = sumPositive > 0.0 ? topPositive + std::log(sumPositive) : 0.0;
        const Real lseNegative = sumNegative > 0.0 ? topNegative + std::log(sumNegative) : 0.0;
        const Real term = lsePositive + lseNegative;
        if (term <= 0.0) return false;
        part.total += term;
        ++part.active;
        if (!withGradient) return false;
        // softmax weight × ∂z/∂M (sign for positives, −sign for negatives), mean over anchors;
        // the row factors are hoisted so the N² loop has no division.
        const Real positiveFactor = sign / (sumPositive * anchorCount);
        const Real negativeFactor = -sign / (sumNegative * anchorCount);
        Real* gradRow = part.gradRow.data();
        for (int j = 0; j < n; ++j)
            gradRow[j] = exponent[j] * (labels[static_cast<std::size_t>(j)] == label ? positiveFactor : negativeFactor);
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

}  // namespace marginlab

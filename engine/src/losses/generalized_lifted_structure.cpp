// SPDX-License-Identifier: MIT
#include "marginlab/losses/generalized_lifted_structure.h"

#include "losses/pair_family_support.h"

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

    detail::PairwiseWorkspace& workspace = detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    const Real sign = m_distance.orderSign();  // PML's margin(): x − y for a distance, y − x for a similarity
    const Real anchorCount = static_cast<Real>(n);
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();

    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    Matrix& gradMatrix = workspace.gradient();  // zeroed by the workspace when withGradient
    std::vector<Real> exponent(static_cast<std::size_t>(n));  // one row of z (positives and negatives)
    Real total = 0.0;
    for (int i = 0; i < n; ++i) {
        Real topPositive = minusInfinity, topNegative = minusInfinity;
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            Real& z = exponent[static_cast<std::size_t>(j)];
            if (labels[j] == labels[i]) {
                z = sign * (m(i, j) - m_positiveMargin);
                topPositive = std::max(topPositive, z);
            } else {
                z = sign * (m_negativeMargin - m(i, j));
                topNegative = std::max(topNegative, z);
            }
        }
        Real sumPositive = 0.0, sumNegative = 0.0;
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            Real& z = exponent[static_cast<std::size_t>(j)];
            const bool positive = labels[j] == labels[i];
            z = detail::shiftedExp(z - (positive ? topPositive : topNegative));  // z now holds the shifted exponential
            (positive ? sumPositive : sumNegative) += z;
        }
        // LSE of an empty set is 0 (PML's helper), not −∞.
        const Real lsePositive = sumPositive > 0.0 ? topPositive + std::log(sumPositive) : 0.0;
        const Real lseNegative = sumNegative > 0.0 ? topNegative + std::log(sumNegative) : 0.0;
        const Real term = lsePositive + lseNegative;
        if (term <= 0.0) continue;
        total += term;
        ++out.stats.active;
        if (withGradient) {
            // softmax weight × ∂z/∂M (sign for positives, −sign for negatives), mean over anchors;
            // the row factors are hoisted so the N² loop has no division.
            const Real positiveFactor = sign / (sumPositive * anchorCount);
            const Real negativeFactor = -sign / (sumNegative * anchorCount);
            for (int j = 0; j < n; ++j) {
                if (j == i) continue;
                const Real e = exponent[static_cast<std::size_t>(j)];
                gradMatrix(i, j) = e * (labels[j] == labels[i] ? positiveFactor : negativeFactor);
            }
        }
    }
    out.value = total / anchorCount;
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

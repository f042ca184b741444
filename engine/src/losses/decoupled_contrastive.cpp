// SPDX-License-Identifier: MIT
#include "marginlab/losses/decoupled_contrastive.h"

#include "losses/common.h"
#include "losses/contrastive_support.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>

namespace marginlab {

DecoupledContrastiveLoss::DecoupledContrastiveLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput DecoupledContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const auto n = static_cast<Eigen::Index>(y.size());
    auto label = [&y](Eigen::Index i) { return y[static_cast<std::size_t>(i)]; };

    // |P(a)| = class size − 1; a negative pair exists iff there are two labels.
    std::map<int, Count> classSizes;
    for (int value : y) ++classSizes[value];
    std::vector<Count> positiveCounts(static_cast<std::size_t>(n), 0);
    Count positivePairs = 0;
    for (Eigen::Index a = 0; a < n; ++a) {
        positiveCounts[static_cast<std::size_t>(a)] = classSizes[label(a)] - 1;
        positivePairs += positiveCounts[static_cast<std::size_t>(a)];
    }
    const bool anyNegative = classSizes.size() >= 2;
    if (positivePairs == 0 || !anyNegative) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }

    // Row by row (no N×N buffer): L_a = LSE over N(a) of z = s/τ (shifted by its max),
    // ℓ_ap = L_a − z_ap.
    detail::RowSimilarities similarities(m_distance, input.embeddings);
    const Real inverseTemperature = 1.0 / m_temperature;
    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    const Real minusInfinity = -std::numeric_limits<Real>::infinity();
    Vector logits, negativeExp, gradRow;
    std::vector<std::uint8_t> kinds;
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    Real total = 0.0;
    for (Eigen::Index a = 0; a < n; ++a) {
        const Count positives = positiveCounts[static_cast<std::size_t>(a)];
        if (positives == 0) continue;
        detail::labelRowKinds(y, a, kinds);
        similarities.row(a, logits);
        logits *= inverseTemperature;
        negativeExp = logits;
        for (Eigen::Index j = 0; j < n; ++j)
            if (kinds[static_cast<std::size_t>(j)] != detail::kNegativePair) negativeExp(j) = minusInfinity;
        const Real top = negativeExp.maxCoeff();
        negativeExp = (negativeExp.array() - top).exp().matrix();
        const Real negativeSum = negativeExp.sum();
        const Real logNegatives = top + std::log(negativeSum);
        if (withGradient) {
            // Every positive of a adds the same softmax over N(a).
            gradRow = (static_cast<Real>(positives) * perPair / negativeSum) * negativeExp;
        }
        for (Eigen::Index p = 0; p < n; ++p) {
            if (kinds[static_cast<std::size_t>(p)] != detail::kPositivePair) continue;
            const Real term = logNegatives - logits(p);
            total += term;
            if (term != 0.0) ++out.stats.active;
            if (withGradient) gradRow(p) = -perPair;
        }
        if (withGradient) similarities.addRowGradient(a, inverseTemperature * gradRow);
    }
    out.value = total * perPair;
    if (withGradient) out.gradEmbeddings = similarities.gradient();
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/soft_nearest_neighbor.h"

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "parallel.h"

#include <cmath>
#include <limits>
#include <vector>

namespace marginlab {

SoftNearestNeighborLoss::SoftNearestNeighborLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput SoftNearestNeighborLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0) return detail::zeroOutputWithKind(input, withGradient, "anchors");

    // One fused pass per anchor row (distance row, terms, backward): no N×N buffer.
    detail::FusedPairRows pairRows(m_distance, input.embeddings);
    // logits z_ik = −δ_ik / T with δ the ordering distance (δ = d, or −s for a similarity)
    const Real factor = -m_distance.orderSign() / m_temperature;
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int i, detail::PairRowChunk& part) {
        const Real* m = part.row.data();
        Real* shiftedAll = part.first.data();
        Real* shiftedPositive = part.second.data();
        const int label = labels[static_cast<std::size_t>(i)];
        Real topAll = minusInfinity, topPositive = minusInfinity;
        bool anyNegative = false;
        for (int k = 0; k < n; ++k) {
            const Real z = k == i ? minusInfinity : factor * m[k];
            const bool positive = labels[static_cast<std::size_t>(k)] == label;
            topAll = std::max(topAll, z);
            topPositive = std::max(topPositive, positive ? z : minusInfinity);
            anyNegative = anyNegative || !positive;
        }
        if (topPositive == minusInfinity) return false;  // no positive: the anchor is not counted
        ++part.tuples;
        if (!anyNegative) return false;  // numerator = denominator: ℓ_i = 0 exactly
        // Numerator and denominator each get their own shift, so a far-away class cannot
        // underflow the numerator to 0 (and the loss to ∞) at small temperatures.
        for (int k = 0; k < n; ++k) {
            const Real z = factor * m[k];
            shiftedAll[k] = z - topAll;
            shiftedPositive[k] = labels[static_cast<std::size_t>(k)] == label ? z - topPositive : minusInfinity;
        }
        shiftedAll[i] = shiftedPositive[i] = minusInfinity;  // e^{−∞} = 0: the anchor is left out
        detail::expRowInPlace(shiftedAll, n);
        detail::expRowInPlace(shiftedPositive, n);
        Real sumAll = 0.0, sumPositive = 0.0;
        for (int k = 0; k < n; ++k) {
            sumAll += shiftedAll[k];
            sumPositive += shiftedPositive[k];
        }
        const Real term = (topAll + std::log(sumAll)) - (topPositive + std::log(sumPositive));
        part.total += term;
        if (term > 0.0) ++part.active;
        if (!withGradient) return false;
        // ∂ℓ_i/∂z_ik = softmax over all k − softmax over the positives; × ∂z/∂M = factor
        const Real allFactor = factor / sumAll, positiveFactor = factor / sumPositive;
        Real* gradRow = part.gradRow.data();
        for (int k = 0; k < n; ++k) gradRow[k] = shiftedAll[k] * allFactor - shiftedPositive[k] * positiveFactor;
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

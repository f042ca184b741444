// SPDX-License-Identifier: MIT
#include "marginlab/losses/decoupled_contrastive.h"

#include "losses/common.h"
#include "losses/contrastive_support.h"

#include <limits>

namespace marginlab {

DecoupledContrastiveLoss::DecoupledContrastiveLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput DecoupledContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const auto n = static_cast<Eigen::Index>(input.labels.size());
    const auto groups = detail::groupByLabel(input.labels);
    const Count positivePairs = detail::orderedPositivePairs(groups);
    if (positivePairs == 0 || groups.size() < 2) {  // no positive or no negative pair
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }

    // Row by row, class by class (no N×N buffer): L_a = LSE over N(a) of z = s/τ (shifted by its
    // max; −∞ on the anchor's class selects N(a) without branches), ℓ_ap = L_a − z_ap.
    detail::RowSimilarities similarities(m_distance, input.embeddings);
    const Real inverseTemperature = 1.0 / m_temperature;
    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    Vector logits, negativeExp, classMask;
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    Real total = 0.0;
    for (const auto& members : groups) {
        if (members.size() < 2) continue;
        const auto positives = static_cast<Real>(members.size() - 1);
        classMask = Vector::Zero(n);
        for (int i : members) classMask(i) = -std::numeric_limits<Real>::infinity();
        for (int a : members) {
            similarities.row(a, logits);
            logits *= inverseTemperature;
            negativeExp = logits + classMask;
            const Real top = negativeExp.maxCoeff();
            negativeExp = (negativeExp.array() - top).exp().matrix();
            for (int i : members) negativeExp(i) = 0.0;  // Eigen's exp(−∞) is a denormal, not 0
            const Real negativeSum = negativeExp.sum();
            const Real logNegatives = top + std::log(negativeSum);
            for (int p : members) {
                if (p == a) continue;
                const Real term = logNegatives - logits(p);
                total += term;
                if (term != 0.0) ++out.stats.active;
            }
            if (!withGradient) continue;
            // Every positive of a adds the same softmax over N(a); each positive itself gets −1.
            // In place: negativeExp becomes ∂L/∂s_a· (z = s/τ).
            negativeExp *= inverseTemperature * positives * perPair / negativeSum;
            for (int p : members)
                if (p != a) negativeExp(p) = -inverseTemperature * perPair;
            similarities.addRowGradient(a, negativeExp);
        }
    }
    out.value = total * perPair;
    if (withGradient) out.gradEmbeddings = similarities.gradient();
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/supcon.h"

#include "losses/common.h"
#include "losses/contrastive_support.h"

#include <limits>
#include <map>
#include <optional>

namespace marginlab {

SupConLoss::SupConLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput SupConLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    auto zero = [&] {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats.tupleKind = "anchors";
        return out;
    };
    // Without a miner the pair kinds come from the labels row by row; mined pairs become masks.
    std::optional<detail::PairMasks> masks;
    const bool mined = input.tuples && (input.tuples->kind != Tuples::Kind::All || input.tuples->filter);
    if (mined) {
        std::vector<detail::WeightedPair> positives, negatives;
        detail::minedPairUses(*input.tuples, input.embeddings, input.labels, &positives, &negatives);
        if (detail::tooFewMinedPairs(positives, negatives)) return zero();
        masks = detail::listedPairMasks(n, positives, negatives);
        if (masks->positiveCount == 0 || masks->negativeCount == 0) return zero();
    } else {
        std::map<int, Count> classSizes;
        for (int value : input.labels) ++classSizes[value];
        bool anyPositive = false;
        for (const auto& [label, size] : classSizes) anyPositive = anyPositive || size >= 2;
        if (!anyPositive || classSizes.size() < 2) return zero();
    }

    // Row by row (no N×N buffer): D_i = LSE over the kept entries of z = s/τ (shifted by their
    // max), ℓ_i = D_i − mean_{p∈P(i)} z_ip, ∂ℓ_i/∂z_ik = softmax_ik − [k∈P(i)]/|P(i)|.
    // AvgNonZero: the gradient rows are added with weight 1 and scaled by 1/#(ℓ_i > 0) at the end.
    detail::RowSimilarities similarities(m_distance, input.embeddings);
    if (detail::splitsForces(input, withGradient)) similarities.trackSameLabel(input.labels);
    const Real inverseTemperature = 1.0 / m_temperature;
    const Real minusInfinity = -std::numeric_limits<Real>::infinity();
    Vector logits, keptExp;
    std::vector<int> positiveList, droppedList;
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    Real total = 0.0;
    // One anchor, given its positives and the entries outside P(i) ∪ N(i) (itself included).
    auto processAnchor = [&](Eigen::Index i) {
        if (positiveList.empty()) return;  // ℓ_i = 0
        similarities.row(i, logits);
        logits *= inverseTemperature;
        keptExp = logits;
        for (int k : droppedList) keptExp(k) = minusInfinity;
        const Real top = keptExp.maxCoeff();
        keptExp = (keptExp.array() - top).exp().matrix();
        for (int k : droppedList) keptExp(k) = 0.0;  // Eigen's exp(−∞) is a denormal, not 0
        const Real sum = keptExp.sum();
        Real positiveSum = 0.0;
        for (int p : positiveList) positiveSum += logits(p);
        const Real inversePositives = 1.0 / static_cast<Real>(positiveList.size());
        const Real term = top + std::log(sum) - positiveSum * inversePositives;
        if (!(term > 0.0)) return;
        ++out.stats.active;
        total += term;
        if (!withGradient) return;
        keptExp *= inverseTemperature / sum;  // in place: becomes ∂ℓ_i/∂s_i·
        for (int p : positiveList) keptExp(p) -= inverseTemperature * inversePositives;
        similarities.addRowGradient(i, keptExp);
    };
    if (masks) {
        for (Eigen::Index i = 0; i < n; ++i) {
            positiveList.clear();
            droppedList.clear();
            for (Eigen::Index k = 0; k < n; ++k) {
                if (masks->isPositive(i, k)) positiveList.push_back(static_cast<int>(k));
                else if (!masks->isNegative(i, k)) droppedList.push_back(static_cast<int>(k));
            }
            processAnchor(i);
        }
    } else {
        // All pairs: P(i) = the rest of i's class, N(i) = everything else; only i itself is dropped.
        for (const auto& members : detail::groupByLabel(input.labels))
            for (int i : members) {
                positiveList.clear();
                for (int p : members)
                    if (p != i) positiveList.push_back(p);
                droppedList.assign(1, i);
                processAnchor(i);
            }
    }
    if (out.stats.active == 0) {
        LossOutput none = zero();
        none.stats = out.stats;
        return none;
    }
    const Real perAnchor = 1.0 / static_cast<Real>(out.stats.active);
    out.value = total * perAnchor;
    if (withGradient) out.gradEmbeddings = perAnchor * similarities.gradient();
    if (detail::splitsForces(input, withGradient))
        out.gradFromPositives = perAnchor * similarities.sameLabelGradient();
    return out;
}

}  // namespace marginlab

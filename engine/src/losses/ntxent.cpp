// SPDX-License-Identifier: MIT
#include "marginlab/losses/ntxent.h"

#include "losses/common.h"
#include "losses/contrastive_support.h"

#include <algorithm>
#include <limits>

namespace marginlab {

namespace {

constexpr Real kMinusInfinity = -std::numeric_limits<Real>::infinity();

}  // namespace

NTXentLoss::NTXentLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput NTXentLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.tuples && input.tuples->kind != Tuples::Kind::All) return evaluateMinedPairs(input, withGradient);
    if (input.tuples && input.tuples->filter) return evaluateMinedPairs(input, withGradient);
    return evaluateAllPairs(input, withGradient);
}

LossOutput NTXentLoss::evaluateAllPairs(const LossInput& input, bool withGradient) const {
    const auto n = static_cast<Eigen::Index>(input.labels.size());
    const auto groups = detail::groupByLabel(input.labels);
    const Count positivePairs = detail::orderedPositivePairs(groups);
    if (positivePairs == 0 || groups.size() < 2) {  // no positive or no negative pair
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }

    // Row by row, class by class (no N×N buffer). Per anchor: L_a = LSE over its negatives of
    // z = s/τ, shifted by their max (no overflow whatever the positives are);
    // ℓ_ap = softplus(L_a − z_ap). Adding −∞ on the anchor's own class turns the row into
    // exactly N(a), so max / exp / sum run vectorized without branches.
    detail::RowSimilarities similarities(m_distance, input.embeddings);
    const Real inverseTemperature = 1.0 / m_temperature;
    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    Vector logits, negativeExp, gradRow, classMask;
    std::vector<Real> weights;
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    Real total = 0.0;
    for (const auto& members : groups) {
        if (members.size() < 2) continue;  // no positive: the anchor adds no term
        classMask = Vector::Zero(n);
        for (int i : members) classMask(i) = kMinusInfinity;
        for (int a : members) {
            similarities.row(a, logits);
            logits *= inverseTemperature;
            negativeExp = logits + classMask;
            const Real top = negativeExp.maxCoeff();
            negativeExp = (negativeExp.array() - top).exp().matrix();
            for (int i : members) negativeExp(i) = 0.0;  // Eigen's exp(−∞) is a denormal, not 0
            const Real negativeSum = negativeExp.sum();
            const Real logNegatives = top + std::log(negativeSum);
            weights.clear();
            Real weightSum = 0.0;  // Σ_p σ(L_a − z_ap): how hard the anchor's negatives are pushed
            for (int p : members) {
                if (p == a) continue;
                const Real gap = logNegatives - logits(p);
                const Real term = detail::stableSoftplus(gap);
                total += term;
                if (term > 0.0) ++out.stats.active;
                const Real weight = detail::logistic(gap);
                weights.push_back(weight);
                weightSum += weight;
            }
            if (!withGradient) continue;
            // Gradient in z, times 1/τ for s: negatives get the softmax share, positives −σ.
            gradRow = (inverseTemperature * weightSum * perPair / negativeSum) * negativeExp;
            std::size_t next = 0;
            for (int p : members)
                if (p != a) gradRow(p) = -inverseTemperature * weights[next++] * perPair;
            similarities.addRowGradient(a, gradRow);
        }
    }
    out.value = total * perPair;
    if (withGradient) out.gradEmbeddings = similarities.gradient();
    return out;
}

LossOutput NTXentLoss::evaluateMinedPairs(const LossInput& input, bool withGradient) const {
    std::vector<detail::WeightedPair> positives, negatives;
    detail::minedPairUses(*input.tuples, input.embeddings, input.labels, &positives, &negatives);
    const Count positiveLength = detail::listLength(positives);
    if (positiveLength == 0 || detail::listLength(negatives) == 0 || detail::tooFewMinedPairs(positives, negatives)) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positiveLength;
        return zero;
    }
    const Eigen::Index n = input.embeddings.rows();
    const SelfDistance distance(m_distance, input.embeddings);
    const Real toLogit = -m_distance.orderSign() / m_temperature;
    // z_aj = toLogit · M_aj read on the fly: no second N×N matrix.
    const Matrix& matrix = distance.matrix();
    auto logits = [&matrix, toLogit](int a, int j) { return toLogit * matrix(a, j); };

    // Per anchor LSE over its mined negatives, each counted as often as the list holds it.
    Vector shift = Vector::Constant(n, kMinusInfinity);
    for (const auto& pair : negatives) shift(pair.anchor) = std::max(shift(pair.anchor), logits(pair.anchor, pair.other));
    Vector negativeSum = Vector::Zero(n);
    for (const auto& pair : negatives)
        negativeSum(pair.anchor) += static_cast<Real>(pair.uses) * std::exp(logits(pair.anchor, pair.other) - shift(pair.anchor));

    const Real perPair = 1.0 / static_cast<Real>(positiveLength);
    Matrix gradLogits;
    if (withGradient) gradLogits = Matrix::Zero(n, n);
    Vector weightSum = Vector::Zero(n);
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positiveLength;
    Real total = 0.0;
    for (const auto& pair : positives) {
        const int a = pair.anchor;
        if (negativeSum(a) == 0.0) continue;  // no mined negative: −log(1) = 0, no gradient
        const auto uses = static_cast<Real>(pair.uses);
        const Real gap = shift(a) + std::log(negativeSum(a)) - logits(a, pair.other);
        const Real term = detail::stableSoftplus(gap);
        total += uses * term;
        if (term > 0.0) out.stats.active += pair.uses;
        if (withGradient) {
            const Real weight = detail::logistic(gap);
            gradLogits(a, pair.other) -= uses * weight * perPair;
            weightSum(a) += uses * weight;
        }
    }
    if (withGradient)
        for (const auto& pair : negatives) {
            const int a = pair.anchor;
            gradLogits(a, pair.other) += static_cast<Real>(pair.uses) * weightSum(a) * perPair *
                                         std::exp(logits(a, pair.other) - shift(a)) / negativeSum(a);
        }
    out.value = total * perPair;
    if (withGradient) {
        gradLogits *= toLogit;  // ∂L/∂M, in place
        out.gradEmbeddings = distance.backward(gradLogits);
    }
    return out;
}

}  // namespace marginlab

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
    // ℓ_ap = −log(e^{z_ap} / (e^{z_ap} + Σ_{N(a)} e^{z_an})) = softplus(LSE_{N(a)} z − z_ap).
    return detail::negativeLogSumExpLoss(input, m_distance, m_temperature, detail::softplusWithSlope, withGradient,
                                         detail::softplusRowWithSlope);
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
        if (input.splitForces) out.gradFromPositives = distance.backwardSameLabel(gradLogits, input.labels);
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/supcon.h"

#include "losses/common.h"
#include "losses/contrastive_support.h"

#include <algorithm>
#include <limits>

namespace marginlab {

SupConLoss::SupConLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput SupConLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    detail::PairMasks masks;
    const bool mined = input.tuples && (input.tuples->kind != Tuples::Kind::All || input.tuples->filter);
    if (mined) {
        std::vector<Pair> positives, negatives;
        materializePairs(*input.tuples, input.embeddings, input.labels, &positives, &negatives);
        if (detail::tooFewMinedPairs(positives, negatives)) {
            LossOutput zero = detail::zeroOutput(input, withGradient);
            zero.stats.tupleKind = "anchors";
            return zero;
        }
        masks = detail::listedPairMasks(n, positives, negatives);
    } else {
        masks = detail::labelPairMasks(input.labels);
    }
    if (masks.positiveCount == 0 || masks.negativeCount == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "anchors";
        return zero;
    }

    const SelfDistance distance(m_distance, input.embeddings);
    const Real toLogit = -m_distance.orderSign() / m_temperature;
    const Matrix logits = toLogit * distance.matrix();

    // Per anchor: the LSE over the kept entries (shifted by their max) and the mean positive logit.
    Vector terms = Vector::Zero(n);
    Vector shift = Vector::Zero(n), denominator = Vector::Ones(n);
    std::vector<Count> positiveCounts(static_cast<std::size_t>(n), 0);
    for (Eigen::Index i = 0; i < n; ++i) {
        Real top = -std::numeric_limits<Real>::infinity();
        Real positiveSum = 0.0;
        Count positiveCount = 0;
        for (Eigen::Index k = 0; k < n; ++k) {
            const bool positive = masks.isPositive(i, k);
            if (positive || masks.isNegative(i, k)) top = std::max(top, logits(i, k));
            if (positive) {
                positiveSum += logits(i, k);
                ++positiveCount;
            }
        }
        positiveCounts[static_cast<std::size_t>(i)] = positiveCount;
        if (positiveCount == 0) continue;  // ℓ_i = 0
        Real sum = 0.0;
        for (Eigen::Index k = 0; k < n; ++k)
            if (masks.isPositive(i, k) || masks.isNegative(i, k)) sum += std::exp(logits(i, k) - top);
        shift(i) = top;
        denominator(i) = sum;
        terms(i) = top + std::log(sum) - positiveSum / static_cast<Real>(positiveCount);
    }

    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    Real total = 0.0;
    for (Eigen::Index i = 0; i < n; ++i)
        if (terms(i) > 0.0) {
            ++out.stats.active;
            total += terms(i);
        }
    if (out.stats.active == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
    const Real perAnchor = 1.0 / static_cast<Real>(out.stats.active);
    out.value = total * perAnchor;
    if (withGradient) {
        // ∂ℓ_i/∂z_ik = softmax_ik over the kept entries − [k ∈ P(i)] / |P(i)|.
        Matrix gradLogits = Matrix::Zero(n, n);
        for (Eigen::Index i = 0; i < n; ++i) {
            if (!(terms(i) > 0.0)) continue;
            const Real inversePositives = 1.0 / static_cast<Real>(positiveCounts[static_cast<std::size_t>(i)]);
            for (Eigen::Index k = 0; k < n; ++k) {
                const bool positive = masks.isPositive(i, k);
                if (!positive && !masks.isNegative(i, k)) continue;
                Real g = std::exp(logits(i, k) - shift(i)) / denominator(i);
                if (positive) g -= inversePositives;
                gradLogits(i, k) = g * perAnchor;
            }
        }
        out.gradEmbeddings = distance.backward(toLogit * gradLogits);
    }
    return out;
}

}  // namespace marginlab

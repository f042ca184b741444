// SPDX-License-Identifier: MIT
#include "marginlab/losses/decoupled_contrastive.h"

#include "losses/common.h"

#include <algorithm>
#include <limits>

namespace marginlab {

DecoupledContrastiveLoss::DecoupledContrastiveLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput DecoupledContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const auto n = static_cast<Eigen::Index>(y.size());
    auto label = [&y](Eigen::Index i) { return y[static_cast<std::size_t>(i)]; };

    // |P(a)| and whether any negative pair exists, from the labels alone.
    std::vector<Count> positiveCounts(static_cast<std::size_t>(n), 0);
    Count positivePairs = 0;
    bool anyNegative = false;
    for (Eigen::Index a = 0; a < n; ++a)
        for (Eigen::Index j = 0; j < n; ++j) {
            if (j == a) continue;
            if (label(j) == label(a)) ++positiveCounts[static_cast<std::size_t>(a)];
            else anyNegative = true;
        }
    for (Count c : positiveCounts) positivePairs += c;
    if (positivePairs == 0 || !anyNegative) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }

    const SelfDistance distance(m_distance, input.embeddings);
    const Real toLogit = -m_distance.orderSign() / m_temperature;
    const Matrix logits = toLogit * distance.matrix();
    Vector shift(n);
    for (Eigen::Index a = 0; a < n; ++a) {
        Real top = -std::numeric_limits<Real>::infinity();
        for (Eigen::Index j = 0; j < n; ++j)
            if (label(j) != label(a)) top = std::max(top, logits(a, j));
        shift(a) = top;
    }
    // Only negative entries are read; positive ones may overflow harmlessly.
    const Matrix expShifted = (logits.colwise() - shift).array().exp().matrix();

    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    Matrix gradLogits;
    if (withGradient) gradLogits = Matrix::Zero(n, n);
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    Real total = 0.0;
    for (Eigen::Index a = 0; a < n; ++a) {
        const Count positives = positiveCounts[static_cast<std::size_t>(a)];
        if (positives == 0) continue;
        Real negativeSum = 0.0;
        for (Eigen::Index j = 0; j < n; ++j)
            if (label(j) != label(a)) negativeSum += expShifted(a, j);
        const Real logNegatives = shift(a) + std::log(negativeSum);
        for (Eigen::Index p = 0; p < n; ++p) {
            if (p == a || label(p) != label(a)) continue;
            const Real term = logNegatives - logits(a, p);
            total += term;
            if (term != 0.0) ++out.stats.active;
            if (withGradient) gradLogits(a, p) = -perPair;
        }
        if (withGradient) {
            // Every positive of a adds the same softmax over N(a).
            const Real scale = static_cast<Real>(positives) * perPair / negativeSum;
            for (Eigen::Index j = 0; j < n; ++j)
                if (label(j) != label(a)) gradLogits(a, j) = scale * expShifted(a, j);
        }
    }
    out.value = total * perPair;
    if (withGradient) out.gradEmbeddings = distance.backward(toLogit * gradLogits);
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/contrastive.h"

#include "losses/common.h"

namespace marginlab {

ContrastiveLoss::ContrastiveLoss(const Options& options, const DistanceSpec& distance)
    : m_options(options), m_distance(distance) {}

LossOutput ContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    const Labels& y = input.labels;
    const SelfDistance distance(m_distance, input.embeddings);
    const Matrix& matrix = distance.matrix();
    const bool similarity = m_distance.isSimilarity();
    const Real mp = m_options.positiveMargin;
    const Real mn = m_options.negativeMargin;

    // Term and its slope d(term)/dM for one pair; the relu's slope at 0 is 0 as in torch.
    auto positiveTerm = [&](Real m, Real* slope) {
        const Real v = similarity ? mp - m : m - mp;
        *slope = v > 0.0 ? (similarity ? -1.0 : 1.0) : 0.0;
        return detail::relu(v);
    };
    auto negativeTerm = [&](Real m, Real* slope) {
        const Real v = similarity ? m - mn : mn - m;
        *slope = v > 0.0 ? (similarity ? 1.0 : -1.0) : 0.0;
        return detail::relu(v);
    };

    struct Part {
        Count pairs = 0;
        Count active = 0;
        Real sum = 0.0;
    };
    Part positive, negative;
    // Unscaled slopes; an entry (a,b) is a positive or a negative pair by its labels, so one
    // matrix holds both sub-losses and is scaled per entry by its sub-loss's divisor at the end.
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, n);
    auto visit = [&](int a, int b, bool isPositive) {
        Real slope = 0.0;
        const Real term = isPositive ? positiveTerm(matrix(a, b), &slope) : negativeTerm(matrix(a, b), &slope);
        Part& part = isPositive ? positive : negative;
        ++part.pairs;
        if (term > 0.0) {
            ++part.active;
            part.sum += term;
        }
        if (withGradient && slope != 0.0) grad(a, b) += slope;
    };

    if (!input.tuples || (input.tuples->kind == Tuples::Kind::All && !input.tuples->filter)) {
        for (int a = 0; a < n; ++a)
            for (int b = 0; b < n; ++b)
                if (a != b) visit(a, b, y[a] == y[b]);
    } else {
        std::vector<Pair> positives, negatives;
        materializePairs(*input.tuples, input.embeddings, y, &positives, &negatives);
        for (const Pair& pair : positives) visit(pair[0], pair[1], true);
        for (const Pair& pair : negatives) visit(pair[0], pair[1], false);
    }

    LossStats stats;
    stats.tupleKind = "pairs";
    stats.tuples = positive.pairs + negative.pairs;
    stats.active = positive.active + negative.active;
    // GenericPairLoss: nothing to do when every index list has at most one entry.
    if (positive.pairs <= 1 && negative.pairs <= 1) {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats = stats;
        return out;
    }
    const bool averageNonZero = m_options.reduction == Reduction::AverageNonZero;
    auto scale = [&](const Part& part) {
        const Count divisor = averageNonZero ? part.active : part.pairs;
        return divisor > 0 ? 1.0 / Real(divisor) : 0.0;
    };
    const Real positiveScale = scale(positive);
    const Real negativeScale = scale(negative);
    LossOutput out;
    out.stats = stats;
    out.value = positive.sum * positiveScale + negative.sum * negativeScale;
    if (withGradient) {
        for (int a = 0; a < n; ++a)
            for (int b = 0; b < n; ++b) grad(a, b) *= y[a] == y[b] ? positiveScale : negativeScale;
        out.gradEmbeddings = distance.backward(grad);
    }
    return out;
}

}  // namespace marginlab

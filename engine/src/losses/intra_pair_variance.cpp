// SPDX-License-Identifier: MIT
#include "marginlab/losses/intra_pair_variance.h"

#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"

namespace marginlab {

IntraPairVarianceLoss::IntraPairVarianceLoss(Real positiveEpsilon, Real negativeEpsilon,
                                             const DistanceSpec& distance)
    : m_positiveEpsilon(positiveEpsilon), m_negativeEpsilon(negativeEpsilon), m_distance(distance) {}

LossOutput IntraPairVarianceLoss::evaluate(const LossInput& input, bool withGradient) const {
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    if (positives.size() <= 1 && negatives.size() <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    LossOutput out;
    out.stats.tupleKind = "pairs";

    // One half: v_k = c·μ − M_k (sign +1) or M_k − c·μ (sign −1), term relu(v)², mean over k.
    // PML's incentivize_increase picks the form: positives of a similarity and negatives of a
    // distance should grow (v = (1 − ε)μ − M), the others should shrink (v = M − (1 + ε)μ).
    auto half = [&](const std::vector<Pair>& pairs, Real epsilon, bool increase) {
        if (pairs.empty()) return 0.0;
        const Real count = static_cast<Real>(pairs.size());
        Real mean = 0.0;
        for (const Pair& p : pairs) mean += m(p[0], p[1]);
        mean /= count;
        const Real factor = increase ? 1.0 - epsilon : 1.0 + epsilon;
        const Real sign = increase ? 1.0 : -1.0;  // v = sign·(factor·μ − M)
        Real total = 0.0, slopeSum = 0.0;
        std::vector<Real> slopes(pairs.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) {
            const Real v = detail::relu(sign * (factor * mean - m(pairs[k][0], pairs[k][1])));
            total += v * v;
            if (v > 0.0) ++out.stats.active;
            slopes[k] = 2.0 * v / count;  // ∂(relu(v)²/count)/∂v
            slopeSum += slopes[k];
        }
        out.stats.tuples += static_cast<Count>(pairs.size());
        if (withGradient) {
            // ∂v_k/∂M_j = sign·(factor/count − [j = k]).
            Matrix& g = workspace.gradient();
            for (std::size_t k = 0; k < pairs.size(); ++k)
                g(pairs[k][0], pairs[k][1]) += sign * (slopeSum * factor / count - slopes[k]);
        }
        return total / count;
    };
    const bool similarity = m_distance.isSimilarity();
    out.value =
        half(positives, m_positiveEpsilon, similarity) + half(negatives, m_negativeEpsilon, !similarity);
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(input.labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

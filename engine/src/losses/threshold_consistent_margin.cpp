// SPDX-License-Identifier: MIT
#include "marginlab/losses/threshold_consistent_margin.h"

#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"

namespace marginlab {

LossOutput ThresholdConsistentMarginLoss::evaluate(const LossInput& input, bool withGradient) const {
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    if (positives.empty() && negatives.empty())
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size() + negatives.size());
    // Mean of the violations inside the mask, times λ; `sign` = +1 for s − m (negatives), −1 for m − s.
    auto half = [&](const std::vector<Pair>& pairs, Real margin, Real sign, Real lambda) {
        Real sum = 0.0;
        Count inside = 0;
        for (const Pair& p : pairs)
            if (sign * (s(p[0], p[1]) - margin) >= 0.0) {
                sum += sign * (s(p[0], p[1]) - margin);
                ++inside;
            }
        out.stats.active += inside;
        if (inside == 0) return 0.0;
        if (withGradient)
            for (const Pair& p : pairs)
                if (sign * (s(p[0], p[1]) - margin) >= 0.0)
                    workspace.gradient()(p[0], p[1]) += lambda * sign / Real(inside);
        return lambda * sum / Real(inside);
    };
    out.value = half(positives, m_options.marginPlus, -1.0, m_options.lambdaPlus) +
                half(negatives, m_options.marginMinus, 1.0, m_options.lambdaMinus);
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(input.labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

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
    // Each pass over a list runs on the engine's threads in runs of anchor rows (PairRuns).
    const Eigen::Index n = input.embeddings.rows();
    Matrix& g = workspace.gradient();
    auto half = [&](const std::vector<Pair>& pairs, Real margin, Real sign, Real lambda) {
        const detail::PairRuns runs(pairs, n);
        const detail::SampleTally tally =
            detail::sumOverPairRuns(runs, [&](int, std::span<const Pair> run, detail::SampleTally& part) {
                for (const Pair& p : run)
                    if (sign * (s(p[0], p[1]) - margin) >= 0.0) {
                        part.total += sign * (s(p[0], p[1]) - margin);
                        ++part.active;
                    }
            });
        const Count inside = tally.active;
        out.stats.active += inside;
        if (inside == 0) return 0.0;
        if (withGradient)
            detail::sumOverPairRuns(runs, [&](int, std::span<const Pair> run, detail::SampleTally&) {
                for (const Pair& p : run)
                    if (sign * (s(p[0], p[1]) - margin) >= 0.0) g(p[0], p[1]) += lambda * sign / Real(inside);
            });
        return lambda * tally.total / Real(inside);
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

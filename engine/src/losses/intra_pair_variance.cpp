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
    // Each pass over a list runs on the engine's threads in runs of anchor rows (PairRuns).
    const Eigen::Index n = input.embeddings.rows();
    auto half = [&](const std::vector<Pair>& pairs, Real epsilon, bool increase) {
        if (pairs.empty()) return 0.0;
        const detail::PairRuns runs(pairs, n);
        const Real count = static_cast<Real>(pairs.size());
        const Real mean = detail::sumOverPairRuns(runs, [&](int, std::span<const Pair> run, detail::SampleTally& part) {
                              for (const Pair& p : run) part.total += m(p[0], p[1]);
                          }).total /
                          count;
        const Real factor = increase ? 1.0 - epsilon : 1.0 + epsilon;
        const Real sign = increase ? 1.0 : -1.0;  // v = sign·(factor·μ − M)
        // Per pair ∂(relu(v)²/count)/∂v, kept for the gradient pass; their sum per run, added in
        // run order.
        std::vector<Real> slopes(pairs.size()), runSlopeSums(static_cast<std::size_t>(runs.count()), 0.0);
        const detail::SampleTally tally =
            detail::sumOverPairRuns(runs, [&](int r, std::span<const Pair> run, detail::SampleTally& part) {
                const std::size_t first = runs.offset(r);
                for (std::size_t k = 0; k < run.size(); ++k) {
                    const Real v = detail::relu(sign * (factor * mean - m(run[k][0], run[k][1])));
                    part.total += v * v;
                    if (v > 0.0) ++part.active;
                    slopes[first + k] = 2.0 * v / count;
                    runSlopeSums[static_cast<std::size_t>(r)] += slopes[first + k];
                }
            });
        Real slopeSum = 0.0;
        for (Real partial : runSlopeSums) slopeSum += partial;
        out.stats.active += tally.active;
        out.stats.tuples += static_cast<Count>(pairs.size());
        if (withGradient) {
            // ∂v_k/∂M_j = sign·(factor/count − [j = k]).
            Matrix& g = workspace.gradient();
            detail::sumOverPairRuns(runs, [&](int r, std::span<const Pair> run, detail::SampleTally&) {
                const std::size_t first = runs.offset(r);
                for (std::size_t k = 0; k < run.size(); ++k)
                    g(run[k][0], run[k][1]) += sign * (slopeSum * factor / count - slopes[first + k]);
            });
        }
        return tally.total / count;
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

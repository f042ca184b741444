// SPDX-License-Identifier: MIT
#include "marginlab/losses/ranked_list.h"

#include <cmath>

#include "losses/common.h"
#include "losses/pair_family_support.h"

namespace marginlab {

RankedListLoss::RankedListLoss(const Options& options, const DistanceSpec& distance)
    : m_options(options), m_distance(distance) {}

LossOutput RankedListLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    if (n == 0) return detail::zeroOutputWithKind(input, withGradient, "anchors");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    const Real alpha = m_options.alpha, positiveEdge = m_options.alpha - m_options.margin;
    const Real tp = m_options.positiveTemperature, tn = m_options.negativeTemperature;
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    // Anchors are independent (each writes its own row of ∂L/∂M): runs of them on the engine's threads.
    Matrix& g = workspace.gradient();
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, n, [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<Real> weight(static_cast<std::size_t>(n));
            for (int i = static_cast<int>(begin); i < static_cast<int>(end); ++i) {
                // One weighted mean per set: Σ e^{T·u} u / Σ e^{T·u} over the active members.
                auto setLoss = [&](bool positive, Real temperature, Real share) {
                    Real sumWeights = 0.0, sumWeighted = 0.0;
                    for (int j = 0; j < n; ++j) {
                        const auto k = static_cast<std::size_t>(j);
                        weight[k] = 0.0;
                        const Real value = j == i ? 0.0 : m(i, j);  // PML zeroes the diagonal
                        const bool same = y[k] == y[static_cast<std::size_t>(i)];
                        Real u = 0.0;
                        if (positive && same && j != i && value > positiveEdge)
                            u = value - positiveEdge;
                        else if (!positive && !same && value < alpha && value > 0.0)
                            u = alpha - value;
                        else
                            continue;
                        weight[k] = std::exp(temperature * u);
                        sumWeights += weight[k];
                        sumWeighted += weight[k] * u;
                    }
                    if (sumWeights == 0.0) return 0.0;
                    const Real mean = sumWeighted / sumWeights;
                    if (withGradient) {
                        for (int j = 0; j < n; ++j) {
                            const auto k = static_cast<std::size_t>(j);
                            if (weight[k] == 0.0) continue;
                            const Real u = positive ? m(i, j) - positiveEdge : alpha - m(i, j);
                            const Real slope = weight[k] / sumWeights * (1.0 + temperature * (u - mean));
                            g(i, j) += share * slope * (positive ? 1.0 : -1.0) / Real(n);  // ∂u/∂M = ±1
                        }
                    }
                    return mean;
                };
                const Real term = (1.0 - m_options.imbalance) * setLoss(true, tp, 1.0 - m_options.imbalance) +
                                  m_options.imbalance * setLoss(false, tn, m_options.imbalance);
                part.total += term;
                if (term > 0.0) ++part.active;
            }
        });
    out.stats.active = tally.active;
    const Real total = tally.total;
    out.value = total / Real(n);
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(y);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

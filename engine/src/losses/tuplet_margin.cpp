// SPDX-License-Identifier: MIT
#include "marginlab/losses/tuplet_margin.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"

namespace marginlab {

TupletMarginLoss::TupletMarginLoss(Real marginDegrees, Real scale)
    : m_margin(marginDegrees * std::acos(-1.0) / 180.0), m_scale(scale) {}

LossOutput TupletMarginLoss::evaluate(const LossInput& input, bool withGradient) const {
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    if (positives.empty() || negatives.empty() || (positives.size() <= 1 && negatives.size() <= 1))
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    const int n = static_cast<int>(input.labels.size());
    // Σ_n e^{scale·(s_an − q)} = e^{−scale·q} · Σ_n e^{scale·s_an}: the sum over the anchor's
    // listed negatives (duplicates counted, as PML's keep_mask does) is shared by all of its
    // positive pairs, so ℓ_ap = softplus(log Σ_n e^{scale·s_an} − scale·q_ap), O(N²) in all.
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    std::vector<Real> top(static_cast<std::size_t>(n), -std::numeric_limits<Real>::infinity());
    std::vector<Real> shiftedSum(static_cast<std::size_t>(n), 0.0);
    // Every pass runs on the engine's threads in runs of anchor rows (PairRuns): what it writes
    // per anchor or per matrix entry belongs to the run's own rows.
    const detail::PairRuns negativeRuns(negatives, n), positiveRuns(positives, n);
    detail::sumOverPairRuns(negativeRuns, [&](int, std::span<const Pair> run, detail::SampleTally&) {
        for (const Pair& pair : run)
            top[static_cast<std::size_t>(pair[0])] =
                std::max(top[static_cast<std::size_t>(pair[0])], m_scale * s(pair[0], pair[1]));
        for (const Pair& pair : run)
            shiftedSum[static_cast<std::size_t>(pair[0])] +=
                std::exp(m_scale * s(pair[0], pair[1]) - top[static_cast<std::size_t>(pair[0])]);
    });
    const Real count = static_cast<Real>(positives.size());
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size());
    std::vector<Real> negativeShare(static_cast<std::size_t>(n), 0.0);  // Σ_p σ(z_ap) per anchor
    const detail::SampleTally tally =
        detail::sumOverPairRuns(positiveRuns, [&](int, std::span<const Pair> run, detail::SampleTally& part) {
            for (const Pair& pair : run) {
                const int a = pair[0], p = pair[1];
                const auto k = static_cast<std::size_t>(a);
                if (shiftedSum[k] == 0.0) continue;  // no listed negative: log(1 + 0) = 0
                const Real cosine = std::clamp(s(a, p), Real(-1), Real(1));
                const Real theta = std::acos(cosine);
                const Real z = top[k] + std::log(shiftedSum[k]) - m_scale * std::cos(theta - m_margin);
                const Real term = detail::softplus(z);
                part.total += term;
                if (term > 0.0) ++part.active;
                if (!withGradient) continue;
                const Real share = detail::softplusDerivative(z);
                negativeShare[k] += share;
                const Real slope = std::sin(theta - m_margin) / std::max(std::sin(theta), Real(1e-12));
                workspace.gradient()(a, p) -= m_scale * share * slope / count;
            }
        });
    out.stats.active = tally.active;
    const Real total = tally.total;
    if (withGradient)
        detail::sumOverPairRuns(negativeRuns, [&](int, std::span<const Pair> run, detail::SampleTally&) {
            for (const Pair& pair : run) {
                const auto k = static_cast<std::size_t>(pair[0]);
                const Real weight = std::exp(m_scale * s(pair[0], pair[1]) - top[k]) / shiftedSum[k];
                workspace.gradient()(pair[0], pair[1]) += m_scale * negativeShare[k] * weight / count;
            }
        });
    out.value = total / count;
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(input.labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

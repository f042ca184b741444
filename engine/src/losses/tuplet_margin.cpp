// SPDX-License-Identifier: MIT
#include "marginlab/losses/tuplet_margin.h"

#include <algorithm>
#include <cmath>

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
    // The listed negatives of each anchor, in list order (duplicates kept: PML's keep_mask
    // counts each listed entry).
    std::vector<std::vector<int>> negativesOf(static_cast<std::size_t>(n));
    for (const Pair& pair : negatives) negativesOf[static_cast<std::size_t>(pair[0])].push_back(pair[1]);

    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    const Real count = static_cast<Real>(positives.size());
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size());
    std::vector<Real> z, weights;
    Real total = 0.0;
    for (const Pair& pair : positives) {
        const int a = pair[0], p = pair[1];
        const auto& others = negativesOf[static_cast<std::size_t>(a)];
        if (others.empty()) continue;  // log(1 + 0) = 0
        const Real cosine = std::clamp(s(a, p), Real(-1), Real(1));
        const Real theta = std::acos(cosine);
        const Real target = std::cos(theta - m_margin);
        z.resize(others.size());
        weights.resize(others.size());
        for (std::size_t k = 0; k < others.size(); ++k) z[k] = m_scale * (s(a, others[k]) - target);
        const Real term =
            detail::logSumExp(z, true, withGradient ? std::span<Real>(weights) : std::span<Real>());
        total += term;
        if (term > 0.0) ++out.stats.active;
        if (!withGradient) continue;
        Matrix& g = workspace.gradient();
        Real weightSum = 0.0;
        for (std::size_t k = 0; k < others.size(); ++k) {
            g(a, others[k]) += m_scale * weights[k] / count;
            weightSum += weights[k];
        }
        const Real slope = std::sin(theta - m_margin) / std::max(std::sin(theta), Real(1e-12));
        g(a, p) -= m_scale * weightSum * slope / count;
    }
    out.value = total / count;
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(input.labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

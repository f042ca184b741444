// SPDX-License-Identifier: MIT
#include "marginlab/losses/nca.h"

#include <cmath>
#include <limits>

#include "losses/pair_family_support.h"

namespace marginlab {

NcaLoss::NcaLoss(Real softmaxScale, const DistanceSpec& distance)
    : m_softmaxScale(softmaxScale), m_distance(distance) {}

LossOutput NcaLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    if (n <= 1) return detail::zeroOutputWithKind(input, withGradient, "samples");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    const Real toLogit = -m_distance.orderSign() * m_softmaxScale;

    // Softmax rows as torch computes them (shift by the row maximum, exponentiate, divide), so
    // that "p_i ≠ 0" decides the same points as PML's test on the summed probabilities.
    std::vector<Real> q(static_cast<std::size_t>(n));
    std::vector<Real> probability(static_cast<std::size_t>(n), 0.0);
    std::vector<int> kept;
    // Each row's shift and sum, to rebuild q_ij in the backward pass (no N×N copy).
    std::vector<Real> rowTop(static_cast<std::size_t>(n)), rowSum(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        Real top = -std::numeric_limits<Real>::infinity();
        for (int j = 0; j < n; ++j)
            if (j != i) top = std::max(top, toLogit * m(i, j));
        Real sum = 0.0;
        for (int j = 0; j < n; ++j) {
            q[static_cast<std::size_t>(j)] = j == i ? 0.0 : std::exp(toLogit * m(i, j) - top);
            sum += q[static_cast<std::size_t>(j)];
        }
        Real same = 0.0;
        for (int j = 0; j < n; ++j) {
            q[static_cast<std::size_t>(j)] /= sum;
            if (j != i && y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)])
                same += q[static_cast<std::size_t>(j)];
        }
        probability[static_cast<std::size_t>(i)] = same;
        rowTop[static_cast<std::size_t>(i)] = top;
        rowSum[static_cast<std::size_t>(i)] = sum;
        if (same != 0.0) kept.push_back(i);
    }
    if (kept.empty()) return detail::zeroOutputWithKind(input, withGradient, "samples");
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = static_cast<Count>(kept.size());
    const Real count = static_cast<Real>(kept.size());
    Real total = 0.0;
    for (std::size_t k = 0; k < kept.size(); ++k) {
        const int i = kept[k];
        const Real p = probability[static_cast<std::size_t>(i)];
        const Real term = -std::log(p);
        total += term;
        if (term > 0.0) ++out.stats.active;
        if (!withGradient) continue;
        // ∂(−log p_i)/∂z_ij = q_ij − [y_j = y_i] q_ij / p_i.
        Matrix& g = workspace.gradient();
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            const Real qij = std::exp(toLogit * m(i, j) - rowTop[static_cast<std::size_t>(i)]) /
                             rowSum[static_cast<std::size_t>(i)];
            const bool same = y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)];
            g(i, j) += (qij - (same ? qij / p : 0.0)) * toLogit / count;
        }
    }
    out.value = total / count;
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(y);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

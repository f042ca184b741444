// SPDX-License-Identifier: MIT
#include "marginlab/losses/instance.h"

#include <algorithm>

#include "losses/pair_family_support.h"

namespace marginlab {

InstanceLoss::InstanceLoss(Real gamma) : m_gamma(gamma) {}

LossOutput InstanceLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    Labels distinct = y;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    if (n == 0 || static_cast<int>(distinct.size()) > n)
        return detail::zeroOutputWithKind(input, withGradient, "samples");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    std::vector<Real> logits(static_cast<std::size_t>(n)), grad(static_cast<std::size_t>(n));
    Real total = 0.0;
    for (int i = 0; i < n; ++i) {
        const int target = static_cast<int>(
            std::lower_bound(distinct.begin(), distinct.end(), y[static_cast<std::size_t>(i)]) -
            distinct.begin());
        // s_ii = x̂_i·x̂_i is a constant 1 up to rounding: it takes part in the softmax but gets no gradient.
        for (int j = 0; j < n; ++j) logits[static_cast<std::size_t>(j)] = m_gamma * s(i, j);
        const Real term =
            detail::crossEntropy(logits, target, withGradient ? std::span<Real>(grad) : std::span<Real>());
        total += term;
        if (term > 0.0) ++out.stats.active;
        if (!withGradient) continue;
        Matrix& g = workspace.gradient();
        for (int j = 0; j < n; ++j)
            if (j != i) g(i, j) += m_gamma * grad[static_cast<std::size_t>(j)] / Real(n);
    }
    out.value = total / Real(n);
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(y);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

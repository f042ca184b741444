// SPDX-License-Identifier: MIT
#include "marginlab/losses/instance.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"

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
    // One fused pass per anchor row (similarity row, cross-entropy, backward): no N×N buffer,
    // rows on the engine's threads.
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), input.embeddings);
    pairRows.run(withGradient, input.splitForces ? &y : nullptr, [&](int i, detail::PairRowChunk& part) {
        const int target = static_cast<int>(
            std::lower_bound(distinct.begin(), distinct.end(), y[static_cast<std::size_t>(i)]) - distinct.begin());
        // s_ii = x̂_i·x̂_i is a constant 1 up to rounding: it takes part in the softmax but gets no gradient.
        // Cross-entropy of the row, −ℓ_target + log Σ_j e^{ℓ_j} (torch's, shifted by the row's
        // maximum), with the row's exponentials taken two at a time (exp_row.h).
        Real* logits = part.first.data();
        Real* weights = part.second.data();
        const Real* s = part.row.data();
        Real top = -std::numeric_limits<Real>::infinity();
        for (int j = 0; j < n; ++j) {
            logits[j] = m_gamma * s[j];
            top = std::max(top, logits[j]);
        }
        for (int j = 0; j < n; ++j) weights[j] = logits[j] - top;
        detail::expRowInPlace(weights, n);
        Real sum = 0.0;
        for (int j = 0; j < n; ++j) sum += weights[j];
        const Real term = top + std::log(sum) - logits[target];
        part.total += term;
        if (term > 0.0) ++part.active;
        if (!withGradient) return false;
        // softmax − one-hot, × γ (∂ℓ/∂s), mean over the rows
        const Real inverseSum = 1.0 / sum;
        for (int j = 0; j < n; ++j) weights[j] *= inverseSum;
        weights[target] -= 1.0;
        for (int j = 0; j < n; ++j) part.gradRow[static_cast<std::size_t>(j)] = m_gamma * weights[j] / Real(n);
        return true;
    });
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    out.stats.active = pairRows.active();
    out.value = pairRows.total() / Real(n);
    if (withGradient) {
        out.gradEmbeddings = pairRows.gradient(1.0);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/instance.h"

#include <algorithm>

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
        Real* logits = part.first.data();
        const Real* s = part.row.data();
        for (int j = 0; j < n; ++j) logits[j] = m_gamma * s[j];
        const auto size = static_cast<std::size_t>(n);
        const Real term = detail::crossEntropy(std::span<const Real>(logits, size), target,
                                               withGradient ? std::span<Real>(part.second.data(), size) : std::span<Real>());
        part.total += term;
        if (term > 0.0) ++part.active;
        if (!withGradient) return false;
        for (int j = 0; j < n; ++j) part.gradRow[static_cast<std::size_t>(j)] = m_gamma * part.second[static_cast<std::size_t>(j)] / Real(n);
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

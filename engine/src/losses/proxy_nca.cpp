// SPDX-License-Identifier: MIT
#include "marginlab/losses/proxy_nca.h"

#include "losses/common.h"
#include "losses/proxy_support.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace marginlab {

LossOutput ProxyNcaLoss::evaluate(const LossInput& input, bool withGradient) const {
    const int classes = detail::ownedClassCount(input, 1, name());
    const Eigen::Index n = input.embeddings.rows();
    if (n == 0) return detail::zeroOutput(input, withGradient);

    const CrossDistance distance(m_distance, input.embeddings, *input.owned);
    // PML negates a distance so that "closer" always means a larger logit.
    const Real logitScale = m_distance.isSimilarity() ? m_softmaxScale : -m_softmaxScale;
    const Matrix logits = logitScale * distance.matrix();

    Matrix gradM;
    if (withGradient) gradM = Matrix::Zero(n, classes);
    // Samples on the engine's threads, each run writing its own rows.
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, classes, [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<Real> row(static_cast<std::size_t>(classes)), grad(row.size());
            for (Eigen::Index i = begin; i < end; ++i) {
                const int target = input.labels[static_cast<std::size_t>(i)];
                for (int c = 0; c < classes; ++c) row[static_cast<std::size_t>(c)] = logits(i, c);
                // q_i exactly as torch's softmax forms it (exp(ℓ − max) / Σ), only to decide whether it
                // underflowed to 0; the kept term uses the stable cross-entropy.
                const Real top = *std::max_element(row.begin(), row.end());
                Real denominator = 0.0;
                for (Real v : row) denominator += std::exp(v - top);
                const Real q = std::exp(row[static_cast<std::size_t>(target)] - top) / denominator;
                if (q == 0.0) continue;
                const Real term = detail::crossEntropy(
                    row, target, withGradient ? std::span<Real>(grad) : std::span<Real>());
                part.total += term;
                if (term > 0.0) ++part.active;
                ++part.kept;
                if (withGradient)
                    for (int c = 0; c < classes; ++c) gradM(i, c) = grad[static_cast<std::size_t>(c)];
            }
        });
    const Count kept = tally.kept;
    const Real sum = tally.total;
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    out.stats.active = tally.active;
    if (kept == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
    const auto count = static_cast<Real>(kept);
    out.value = sum / count;
    if (withGradient) {
        // ∂L/∂M = (∂L/∂ℓ)·(∂ℓ/∂M); rows of dropped samples stay 0 (the count is a constant).
        gradM *= logitScale / count;
        distance.backward(gradM, &out.gradEmbeddings, &out.gradOwned);
        if (input.splitForces)  // through the own-proxy distance
            distance.backwardSameLabel(gradM, input.labels, detail::classRowLabels(classes),
                                       &out.gradFromPositives, nullptr);
    }
    return out;
}

}  // namespace marginlab

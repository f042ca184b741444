// SPDX-License-Identifier: MIT
#include "marginlab/losses/center.h"

#include "losses/common.h"
#include "losses/proxy_support.h"

#include <vector>

namespace marginlab {

LossOutput CenterLoss::evaluate(const LossInput& input, bool withGradient) const {
    const int classes = detail::ownedClassCount(input, 2, name());
    const Eigen::Index n = input.embeddings.rows();
    if (n == 0) return detail::zeroOutput(input, withGradient);

    const Points& x = input.embeddings;
    const auto weights = input.owned->topRows(classes);
    const auto centers = input.owned->bottomRows(classes);
    const Matrix logits = x * weights.transpose();  // N×C, ℓ_ic = w_c · x_i

    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    Matrix gradLogits;
    Points offsets(n, x.cols());  // x_i − c_{y_i}
    if (withGradient) gradLogits.resize(n, classes);
    // Samples in runs on the engine's threads, each writing its own rows; the two sums per run,
    // added in run order (the same bits on any thread count).
    std::vector<Real> runCenterSum(static_cast<std::size_t>(detail::sampleRuns(n)), 0.0);
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, classes, [&](Eigen::Index begin, Eigen::Index end, int run, detail::SampleTally& part) {
            std::vector<Real> row(static_cast<std::size_t>(classes)), grad(row.size());
            for (Eigen::Index i = begin; i < end; ++i) {
                const int target = input.labels[static_cast<std::size_t>(i)];
                for (int c = 0; c < classes; ++c) row[static_cast<std::size_t>(c)] = logits(i, c);
                const Real ce = detail::crossEntropy(
                    row, target, withGradient ? std::span<Real>(grad) : std::span<Real>());
                offsets.row(i) = x.row(i) - centers.row(target);
                const Real squared = offsets.row(i).squaredNorm();
                part.total += ce;
                runCenterSum[static_cast<std::size_t>(run)] += squared;
                if (ce + 0.5 * m_lambda * squared > 0.0) ++part.active;
                if (withGradient)
                    for (int c = 0; c < classes; ++c) gradLogits(i, c) = grad[static_cast<std::size_t>(c)];
            }
        });
    const Real crossEntropySum = tally.total;
    Real centerSum = 0.0;
    for (Real sum : runCenterSum) centerSum += sum;
    out.stats.active = tally.active;
    const Real inverseN = 1.0 / static_cast<Real>(n);
    out.value = inverseN * (crossEntropySum + 0.5 * m_lambda * centerSum);
    if (!withGradient) return out;

    gradLogits *= inverseN;
    // ∂/∂x_i = Σ_c g_ic w_c + (λ/N)(x_i − c_{y_i});  ∂/∂w_c = Σ_i g_ic x_i;
    // ∂/∂c_c = −(λ/N) Σ_{i: y_i = c} (x_i − c_c).
    out.gradEmbeddings.noalias() = gradLogits * weights;
    out.gradEmbeddings += (m_lambda * inverseN) * offsets;
    if (input.splitForces) {
        // Own class: the logit w_{y_i}·x_i and the whole center term (it only involves c_{y_i}).
        out.gradFromPositives = (m_lambda * inverseN) * offsets;
        for (Eigen::Index i = 0; i < n; ++i) {
            const int target = input.labels[static_cast<std::size_t>(i)];
            out.gradFromPositives.row(i) += gradLogits(i, target) * weights.row(target);
        }
    }
    out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    out.gradOwned.topRows(classes).noalias() = gradLogits.transpose() * x;
    for (Eigen::Index i = 0; i < n; ++i)
        out.gradOwned.row(classes + input.labels[static_cast<std::size_t>(i)]) -=
            (m_lambda * inverseN) * offsets.row(i);
    return out;
}

std::optional<MarginLogits> CenterLoss::marginLogits() const {
    // Its classifier is the plain linear softmax (block 0 of the owned matrix).
    return MarginLogits{[](Real cosine) { return cosine; }, false, 1.0, true, true};
}

}  // namespace marginlab

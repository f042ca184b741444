// SPDX-License-Identifier: MIT
#include "marginlab/losses/coco.h"

#include "losses/common.h"
#include "losses/proxy_support.h"

#include <vector>

namespace marginlab {

LossOutput CocoLoss::evaluate(const LossInput& input, bool withGradient) const {
    const int classes = detail::ownedClassCount(input, 1, name());
    const Eigen::Index n = input.embeddings.rows();
    if (n == 0) return detail::zeroOutput(input, withGradient);

    const CrossDistance cosine(DistanceSpec::cosine(), input.embeddings, *input.owned);
    const Matrix& s = cosine.matrix();

    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    Matrix gradS;
    if (withGradient) gradS.resize(n, classes);
    // Samples on the engine's threads, each run writing its own rows.
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, classes, [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<Real> row(static_cast<std::size_t>(classes)), grad(row.size());
            for (Eigen::Index i = begin; i < end; ++i) {
                const int target = input.labels[static_cast<std::size_t>(i)];
                for (int c = 0; c < classes; ++c) row[static_cast<std::size_t>(c)] = m_scale * s(i, c);
                const Real term = detail::crossEntropy(
                    row, target, withGradient ? std::span<Real>(grad) : std::span<Real>());
                part.total += term;
                if (term > 0.0) ++part.active;
                if (withGradient)
                    for (int c = 0; c < classes; ++c) gradS(i, c) = grad[static_cast<std::size_t>(c)];
            }
        });
    out.stats.active = tally.active;
    const Real sum = tally.total;
    const Real inverseN = 1.0 / static_cast<Real>(n);
    out.value = sum * inverseN;
    if (withGradient) {
        gradS *= m_scale * inverseN;  // ∂ℓ/∂s = α, and the mean's 1/N
        cosine.backward(gradS, &out.gradEmbeddings, &out.gradOwned);
        if (input.splitForces)  // through the own-centroid cosine s_{i,y_i}
            cosine.backwardSameLabel(gradS, input.labels, detail::classRowLabels(classes),
                                     &out.gradFromPositives, nullptr);
    }
    return out;
}

std::optional<MarginLogits> CocoLoss::marginLogits() const {
    return MarginLogits{[](Real cosine) { return cosine; }, false, m_scale, false, false};
}

}  // namespace marginlab

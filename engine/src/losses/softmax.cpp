// SPDX-License-Identifier: MIT
#include "marginlab/losses/softmax.h"

#include "losses/common.h"
#include "losses/margin_softmax_common.h"

#include <cassert>
#include <vector>

namespace marginlab {

LossOutput SoftmaxLoss::evaluate(const LossInput& input, bool withGradient) const {
    const bool labelsValid = detail::classLabelsMatch(input);
    assert(labelsValid && "labels must lie in [0, number of class-weight rows)");
    if (!labelsValid) return detail::invalidLabelsOutput(input, withGradient);
    const Eigen::Index n = input.embeddings.rows();
    const Eigen::Index classes = input.owned->rows();
    if (n == 0) return detail::zeroOutput(input, withGradient);

    // The un-normalized dot product x_i · w_c is exactly the linear classifier's logit.
    const CrossDistance dot(DistanceSpec::dot(false), input.embeddings, *input.owned);
    const Matrix& logitMatrix = dot.matrix();
    Matrix gradLogits;
    if (withGradient) gradLogits.resize(n, classes);
    // Samples on the engine's threads, each run writing its own rows.
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, classes, [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<Real> logits(static_cast<std::size_t>(classes));
            std::vector<Real> softmaxGrad(withGradient ? logits.size() : 0);
            for (Eigen::Index i = begin; i < end; ++i) {
                const int y = input.labels[static_cast<std::size_t>(i)];
                for (Eigen::Index k = 0; k < classes; ++k)
                    logits[static_cast<std::size_t>(k)] = logitMatrix(i, k);
                const Real term = detail::crossEntropy(logits, y, softmaxGrad);
                part.total += term;
                if (term > 0.0) ++part.active;
                if (withGradient)
                    for (Eigen::Index k = 0; k < classes; ++k)
                        gradLogits(i, k) = softmaxGrad[static_cast<std::size_t>(k)] / static_cast<Real>(n);
            }
        });
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    out.stats.active = tally.active;
    const Real total = tally.total;
    out.value = total / static_cast<Real>(n);
    if (withGradient) dot.backward(gradLogits, &out.gradEmbeddings, &out.gradOwned);
    if (detail::splitsForces(input, withGradient))  // through the own-class logit w_{y_i}·x_i
        dot.backwardSameLabel(gradLogits, input.labels, detail::classRowLabels(classes),
                              &out.gradFromPositives, nullptr);
    return out;
}

std::optional<MarginLogits> SoftmaxLoss::marginLogits() const {
    // w_c·x = ‖w_c‖‖x‖cos θ_c: no margin, but the weight norms decide the regions.
    return MarginLogits{[](Real cosine) { return cosine; }, false, 1.0, true, true};
}

}  // namespace marginlab

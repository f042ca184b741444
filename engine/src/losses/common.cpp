// SPDX-License-Identifier: MIT
#include "losses/common.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>

#include "parallel.h"

namespace marginlab::detail {

std::optional<LossOutput> perSampleEarlyOutput(const LossInput& input, bool withGradient, Eigen::Index rowsPerClass,
                                               Eigen::Index* classes) {
    assert(input.owned && rowsPerClass > 0 && input.owned->rows() % rowsPerClass == 0);
    *classes = input.owned->rows() / rowsPerClass;
    const Labels& y = input.labels;
    const bool labelsFit = std::all_of(y.begin(), y.end(), [&](int label) { return label >= 0 && label < *classes; });
    assert(labelsFit);
    if (!labelsFit) {
        LossOutput out = zeroOutput(input, withGradient);
        out.value = std::numeric_limits<Real>::quiet_NaN();
        return out;
    }
    if (input.embeddings.rows() > 0) return std::nullopt;
    LossOutput zero = zeroOutput(input, withGradient);
    zero.stats.tupleKind = "samples";
    return zero;
}

LossOutput zeroOutput(const LossInput& input, bool withGradient) {
    LossOutput out;
    if (withGradient) {
        out.gradEmbeddings = Points::Zero(input.embeddings.rows(), input.embeddings.cols());
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
        if (input.splitForces) out.gradFromPositives = out.gradEmbeddings;
    }
    return out;
}

Labels classRowLabels(Eigen::Index classes) {
    Labels rows(static_cast<std::size_t>(classes));
    std::iota(rows.begin(), rows.end(), 0);
    return rows;
}

Real logSumExp(std::span<const Real> z, bool addOne, std::span<Real> weights) {
    if (z.empty()) return 0.0;
    Real top = *std::max_element(z.begin(), z.end());
    if (addOne) top = std::max(top, Real(0));
    Real sum = addOne ? std::exp(-top) : 0.0;
    if (weights.empty()) {
        for (Real v : z) sum += std::exp(v - top);
    } else {
        // Each exponential once (kept, then divided by the sum): the exp is the cost here.
        for (std::size_t j = 0; j < z.size(); ++j) sum += weights[j] = std::exp(z[j] - top);
        for (std::size_t j = 0; j < z.size(); ++j) weights[j] /= sum;
    }
    return top + std::log(sum);
}

Real crossEntropy(std::span<const Real> logits, int target, std::span<Real> grad) {
    const Real lse = logSumExp(logits, false, grad);
    if (!grad.empty()) grad[static_cast<std::size_t>(target)] -= 1.0;
    return lse - logits[static_cast<std::size_t>(target)];
}

int sampleRuns(Eigen::Index n) {
    return AnchorChunks(n).count();
}

SampleTally sumOverSampleRuns(
    Eigen::Index n, Eigen::Index workPerSample,
    const std::function<void(Eigen::Index begin, Eigen::Index end, int run, SampleTally& tally)>& body) {
    const AnchorChunks runs(n);
    std::vector<SampleTally> tallies(static_cast<std::size_t>(runs.count()));
    forEachChunk(runs.count(), chunkWorkers(runs.count(), static_cast<std::int64_t>(n) * workPerSample),
                 [&](int run, int) {
                     body(runs.begin(run), runs.end(run), run, tallies[static_cast<std::size_t>(run)]);
                 });
    SampleTally sum;
    for (const SampleTally& t : tallies) sum += t;
    return sum;
}

}  // namespace marginlab::detail

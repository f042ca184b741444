// SPDX-License-Identifier: MIT
#include "marginlab/losses/p2sgrad.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "losses/common.h"
#include "losses/margin_softmax_common.h"

namespace marginlab {

LossOutput P2SGradLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (!detail::classLabelsMatch(input)) return detail::invalidLabelsOutput(input, withGradient);
    const Points& x = input.embeddings;
    const Points& w = *input.owned;
    const Eigen::Index n = x.rows(), classes = w.rows(), dims = x.cols();
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    if (n == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
    // PML's in-place renorm(2, 1, maxnorm = 1e-5) then ·1e5 (columns at or below 1e-5 stay).
    Points unit = w;
    for (Eigen::Index c = 0; c < classes; ++c) {
        const Real norm = w.row(c).norm();
        if (norm > 1e-5) unit.row(c) = w.row(c) * (1e-5 / (norm + 1e-7));
        unit.row(c) *= 1e5;
    }
    const Real count = static_cast<Real>(n * classes);
    if (withGradient) {
        out.gradEmbeddings = Points::Zero(n, dims);
        if (input.splitForces) out.gradFromPositives = Points::Zero(n, dims);
    }
    // Samples in runs on the engine's threads: each run writes its own rows and sums ∂/∂W in its
    // own buffer, added in run order (the same bits on any thread count).
    std::vector<Points> runGradOwned(withGradient ? static_cast<std::size_t>(detail::sampleRuns(n)) : 0,
                                     Points::Zero(classes, dims));
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, classes, [&](Eigen::Index begin, Eigen::Index end, int run, detail::SampleTally& part) {
            for (Eigen::Index i = begin; i < end; ++i) {
                const Real norm = x.row(i).norm();
                const auto target = static_cast<Eigen::Index>(input.labels[static_cast<std::size_t>(i)]);
                bool anyError = false;
                for (Eigen::Index c = 0; c < classes; ++c) {
                    const Real raw = x.row(i).dot(unit.row(c)) / norm;
                    const Real cosine = std::clamp(raw, Real(-1), Real(1));
                    const Real error = cosine - (c == target ? 1.0 : 0.0);
                    part.total += error * error;
                    if (error != 0.0) anyError = true;
                    if (!withGradient || raw != cosine) continue;  // the clamp passes no gradient
                    const Real slope = 2.0 * error / count;
                    // ∂(x·ŵ/‖x‖)/∂x = ŵ/‖x‖ − (x·ŵ) x/‖x‖³;  ∂/∂ŵ = x/‖x‖. Coordinate by
                    // coordinate: no temporary vector per (sample, class).
                    for (Eigen::Index d = 0; d < dims; ++d) {
                        const Real towardsX = slope * (unit(c, d) / norm - raw * x(i, d) / (norm * norm));
                        out.gradEmbeddings(i, d) += towardsX;
                        if (input.splitForces && c == target) out.gradFromPositives(i, d) += towardsX;
                        runGradOwned[static_cast<std::size_t>(run)](c, d) += slope * x(i, d) / norm;
                    }
                }
                if (anyError) ++part.active;
            }
        });
    const Real total = tally.total;
    out.stats.active = tally.active;
    if (withGradient) {
        out.gradOwned = Points::Zero(classes, dims);
        for (const Points& part : runGradOwned) out.gradOwned += part;
    }
    out.value = total / count;
    return out;
}

}  // namespace marginlab

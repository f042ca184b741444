// SPDX-License-Identifier: MIT
#include "marginlab/losses/p2sgrad.h"

#include <algorithm>
#include <cmath>

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
        out.gradOwned = Points::Zero(classes, dims);
        if (input.splitForces) out.gradFromPositives = Points::Zero(n, dims);
    }
    Real total = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const Real norm = x.row(i).norm();
        const auto target = static_cast<Eigen::Index>(input.labels[static_cast<std::size_t>(i)]);
        bool anyError = false;
        for (Eigen::Index c = 0; c < classes; ++c) {
            const Real raw = x.row(i).dot(unit.row(c)) / norm;
            const Real cosine = std::clamp(raw, Real(-1), Real(1));
            const Real error = cosine - (c == target ? 1.0 : 0.0);
            total += error * error;
            if (error != 0.0) anyError = true;
            if (!withGradient || raw != cosine) continue;  // the clamp passes no gradient
            const Real slope = 2.0 * error / count;
            // ∂(x·ŵ/‖x‖)/∂x = ŵ/‖x‖ − (x·ŵ) x/‖x‖³;  ∂/∂ŵ = x/‖x‖.
            const Eigen::RowVectorXd towardsX = slope * (unit.row(c) / norm - raw * x.row(i) / (norm * norm));
            out.gradEmbeddings.row(i) += towardsX;
            if (input.splitForces && c == target) out.gradFromPositives.row(i) += towardsX;
            out.gradOwned.row(c) += slope * x.row(i) / norm;
        }
        if (anyError) ++out.stats.active;
    }
    out.value = total / count;
    return out;
}

}  // namespace marginlab

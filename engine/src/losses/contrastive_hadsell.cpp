// SPDX-License-Identifier: MIT
#include "marginlab/losses/contrastive_hadsell.h"

#include "losses/common.h"
#include "losses/distance_rows.h"

namespace marginlab {

HadsellContrastiveLoss::HadsellContrastiveLoss(Real margin, bool normalize)
    : m_margin(margin), m_distance(DistanceSpec::lp(1, normalize)) {}

LossOutput HadsellContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    const Labels& y = input.labels;
    LossStats stats;
    stats.tupleKind = "pairs";
    if (n < 2) {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats = stats;
        return out;
    }
    // One distance row at a time (pairs b > a of row a): O(N) extra memory, no N×N buffers.
    const detail::DistanceRows distance(m_distance, input.embeddings);
    const Real pairs = Real(n) * Real(n - 1) / 2.0;
    std::vector<Real> row(static_cast<std::size_t>(n)), slopes;
    const bool split = detail::splitsForces(input, withGradient);
    Points gradEmbedded, gradSameLabel;
    if (withGradient) {
        slopes.assign(static_cast<std::size_t>(n), 0.0);
        gradEmbedded = Points::Zero(n, input.embeddings.cols());
    }
    if (split) gradSameLabel = Points::Zero(n, input.embeddings.cols());
    std::vector<Real> masked;  // accumulateSameLabel's scratch
    Real sum = 0.0;
    for (Eigen::Index a = 0; a < n; ++a) {
        distance.row(a, row.data(), a + 1);
        for (Eigen::Index b = a + 1; b < n; ++b) {
            const std::size_t j = static_cast<std::size_t>(b);
            const Real d = row[j];
            ++stats.tuples;
            Real term = 0.0, slope = 0.0;  // slope = d term / d d_ab
            if (y[static_cast<std::size_t>(a)] == y[j]) {
                term = 0.5 * d * d;
                slope = d;
            } else {
                const Real shortfall = detail::relu(m_margin - d);
                term = 0.5 * shortfall * shortfall;
                slope = -shortfall;
            }
            if (term > 0.0) ++stats.active;
            sum += term;
            if (withGradient) slopes[j] = slope;
        }
        if (withGradient) distance.accumulate(a, slopes.data(), row.data(), &gradEmbedded, a + 1);
        if (split) distance.accumulateSameLabel(a, slopes.data(), row.data(), y, &gradSameLabel, &masked, a + 1);
    }
    LossOutput out;
    out.stats = stats;
    out.value = sum / pairs;
    if (withGradient) out.gradEmbeddings = distance.finish(gradEmbedded / pairs);
    if (split) out.gradFromPositives = distance.finish(gradSameLabel / pairs);
    return out;
}

}  // namespace marginlab

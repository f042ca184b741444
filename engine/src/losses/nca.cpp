// SPDX-License-Identifier: MIT
#include "marginlab/losses/nca.h"

#include <cmath>
#include <limits>

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"

namespace marginlab {

NcaLoss::NcaLoss(Real softmaxScale, const DistanceSpec& distance)
    : m_softmaxScale(softmaxScale), m_distance(distance) {}

LossOutput NcaLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    if (n <= 1) return detail::zeroOutputWithKind(input, withGradient, "samples");
    // One fused pass per anchor row (distance row, softmax, backward): no N×N buffer, rows on
    // the engine's threads. The rows kept (p_i ≠ 0) and their count are needed for the mean
    // before any row's gradient: a first pass counts them.
    detail::FusedPairRows pairRows(m_distance, input.embeddings);
    const Real toLogit = -m_distance.orderSign() * m_softmaxScale;
    // Softmax rows as torch computes them (shift by the row maximum, exponentiate, divide), so
    // that "p_i ≠ 0" decides the same points as PML's test on the summed probabilities.
    // Returns p_i; q receives the row's probabilities.
    auto softmaxRow = [&](int i, const Real* m, Real* q) {
        Real top = -std::numeric_limits<Real>::infinity();
        for (int j = 0; j < n; ++j)
            if (j != i) top = std::max(top, toLogit * m[j]);
        for (int j = 0; j < n; ++j) q[j] = toLogit * m[j] - top;
        q[i] = -std::numeric_limits<Real>::infinity();  // e^{−∞} = 0: the point is not its own neighbour
        detail::expRowInPlace(q, n);
        Real sum = 0.0;
        for (int j = 0; j < n; ++j) sum += q[j];
        Real same = 0.0;
        for (int j = 0; j < n; ++j) {
            q[j] /= sum;
            if (j != i && y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)]) same += q[j];
        }
        return same;
    };
    std::vector<Real> probability(static_cast<std::size_t>(n), 0.0);
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int) {
        std::vector<Real> row(static_cast<std::size_t>(n)), q(static_cast<std::size_t>(n));
        for (int i = static_cast<int>(begin); i < end; ++i) {
            pairRows.rows().row(i, row.data());
            probability[static_cast<std::size_t>(i)] = softmaxRow(i, row.data(), q.data());
        }
    });
    Count keptCount = 0;
    for (Real p : probability) keptCount += p != 0.0 ? 1 : 0;
    if (keptCount == 0) return detail::zeroOutputWithKind(input, withGradient, "samples");
    const Real count = static_cast<Real>(keptCount);
    pairRows.run(withGradient, input.splitForces ? &y : nullptr, [&](int i, detail::PairRowChunk& part) {
        const Real p = probability[static_cast<std::size_t>(i)];
        if (p == 0.0) return false;
        const Real term = -std::log(p);
        part.total += term;
        if (term > 0.0) ++part.active;
        if (!withGradient) return false;
        // ∂(−log p_i)/∂z_ij = q_ij − [y_j = y_i] q_ij / p_i.
        Real* q = part.first.data();
        softmaxRow(i, part.row.data(), q);  // the same arithmetic as the first pass
        for (int j = 0; j < n; ++j) {
            const bool same = y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)];
            part.gradRow[static_cast<std::size_t>(j)] = (q[j] - (same ? q[j] / p : 0.0)) * toLogit / count;
        }
        return true;
    });
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = keptCount;
    out.stats.active = pairRows.active();
    out.value = pairRows.total() / count;
    if (withGradient) {
        out.gradEmbeddings = pairRows.gradient(1.0);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/nca.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"

namespace marginlab {

NcaLoss::NcaLoss(Real softmaxScale, const DistanceSpec& distance)
    : m_softmaxScale(softmaxScale), m_distance(distance) {}

LossOutput NcaLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    if (n <= 1) return detail::zeroOutputWithKind(input, withGradient, "samples");
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
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

LossOutput NcaLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's nca_computation(query, reference): the tuples only weight the terms (how often each
    // batch point is an anchor, over the most often); the softmax sees every reference row.
    const Labels& y = input.labels;
    const Labels& referenceLabels = *input.referenceLabels;
    const Eigen::Index n = input.embeddings.rows();
    std::vector<Real> weight(static_cast<std::size_t>(n), 1.0);
    if (input.tuples) {
        std::vector<Pair> positives, negatives;
        detail::referencePairs(input, &positives, &negatives);
        if (!positives.empty() || !negatives.empty()) {
            std::vector<Count> times(static_cast<std::size_t>(n), 0);
            for (const Pair& pair : positives) ++times[static_cast<std::size_t>(pair[0])];
            for (const Pair& pair : negatives) ++times[static_cast<std::size_t>(pair[0])];
            const Count most = *std::max_element(times.begin(), times.end());
            for (std::size_t i = 0; i < times.size(); ++i) weight[i] = Real(times[i]) / Real(most);
        }
    }
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& mat = distance.matrix();
    const Eigen::Index m = mat.cols();
    const Real toLogit = -m_distance.orderSign() * m_softmaxScale;
    // Row softmax as torch computes it (shift by the maximum, exponentiate, divide), so that
    // "p_i ≠ 0" decides the same points as PML.
    Matrix q(n, m);
    std::vector<Real> probability(static_cast<std::size_t>(n), 0.0);
    for (Eigen::Index i = 0; i < n; ++i) {
        Real top = -std::numeric_limits<Real>::infinity();
        for (Eigen::Index j = 0; j < m; ++j) top = std::max(top, toLogit * mat(i, j));
        Real sum = 0.0;
        for (Eigen::Index j = 0; j < m; ++j) sum += q(i, j) = std::exp(toLogit * mat(i, j) - top);
        Real same = 0.0;
        for (Eigen::Index j = 0; j < m; ++j) {
            q(i, j) /= sum;
            if (referenceLabels[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)])
                same += q(i, j);
        }
        probability[static_cast<std::size_t>(i)] = same;
    }
    LossOutput out;
    out.stats.tupleKind = "samples";
    for (Real p : probability) out.stats.tuples += p != 0.0 ? 1 : 0;
    if (out.stats.tuples == 0) return detail::zeroOutputWithKind(input, withGradient, "samples");
    const Real count = static_cast<Real>(out.stats.tuples);
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, m);
    Real total = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const Real p = probability[static_cast<std::size_t>(i)], w = weight[static_cast<std::size_t>(i)];
        if (p == 0.0) continue;
        const Real term = -std::log(p) * w;
        total += term;
        if (term > 0.0) ++out.stats.active;
        if (!withGradient) continue;
        // ∂(−w log p_i)/∂z_ij = w (q_ij − [y_j = y_i] q_ij / p_i).
        for (Eigen::Index j = 0; j < m; ++j) {
            const bool same = referenceLabels[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)];
            grad(i, j) = w * (q(i, j) - (same ? q(i, j) / p : 0.0)) * toLogit / count;
        }
    }
    out.value = total / count;
    if (withGradient) detail::finishReferenceOutput(input, distance, grad, &out);
    return out;
}

}  // namespace marginlab

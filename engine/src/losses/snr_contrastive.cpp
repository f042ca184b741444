// SPDX-License-Identifier: MIT
#include "marginlab/losses/snr_contrastive.h"

#include <cmath>

#include "losses/common.h"
#include "losses/pair_lists.h"

namespace marginlab {

SnrContrastiveLoss::SnrContrastiveLoss(Real positiveMargin, Real negativeMargin, Real regularizerWeight,
                                       bool normalize)
    : m_positiveMargin(positiveMargin),
      m_negativeMargin(negativeMargin),
      m_regularizerWeight(regularizerWeight),
      m_normalize(normalize) {}

namespace {

using Row = Eigen::Matrix<Real, 1, Eigen::Dynamic>;

/// v − mean(v): the centred coordinates (the gradient of Σ(v − v̄)² is twice them).
Row centred(const Row& v) {
    return v.array() - v.mean();
}

}  // namespace

LossOutput SnrContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    const Eigen::Index n = input.embeddings.rows(), dims = input.embeddings.cols();
    LossOutput out;
    out.stats.tupleKind = "pairs";
    // The regularizer is PML's separate embedding regularizer: it is added even without pairs.
    Real regularizer = 0.0;
    Points gradRegularizer;
    if (withGradient) gradRegularizer = Points::Zero(n, dims);
    if (m_regularizerWeight > 0.0 && n > 0) {
        for (Eigen::Index i = 0; i < n; ++i) {
            const Real sum = input.embeddings.row(i).sum();
            regularizer += std::abs(sum);
            if (withGradient && sum != 0.0)
                gradRegularizer.row(i).setConstant((sum > 0.0 ? 1.0 : -1.0) * m_regularizerWeight / Real(n));
        }
        regularizer *= m_regularizerWeight / Real(n);
    }
    const bool none = positives.size() <= 1 && negatives.size() <= 1;
    Vector norms;
    const Points e = m_normalize ? normalizeRows(input.embeddings, &norms) : input.embeddings;
    Points gradE, gradPositive;
    if (withGradient) gradE = gradPositive = Points::Zero(n, dims);
    // Σ / #non-zero of one list's terms, with their gradient added to `grad`.
    auto halfLoss = [&](const std::vector<Pair>& pairs, bool positive, Points* grad) {
        std::vector<Real> terms(pairs.size());
        Count active = 0;
        Real sum = 0.0;
        for (std::size_t k = 0; k < pairs.size(); ++k) {
            const Row a = e.row(pairs[k][0]), other = e.row(pairs[k][1]);
            const Row ca = centred(a), cd = centred(a - other);
            const Real snr = cd.squaredNorm() / ca.squaredNorm();
            terms[k] = positive ? detail::relu(snr - m_positiveMargin) : detail::relu(m_negativeMargin - snr);
            sum += terms[k];
            if (terms[k] > 0.0) ++active;
        }
        out.stats.tuples += static_cast<Count>(pairs.size());
        out.stats.active += active;
        if (active == 0) return 0.0;
        if (withGradient)
            for (std::size_t k = 0; k < pairs.size(); ++k) {
                if (terms[k] <= 0.0) continue;
                const Row a = e.row(pairs[k][0]), other = e.row(pairs[k][1]);
                const Row ca = centred(a), cd = centred(a - other);
                const Real signal = ca.squaredNorm(), noise = cd.squaredNorm();
                const Real slope = (positive ? 1.0 : -1.0) / Real(active);  // ∂term/∂SNR over the count
                // SNR = noise/signal: ∂/∂e_a = 2cd/signal − 2·noise·ca/signal², ∂/∂e_j = −2cd/signal.
                const Row towardsOther = 2.0 * cd / signal;
                grad->row(pairs[k][0]) += slope * (towardsOther - 2.0 * noise / (signal * signal) * ca);
                grad->row(pairs[k][1]) -= slope * towardsOther;
            }
        return sum / Real(active);
    };
    Real pairLoss = 0.0;
    if (!none) {
        pairLoss += halfLoss(positives, true, &gradPositive);
        pairLoss += halfLoss(negatives, false, &gradE);
    }
    out.value = pairLoss + regularizer;
    if (!withGradient) return out;
    auto finish = [&](const Points& g) { return m_normalize ? normalizeRowsBackward(e, norms, g) : g; };
    const Points positivePart = finish(gradPositive);
    out.gradEmbeddings = positivePart + finish(gradE) + gradRegularizer;
    if (input.splitForces) out.gradFromPositives = positivePart;
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace marginlab

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
    // Centring is linear: centred(e_a − e_j) = c_a − c_j with c = the centred rows, computed once;
    // ‖c_a‖² is the signal of every pair anchored at a (the variances' common 1/(D−1) cancels).
    const Points c = e.colwise() - e.rowwise().mean();
    const Vector signal = c.rowwise().squaredNorm();
    auto snr = [&](const Pair& p) { return (c.row(p[0]) - c.row(p[1])).squaredNorm() / signal(p[0]); };
    Points gradE, gradPositive;
    if (withGradient) gradE = gradPositive = Points::Zero(n, dims);
    // Σ / #non-zero of one list's terms, with their gradient added to `grad`.
    auto halfLoss = [&](const std::vector<Pair>& pairs, bool positive, Points* grad) {
        auto term = [&](const Pair& p) {
            return positive ? detail::relu(snr(p) - m_positiveMargin)
                            : detail::relu(m_negativeMargin - snr(p));
        };
        // Both passes on the engine's threads in runs of anchor rows (PairRuns). The gradient
        // also reaches the pair's other point, in any row: one N×D buffer per run, added in run order.
        const detail::PairRuns runs(pairs, n);
        const detail::SampleTally tally =
            detail::sumOverPairRuns(runs, [&](int, std::span<const Pair> run, detail::SampleTally& part) {
                for (const Pair& p : run) {
                    const Real t = term(p);
                    part.total += t;
                    if (t > 0.0) ++part.active;
                }
            });
        const Count active = tally.active;
        const Real sum = tally.total;
        out.stats.tuples += static_cast<Count>(pairs.size());
        out.stats.active += active;
        if (active == 0) return 0.0;
        if (withGradient) {
            std::vector<Points> partial(static_cast<std::size_t>(runs.count()));
            detail::sumOverPairRuns(runs, [&](int r, std::span<const Pair> run, detail::SampleTally&) {
                Points& part = partial[static_cast<std::size_t>(r)];
                part = Points::Zero(n, dims);
                for (const Pair& p : run) {
                    if (term(p) <= 0.0) continue;
                    const Real noise = (c.row(p[0]) - c.row(p[1])).squaredNorm(), s = signal(p[0]);
                    const Real slope = (positive ? 1.0 : -1.0) / Real(active);  // ∂term/∂SNR over the count
                    // SNR = noise/signal: ∂/∂e_a = 2cd/signal − 2·noise·c_a/signal², ∂/∂e_j = −2cd/signal
                    // (the gradient of ‖centred(v)‖² is 2·centred(v), already centred).
                    for (Eigen::Index k = 0; k < dims; ++k) {
                        const Real towardsOther = 2.0 * (c(p[0], k) - c(p[1], k)) / s;
                        part(p[0], k) += slope * (towardsOther - 2.0 * noise / (s * s) * c(p[0], k));
                        part(p[1], k) -= slope * towardsOther;
                    }
                }
            });
            for (const Points& part : partial) *grad += part;
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

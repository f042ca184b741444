// SPDX-License-Identifier: MIT
#include "marginlab/losses/snr_contrastive.h"

#include <array>
#include <cmath>

#include "losses/common.h"
#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/pair_rows.h"

namespace marginlab {

namespace {

/// The pair terms over every ordered pair (no miner), from the centred rows c and their signals
/// ‖c_a‖²: two fused passes over the rows of N_aj = ‖c_a − c_j‖² (pair_rows.h), no pair lists and
/// no N×N matrix — the halves' sums and non-zero counts (the divisors), then each row of
/// ∂L/∂N straight into the backward pass, with the signal's share ∂L/∂‖c_a‖² kept per anchor.
/// Fills the statistics; with the gradient, ∂L/∂c into *gradAll and, if asked, the positive
/// half's share into *gradPositive.
Real snrOverEveryPair(const Points& c, const Vector& signal, const Labels& labels, Real positiveMargin,
                      Real negativeMargin, bool withGradient, Points* gradAll, Points* gradPositive,
                      LossStats* stats) {
    const int n = static_cast<int>(labels.size());
    // The term of pair (a, j) from its noise N_aj: positive pairs relu(SNR − m⁺), negative relu(m⁻ − SNR).
    auto term = [&](bool positive, Real noise, Real s) {
        const Real snr = noise / s;
        return positive ? detail::relu(snr - positiveMargin) : detail::relu(negativeMargin - snr);
    };
    detail::FusedPairRows pairRows(DistanceSpec::lp(2, false), c);
    pairRows.run(false, nullptr, [&](int a, detail::PairRowChunk& part) {
        const int label = labels[static_cast<std::size_t>(a)];
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            const std::size_t h = labels[static_cast<std::size_t>(j)] == label ? 0 : 1;
            const Real t = term(h == 0, part.row[static_cast<std::size_t>(j)], signal(a));
            part.sums[h] += t;
            if (t > 0.0) ++part.counts[h];
        }
        return false;
    });
    const detail::PairCounts counts = detail::countPairs(labels);
    stats->tuples += counts.positives + counts.negatives;
    const std::array<Count, 2> active{pairRows.count(0), pairRows.count(1)};
    stats->active += active[0] + active[1];
    Real loss = 0.0;
    for (std::size_t h = 0; h < 2; ++h)
        if (active[h] > 0) loss += pairRows.sum(h) / Real(active[h]);
    if (!withGradient) return loss;
    // ∂term/∂SNR over the half's count; SNR = N_aj / s_a: ∂/∂N_aj = slope/s_a, ∂/∂s_a = −slope·N_aj/s_a².
    const std::array<Real, 2> slope{active[0] > 0 ? 1.0 / Real(active[0]) : 0.0,
                                    active[1] > 0 ? -1.0 / Real(active[1]) : 0.0};
    Vector signalShare = Vector::Zero(n), positiveSignalShare = Vector::Zero(n);
    pairRows.run(true, gradPositive ? &labels : nullptr, [&](int a, detail::PairRowChunk& part) {
        const int label = labels[static_cast<std::size_t>(a)];
        const Real s = signal(a);
        std::array<Real, 2> share{};
        for (int j = 0; j < n; ++j) {
            const Real noise = part.row[static_cast<std::size_t>(j)];
            const std::size_t h = labels[static_cast<std::size_t>(j)] == label ? 0 : 1;
            const bool nonZero = j != a && term(h == 0, noise, s) > 0.0;
            part.gradRow[static_cast<std::size_t>(j)] = nonZero ? slope[h] / s : 0.0;
            if (nonZero) share[h] -= slope[h] * noise / (s * s);
        }
        signalShare(a) = share[0] + share[1];
        positiveSignalShare(a) = share[0];
        return true;
    });
    // ∂‖c_a‖²/∂c_a = 2c_a (centred already, as every gradient here: no projection needed).
    *gradAll = pairRows.gradient(1.0) + (2.0 * signalShare).asDiagonal() * c;
    if (gradPositive)
        *gradPositive = pairRows.sameLabelGradient(1.0) + (2.0 * positiveSignalShare).asDiagonal() * c;
    return loss;
}

}  // namespace

SnrContrastiveLoss::SnrContrastiveLoss(Real positiveMargin, Real negativeMargin, Real regularizerWeight,
                                       bool normalize)
    : m_positiveMargin(positiveMargin),
      m_negativeMargin(negativeMargin),
      m_regularizerWeight(regularizerWeight),
      m_normalize(normalize) {}

LossOutput SnrContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const bool everyPair = detail::usesEveryTuple(input);
    std::vector<Pair> positives, negatives;
    if (!everyPair) detail::pairLists(input, &positives, &negatives);
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
    const detail::PairCounts counts = everyPair ? detail::countPairs(input.labels)
                                                : detail::PairCounts{static_cast<Count>(positives.size()),
                                                                     static_cast<Count>(negatives.size())};
    const bool none = counts.positives <= 1 && counts.negatives <= 1;
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
    if (!none && everyPair) {
        // gradE then holds the whole pair gradient, gradPositive the positive half's share of it.
        pairLoss =
            snrOverEveryPair(c, signal, input.labels, m_positiveMargin, m_negativeMargin, withGradient,
                             &gradE, withGradient && input.splitForces ? &gradPositive : nullptr, &out.stats);
    } else if (!none) {
        pairLoss += halfLoss(positives, true, &gradPositive);
        pairLoss += halfLoss(negatives, false, &gradE);
    }
    out.value = pairLoss + regularizer;
    if (!withGradient) return out;
    auto finish = [&](const Points& g) { return m_normalize ? normalizeRowsBackward(e, norms, g) : g; };
    const Points positivePart = finish(gradPositive);
    out.gradEmbeddings = (everyPair ? finish(gradE) : positivePart + finish(gradE)) + gradRegularizer;
    if (input.splitForces) out.gradFromPositives = positivePart;
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace marginlab

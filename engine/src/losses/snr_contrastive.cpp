// SPDX-License-Identifier: MIT
#include "marginlab/losses/snr_contrastive.h"

#include <array>
#include <cmath>

#include "losses/common.h"
#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"

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
    // The terms of row a from its noises N_aj, in `terms` (and 1/0 in `nonZero`): positive pairs
    // relu(SNR − m⁺), negative relu(m⁻ − SNR); the kind row (1: same label) picks the half by
    // mask selects, and the split sums of the vector unit add them up (pair_rows.h).
    auto rowTerms = [&](int a, detail::PairRowChunk& part, Real* terms, Real* nonZero) {
        Real* kind = part.second.data();
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(a)], kind, n);
        const Real* noise = part.row.data();
        const Real s = signal(a);
        for (int j = 0; j < n; ++j) terms[j] = noise[j] / s;
        // snr − m⁺ for a positive, −(snr − m⁻) = m⁻ − snr for a negative, by mask operations.
        detail::splitShift(terms, kind, n, positiveMargin, negativeMargin);
        detail::splitScale(terms, terms, kind, n, 1.0, -1.0);
        for (int j = 0; j < n; ++j) {
            nonZero[j] = terms[j] > 0.0 ? 1.0 : 0.0;
            terms[j] = terms[j] > 0.0 ? terms[j] : 0.0;
        }
        return kind;
    };
    detail::FusedPairRows pairRows(DistanceSpec::lp(2, false), c);
    pairRows.run(false, nullptr, [&](int a, detail::PairRowChunk& part) {
        Real *terms = part.first.data(), *nonZero = part.third.data();
        const Real* kind = rowTerms(a, part, terms, nonZero);
        std::array<Real, 4> sums{};
        detail::splitSumOffDiagonal(terms, kind, n, a, &sums[0], &sums[1]);
        detail::splitSumOffDiagonal(nonZero, kind, n, a, &sums[2], &sums[3]);
        part.sums[0] += sums[0];
        part.sums[1] += sums[1];
        part.counts[0] += static_cast<Count>(sums[2]);  // sums of ones: exact
        part.counts[1] += static_cast<Count>(sums[3]);
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
        Real *terms = part.first.data(), *nonZero = part.third.data(), *noiseOfNonZero = part.fourth.data();
        const Real* kind = rowTerms(a, part, terms, nonZero);
        const Real* noise = part.row.data();
        const Real s = signal(a);
        const Real positive = slope[0] / s, negative = slope[1] / s;
        detail::splitScale(part.gradRow.data(), nonZero, kind, n, positive, negative);
        for (int j = 0; j < n; ++j) noiseOfNonZero[j] = nonZero[j] * noise[j];
        Real positiveNoise = 0.0, negativeNoise = 0.0;
        detail::splitSumOffDiagonal(noiseOfNonZero, kind, n, a, &positiveNoise, &negativeNoise);
        const Real share0 = -slope[0] * positiveNoise / (s * s), share1 = -slope[1] * negativeNoise / (s * s);
        signalShare(a) = share0 + share1;
        positiveSignalShare(a) = share0;
        return true;
    });
    // ∂‖c_a‖²/∂c_a = 2c_a (centred already, as every gradient here: no projection needed).
    *gradAll = pairRows.gradient(1.0) + (2.0 * signalShare).asDiagonal() * c;
    if (gradPositive)
        *gradPositive = pairRows.sameLabelGradient(1.0) + (2.0 * positiveSignalShare).asDiagonal() * c;
    return loss;
}

/// PML's ZeroMeanRegularizer with weight w: w · mean_i |Σ_d x_id|; its gradient into *grad (N×D).
/// It is a separate embedding regularizer in PML: it is added even without pairs.
Real zeroMeanRegularizer(const Points& x, Real weight, bool withGradient, Points* grad) {
    const Eigen::Index n = x.rows();
    Real regularizer = 0.0;
    if (withGradient) *grad = Points::Zero(n, x.cols());
    if (weight > 0.0 && n > 0) {
        for (Eigen::Index i = 0; i < n; ++i) {
            const Real sum = x.row(i).sum();
            regularizer += std::abs(sum);
            if (withGradient && sum != 0.0)
                grad->row(i).setConstant((sum > 0.0 ? 1.0 : -1.0) * weight / Real(n));
        }
        regularizer *= weight / Real(n);
    }
    return regularizer;
}

}  // namespace

SnrContrastiveLoss::SnrContrastiveLoss(Real positiveMargin, Real negativeMargin, Real regularizerWeight,
                                       bool normalize)
    : m_positiveMargin(positiveMargin),
      m_negativeMargin(negativeMargin),
      m_regularizerWeight(regularizerWeight),
      m_normalize(normalize) {}

LossOutput SnrContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    // Before the fused every-pair dispatch: with a reference the pairs index the reference.
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const bool everyPair = detail::usesEveryTuple(input);
    std::vector<Pair> positives, negatives;
    if (!everyPair) detail::pairLists(input, &positives, &negatives);
    const Eigen::Index n = input.embeddings.rows(), dims = input.embeddings.cols();
    LossOutput out;
    out.stats.tupleKind = "pairs";
    Points gradRegularizer;
    const Real regularizer =
        zeroMeanRegularizer(input.embeddings, m_regularizerWeight, withGradient, &gradRegularizer);
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

LossOutput SnrContrastiveLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's pair-based loss with ref_emb: SNR_aj = var(e_a − r_j) / var(e_a) from SNRDistance(batch,
    // reference), the listed pairs as listed (every batch × reference pair without tuples, no self
    // pair removed), AvgNonZero per half; the regularizer reads the batch; the gradient stops at
    // the reference.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    const Points& reference = *input.referenceEmbeddings;
    const Eigen::Index n = input.embeddings.rows(), dims = input.embeddings.cols();
    LossOutput out;
    out.stats.tupleKind = "pairs";
    Points gradRegularizer;
    const Real regularizer =
        zeroMeanRegularizer(input.embeddings, m_regularizerWeight, withGradient, &gradRegularizer);
    Vector norms, referenceNorms;
    const Points e = m_normalize ? normalizeRows(input.embeddings, &norms) : input.embeddings;
    const Points er = m_normalize ? normalizeRows(reference, &referenceNorms) : reference;
    const Points c = e.colwise() - e.rowwise().mean();
    const Vector signal = c.rowwise().squaredNorm();
    // PML's var(e_a − r_j): the difference first, then centred, so that a reference row equal to
    // the anchor (a memory copy) has noise exactly 0, as in PML (the AvgNonZero count sees it).
    auto centredDifference = [&](const Pair& p) {
        Eigen::RowVectorXd v = e.row(p[0]) - er.row(p[1]);
        v.array() -= v.mean();
        return v;
    };
    auto noise = [&](const Pair& p) { return centredDifference(p).squaredNorm(); };
    Points gradPositive, gradNegative;
    if (withGradient) gradPositive = gradNegative = Points::Zero(n, dims);
    // Σ / #non-zero of one list's terms, their gradient (batch ends only) added to `grad`.
    auto halfLoss = [&](const std::vector<Pair>& pairs, bool positive, Points* grad) {
        auto term = [&](const Pair& p) {
            const Real snr = noise(p) / signal(p[0]);
            return positive ? detail::relu(snr - m_positiveMargin) : detail::relu(m_negativeMargin - snr);
        };
        Real sum = 0.0;
        Count active = 0;
        for (const Pair& p : pairs) {
            const Real t = term(p);
            sum += t;
            if (t > 0.0) ++active;
        }
        out.stats.tuples += static_cast<Count>(pairs.size());
        out.stats.active += active;
        if (active == 0) return 0.0;
        if (withGradient)
            for (const Pair& p : pairs) {
                if (term(p) <= 0.0) continue;
                const Eigen::RowVectorXd difference = centredDifference(p);
                const Real v = difference.squaredNorm(), s = signal(p[0]);
                const Real slope = (positive ? 1.0 : -1.0) / Real(active);
                // ∂SNR/∂e_a = 2·centred(e_a − r_j)/signal − 2·noise·c_a/signal² (r_j is the detached
                // reference; the gradient of ‖centred(v)‖² is 2·centred(v), already centred).
                for (Eigen::Index k = 0; k < dims; ++k)
                    (*grad)(p[0], k) += slope * (2.0 * difference(k) / s - 2.0 * v / (s * s) * c(p[0], k));
            }
        return sum / Real(active);
    };
    Real pairLoss = 0.0;
    if (positives.size() > 1 || negatives.size() > 1) {  // GenericPairLoss: else nothing to do
        pairLoss += halfLoss(positives, true, &gradPositive);
        pairLoss += halfLoss(negatives, false, &gradNegative);
    }
    out.value = pairLoss + regularizer;
    if (!withGradient) return out;
    auto finish = [&](const Points& g) { return m_normalize ? normalizeRowsBackward(e, norms, g) : g; };
    const Points positivePart = finish(gradPositive);
    out.gradEmbeddings = positivePart + finish(gradNegative) + gradRegularizer;
    if (input.splitForces) out.gradFromPositives = positivePart;
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace marginlab

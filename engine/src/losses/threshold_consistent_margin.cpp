// SPDX-License-Identifier: MIT
#include "marginlab/losses/threshold_consistent_margin.h"

#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/pair_rows.h"

#include <algorithm>
#include <array>

namespace marginlab {

namespace {

// Every ordered pair (no miner): fused passes over the cosine rows (pair_rows.h), no pair lists
// and no N×N matrix. The first pass finds each half's violations and how many pairs are inside
// its mask (the divisors); the second writes each row of ∂L/∂s straight into the backward pass.
LossOutput tcmOverEveryPair(const LossInput& input, bool withGradient,
                            const ThresholdConsistentMarginLoss::Options& options) {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0 && counts.negatives == 0)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    // sums / counts: [0] positives inside (s ≤ m⁺, term m⁺ − s), [1] negatives inside (s ≥ m⁻, term s − m⁻).
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), input.embeddings);
    // Per row: the kind row (1: same label) picks each entry's half by the vector unit's mask
    // operations (no branch per entry), and its split sums add up the violations and the pairs
    // inside (pair_rows.h). v = −(s − m⁺) for a positive, s − m⁻ for a negative; inside: v ≥ 0.
    auto insideRow = [&](const Real* s, const Real* kind, Real* violation, Real* inside) {
        std::copy(s, s + n, violation);
        detail::splitShift(violation, kind, n, options.marginPlus, options.marginMinus);
        detail::splitScale(violation, violation, kind, n, -1.0, 1.0);
        for (int j = 0; j < n; ++j) {
            inside[j] = violation[j] >= 0.0 ? 1.0 : 0.0;
            violation[j] = violation[j] >= 0.0 ? violation[j] : 0.0;
        }
    };
    pairRows.run(false, nullptr, [&](int a, detail::PairRowChunk& part) {
        const Real* s = part.row.data();
        Real *kind = part.second.data(), *violation = part.first.data(), *inside = part.third.data();
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(a)], kind, n);
        insideRow(s, kind, violation, inside);
        std::array<Real, 4> sums{};
        detail::splitSumOffDiagonal(violation, kind, n, a, &sums[0], &sums[1]);
        detail::splitSumOffDiagonal(inside, kind, n, a, &sums[2], &sums[3]);
        part.sums[0] += sums[0];
        part.sums[1] += sums[1];
        part.counts[0] += static_cast<Count>(sums[2]);  // sums of ones: exact
        part.counts[1] += static_cast<Count>(sums[3]);
        return false;
    });
    const Count insidePositive = pairRows.count(0), insideNegative = pairRows.count(1);
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives + counts.negatives;
    out.stats.active = insidePositive + insideNegative;
    out.value = (insidePositive > 0 ? options.lambdaPlus * pairRows.sum(0) / Real(insidePositive) : 0.0) +
                (insideNegative > 0 ? options.lambdaMinus * pairRows.sum(1) / Real(insideNegative) : 0.0);
    if (!withGradient) return out;
    const Real positiveSlope = insidePositive > 0 ? -options.lambdaPlus / Real(insidePositive) : 0.0;
    const Real negativeSlope = insideNegative > 0 ? options.lambdaMinus / Real(insideNegative) : 0.0;
    pairRows.run(true, input.splitForces ? &labels : nullptr, [&](int a, detail::PairRowChunk& part) {
        const Real* s = part.row.data();
        Real *grad = part.gradRow.data(), *kind = part.second.data(), *inside = part.third.data();
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(a)], kind, n);
        insideRow(s, kind, part.first.data(), inside);
        detail::splitScale(grad, inside, kind, n, positiveSlope, negativeSlope);
        return true;
    });
    out.gradEmbeddings = pairRows.gradient(1.0);
    if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace

LossOutput ThresholdConsistentMarginLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (detail::usesEveryTuple(input)) return tcmOverEveryPair(input, withGradient, m_options);
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    if (positives.empty() && negatives.empty())
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size() + negatives.size());
    // Mean of the violations inside the mask, times λ; `sign` = +1 for s − m (negatives), −1 for m − s.
    // Each pass over a list runs on the engine's threads in runs of anchor rows (PairRuns).
    const Eigen::Index n = input.embeddings.rows();
    Matrix& g = workspace.gradient();
    auto half = [&](const std::vector<Pair>& pairs, Real margin, Real sign, Real lambda) {
        const detail::PairRuns runs(pairs, n);
        const detail::SampleTally tally =
            detail::sumOverPairRuns(runs, [&](int, std::span<const Pair> run, detail::SampleTally& part) {
                for (const Pair& p : run)
                    if (sign * (s(p[0], p[1]) - margin) >= 0.0) {
                        part.total += sign * (s(p[0], p[1]) - margin);
                        ++part.active;
                    }
            });
        const Count inside = tally.active;
        out.stats.active += inside;
        if (inside == 0) return 0.0;
        if (withGradient)
            detail::sumOverPairRuns(runs, [&](int, std::span<const Pair> run, detail::SampleTally&) {
                for (const Pair& p : run)
                    if (sign * (s(p[0], p[1]) - margin) >= 0.0) g(p[0], p[1]) += lambda * sign / Real(inside);
            });
        return lambda * tally.total / Real(inside);
    };
    out.value = half(positives, m_options.marginPlus, -1.0, m_options.lambdaPlus) +
                half(negatives, m_options.marginMinus, 1.0, m_options.lambdaMinus);
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(input.labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

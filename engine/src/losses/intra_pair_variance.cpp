// SPDX-License-Identifier: MIT
#include "marginlab/losses/intra_pair_variance.h"

#include <array>

#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/pair_rows.h"

namespace marginlab {

namespace {

// Every ordered pair (no miner): three fused passes over the rows of M (pair_rows.h), no pair
// lists and no N×N matrix — the two means, then each half's terms and Σ of its slopes, then
// each row of ∂L/∂M straight into the backward pass (every entry needs the whole half's Σ).
LossOutput ipvOverEveryPair(const LossInput& input, bool withGradient, const DistanceSpec& distance,
                            Real positiveEpsilon, Real negativeEpsilon) {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives <= 1 && counts.negatives <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    // Half h = 0 (positives) and 1 (negatives): v = sign_h·(factor_h·μ_h − M), term relu(v)²,
    // mean over the half's pairs (see evaluate()).
    const bool similarity = distance.isSimilarity();
    const std::array<bool, 2> increase{similarity, !similarity};
    const std::array<Real, 2> size{static_cast<Real>(counts.positives), static_cast<Real>(counts.negatives)};
    std::array<Real, 2> factor{}, sign{};
    for (std::size_t h = 0; h < 2; ++h) {
        const Real epsilon = h == 0 ? positiveEpsilon : negativeEpsilon;
        factor[h] = increase[h] ? 1.0 - epsilon : 1.0 + epsilon;
        sign[h] = increase[h] ? 1.0 : -1.0;
    }
    // The half a pair (a, j) belongs to, or none for the diagonal.
    auto halfOf = [&](int a, int j) {
        return labels[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(a)] ? 0 : 1;
    };
    detail::FusedPairRows pairRows(distance, input.embeddings);
    pairRows.run(false, nullptr, [&](int a, detail::PairRowChunk& part) {
        for (int j = 0; j < n; ++j)
            if (j != a)
                part.sums[static_cast<std::size_t>(halfOf(a, j))] += part.row[static_cast<std::size_t>(j)];
        return false;
    });
    std::array<Real, 2> mean{};
    for (std::size_t h = 0; h < 2; ++h) mean[h] = size[h] > 0.0 ? pairRows.sum(h) / size[h] : 0.0;
    auto violation = [&](std::size_t h, Real m) { return detail::relu(sign[h] * (factor[h] * mean[h] - m)); };
    // sums [0], [1]: Σ v² per half; [2], [3]: Σ 2v/|half| per half; counts: active pairs per half.
    pairRows.run(false, nullptr, [&](int a, detail::PairRowChunk& part) {
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            const auto h = static_cast<std::size_t>(halfOf(a, j));
            const Real v = violation(h, part.row[static_cast<std::size_t>(j)]);
            part.sums[h] += v * v;
            part.sums[2 + h] += 2.0 * v / size[h];
            if (v > 0.0) ++part.counts[h];
        }
        return false;
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives + counts.negatives;
    out.stats.active = pairRows.count(0) + pairRows.count(1);
    out.value = 0.0;
    std::array<Real, 2> constant{};  // sign·Σslopes·factor/|half|: ∂v_k/∂M_j = sign·(factor/|half| − [j = k])
    for (std::size_t h = 0; h < 2; ++h) {
        if (size[h] == 0.0) continue;
        out.value += pairRows.sum(h) / size[h];
        constant[h] = sign[h] * pairRows.sum(2 + h) * factor[h] / size[h];
    }
    if (!withGradient) return out;
    pairRows.run(true, input.splitForces ? &labels : nullptr, [&](int a, detail::PairRowChunk& part) {
        for (int j = 0; j < n; ++j) {
            const auto h = static_cast<std::size_t>(halfOf(a, j));
            const Real m = part.row[static_cast<std::size_t>(j)];
            part.gradRow[static_cast<std::size_t>(j)] =
                constant[h] - sign[h] * 2.0 * violation(h, m) / size[h];
        }
        return true;
    });
    out.gradEmbeddings = pairRows.gradient(1.0);
    if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace

IntraPairVarianceLoss::IntraPairVarianceLoss(Real positiveEpsilon, Real negativeEpsilon,
                                             const DistanceSpec& distance)
    : m_positiveEpsilon(positiveEpsilon), m_negativeEpsilon(negativeEpsilon), m_distance(distance) {}

LossOutput IntraPairVarianceLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (detail::usesEveryTuple(input))
        return ipvOverEveryPair(input, withGradient, m_distance, m_positiveEpsilon, m_negativeEpsilon);
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    if (positives.size() <= 1 && negatives.size() <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    LossOutput out;
    out.stats.tupleKind = "pairs";

    // One half: v_k = c·μ − M_k (sign +1) or M_k − c·μ (sign −1), term relu(v)², mean over k.
    // PML's incentivize_increase picks the form: positives of a similarity and negatives of a
    // distance should grow (v = (1 − ε)μ − M), the others should shrink (v = M − (1 + ε)μ).
    // Each pass over a list runs on the engine's threads in runs of anchor rows (PairRuns).
    const Eigen::Index n = input.embeddings.rows();
    auto half = [&](const std::vector<Pair>& pairs, Real epsilon, bool increase) {
        if (pairs.empty()) return 0.0;
        const detail::PairRuns runs(pairs, n);
        const Real count = static_cast<Real>(pairs.size());
        const Real mean = detail::sumOverPairRuns(runs, [&](int, std::span<const Pair> run, detail::SampleTally& part) {
                              for (const Pair& p : run) part.total += m(p[0], p[1]);
                          }).total /
                          count;
        const Real factor = increase ? 1.0 - epsilon : 1.0 + epsilon;
        const Real sign = increase ? 1.0 : -1.0;  // v = sign·(factor·μ − M)
        // Per pair ∂(relu(v)²/count)/∂v, kept for the gradient pass; their sum per run, added in
        // run order.
        std::vector<Real> slopes(pairs.size()), runSlopeSums(static_cast<std::size_t>(runs.count()), 0.0);
        const detail::SampleTally tally =
            detail::sumOverPairRuns(runs, [&](int r, std::span<const Pair> run, detail::SampleTally& part) {
                const std::size_t first = runs.offset(r);
                for (std::size_t k = 0; k < run.size(); ++k) {
                    const Real v = detail::relu(sign * (factor * mean - m(run[k][0], run[k][1])));
                    part.total += v * v;
                    if (v > 0.0) ++part.active;
                    slopes[first + k] = 2.0 * v / count;
                    runSlopeSums[static_cast<std::size_t>(r)] += slopes[first + k];
                }
            });
        Real slopeSum = 0.0;
        for (Real partial : runSlopeSums) slopeSum += partial;
        out.stats.active += tally.active;
        out.stats.tuples += static_cast<Count>(pairs.size());
        if (withGradient) {
            // ∂v_k/∂M_j = sign·(factor/count − [j = k]).
            Matrix& g = workspace.gradient();
            detail::sumOverPairRuns(runs, [&](int r, std::span<const Pair> run, detail::SampleTally&) {
                const std::size_t first = runs.offset(r);
                for (std::size_t k = 0; k < run.size(); ++k)
                    g(run[k][0], run[k][1]) += sign * (slopeSum * factor / count - slopes[first + k]);
            });
        }
        return tally.total / count;
    };
    const bool similarity = m_distance.isSimilarity();
    out.value =
        half(positives, m_positiveEpsilon, similarity) + half(negatives, m_negativeEpsilon, !similarity);
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(input.labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

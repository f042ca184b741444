// SPDX-License-Identifier: MIT
#include "marginlab/losses/intra_pair_variance.h"

#include <algorithm>
#include <array>

#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"

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
    // Per row, the 0/1 kind row (1: same label, the positive half) and the split sums of the
    // vector unit (pair_rows.h): the halves are mask selects, not branches, and no sum waits on
    // the one before it through memory.
    detail::FusedPairRows pairRows(distance, input.embeddings);
    pairRows.run(false, nullptr, [&](int a, detail::PairRowChunk& part) {
        Real* kind = part.second.data();
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(a)], kind, n);
        Real positive = 0.0, negative = 0.0;
        detail::splitSumOffDiagonal(part.row.data(), kind, n, a, &positive, &negative);
        part.sums[0] += positive;
        part.sums[1] += negative;
        return false;
    });
    std::array<Real, 2> target{};  // factor·μ per half
    for (std::size_t h = 0; h < 2; ++h) target[h] = factor[h] * (size[h] > 0.0 ? pairRows.sum(h) / size[h] : 0.0);
    // v_j = relu(sign·(factor·μ − M_j)) = relu(−sign·(M_j − factor·μ)), the half's constants
    // picked by the kind row with the vector unit's mask operations (no branch per entry).
    auto violations = [&](const Real* m, const Real* kind, Real* v) {
        std::copy(m, m + n, v);
        detail::splitShift(v, kind, n, target[0], target[1]);
        detail::splitScale(v, v, kind, n, -sign[0], -sign[1]);
        for (int j = 0; j < n; ++j) v[j] = v[j] > 0.0 ? v[j] : 0.0;
    };
    // sums [0], [1]: Σ v² per half; [2], [3]: Σ v per half; counts: active pairs per half.
    pairRows.run(false, nullptr, [&](int a, detail::PairRowChunk& part) {
        Real* kind = part.second.data();
        Real *v = part.first.data(), *squares = part.third.data(), *active = part.fourth.data();
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(a)], kind, n);
        violations(part.row.data(), kind, v);
        for (int j = 0; j < n; ++j) {
            squares[j] = v[j] * v[j];
            active[j] = v[j] > 0.0 ? 1.0 : 0.0;
        }
        std::array<Real, 6> sums{};
        detail::splitSumOffDiagonal(squares, kind, n, a, &sums[0], &sums[1]);
        detail::splitSumOffDiagonal(v, kind, n, a, &sums[2], &sums[3]);
        detail::splitSumOffDiagonal(active, kind, n, a, &sums[4], &sums[5]);
        for (std::size_t k = 0; k < 4; ++k) part.sums[k] += sums[k];
        part.counts[0] += static_cast<Count>(sums[4]);  // sums of ones: exact
        part.counts[1] += static_cast<Count>(sums[5]);
        return false;
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives + counts.negatives;
    out.stats.active = pairRows.count(0) + pairRows.count(1);
    out.value = 0.0;
    // ∂(mean relu(v)²)/∂M_j = sign·(factor/|half|·Σ_k 2v_k/|half| − 2v_j/|half|)  (∂v_k/∂M_j = sign·(factor/|half| − [j = k])).
    std::array<Real, 2> constant{}, slope{};
    for (std::size_t h = 0; h < 2; ++h) {
        if (size[h] == 0.0) continue;
        out.value += pairRows.sum(h) / size[h];
        constant[h] = sign[h] * (2.0 * pairRows.sum(2 + h) / size[h]) * factor[h] / size[h];
        slope[h] = sign[h] * 2.0 / size[h];
    }
    if (!withGradient) return out;
    pairRows.run(true, input.splitForces ? &labels : nullptr, [&](int a, detail::PairRowChunk& part) {
        Real* kind = part.second.data();
        Real* v = part.first.data();
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(a)], kind, n);
        violations(part.row.data(), kind, v);
        // constant − slope·v = −(slope·v − constant), per half.
        Real* grad = part.gradRow.data();
        detail::splitScale(grad, v, kind, n, slope[0], slope[1]);
        detail::splitShift(grad, kind, n, constant[0], constant[1]);
        for (int j = 0; j < n; ++j) grad[j] = -grad[j];
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
    // Before the fused every-pair path: with a reference the pairs index the reference.
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    if (detail::usesEveryTuple(input))
        return ipvOverEveryPair(input, withGradient, m_distance, m_positiveEpsilon, m_negativeEpsilon);
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    if (positives.size() <= 1 && negatives.size() <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    return detail::overListedPairs(input, withGradient, m_distance, [&](const Matrix& m, Matrix* grad) {
        return overLists(m, grad, positives, negatives);
    });
}

LossOutput IntraPairVarianceLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's pair-based loss with ref_emb: the same halves on M = distance(batch, reference) over
    // the listed pairs (every batch × reference pair without tuples, no self pair removed); the
    // gradient stops at the reference.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    if (positives.size() <= 1 && negatives.size() <= 1)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    return detail::overListedPairs(input, withGradient, m_distance, [&](const Matrix& m, Matrix* grad) {
        return overLists(m, grad, positives, negatives);
    });
}

LossOutput IntraPairVarianceLoss::overLists(const Matrix& m, Matrix* grad, const std::vector<Pair>& positives,
                                            const std::vector<Pair>& negatives) const {
    const bool withGradient = grad != nullptr;
    LossOutput out;
    out.stats.tupleKind = "pairs";

    // One half: v_k = c·μ − M_k (sign +1) or M_k − c·μ (sign −1), term relu(v)², mean over k.
    // PML's incentivize_increase picks the form: positives of a similarity and negatives of a
    // distance should grow (v = (1 − ε)μ − M), the others should shrink (v = M − (1 + ε)μ).
    // Each pass over a list runs on the engine's threads in runs of anchor rows (PairRuns).
    const Eigen::Index n = m.rows();
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
            Matrix& g = *grad;
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
    return out;
}

}  // namespace marginlab

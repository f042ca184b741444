// SPDX-License-Identifier: MIT
#include "marginlab/losses/tuplet_margin.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"

namespace marginlab {

namespace {

// Every ordered pair (no miner): one fused pass over the cosine rows (pair_rows.h), no pair
// lists and no N×N matrix. Row a holds all of anchor a's pairs, so its negatives' sum, its
// positives' terms and its whole row of ∂L/∂s are found together; rows run on the engine's
// threads in AnchorChunks, the same runs as the listing path's PairRuns.
LossOutput tupletOverEveryPair(const LossInput& input, bool withGradient, Real margin, Real scale) {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0 || counts.negatives == 0 || (counts.positives <= 1 && counts.negatives <= 1))
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    const Real count = static_cast<Real>(counts.positives);
    // cos(θ − m) = cos θ cos m + sin θ sin m with sin θ = √(1 − s²) ≥ 0 (θ ∈ [0, π]): no arccos.
    const Real cosMargin = std::cos(margin), sinMargin = std::sin(margin);
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), input.embeddings);
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int a, detail::PairRowChunk& part) {
        const Real* s = part.row.data();
        Real* kind = part.second.data();
        detail::sameLabelRow(labels, labels[static_cast<std::size_t>(a)], kind, n);
        // log Σ_n e^{scale·s_an} over the row's negatives (kind 0), shifted by their largest.
        Real* exps = part.first.data();
        for (int j = 0; j < n; ++j) exps[j] = scale * s[j];
        Real topPositive = 0.0, top = 0.0;
        detail::splitMax(exps, kind, n, &topPositive, &top);
        if (!std::isfinite(top)) return false;  // no negative: log(1 + 0) = 0 for each positive
        Real sameLabel = 0.0, sum = 0.0;
        detail::splitShiftExpSum(exps, exps, kind, n, std::numeric_limits<Real>::infinity(), top, &sameLabel,
                                 &sum);
        const Real logSum = top + std::log(sum);
        // ℓ_ap = softplus(z_ap), z_ap = logSum − scale·cos(θ_ap − m), for the row's positives at once.
        std::vector<int>& positives = part.indices;
        positives.clear();
        for (int j = 0; j < n; ++j)
            if (kind[j] != 0.0 && j != a) positives.push_back(j);
        Real* z = part.third.data();
        Real* slopes = part.fourth.data();
        Real* sines = part.gradRow.data();  // scratch until the gradient row is written
        const auto positiveCount = static_cast<Eigen::Index>(positives.size());
        for (Eigen::Index k = 0; k < positiveCount; ++k) {
            const Real cosine = std::clamp(s[positives[static_cast<std::size_t>(k)]], Real(-1), Real(1));
            sines[k] = std::sqrt(std::max(Real(0), 1.0 - cosine * cosine));
            z[k] = logSum - scale * (cosine * cosMargin + sines[k] * sinMargin);
        }
        std::vector<Real>& values = part.masked;  // free until the row's backward pass
        values.resize(static_cast<std::size_t>(positiveCount));
        detail::simd::kernels().softplusRow(z, positiveCount, detail::expconst::kTable.data(), values.data(),
                                            slopes);
        Real total = part.total, negativeShare = 0.0;
        for (Eigen::Index k = 0; k < positiveCount; ++k) {
            total += values[static_cast<std::size_t>(k)];
            if (values[static_cast<std::size_t>(k)] > 0.0) ++part.active;
            negativeShare += slopes[k];
        }
        part.total = total;
        if (!withGradient) return false;
        // ∂ℓ/∂s_an = scale·σ(z)·softmax_n over the negatives; ∂ℓ/∂s_ap = −scale·σ(z)·sin(θ−m)/sin θ.
        for (Eigen::Index k = 0; k < positiveCount; ++k) {
            const Real cosine = std::clamp(s[positives[static_cast<std::size_t>(k)]], Real(-1), Real(1));
            const Real sine = sines[k];
            slopes[k] *=
                -scale * (sine * cosMargin - cosine * sinMargin) / std::max(sine, Real(1e-12)) / count;
        }
        Real* grad = part.gradRow.data();
        detail::splitScale(grad, exps, kind, n, 0.0, scale * negativeShare / sum / count);
        for (Eigen::Index k = 0; k < positiveCount; ++k)
            grad[positives[static_cast<std::size_t>(k)]] = slopes[k];
        return true;
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives;
    out.stats.active = pairRows.active();
    out.value = pairRows.total() / count;
    if (withGradient) {
        out.gradEmbeddings = pairRows.gradient(1.0);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace

TupletMarginLoss::TupletMarginLoss(Real marginDegrees, Real scale)
    : m_margin(marginDegrees * std::acos(-1.0) / 180.0), m_scale(scale) {}

/// The listed pairs' loss on a cosine matrix s (rows: anchors, columns: partners, the batch itself
/// or a reference); adds ∂L/∂s into *grad. Shared by the listing path and the reference-set path.
LossOutput TupletMarginLoss::overLists(const Matrix& s, Matrix* grad, const std::vector<Pair>& positives,
                                       const std::vector<Pair>& negatives) const {
    const Eigen::Index n = s.rows();
    const bool withGradient = grad != nullptr;
    // Σ_n e^{scale·(s_an − q)} = e^{−scale·q} · Σ_n e^{scale·s_an}: the sum over the anchor's
    // listed negatives (duplicates counted, as PML's keep_mask does) is shared by all of its
    // positive pairs, so ℓ_ap = softplus(log Σ_n e^{scale·s_an} − scale·q_ap), O(N²) in all.
    std::vector<Real> top(static_cast<std::size_t>(n), -std::numeric_limits<Real>::infinity());
    std::vector<Real> shiftedSum(static_cast<std::size_t>(n), 0.0);
    // Every pass runs on the engine's threads in runs of anchor rows (PairRuns): what it writes
    // per anchor or per matrix entry belongs to the run's own rows.
    const detail::PairRuns negativeRuns(negatives, n), positiveRuns(positives, n);
    detail::sumOverPairRuns(negativeRuns, [&](int, std::span<const Pair> run, detail::SampleTally&) {
        for (const Pair& pair : run)
            top[static_cast<std::size_t>(pair[0])] =
                std::max(top[static_cast<std::size_t>(pair[0])], m_scale * s(pair[0], pair[1]));
        for (const Pair& pair : run)
            shiftedSum[static_cast<std::size_t>(pair[0])] +=
                std::exp(m_scale * s(pair[0], pair[1]) - top[static_cast<std::size_t>(pair[0])]);
    });
    const Real count = static_cast<Real>(positives.size());
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size());
    std::vector<Real> negativeShare(static_cast<std::size_t>(n), 0.0);  // Σ_p σ(z_ap) per anchor
    const detail::SampleTally tally =
        detail::sumOverPairRuns(positiveRuns, [&](int, std::span<const Pair> run, detail::SampleTally& part) {
            for (const Pair& pair : run) {
                const int a = pair[0], p = pair[1];
                const auto k = static_cast<std::size_t>(a);
                if (shiftedSum[k] == 0.0) continue;  // no listed negative: log(1 + 0) = 0
                const Real cosine = std::clamp(s(a, p), Real(-1), Real(1));
                const Real theta = std::acos(cosine);
                const Real z = top[k] + std::log(shiftedSum[k]) - m_scale * std::cos(theta - m_margin);
                const Real term = detail::softplus(z);
                part.total += term;
                if (term > 0.0) ++part.active;
                if (!withGradient) continue;
                const Real share = detail::softplusDerivative(z);
                negativeShare[k] += share;
                const Real slope = std::sin(theta - m_margin) / std::max(std::sin(theta), Real(1e-12));
                (*grad)(a, p) -= m_scale * share * slope / count;
            }
        });
    out.stats.active = tally.active;
    const Real total = tally.total;
    if (withGradient)
        detail::sumOverPairRuns(negativeRuns, [&](int, std::span<const Pair> run, detail::SampleTally&) {
            for (const Pair& pair : run) {
                const auto k = static_cast<std::size_t>(pair[0]);
                const Real weight = std::exp(m_scale * s(pair[0], pair[1]) - top[k]) / shiftedSum[k];
                (*grad)(pair[0], pair[1]) += m_scale * negativeShare[k] * weight / count;
            }
        });
    out.value = total / count;
    return out;
}

LossOutput TupletMarginLoss::evaluate(const LossInput& input, bool withGradient) const {
    // Before the fused every-pair path: with a reference the pairs index the reference.
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    if (detail::usesEveryTuple(input)) return tupletOverEveryPair(input, withGradient, m_margin, m_scale);
    std::vector<Pair> positives, negatives;
    detail::pairLists(input, &positives, &negatives);
    if (positives.empty() || negatives.empty() || (positives.size() <= 1 && negatives.size() <= 1))
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    return detail::overListedPairs(
        input, withGradient, DistanceSpec::cosine(),
        [&](const Matrix& m, Matrix* grad) { return overLists(m, grad, positives, negatives); });
}

LossOutput TupletMarginLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's pair-based loss with ref_emb: the same terms on the batch × reference cosine matrix,
    // the listed pairs as listed (every batch × reference pair without tuples, no self pair
    // removed); the gradient stops at the reference.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    if (positives.empty() || negatives.empty() || (positives.size() <= 1 && negatives.size() <= 1))
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    return detail::overListedPairs(
        input, withGradient, DistanceSpec::cosine(),
        [&](const Matrix& m, Matrix* grad) { return overLists(m, grad, positives, negatives); });
}

}  // namespace marginlab

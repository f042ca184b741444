// SPDX-License-Identifier: MIT
#include "marginlab/losses/pnp.h"

#include <algorithm>
#include <cmath>

#include "losses/common.h"
#include "losses/pair_family_support.h"

namespace marginlab {

PnpLoss::PnpLoss(Real b, Real alpha, Real anneal, Variant variant)
    : m_b(b), m_alpha(alpha), m_anneal(anneal), m_variant(variant) {}

LossOutput PnpLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    std::vector<int> sameCount(static_cast<std::size_t>(n), 0);
    int queries = 0;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j)
            if (y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)])
                ++sameCount[static_cast<std::size_t>(i)];
        if (sameCount[static_cast<std::size_t>(i)] > 1) ++queries;
    }
    if (queries == 0) return detail::zeroOutputWithKind(input, withGradient, "queries");
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    // f(R) and f'(R) of the variant.
    auto shape = [&](Real r, Real* slope) {
        switch (m_variant) {
            case Variant::Ds:
                *slope = 1.0 / (1.0 + r);
                return std::log1p(r);
            case Variant::Dq:
                *slope = -m_alpha * std::pow(1.0 + r, -m_alpha - 1.0);
                return std::pow(1.0 + r, -m_alpha);
            case Variant::Iu:
                *slope = std::log1p(r) + 1.0;
                return (1.0 + r) * std::log1p(r);
            case Variant::Ib:
                *slope = (m_b - m_b / (1.0 + m_b * r)) / (m_b * m_b);
                return (m_b * r - std::log1p(m_b * r)) / (m_b * m_b);
            case Variant::O:
                break;
        }
        *slope = 1.0;
        return r;
    };
    LossOutput out;
    out.stats.tupleKind = "queries";
    out.stats.tuples = queries;
    const Real sign = m_variant == Variant::Dq ? -1.0 : 1.0;  // Dq: loss = 1 − Σ
    // σ((s_ik − s_ij)/τ) = 1/(1 + e^{s_ij/τ}·e^{−s_ik/τ}): one exponential per (i,k) and per
    // (i,j) instead of one per (i,j,k). PML clamps the exponent to [−50, 50] (no gradient there).
    const Real clampedHigh = 1.0 / (1.0 + std::exp(-50.0)), clampedLow = 1.0 / (1.0 + std::exp(50.0));
    // Queries are independent (each writes its own row of ∂L/∂s): runs of them on the engine's threads.
    Matrix& g = workspace.gradient();
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, n, [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<int> negatives;
            std::vector<Real> negativeSimilarity, negativeFactor, sig, derivative;
            for (int i = static_cast<int>(begin); i < static_cast<int>(end); ++i) {
                const int positives = sameCount[static_cast<std::size_t>(i)];
                if (positives <= 1) continue;
                negatives.clear();
                negativeFactor.clear();
                negativeSimilarity.clear();
                for (int k = 0; k < n; ++k)
                    if (y[static_cast<std::size_t>(k)] != y[static_cast<std::size_t>(i)]) {
                        negatives.push_back(k);
                        negativeSimilarity.push_back(s(i, k));
                        negativeFactor.push_back(std::exp(-s(i, k) / m_anneal));
                    }
                sig.resize(negatives.size());
                derivative.resize(negatives.size());
                Real term = 0.0;
                for (int j = 0; j < n; ++j) {
                    if (y[static_cast<std::size_t>(j)] != y[static_cast<std::size_t>(i)]) continue;
                    const Real positiveFactor = std::exp(s(i, j) / m_anneal);
                    Real rank = 0.0;
                    for (std::size_t q = 0; q < negatives.size(); ++q) {
                        const Real t = (negativeSimilarity[q] - s(i, j)) / m_anneal;
                        if (t > 50.0 || t < -50.0) {
                            sig[q] = t > 0.0 ? clampedHigh : clampedLow;
                            derivative[q] = 0.0;
                        } else {
                            sig[q] = 1.0 / (1.0 + positiveFactor * negativeFactor[q]);
                            derivative[q] = sig[q] * (1.0 - sig[q]) / m_anneal;
                        }
                        rank += sig[q];
                    }
                    Real slope = 0.0;
                    term += shape(rank, &slope) / positives;
                    if (!withGradient) continue;
                    // ∂f/∂s_ik = f'(R)σ'_k, ∂f/∂s_ij = −f'(R) Σ_k σ'_k; the diagonal s_ii is a constant.
                    const Real scale = sign * slope / (positives * Real(n));
                    Real towardsPositive = 0.0;
                    for (std::size_t q = 0; q < negatives.size(); ++q) {
                        g(i, negatives[q]) += scale * derivative[q];
                        towardsPositive -= scale * derivative[q];
                    }
                    if (j != i) g(i, j) += towardsPositive;
                }
                part.total += term;
                if (term != 0.0) ++part.active;
            }
        });
    out.stats.active = tally.active;
    const Real total = tally.total;
    out.value = total / Real(n);
    if (m_variant == Variant::Dq) out.value = 1.0 - out.value;
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(y);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

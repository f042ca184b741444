// SPDX-License-Identifier: MIT
#include "marginlab/losses/multi_similarity.h"

#include "losses/pair_family_support.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace marginlab {

MultiSimilarityLoss::MultiSimilarityLoss(Real positiveScale, Real negativeScale, Real base)
    : m_positiveScale(positiveScale), m_negativeScale(negativeScale), m_base(base) {}

LossOutput MultiSimilarityLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());

    // Which pairs each anchor sees. Mined lists are written into a mask, exactly as PML's
    // GenericPairLoss does (pos_mask[a1, p] = 1): a pair listed twice counts once. Without a
    // miner the labels decide directly (no mask to allocate).
    std::optional<detail::PairMask> mask;
    Count positiveListed = 0, negativeListed = 0;
    const bool mined = input.tuples && !(input.tuples->kind == Tuples::Kind::All && !input.tuples->filter);
    if (mined) {
        std::vector<Pair> positives, negatives;
        materializePairs(*input.tuples, input.embeddings, labels, &positives, &negatives);
        positiveListed = static_cast<Count>(positives.size());
        negativeListed = static_cast<Count>(negatives.size());
        mask = detail::PairMask::fromPairs(n, positives, negatives);
    } else {
        const detail::PairCounts counts = detail::countPairs(labels);
        positiveListed = counts.positives;
        negativeListed = counts.negatives;
    }
    // PML: "every index list has length ≤ 1" → 0.
    if (positiveListed <= 1 && negativeListed <= 1) return detail::zeroOutputWithKind(input, withGradient, "anchors");
    // 1 = positive pair, 2 = negative pair, 0 = not used (a mined pair in both lists is taken as positive).
    auto pairKind = [&](int i, int j) -> std::uint8_t {
        if (mask) return mask->positive(i, j) ? 1 : (mask->negative(i, j) ? 2 : 0);
        if (labels[i] != labels[j]) return 2;
        return i != j ? 1 : 0;
    };

    detail::PairwiseWorkspace& workspace = detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    const Real anchorCount = static_cast<Real>(n);

    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    Matrix& gradMatrix = workspace.gradient();  // zeroed by the workspace when withGradient
    std::vector<Real> exponent(static_cast<std::size_t>(n));
    std::vector<std::uint8_t> kind(static_cast<std::size_t>(n));  // 0 none, 1 positive, 2 negative
    Real total = 0.0;
    for (int i = 0; i < n; ++i) {
        // log(1 + Σ e^z) is shifted by max(0, max z) for stability (the "1" is e^0).
        Real topPositive = 0.0, topNegative = 0.0;
        bool anyPositive = false, anyNegative = false;
        for (int j = 0; j < n; ++j) {
            const auto k = static_cast<std::size_t>(j);
            kind[k] = pairKind(i, j);
            if (kind[k] == 1) {
                exponent[k] = -m_positiveScale * (s(i, j) - m_base);
                topPositive = std::max(topPositive, exponent[k]);
                anyPositive = true;
            } else if (kind[k] == 2) {
                exponent[k] = m_negativeScale * (s(i, j) - m_base);
                topNegative = std::max(topNegative, exponent[k]);
                anyNegative = true;
            }
        }
        if (!anyPositive && !anyNegative) continue;
        Real sumPositive = std::exp(-topPositive), sumNegative = std::exp(-topNegative);
        for (int j = 0; j < n; ++j) {
            const auto k = static_cast<std::size_t>(j);
            if (kind[k] == 0) continue;
            exponent[k] = detail::shiftedExp(exponent[k] - (kind[k] == 1 ? topPositive : topNegative));
            (kind[k] == 1 ? sumPositive : sumNegative) += exponent[k];
        }
        const Real termPositive = anyPositive ? (topPositive + std::log(sumPositive)) / m_positiveScale : 0.0;
        const Real termNegative = anyNegative ? (topNegative + std::log(sumNegative)) / m_negativeScale : 0.0;
        const Real term = termPositive + termNegative;
        total += term;
        if (term > 0.0) ++out.stats.active;
        if (withGradient) {
            // (1/α)·softmax·(−α) = −softmax for positives, (1/β)·softmax·β = +softmax for negatives.
            const Real positiveFactor = -1.0 / (sumPositive * anchorCount);
            const Real negativeFactor = 1.0 / (sumNegative * anchorCount);
            for (int j = 0; j < n; ++j) {
                const auto k = static_cast<std::size_t>(j);
                if (kind[k] == 1) gradMatrix(i, j) = exponent[k] * positiveFactor;
                else if (kind[k] == 2) gradMatrix(i, j) = exponent[k] * negativeFactor;
            }
        }
    }
    out.value = total / anchorCount;
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

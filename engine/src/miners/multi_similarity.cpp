// SPDX-License-Identifier: MIT
#include "marginlab/miners/multi_similarity.h"

#include "miners/miner_common.h"

#include <algorithm>
#include <limits>

namespace marginlab {

Tuples MultiSimilarityMiner::mine(const MinerInput& input) const {
    if (input.referenceEmbeddings) return mineReference(input);
    // On δ = orderSign·M both PML branches read the same (and agree with them bit for bit).
    const detail::OrderingDistances delta(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    std::vector<Pair> positives, negatives;
    for (int a = 0; a < n; ++a) {
        Real farthestPositive = -infinity, nearestNegative = infinity;
        bool hasPositive = false, hasNegative = false;
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            if (labels[j] == labels[a]) {
                hasPositive = true;
                farthestPositive = std::max(farthestPositive, delta(a, j));
            } else {
                hasNegative = true;
                nearestNegative = std::min(nearestNegative, delta(a, j));
            }
        }
        if (!hasPositive || !hasNegative) continue;
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            if (labels[j] == labels[a]) {
                if (delta(a, j) + m_epsilon > nearestNegative) positives.push_back({a, j});
            } else if (delta(a, j) - m_epsilon < farthestPositive) {
                negatives.push_back({a, j});
            }
        }
    }
    // PML returns nothing at all when the batch lacks positive or negative pairs; the per-anchor
    // test above already implies that (an anchor keeps pairs only if it has both kinds).
    return Tuples::fromPairs(std::move(positives), std::move(negatives));
}

Tuples MultiSimilarityMiner::mineReference(const MinerInput& input) const {
    // The same rule on δ(batch, reference), with no diagonal to skip: PML fills the diagonal
    // only when the reference is the batch itself, so the anchor's own copy is a positive here.
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& matrix = distance.matrix();
    const Real sign = m_distance.orderSign();
    const Labels& labels = input.labels;
    const Labels& referenceLabels = *input.referenceLabels;
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    std::vector<Pair> positives, negatives;
    for (Eigen::Index a = 0; a < matrix.rows(); ++a) {
        const int label = labels[static_cast<std::size_t>(a)];
        Real farthestPositive = -infinity, nearestNegative = infinity;
        bool hasPositive = false, hasNegative = false;
        for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
            if (referenceLabels[static_cast<std::size_t>(j)] == label) {
                hasPositive = true;
                farthestPositive = std::max(farthestPositive, sign * matrix(a, j));
            } else {
                hasNegative = true;
                nearestNegative = std::min(nearestNegative, sign * matrix(a, j));
            }
        }
        if (!hasPositive || !hasNegative) continue;
        for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
            const Real delta = sign * matrix(a, j);
            if (referenceLabels[static_cast<std::size_t>(j)] == label) {
                if (delta + m_epsilon > nearestNegative)
                    positives.push_back({static_cast<int>(a), static_cast<int>(j)});
            } else if (delta - m_epsilon < farthestPositive) {
                negatives.push_back({static_cast<int>(a), static_cast<int>(j)});
            }
        }
    }
    return Tuples::fromPairs(std::move(positives), std::move(negatives));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/miners/multi_similarity.h"

#include "miners/miner_common.h"

#include <algorithm>
#include <limits>

namespace marginlab {

Tuples MultiSimilarityMiner::mine(const MinerInput& input) const {
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

}  // namespace marginlab

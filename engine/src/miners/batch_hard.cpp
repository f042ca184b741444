// SPDX-License-Identifier: MIT
#include "marginlab/miners/batch_hard.h"

#include "miners/miner_common.h"

namespace marginlab {

Tuples BatchHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingDistances delta(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    std::vector<Triplet> triplets;
    for (int a = 0; a < n; ++a) {
        int positive = -1, negative = -1;
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            // Strict comparisons keep the first index among ties, as torch.max/min do.
            if (labels[j] == labels[a]) {
                if (positive < 0 || delta(a, j) > delta(a, positive)) positive = j;
            } else if (negative < 0 || delta(a, j) < delta(a, negative)) {
                negative = j;
            }
        }
        if (positive >= 0 && negative >= 0) triplets.push_back({a, positive, negative});
    }
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

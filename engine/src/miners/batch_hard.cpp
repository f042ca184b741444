// SPDX-License-Identifier: MIT
#include "marginlab/miners/batch_hard.h"

#include "miners/miner_common.h"

namespace marginlab {

Tuples BatchHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    struct NoScratch {};
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, NoScratch*) {
        int positive = -1, negative = -1;
        const int label = labels[static_cast<std::size_t>(a)];
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            // Strict comparisons keep the first index among ties, as torch.max/min do.
            if (labels[static_cast<std::size_t>(j)] == label) {
                if (positive < 0 || delta[j] > delta[positive]) positive = j;
            } else if (negative < 0 || delta[j] < delta[negative]) {
                negative = j;
            }
        }
        if (positive >= 0 && negative >= 0) out->push_back({a, positive, negative});
    };
    return Tuples::fromTriplets(detail::mineAnchors<NoScratch>(rows, mineAnchor));
}

}  // namespace marginlab

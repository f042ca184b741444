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
        // The chosen values ride in registers (not re-read through the index), and the choices
        // are selects rather than branches: which sample wins is data-dependent.
        int positive = -1, negative = -1;
        Real farthest = 0.0, nearest = 0.0;
        const int label = labels[static_cast<std::size_t>(a)];
        const int* y = labels.data();
        for (int j = 0; j < n; ++j) {
            const Real value = delta[j];
            const bool same = y[j] == label;
            // Strict comparisons keep the first index among ties, as torch.max/min do; the first
            // candidate is taken whatever its value (NaN included), as in the definition.
            const bool takePositive = same & (j != a) & ((positive < 0) | (value > farthest));
            const bool takeNegative = (!same) & ((negative < 0) | (value < nearest));
            positive = takePositive ? j : positive;
            farthest = takePositive ? value : farthest;
            negative = takeNegative ? j : negative;
            nearest = takeNegative ? value : nearest;
        }
        if (positive >= 0 && negative >= 0) out->push_back({a, positive, negative});
    };
    return Tuples::fromTriplets(detail::mineAnchors<NoScratch>(rows, mineAnchor));
}

}  // namespace marginlab

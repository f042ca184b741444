// SPDX-License-Identifier: MIT
#include "marginlab/miners/tfa_semihard.h"

#include "miners/miner_common.h"

#include <algorithm>

namespace marginlab {

Tuples TfaSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingDistances delta(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    std::vector<Triplet> triplets;
    std::vector<detail::RankedNegative> negatives;
    for (int a = 0; a < n; ++a) {
        detail::sortedNegatives(delta, labels, a, &negatives);
        if (negatives.empty()) continue;
        // Farthest negative, lowest index among ties: the first entry holding the largest δ
        // (the list is sorted by (δ, index)).
        const Real largest = negatives.back().first;
        const int farthest = std::partition_point(negatives.begin(), negatives.end(), [&](const detail::RankedNegative& r) {
                                 return r.first < largest;
                             })->second;
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            const Real threshold = delta(a, p);
            const auto it = std::partition_point(negatives.begin(), negatives.end(),
                                                 [&](const detail::RankedNegative& r) { return !(r.first > threshold); });
            triplets.push_back({a, p, it != negatives.end() ? it->second : farthest});
        }
    }
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

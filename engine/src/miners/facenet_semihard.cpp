// SPDX-License-Identifier: MIT
#include "marginlab/miners/facenet_semihard.h"

#include "marginlab/random.h"
#include "miners/miner_common.h"

#include <algorithm>

namespace marginlab {

Tuples FaceNetSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingDistances delta(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    Rng random(input.seed);
    std::vector<Triplet> triplets;
    std::vector<detail::RankedNegative> negatives;
    for (int a = 0; a < n; ++a) {
        detail::sortedNegatives(delta, labels, a, &negatives);
        if (negatives.empty()) continue;
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            const Real lower = delta(a, p);
            const Real upper = delta(a, p) + m_margin;
            // δ_an is non-decreasing along `negatives`, so S(a,p) is the range [first, last).
            const auto first = std::partition_point(negatives.begin(), negatives.end(),
                                                    [&](const detail::RankedNegative& r) { return !(r.first > lower); });
            const auto last = std::partition_point(first, negatives.end(),
                                                   [&](const detail::RankedNegative& r) { return r.first < upper; });
            if (first == last) continue;
            const auto pick = static_cast<std::size_t>(random.uniformInt(static_cast<std::uint64_t>(last - first)));
            triplets.push_back({a, p, (first + static_cast<std::ptrdiff_t>(pick))->second});
        }
    }
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/miners/random_negative.h"

#include "marginlab/random.h"
#include "miners/miner_common.h"

namespace marginlab {

Tuples RandomNegativeMiner::mine(const MinerInput& input) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    Rng random(input.seed);
    std::vector<Triplet> triplets;
    std::vector<int> negatives;
    for (int a = 0; a < n; ++a) {
        negatives.clear();
        for (int j = 0; j < n; ++j)
            if (labels[j] != labels[a]) negatives.push_back(j);
        if (negatives.empty()) continue;
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            triplets.push_back({a, p, negatives[random.uniformInt(negatives.size())]});
        }
    }
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

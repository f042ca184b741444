// SPDX-License-Identifier: MIT
#include "marginlab/miners/hdc.h"

#include <algorithm>
#include <cmath>

#include "miners/miner_matrix.h"

namespace marginlab {

Tuples HdcMiner::mine(const MinerInput& input) const {
    std::vector<Pair> positives, negatives;
    detail::allMinerPairs(input, &positives, &negatives);
    if (positives.empty() && negatives.empty()) return Tuples::fromPairs({}, {});
    const detail::MinerMatrix matrix(m_distance, input);
    const Matrix& m = matrix.values();
    // Hardness as an ordering distance δ (σM): hard positives have a large δ, hard negatives a small one.
    const Real sign = m_distance.orderSign();
    auto keepHardest = [&](std::vector<Pair>& pairs, bool largest) {
        const auto k =
            static_cast<std::size_t>(std::ceil(m_filterPercentage * static_cast<Real>(pairs.size())));
        auto harder = [&](const Pair& a, const Pair& b) {
            const Real da = sign * m(a[0], a[1]), db = sign * m(b[0], b[1]);
            if (da != db) return largest ? da > db : da < db;
            return a < b;
        };
        const std::size_t keep = std::min(k, pairs.size());
        std::partial_sort(pairs.begin(), pairs.begin() + static_cast<std::ptrdiff_t>(keep), pairs.end(),
                          harder);
        pairs.resize(keep);
    };
    keepHardest(positives, true);
    keepHardest(negatives, false);
    return Tuples::fromPairs(std::move(positives), std::move(negatives));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "miners/miner_common.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab::detail {

void sortedNegatives(const OrderingDistances& delta, const Labels& labels, int anchor, std::vector<RankedNegative>* out) {
    out->clear();
    const int n = static_cast<int>(labels.size());
    for (int j = 0; j < n; ++j)
        if (labels[j] != labels[anchor]) {
            // A NaN (diverged embeddings) would break std::sort's ordering contract (undefined
            // behaviour); rank it last instead, like an infinitely far negative.
            const Real value = delta(anchor, j);
            out->emplace_back(std::isnan(value) ? std::numeric_limits<Real>::infinity() : value, j);
        }
    std::sort(out->begin(), out->end());
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "miners/miner_common.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab::detail {

std::size_t MinerRandom::index(std::size_t count) {
    const auto n = static_cast<std::uint64_t>(count);
    // 2⁶⁴ mod n: raw values below it would make the low residues more likely, so redraw them.
    const std::uint64_t threshold = (std::numeric_limits<std::uint64_t>::max() - n + 1) % n;
    std::uint64_t raw = m_engine();
    while (raw < threshold) raw = m_engine();
    return static_cast<std::size_t>(raw % n);
}

Real MinerRandom::unit() {
    // The top 53 bits fill a double's mantissa exactly.
    return static_cast<Real>(m_engine() >> 11) * 0x1.0p-53;
}

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

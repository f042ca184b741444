// SPDX-License-Identifier: MIT
#include "miners/miner_common.h"

#include <algorithm>
#include <limits>

namespace marginlab::detail {

Matrix orderingDistances(const DistanceSpec& spec, const Points& embeddings) {
    const SelfDistance distance(spec, embeddings);
    // Negation is exact, so comparisons on δ give the same answers as PML's flipped comparisons on M.
    return spec.orderSign() * distance.matrix();
}

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

void sortedNegatives(const Matrix& delta, const Labels& labels, int anchor, std::vector<int>* out) {
    out->clear();
    const int n = static_cast<int>(labels.size());
    for (int j = 0; j < n; ++j)
        if (labels[j] != labels[anchor]) out->push_back(j);
    std::sort(out->begin(), out->end(), [&](int i, int j) {
        const Real di = delta(anchor, i), dj = delta(anchor, j);
        return di < dj || (di == dj && i < j);
    });
}

}  // namespace marginlab::detail

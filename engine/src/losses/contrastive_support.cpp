// SPDX-License-Identifier: MIT
#include "losses/contrastive_support.h"

namespace marginlab::detail {

PairMasks labelPairMasks(const Labels& labels) {
    PairMasks masks;
    const auto n = static_cast<Eigen::Index>(labels.size());
    masks.size = n;
    masks.positive.assign(static_cast<std::size_t>(n * n), 0);
    masks.negative.assign(static_cast<std::size_t>(n * n), 0);
    for (Eigen::Index a = 0; a < n; ++a)
        for (Eigen::Index j = 0; j < n; ++j) {
            if (a == j) continue;
            const auto at = static_cast<std::size_t>(a * n + j);
            if (labels[static_cast<std::size_t>(a)] == labels[static_cast<std::size_t>(j)]) {
                masks.positive[at] = 1;
                ++masks.positiveCount;
            } else {
                masks.negative[at] = 1;
                ++masks.negativeCount;
            }
        }
    return masks;
}

PairMasks listedPairMasks(Eigen::Index size, const std::vector<Pair>& positives, const std::vector<Pair>& negatives) {
    PairMasks masks;
    masks.size = size;
    masks.positive.assign(static_cast<std::size_t>(size * size), 0);
    masks.negative.assign(static_cast<std::size_t>(size * size), 0);
    auto mark = [size](std::vector<std::uint8_t>& mask, const std::vector<Pair>& pairs) {
        Count count = 0;
        for (const Pair& pair : pairs) {
            std::uint8_t& entry = mask[static_cast<std::size_t>(pair[0] * size + pair[1])];
            if (!entry) ++count;
            entry = 1;
        }
        return count;
    };
    masks.positiveCount = mark(masks.positive, positives);
    masks.negativeCount = mark(masks.negative, negatives);
    return masks;
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "marginlab/miners/facenet_semihard.h"

#include "marginlab/random.h"
#include "miners/miner_common.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace marginlab {

Tuples FaceNetSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real infinity = std::numeric_limits<Real>::infinity();

    // The draws are one sequence over the pairs (a ascending, then p ascending), so the work is
    // split in three: (1) on the engine's threads, each anchor's negatives are sorted (a bucket
    // sort, O(N) expected) and kept, and each pair's band S(a,p) is located as a range of them;
    // (2) in pair order, one draw per non-empty band; (3) the drawn ranks are read back. Memory:
    // one int per (anchor, negative) pair, O(N²), and no N×N matrix of distances.
    std::map<int, int> classSize;
    for (int label : labels) ++classSize[label];
    std::vector<std::size_t> negativeOffset(static_cast<std::size_t>(n) + 1, 0);
    std::vector<std::size_t> pairOffset(static_cast<std::size_t>(n) + 1, 0);
    for (int a = 0; a < n; ++a) {
        const int own = classSize[labels[static_cast<std::size_t>(a)]];
        negativeOffset[static_cast<std::size_t>(a) + 1] = negativeOffset[static_cast<std::size_t>(a)] + static_cast<std::size_t>(n - own);
        pairOffset[static_cast<std::size_t>(a) + 1] = pairOffset[static_cast<std::size_t>(a)] + static_cast<std::size_t>(own - 1);
    }
    std::vector<int> sortedNegatives(negativeOffset.back());
    std::vector<int> bandFirst(pairOffset.back()), bandSize(pairOffset.back());

    const detail::AnchorChunks chunks(n);
    const int workerCount = detail::chunkWorkers(chunks.count());
    struct Scratch {
        std::vector<Real> delta;
        std::vector<detail::RankedNegative> negatives, spare;
        std::vector<Real> values;
        detail::GapLocator sorter;
    };
    std::vector<Scratch> scratch(static_cast<std::size_t>(workerCount));
    detail::forEachChunk(chunks.count(), workerCount, [&](int chunk, int worker) {
        Scratch& s = scratch[static_cast<std::size_t>(worker)];
        s.delta.resize(static_cast<std::size_t>(n));
        for (Eigen::Index anchor = chunks.begin(chunk); anchor < chunks.end(chunk); ++anchor) {
            const int a = static_cast<int>(anchor);
            rows.row(a, s.delta.data());
            const int label = labels[static_cast<std::size_t>(a)];
            s.negatives.clear();
            for (int j = 0; j < n; ++j)
                if (labels[static_cast<std::size_t>(j)] != label)
                    // NaN would break the ordering: ranked last, as sortedNegatives() does.
                    s.negatives.emplace_back(std::isnan(s.delta[static_cast<std::size_t>(j)]) ? infinity
                                                                                                : s.delta[static_cast<std::size_t>(j)],
                                             j);
            // (δ, index) order either way: the bucket sort orders each cell by the same pairs.
            if (!s.sorter.sortWithTable(&s.negatives, &s.spare)) std::sort(s.negatives.begin(), s.negatives.end());
            int* kept = sortedNegatives.data() + negativeOffset[static_cast<std::size_t>(a)];
            s.values.resize(s.negatives.size());
            for (std::size_t k = 0; k < s.negatives.size(); ++k) {
                kept[k] = s.negatives[k].second;
                s.values[k] = s.negatives[k].first;
            }
            std::size_t slot = pairOffset[static_cast<std::size_t>(a)];
            for (int p = 0; p < n; ++p) {
                if (p == a || labels[static_cast<std::size_t>(p)] != label) continue;
                const Real lower = s.delta[static_cast<std::size_t>(p)];
                const Real upper = lower + m_margin;
                // δ_an is non-decreasing along the sorted negatives, so S(a,p) is the range [first, last).
                const auto first = std::partition_point(s.values.begin(), s.values.end(), [&](Real v) { return !(v > lower); });
                const auto last = std::partition_point(first, s.values.end(), [&](Real v) { return v < upper; });
                bandFirst[slot] = static_cast<int>(first - s.values.begin());
                bandSize[slot] = static_cast<int>(last - first);
                ++slot;
            }
        }
    });

    Rng random(input.seed);
    std::vector<Triplet> triplets;
    for (int a = 0; a < n; ++a) {
        if (negativeOffset[static_cast<std::size_t>(a) + 1] == negativeOffset[static_cast<std::size_t>(a)]) continue;
        const int label = labels[static_cast<std::size_t>(a)];
        std::size_t slot = pairOffset[static_cast<std::size_t>(a)];
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[static_cast<std::size_t>(p)] != label) continue;
            const int size = bandSize[slot];
            const int first = bandFirst[slot];
            ++slot;
            if (size == 0) continue;
            const auto pick = static_cast<std::size_t>(random.uniformInt(static_cast<std::uint64_t>(size)));
            triplets.push_back(
                {a, p, sortedNegatives[negativeOffset[static_cast<std::size_t>(a)] + static_cast<std::size_t>(first) + pick]});
        }
    }
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

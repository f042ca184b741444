// SPDX-License-Identifier: MIT
#include "marginlab/miners/facenet_semihard.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "marginlab/random.h"
#include "miners/miner_common.h"

namespace marginlab {

Tuples FaceNetSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real infinity = std::numeric_limits<Real>::infinity();

    // The draws are one sequence over the pairs (a ascending, then p ascending), so the work is
    // split in three: (1) on the engine's threads, each anchor's negatives are sorted by
    // (δ_an, n) (a bucket sort, O(N) expected) and kept, and each pair's band S(a,p) located as
    // a range of them; (2) in pair order, one draw per non-empty band; (3) on the threads again,
    // the drawn members read back. Memory: one int per (anchor, negative), O(N²); no N×N matrix
    // of distances.
    std::map<int, int> classSize;
    for (int label : labels) ++classSize[label];
    std::vector<std::size_t> negativeOffset(static_cast<std::size_t>(n) + 1, 0);
    std::vector<std::size_t> pairOffset(static_cast<std::size_t>(n) + 1, 0);
    for (int a = 0; a < n; ++a) {
        const int own = classSize[labels[static_cast<std::size_t>(a)]];
        negativeOffset[static_cast<std::size_t>(a) + 1] =
            negativeOffset[static_cast<std::size_t>(a)] + static_cast<std::size_t>(n - own);
        pairOffset[static_cast<std::size_t>(a) + 1] =
            pairOffset[static_cast<std::size_t>(a)] + static_cast<std::size_t>(own - 1);
    }
    std::vector<int> sortedNegatives(negativeOffset.back());
    // Per pair slot (each anchor's positives in index order): where its band starts among the
    // anchor's sorted negatives, and its size (after the draws: the drawn rank + 1, or 0).
    std::vector<int> bandFirst(pairOffset.back(), 0), band(pairOffset.back(), 0);

    const detail::AnchorChunks chunks(n);
    const int workerCount = detail::chunkWorkers(chunks.count());
    struct Scratch {
        std::vector<Real> delta;
        std::vector<detail::RankedNegative> negatives, spare, positives;
        std::vector<Real> values;
        detail::GapLocator sorter;
        detail::RankedValues ordered;
        std::vector<int> slotOf;  // per sample: its slot among the anchor's positives
    };
    std::vector<Scratch> scratch(static_cast<std::size_t>(workerCount));
    detail::forEachChunk(chunks.count(), workerCount, [&](int chunk, int worker) {
        Scratch& s = scratch[static_cast<std::size_t>(worker)];
        s.delta.resize(static_cast<std::size_t>(n));
        s.slotOf.resize(static_cast<std::size_t>(n));
        for (Eigen::Index anchor = chunks.begin(chunk); anchor < chunks.end(chunk); ++anchor) {
            const int a = static_cast<int>(anchor);
            rows.row(a, s.delta.data());
            const Real* delta = s.delta.data();
            const int label = labels[static_cast<std::size_t>(a)];
            s.negatives.clear();
            s.positives.clear();
            int slot = 0;
            for (int j = 0; j < n; ++j) {
                if (labels[static_cast<std::size_t>(j)] != label) {
                    // NaN (diverged points) would break the sort's contract: ranked last, as +∞.
                    s.negatives.emplace_back(std::isnan(delta[j]) ? infinity : delta[j], j);
                } else if (j != a) {
                    s.slotOf[static_cast<std::size_t>(j)] = slot++;
                    // "δ_an > NaN" never holds: a NaN δ_ap has an empty band (its slot stays 0).
                    if (!std::isnan(delta[j])) s.positives.emplace_back(delta[j], j);
                }
            }
            if (s.negatives.empty()) continue;  // no band, no draw
            // (δ, index) order either way: the bucket sort orders each cell by the same pairs.
            if (!s.sorter.sortWithTable(&s.negatives, &s.spare))
                std::sort(s.negatives.begin(), s.negatives.end());
            int* kept = sortedNegatives.data() + negativeOffset[static_cast<std::size_t>(a)];
            const std::size_t count = s.negatives.size();
            s.values.resize(count);
            for (std::size_t k = 0; k < count; ++k) {
                kept[k] = s.negatives[k].second;
                s.values[k] = s.negatives[k].first;
            }
            // The positives in δ_ap order: both ends of the band only move forward, so two
            // cursors walk the sorted negatives once (O(P + K), not 2P binary searches).
            s.ordered.assign(&s.positives);
            const std::size_t base = pairOffset[static_cast<std::size_t>(a)];
            std::size_t first = 0, last = 0;
            for (const auto& [lower, p] : s.ordered.items()) {
                // The definition's comparisons: first = #{δ_an ≤ δ_ap} (as "!(δ_an > δ_ap)"),
                // last = #{δ_an < fl(δ_ap + margin)}; fl(x + m) is non-decreasing in x (m ≥ 0).
                const Real upper = lower + m_margin;
                while (first < count && !(s.values[first] > lower)) ++first;
                if (last < first) last = first;
                while (last < count && s.values[last] < upper) ++last;
                const std::size_t at = base + static_cast<std::size_t>(s.slotOf[static_cast<std::size_t>(p)]);
                bandFirst[at] = static_cast<int>(first);
                band[at] = static_cast<int>(last - first);
            }
        }
    });

    Rng random(input.seed);
    for (int& size : band)
        if (size > 0) size = static_cast<int>(random.uniformInt(static_cast<std::uint64_t>(size))) + 1;

    std::vector<std::vector<Triplet>> found(static_cast<std::size_t>(chunks.count()));
    detail::forEachChunk(chunks.count(), workerCount, [&](int chunk, int) {
        std::vector<Triplet>& out = found[static_cast<std::size_t>(chunk)];
        // At most one triplet per positive pair of the chunk's anchors: reserved once, so the list
        // never reallocates (each reallocation copies it and touches fresh pages).
        out.reserve(pairOffset[static_cast<std::size_t>(chunks.end(chunk))] -
                    pairOffset[static_cast<std::size_t>(chunks.begin(chunk))]);
        for (Eigen::Index anchor = chunks.begin(chunk); anchor < chunks.end(chunk); ++anchor) {
            const int a = static_cast<int>(anchor);
            const int label = labels[static_cast<std::size_t>(a)];
            const int* kept = sortedNegatives.data() + negativeOffset[static_cast<std::size_t>(a)];
            std::size_t slot = pairOffset[static_cast<std::size_t>(a)];
            for (int p = 0; p < n; ++p) {
                if (p == a || labels[static_cast<std::size_t>(p)] != label) continue;
                if (band[slot] > 0) out.push_back({a, p, kept[bandFirst[slot] + band[slot] - 1]});
                ++slot;
            }
        }
    });
    std::size_t total = 0;
    for (const auto& part : found) total += part.size();
    std::vector<Triplet> triplets;
    triplets.reserve(total);
    for (const auto& part : found) triplets.insert(triplets.end(), part.begin(), part.end());
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

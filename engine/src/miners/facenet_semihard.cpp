// SPDX-License-Identifier: MIT
#include "marginlab/miners/facenet_semihard.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "marginlab/random.h"
#include "miners/miner_common.h"

namespace marginlab {

namespace {

struct Buffers {
    std::vector<int> sortedNegatives, bandFirst, band, positiveOf;
    void reserve(std::size_t negatives, std::size_t pairs) {
        // Grown only: resize() would zero what it adds again after a shrink.
        if (sortedNegatives.size() < negatives) sortedNegatives.resize(negatives);
        if (bandFirst.size() < pairs) bandFirst.resize(pairs);
        if (band.size() < pairs) band.resize(pairs);
        if (positiveOf.size() < pairs) positiveOf.resize(pairs);
    }
};

}  // namespace

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
    // Each class's members in index order: an anchor's positives are its class but itself.
    std::map<int, std::vector<int>> members;
    for (int j = 0; j < n; ++j) members[labels[static_cast<std::size_t>(j)]].push_back(j);
    std::vector<std::size_t> negativeOffset(static_cast<std::size_t>(n) + 1, 0);
    std::vector<std::size_t> pairOffset(static_cast<std::size_t>(n) + 1, 0);
    for (int a = 0; a < n; ++a) {
        const int own = static_cast<int>(members.at(labels[static_cast<std::size_t>(a)]).size());
        negativeOffset[static_cast<std::size_t>(a) + 1] =
            negativeOffset[static_cast<std::size_t>(a)] + static_cast<std::size_t>(n - own);
        pairOffset[static_cast<std::size_t>(a) + 1] =
            pairOffset[static_cast<std::size_t>(a)] + static_cast<std::size_t>(own - 1);
    }
    // Kept by the calling thread between steps and never shrunk: at N = 4096 the sorted negatives
    // take 60 MB, and fresh pages each step (mapped, faulted in and zeroed) cost more than the
    // sorting. Every entry read is written first in this call (band: per anchor below).
    thread_local Buffers buffers;
    buffers.reserve(negativeOffset.back(), pairOffset.back());
    int* const sortedNegatives = buffers.sortedNegatives.data();
    // Per pair slot (each anchor's positives in index order): where its band starts among the
    // anchor's sorted negatives, its size (after the draws: the drawn rank + 1, or 0) and p.
    int* const bandFirst = buffers.bandFirst.data();
    int* const band = buffers.band.data();
    int* const positiveOf = buffers.positiveOf.data();

    const detail::AnchorChunks chunks(n);
    const int workerCount = detail::chunkWorkers(chunks.count());
    struct Scratch {
        std::vector<Real> delta;
        std::vector<int> anchors, negativeIndex;  // the chunk's anchors by class; the class's negatives
        std::vector<detail::RankedNegative> negatives;
        std::vector<std::pair<Real, std::size_t>> positives;  // (δ_ap, pair slot), δ_ap not NaN
        detail::BucketSorter sorter;
    };
    std::vector<Scratch> scratch(static_cast<std::size_t>(workerCount));
    detail::forEachChunk(chunks.count(), workerCount, [&](int chunk, int worker) {
        Scratch& s = scratch[static_cast<std::size_t>(worker)];
        s.delta.resize(static_cast<std::size_t>(n));
        // The chunk's anchors class by class, so that each class's list of negatives is built
        // once per chunk rather than split out of every anchor's row.
        s.anchors.resize(static_cast<std::size_t>(chunks.end(chunk) - chunks.begin(chunk)));
        std::iota(s.anchors.begin(), s.anchors.end(), static_cast<int>(chunks.begin(chunk)));
        std::stable_sort(s.anchors.begin(), s.anchors.end(), [&](int i, int j) {
            return labels[static_cast<std::size_t>(i)] < labels[static_cast<std::size_t>(j)];
        });
        for (std::size_t k = 0; k < s.anchors.size(); ++k) {
            const int a = s.anchors[k];
            const int label = labels[static_cast<std::size_t>(a)];
            if (k == 0 || labels[static_cast<std::size_t>(s.anchors[k - 1])] != label) {
                s.negativeIndex.clear();
                for (int j = 0; j < n; ++j)
                    if (labels[static_cast<std::size_t>(j)] != label) s.negativeIndex.push_back(j);
            }
            rows.row(a, s.delta.data());
            const Real* delta = s.delta.data();
            s.negatives.resize(s.negativeIndex.size());
            for (std::size_t i = 0; i < s.negativeIndex.size(); ++i) {
                const int j = s.negativeIndex[i];
                // NaN (diverged points) would break the sort's contract: ranked last, as +∞.
                s.negatives[i] = {std::isnan(delta[j]) ? infinity : delta[j], j};
            }
            s.positives.clear();
            std::size_t slot = pairOffset[static_cast<std::size_t>(a)];
            for (int j : members.at(label)) {
                if (j == a) continue;
                positiveOf[slot] = j;
                band[slot] = 0;
                // "δ_an > NaN" never holds: a NaN δ_ap has an empty band.
                if (!std::isnan(delta[j])) s.positives.emplace_back(delta[j], slot);
                ++slot;
            }
            if (s.negatives.empty()) continue;  // no band, no draw
            s.sorter.sort(&s.negatives);
            int* kept = sortedNegatives + negativeOffset[static_cast<std::size_t>(a)];
            for (std::size_t i = 0; i < s.negatives.size(); ++i) kept[i] = s.negatives[i].second;
            for (const auto& [lower, at] : s.positives) {
                // The definition's comparisons: first = #{δ_an ≤ δ_ap} (as "!(δ_an > δ_ap)"),
                // last = #{δ_an < fl(δ_ap + margin)}.
                const int first = s.sorter.count(lower, true);
                const int last = std::max(first, s.sorter.count(lower + m_margin, false));
                bandFirst[at] = first;
                band[at] = last - first;
            }
        }
    });

    // The draws, and where each chunk's triplets start in the list (one per non-empty band).
    Rng random(input.seed);
    std::vector<std::size_t> chunkStart(static_cast<std::size_t>(chunks.count()) + 1, 0);
    for (int chunk = 0; chunk < chunks.count(); ++chunk) {
        std::size_t count = 0;
        const std::size_t end = pairOffset[static_cast<std::size_t>(chunks.end(chunk))];
        for (std::size_t slot = pairOffset[static_cast<std::size_t>(chunks.begin(chunk))]; slot < end; ++slot)
            if (band[slot] > 0) {
                band[slot] = static_cast<int>(random.uniformInt(static_cast<std::uint64_t>(band[slot]))) + 1;
                ++count;
            }
        chunkStart[static_cast<std::size_t>(chunk) + 1] = chunkStart[static_cast<std::size_t>(chunk)] + count;
    }

    std::vector<Triplet> triplets(chunkStart.back());
    detail::forEachChunk(chunks.count(), workerCount, [&](int chunk, int) {
        Triplet* out = triplets.data() + chunkStart[static_cast<std::size_t>(chunk)];
        for (Eigen::Index anchor = chunks.begin(chunk); anchor < chunks.end(chunk); ++anchor) {
            const int a = static_cast<int>(anchor);
            const int* kept = sortedNegatives + negativeOffset[static_cast<std::size_t>(a)];
            const std::size_t end = pairOffset[static_cast<std::size_t>(a) + 1];
            for (std::size_t slot = pairOffset[static_cast<std::size_t>(a)]; slot < end; ++slot)
                if (band[slot] > 0) *out++ = {a, positiveOf[slot], kept[bandFirst[slot] + band[slot] - 1]};
        }
    });
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

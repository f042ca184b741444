// SPDX-License-Identifier: MIT
#include "marginlab/miners/facenet_semihard.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "marginlab/random.h"
#include "miners/miner_common.h"
#include "random_blocks.h"

namespace marginlab {

Tuples FaceNetSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    struct Scratch {
        std::vector<detail::RankedNegative> negatives;  // (δ_an, n), NaN as +∞
        detail::BucketSorter sorter;
        std::vector<int> band, rank, width;  // per non-empty band: its positive, ranks, width
        detail::BlockRng random;             // the anchor's Rng stream, its words made a block at a time
    };
    // Per anchor: its negatives ordered by (δ_an, n) (BucketSorter, O(N) expected), each band
    // S(a,p) located as a range of them, and the draws made at once from the anchor's own stream.
    // Its own class is what the row leaves out (arrangeRow), or the bounds of the runs of
    // negatives listed when that declines.
    const detail::ClassMembers classes(labels);
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, Scratch* s) {
        int ownCount = 0;
        const int* const own = classes.of(a, &ownCount);
        if (ownCount == n) return;  // no negative: no band, no draw
        // The row arranged as it is (the usual case), or its negatives listed first (a NaN in it,
        // or a degenerate range).
        if (!s->sorter.arrangeRow(delta, n, own, ownCount)) {
            s->negatives.resize(static_cast<std::size_t>(n));
            detail::RankedNegative* const negatives = s->negatives.data();
            int count = 0;
            // The values' std::min and std::max on the way, for the sort (from ±∞: the first value
            // replaces them exactly, as the sort's own pass starting from it would).
            Real low = infinity, high = -infinity;
            auto listUpTo = [&](int j, int end) {
                for (; j < end; ++j) {
                    // NaN (diverged points) would break the sort's contract: ranked last, as +∞.
                    const Real value = std::isnan(delta[j]) ? infinity : delta[j];
                    negatives[count++] = {value, j};
                    low = std::min(low, value);
                    high = std::max(high, value);
                }
            };
            int next = 0;
            for (int k = 0; k < ownCount; ++k) {
                listUpTo(next, own[k]);
                next = own[k] + 1;
            }
            listUpTo(next, n);
            s->negatives.resize(static_cast<std::size_t>(count));
            s->sorter.arrange(&s->negatives, low, high);
        }
        // In three passes, each of independent steps (one pass of all three was a chain of
        // dependent loads and a division per positive, with little to overlap): the bands, the
        // draws in the positives' order from the anchor's own stream, then the picks.
        s->band.resize(static_cast<std::size_t>(ownCount));
        int* const bandPositive = s->band.data();
        s->rank.resize(static_cast<std::size_t>(ownCount));
        int* const rank = s->rank.data();  // per band: its first rank, then the drawn one
        s->width.resize(static_cast<std::size_t>(ownCount));
        int* const width = s->width.data();
        int bands = 0;
        for (int k = 0; k < ownCount; ++k) {
            const int p = own[k];
            const Real lower = delta[p];
            // "δ_an > NaN" never holds: an empty band, as is the anchor's own.
            if (p == a || std::isnan(lower)) continue;
            // The definition's comparisons: first = #{δ_an ≤ δ_ap} (as "!(δ_an > δ_ap)"),
            // last = #{δ_an < fl(δ_ap + margin)}.
            const int first = s->sorter.count(lower, true);
            const int last = std::max(first, s->sorter.count(lower + m_margin, false));
            bandPositive[bands] = p;
            rank[bands] = first;
            width[bands] = last - first;
            bands += last > first;  // kept only if not empty; overwritten otherwise
        }
        if (bands == 0) return;  // no draw: the stream is not even seeded
        s->random.seed(Rng::deriveSeed(input.seed, static_cast<std::uint64_t>(a)));
        for (int b = 0; b < bands; ++b)
            rank[b] += static_cast<int>(s->random.uniformInt(static_cast<std::uint64_t>(width[b])));
        for (int b = 0; b < bands; ++b) out->push_back({a, bandPositive[b], s->sorter.at(rank[b]).second});
    };
    // At most one triplet per positive pair.
    const detail::PositiveCounts positiveCounts(labels);
    return Tuples::fromTriplets(detail::mineAnchors<Scratch>(rows, mineAnchor, positiveCounts));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/miners/facenet_semihard.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "marginlab/random.h"
#include "miners/miner_common.h"

namespace marginlab {

Tuples FaceNetSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    struct Scratch {
        std::vector<detail::RankedNegative> negatives;  // (δ_an, n), NaN as +∞
        std::vector<int> positives;                     // index order
        detail::BucketSorter sorter;
    };
    // Per anchor: its negatives sorted by (δ_an, n) (a bucket sort, O(N) expected), each band
    // S(a,p) located as a range of them, and the draws made at once from the anchor's own stream.
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, Scratch* s) {
        const int label = labels[static_cast<std::size_t>(a)];
        s->negatives.resize(static_cast<std::size_t>(n));
        s->positives.resize(static_cast<std::size_t>(n));
        detail::RankedNegative* const negatives = s->negatives.data();
        int* const positives = s->positives.data();
        const int* const y = labels.data();
        // Without branches (whether j is a negative is data for the predictor): every j is
        // written, the cursors advance only for the kept ones.
        int count = 0, positiveCount = 0;
        for (int j = 0; j < n; ++j) {
            const bool negative = y[j] != label;
            // NaN (diverged points) would break the sort's contract: ranked last, as +∞.
            negatives[count] = {std::isnan(delta[j]) ? infinity : delta[j], j};
            count += negative;
            positives[positiveCount] = j;
            positiveCount += !negative & (j != a);
        }
        if (count == 0) return;  // no band, no draw
        s->negatives.resize(static_cast<std::size_t>(count));
        s->sorter.sort(&s->negatives);
        const detail::RankedNegative* sorted = s->negatives.data();
        std::optional<Rng> random;  // seeded at the first draw: many anchors draw nothing
        for (int k = 0; k < positiveCount; ++k) {
            const int p = positives[k];
            const Real lower = delta[p];
            if (std::isnan(lower)) continue;  // "δ_an > NaN" never holds: an empty band
            // The definition's comparisons: first = #{δ_an ≤ δ_ap} (as "!(δ_an > δ_ap)"),
            // last = #{δ_an < fl(δ_ap + margin)}.
            const int first = s->sorter.count(lower, true);
            const int last = std::max(first, s->sorter.count(lower + m_margin, false));
            if (last == first) continue;
            if (!random) random.emplace(Rng::deriveSeed(input.seed, static_cast<std::uint64_t>(a)));
            const auto drawn = static_cast<int>(random->uniformInt(static_cast<std::uint64_t>(last - first)));
            out->push_back({a, p, sorted[first + drawn].second});
        }
    };
    // At most one triplet per positive pair.
    const detail::PositiveCounts positiveCounts(labels);
    return Tuples::fromTriplets(detail::mineAnchors<Scratch>(rows, mineAnchor, positiveCounts));
}

}  // namespace marginlab

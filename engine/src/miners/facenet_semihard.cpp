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
        std::vector<int> positives;                     // index order
        detail::BucketSorter sorter;
        detail::BlockRng random;  // the anchor's Rng stream, its words made a block at a time
    };
    // Per anchor: its negatives ordered by (δ_an, n) (BucketSorter, O(N) expected), each band
    // S(a,p) located as a range of them, and the draws made at once from the anchor's own stream.
    // Each class's members in index order, once per call: an anchor's negatives are the runs of
    // indices between its own class's members, listed without a label test per point (that test
    // and the cursor it advanced were most of the listing).
    std::vector<int> members(static_cast<std::size_t>(n)), classStart, classOf(static_cast<std::size_t>(n));
    {
        std::vector<std::pair<int, int>> byLabel(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i)
            byLabel[static_cast<std::size_t>(i)] = {labels[static_cast<std::size_t>(i)], i};
        std::sort(byLabel.begin(), byLabel.end());
        for (int k = 0; k < n; ++k) {
            if (k == 0 ||
                byLabel[static_cast<std::size_t>(k)].first != byLabel[static_cast<std::size_t>(k) - 1].first)
                classStart.push_back(k);
            members[static_cast<std::size_t>(k)] = byLabel[static_cast<std::size_t>(k)].second;
            classOf[static_cast<std::size_t>(byLabel[static_cast<std::size_t>(k)].second)] =
                static_cast<int>(classStart.size()) - 1;
        }
        classStart.push_back(n);
    }
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, Scratch* s) {
        const int ownClass = classOf[static_cast<std::size_t>(a)];
        const int* const own = members.data() + classStart[static_cast<std::size_t>(ownClass)];
        const int ownCount = classStart[static_cast<std::size_t>(ownClass) + 1] -
                             classStart[static_cast<std::size_t>(ownClass)];
        s->negatives.resize(static_cast<std::size_t>(n));
        s->positives.resize(static_cast<std::size_t>(n));
        detail::RankedNegative* const negatives = s->negatives.data();
        int* const positives = s->positives.data();
        int count = 0, positiveCount = 0;
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
            const int member = own[k];
            listUpTo(next, member);
            next = member + 1;
            if (member != a) positives[positiveCount++] = member;
        }
        listUpTo(next, n);
        if (count == 0) return;  // no band, no draw
        s->negatives.resize(static_cast<std::size_t>(count));
        s->sorter.arrange(&s->negatives, low, high);
        bool seeded = false;  // at the first draw: many anchors draw nothing
        for (int k = 0; k < positiveCount; ++k) {
            const int p = positives[k];
            const Real lower = delta[p];
            if (std::isnan(lower)) continue;  // "δ_an > NaN" never holds: an empty band
            // The definition's comparisons: first = #{δ_an ≤ δ_ap} (as "!(δ_an > δ_ap)"),
            // last = #{δ_an < fl(δ_ap + margin)}.
            const int first = s->sorter.count(lower, true);
            const int last = std::max(first, s->sorter.count(lower + m_margin, false));
            if (last == first) continue;
            if (!seeded) {
                s->random.seed(Rng::deriveSeed(input.seed, static_cast<std::uint64_t>(a)));
                seeded = true;
            }
            const auto drawn =
                static_cast<int>(s->random.uniformInt(static_cast<std::uint64_t>(last - first)));
            out->push_back({a, p, s->sorter.at(first + drawn).second});
        }
    };
    // At most one triplet per positive pair.
    const detail::PositiveCounts positiveCounts(labels);
    return Tuples::fromTriplets(detail::mineAnchors<Scratch>(rows, mineAnchor, positiveCounts));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/miners/tfa_semihard.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "miners/miner_common.h"

namespace marginlab {

Tuples TfaSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    struct Scratch {
        std::vector<std::pair<Real, int>> positives;  // (δ_ap, p), δ_ap not NaN, for the ranks
        detail::RankedValues ranked;
        std::vector<Real> bestValue;  // per rank b: the least δ_an placed there (NaN: none yet)
        std::vector<int> bestIndex;   // and its negative
        std::vector<int> chosen;      // per sample: the negative of its pair (a, p)
        std::vector<int> negatives, ranks, members;  // the anchor's negatives (j ascending), their
        std::vector<Real> values;                    // ranks and values (NaN as +∞); its positives
        detail::BucketSorter sorter;                 // the negatives arranged from the row
    };
    // Per anchor, without sorting its negatives: with the positives sorted by δ_ap, a negative
    // qualifies ("δ_an > δ_ap") exactly for the positives below its rank b = #{p : δ_ap < δ_an},
    // so the answer for the k-th positive is the least (δ_an, n) over the negatives with b > k: a
    // suffix minimum over the ranks. A NaN δ_an (diverged points) ranks as +∞, an infinitely far negative.
    //
    // Usually (a row without NaN) the negatives are arranged from the row instead, as FaceNet's
    // miner does (BucketSorter::arrangeRow), and each positive reads its answer off them: with
    // r = #{δ_an ≤ δ_ap}, the item of rank r in (δ_an, n) order is the least negative beyond it,
    // the lowest index among ties. That is one query per positive where the ranks were one lookup
    // per negative, nine times as many.
    const detail::ClassMembers classes(labels);
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, Scratch* scratch) {
        int ownCount = 0;
        const int* const own = classes.of(a, &ownCount);
        if (ownCount == n) return;  // no negative: no triplet
        detail::BucketSorter& sorter = scratch->sorter;
        if (sorter.arrangeRow(delta, n, own, ownCount)) {
            const int negativeCount = n - ownCount;
            int farthest = -1;  // the largest δ_an, lowest index among ties: looked for when needed
            for (int k = 0; k < ownCount; ++k) {
                const int p = own[k];
                if (p == a) continue;
                const int rank = sorter.count(delta[p], true);
                if (rank == negativeCount && farthest < 0)
                    farthest = sorter.at(sorter.count(sorter.at(negativeCount - 1).first, false)).second;
                out->push_back({a, p, rank < negativeCount ? sorter.at(rank).second : farthest});
            }
            return;
        }
        const int label = labels[static_cast<std::size_t>(a)];
        const std::size_t size = static_cast<std::size_t>(n);
        scratch->negatives.resize(size);
        scratch->values.resize(size);
        scratch->members.resize(size);
        // One pass, without branches (whether j is a negative is data for the predictor): every j
        // is written and the cursors advance only for the kept ones.
        int* const negatives = scratch->negatives.data();
        Real* const values = scratch->values.data();
        int* const members = scratch->members.data();
        const int* const y = labels.data();
        int count = 0, positiveCount = 0;
        for (int j = 0; j < n; ++j) {
            const bool negative = y[j] != label;
            negatives[count] = j;
            values[count] = std::isnan(delta[j]) ? infinity : delta[j];
            count += negative;
            members[positiveCount] = j;
            positiveCount += !negative & (j != a);
        }
        if (count == 0) return;
        std::vector<std::pair<Real, int>>& positives = scratch->positives;
        positives.clear();
        bool anyNaN = false;
        for (int k = 0; k < positiveCount; ++k) {
            const int j = members[k];
            if (std::isnan(delta[j]))
                anyNaN = true;
            else
                positives.emplace_back(delta[j], j);
        }
        detail::RankedValues& ranked = scratch->ranked;
        ranked.assign(&positives);
        const int p = ranked.size();
        scratch->ranks.resize(static_cast<std::size_t>(count));
        int* const ranks = scratch->ranks.data();
        // All the ranks in one call (eight at a time on a vector unit).
        ranked.countBelowMany(values, count, ranks);
        // The least (δ_an, n) per rank. Branch-free: with j ascending, "!(v ≥ best)" keeps the
        // first of ties and takes anything over an empty (NaN) slot.
        scratch->bestValue.assign(static_cast<std::size_t>(p) + 1, std::numeric_limits<Real>::quiet_NaN());
        scratch->bestIndex.assign(static_cast<std::size_t>(p) + 1, -1);
        Real* const bestValue = scratch->bestValue.data();
        int* const bestIndex = scratch->bestIndex.data();
        int topRank = 0;
        for (int t = 0; t < count; ++t) {
            const int rank = ranks[t];
            const Real value = values[t];
            const Real held = bestValue[rank];
            // Masks rather than conditions: GCC turned the conditional stores back into a
            // branch, mispredicted about a third of the time.
            const int keep = -static_cast<int>(value >= held);
            bestValue[rank] = held < value ? held : value;  // minsd; an empty (NaN) slot takes value
            bestIndex[rank] = (bestIndex[rank] & keep) | (negatives[t] & ~keep);
            topRank = std::max(topRank, rank);
        }
        // The farthest negative (the lowest index among ties) answers the positives no negative
        // is beyond, and a NaN δ_ap; usually none, so it is looked for only then.
        int farthest = -1;
        if (anyNaN || topRank < p) {
            Real farthestValue = -infinity;
            for (int t = 0; t < count; ++t)
                if (farthest < 0 || values[t] > farthestValue) {
                    farthest = negatives[t];
                    farthestValue = values[t];
                }
        }
        // The suffix minimum: every value ranked b + 1 exceeds every value ranked b (b + 1 counts
        // a positive that the latter do not pass), so the nearest non-empty slot above k holds it.
        scratch->chosen.resize(size);
        int* const chosen = scratch->chosen.data();
        int running = farthest;
        for (int k = p - 1; k >= 0; --k) {
            if (bestIndex[k + 1] >= 0) running = bestIndex[k + 1];
            chosen[ranked.items()[static_cast<std::size_t>(k)].second] = running;
        }
        for (int k = 0; k < positiveCount; ++k) {
            const int j = members[k];
            // A NaN δ_ap is farther than nothing: the farthest negative, as the sorted search gives.
            out->push_back({a, j, std::isnan(delta[j]) ? farthest : chosen[j]});
        }
    };
    // One triplet per positive pair.
    const detail::PositiveCounts positiveCounts(labels);
    return Tuples::fromTriplets(detail::mineAnchors<Scratch>(rows, mineAnchor, positiveCounts));
}

}  // namespace marginlab

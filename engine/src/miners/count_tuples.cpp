// SPDX-License-Identifier: MIT
// countTuples (declared in marginlab/miner.h). What each count means, per tuple kind:
//   Kind::Triplets: triplets = list size; positivePairs = negativePairs = list size (the (a,p)
//                   and (a,n) pairs of the list, duplicates kept, as PML's convert_to_pairs).
//   Kind::Pairs:    positivePairs / negativePairs = list sizes; triplets = the number of
//                   (a1[i], p[i], n[j]) with a1[i] == a2[j] (what PML's convert_to_triplets forms).
//   Kind::All, no filter: triplets = Σ_a |P(a)|·|N(a)|, positivePairs = |P|, negativePairs = |Nn|.
//   Kind::All, filtered: triplets = the number of triplets TripletGapFilter::keeps; positivePairs =
//                   negativePairs = triplets (convert_to_pairs of the kept triplet list keeps one
//                   (a,p) and one (a,n) per triplet, duplicates included), matching materializePairs.
#include "marginlab/miner.h"

#include "miners/miner_common.h"

#include <algorithm>
#include <unordered_map>

namespace marginlab {

namespace {

Count countFiltered(const TripletGapFilter& filter, const Points& embeddings, const Labels& labels) {
    const detail::OrderingDistances delta(filter.distance, embeddings);
    const Matrix& m = delta.matrix();
    const Real sign = delta.sign();
    const int n = static_cast<int>(labels.size());
    Count total = 0;
    std::vector<detail::RankedNegative> negatives;
    for (int a = 0; a < n; ++a) {
        detail::sortedNegatives(delta, labels, a, &negatives);
        if (negatives.empty()) continue;
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            // The gap is computed exactly as materializeTriplets does, so the boundaries agree bit
            // for bit; it is non-decreasing along the sorted negatives (rounded subtraction and
            // negation are monotone), so each side of keeps() is a prefix/suffix of the list.
            auto gap = [&](const detail::RankedNegative& r) { return sign * (m(a, r.second) - m(a, p)); };
            const auto first = std::partition_point(negatives.begin(), negatives.end(), [&](const detail::RankedNegative& r) {
                const Real g = gap(r);
                return !(filter.includeLow ? g >= filter.low : g > filter.low);
            });
            const auto last = std::partition_point(first, negatives.end(), [&](const detail::RankedNegative& r) {
                const Real g = gap(r);
                return filter.includeHigh ? g <= filter.high : g < filter.high;
            });
            total += static_cast<Count>(last - first);
        }
    }
    return total;
}

}  // namespace

MinerCounts countTuples(const Tuples& tuples, const Points& embeddings, const Labels& labels) {
    MinerCounts out;
    switch (tuples.kind) {
    case Tuples::Kind::Triplets:
        out.triplets = static_cast<Count>(tuples.triplets.size());
        out.positivePairs = out.triplets;
        out.negativePairs = out.triplets;
        return out;
    case Tuples::Kind::Pairs: {
        out.positivePairs = static_cast<Count>(tuples.positivePairs.size());
        out.negativePairs = static_cast<Count>(tuples.negativePairs.size());
        // Each anchor forms |its positive pairs| × |its negative pairs| triplets.
        std::unordered_map<int, Count> positivesPerAnchor;
        for (const Pair& pair : tuples.positivePairs) ++positivesPerAnchor[pair[0]];
        for (const Pair& pair : tuples.negativePairs) {
            const auto it = positivesPerAnchor.find(pair[0]);
            if (it != positivesPerAnchor.end()) out.triplets += it->second;
        }
        return out;
    }
    case Tuples::Kind::All:
        break;
    }
    if (tuples.filter) {
        out.triplets = countFiltered(*tuples.filter, embeddings, labels);
        out.positivePairs = out.triplets;
        out.negativePairs = out.triplets;
        return out;
    }
    std::unordered_map<int, Count> classSize;
    for (int label : labels) ++classSize[label];
    const auto n = static_cast<Count>(labels.size());
    for (int label : labels) {
        const Count positives = classSize[label] - 1;
        const Count negatives = n - classSize[label];
        out.triplets += positives * negatives;
        out.positivePairs += positives;
        out.negativePairs += negatives;
    }
    return out;
}

}  // namespace marginlab

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
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "losses/distance_rows.h"
#include "losses/triplet_sweep.h"
#include "marginlab/miner.h"
#include "miners/miner_common.h"
#include "parallel.h"

namespace marginlab {

namespace {

Count countFiltered(const TripletGapFilter& filter, const Points& embeddings, const Labels& labels) {
    // The batch-all triplet loss's sweep with the filter and nothing else: per anchor, the
    // positives sorted once and each negative's kept range located with the exact gap predicate
    // fl(δ_an − δ_ap) (the same rounded values materializeTriplets compares: δ = sign·M and
    // sign·(M_an − M_ap) = sign·M_an − sign·M_ap exactly), O(N²) expected, one row at a time.
    // δ rows (sign applied, exactly as OrderingDistances), through the vector units' kernels.
    const detail::OrderingRows rows(filter.distance, embeddings);
    const Real sign = 1.0;
    detail::TripletSweepOptions options;
    options.filter = &filter;
    options.countKeptOnly = true;
    const detail::TripletSweep prototype(options, labels);
    const Eigen::Index n = embeddings.rows();
    const detail::AnchorChunks chunks(n);
    const int workerCount = detail::chunkWorkers(chunks.count());
    struct Worker {
        detail::TripletSweep sweep;
        std::vector<Real> row;
    };
    std::vector<Worker> workers(static_cast<std::size_t>(workerCount), Worker{prototype, {}});
    std::vector<Count> kept(static_cast<std::size_t>(chunks.count()), 0);
    detail::forEachChunk(chunks.count(), workerCount, [&](int chunk, int w) {
        Worker& worker = workers[static_cast<std::size_t>(w)];
        worker.row.resize(static_cast<std::size_t>(n));
        detail::TripletSweepTotals totals;
        for (Eigen::Index a = chunks.begin(chunk); a < chunks.end(chunk); ++a) {
            rows.row(a, worker.row.data());
            worker.sweep.anchor(static_cast<int>(a), worker.row.data(), sign, labels, &totals, nullptr);
        }
        kept[static_cast<std::size_t>(chunk)] = totals.tuples;
    });
    Count total = 0;
    for (Count part : kept) total += part;
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

// SPDX-License-Identifier: MIT
/**
 * What a miner hands to a tuple loss, in pytorch-metric-learning's two forms:
 *   - triplets (a, p, n) with y_a = y_p ≠ y_n, a ≠ p;
 *   - pairs: positive pairs (a1, p) and negative pairs (a2, n).
 * Kind::All means "every valid tuple", optionally filtered by the gap
 * δ_an − δ_ap (δ = ordering distance of the miner's distance, see distance.h). The filtered form
 * is what PML's TripletMarginMiner computes; keeping it symbolic lets the batch-all triplet loss
 * stay O(N² log N) instead of enumerating N³ triplets.
 */
#pragma once

#include "marginlab/distance.h"
#include "marginlab/types.h"

#include <array>
#include <limits>
#include <optional>
#include <vector>

namespace marginlab {

using Triplet = std::array<int, 3>;  // anchor, positive, negative
using Pair = std::array<int, 2>;     // anchor, other

/// Keep triplet (a,p,n) iff low <(=) δ_an − δ_ap <(=) high, δ measured with `distance`.
struct TripletGapFilter {
    Real low = -std::numeric_limits<Real>::infinity();
    Real high = std::numeric_limits<Real>::infinity();
    bool includeLow = false;
    bool includeHigh = true;
    DistanceSpec distance;

    bool keeps(Real gap) const {
        const bool aboveLow = includeLow ? gap >= low : gap > low;
        const bool belowHigh = includeHigh ? gap <= high : gap < high;
        return aboveLow && belowHigh;
    }
};

struct Tuples {
    enum class Kind { All, Triplets, Pairs };
    Kind kind = Kind::All;
    std::optional<TripletGapFilter> filter;  ///< Kind::All only
    std::vector<Triplet> triplets;           ///< Kind::Triplets
    std::vector<Pair> positivePairs;         ///< Kind::Pairs
    std::vector<Pair> negativePairs;         ///< Kind::Pairs

    static Tuples all() { return {}; }
    static Tuples fromTriplets(std::vector<Triplet> t) {
        Tuples out;
        out.kind = Kind::Triplets;
        out.triplets = std::move(t);
        return out;
    }
    static Tuples fromPairs(std::vector<Pair> positives, std::vector<Pair> negatives) {
        Tuples out;
        out.kind = Kind::Pairs;
        out.positivePairs = std::move(positives);
        out.negativePairs = std::move(negatives);
        return out;
    }
};

/// Every ordered positive pair (a,p), a ≠ p, y_a = y_p, in lexicographic order.
std::vector<Pair> allPositivePairs(const Labels& labels);
/// Every ordered negative pair (a,n), y_a ≠ y_n, in lexicographic order.
std::vector<Pair> allNegativePairs(const Labels& labels);

/**
 * The explicit triplet list of `tuples` (PML's convert_to_triplets): Kind::All enumerates every
 * valid triplet in (a,p,n) order and applies the filter (which needs `embeddings`); Kind::Pairs
 * forms (a1[i], p[i], n[j]) for every a1[i] == a2[j]. Enumerating is O(N³): for small N only.
 */
std::vector<Triplet> materializeTriplets(const Tuples& tuples, const Points& embeddings, const Labels& labels);

/**
 * The explicit pair lists (PML's convert_to_pairs): Kind::Triplets gives (a,p) and (a,n) for
 * every triplet (duplicates kept, as PML does); Kind::All without a filter gives all pairs.
 */
void materializePairs(const Tuples& tuples, const Points& embeddings, const Labels& labels,
                      std::vector<Pair>* positives, std::vector<Pair>* negatives);

/**
 * Against a reference set (PML's ref_emb / ref_labels, e.g. CrossBatchMemory's queue): anchors
 * index the batch (`labels`), positives and negatives index the reference (`referenceLabels`).
 * Every (a, j) with y_a = r_j is a positive pair and y_a ≠ r_j a negative one, in lexicographic
 * order; no pair is dropped as a "self" pair (PML's get_all_pairs_indices(labels, ref_labels)).
 */
void allReferencePairs(const Labels& labels, const Labels& referenceLabels, std::vector<Pair>* positives,
                       std::vector<Pair>* negatives);
/// materializeTriplets() against a reference: Kind::All enumerates (a, p, n) with a in the batch
/// and p, n in the reference (the filter measured batch → reference); Kind::Pairs as without one.
std::vector<Triplet> materializeReferenceTriplets(const Tuples& tuples, const Points& embeddings,
                                                  const Labels& labels, const Points& reference,
                                                  const Labels& referenceLabels);
/// materializePairs() against a reference (Kind::All without a filter: allReferencePairs).
void materializeReferencePairs(const Tuples& tuples, const Points& embeddings, const Labels& labels,
                               const Points& reference, const Labels& referenceLabels,
                               std::vector<Pair>* positives, std::vector<Pair>* negatives);

}  // namespace marginlab

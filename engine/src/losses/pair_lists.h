// SPDX-License-Identifier: MIT
// The explicit pair or triplet lists a pair loss works on (internal header), as PML's
// convert_to_pairs / convert_to_triplets produce them.
#pragma once

#include <vector>

#include "marginlab/loss.h"

namespace marginlab::detail {

/// True when the input asks for every valid tuple (no miner, or Kind::All without a filter).
inline bool usesEveryTuple(const LossInput& input) {
    return !input.tuples || (input.tuples->kind == Tuples::Kind::All && !input.tuples->filter);
}

/// Ordered positive and negative pairs: all of them without a miner, else the mined lists
/// (triplets split into (a,p) and (a,n), duplicates kept, as PML).
inline void pairLists(const LossInput& input, std::vector<Pair>* positives, std::vector<Pair>* negatives) {
    if (usesEveryTuple(input)) {
        *positives = allPositivePairs(input.labels);
        *negatives = allNegativePairs(input.labels);
        return;
    }
    materializePairs(*input.tuples, input.embeddings, input.labels, positives, negatives);
}

}  // namespace marginlab::detail

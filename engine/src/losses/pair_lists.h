// SPDX-License-Identifier: MIT
// The explicit pair or triplet lists a pair loss works on (internal header), as PML's
// convert_to_pairs / convert_to_triplets produce them.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "losses/common.h"
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

/**
 * A pair list cut into runs for the engine's threads. When the list is sorted by its first index
 * (every list made from the labels is), a run is the pairs whose first index lies in one
 * AnchorChunks run of rows: two runs never write the same row of an N×N matrix (repeated pairs
 * stay in one run), and the runs depend on N alone, so sums added in run order have the same bits
 * on any thread count. Any other list (mined, in the miner's order) is a single run.
 */
class PairRuns {
public:
    PairRuns(const std::vector<Pair>& pairs, Eigen::Index n);
    int count() const { return static_cast<int>(m_starts.size()) - 1; }
    std::span<const Pair> run(int r) const {
        return {m_pairs->data() + m_starts[static_cast<std::size_t>(r)],
                m_starts[static_cast<std::size_t>(r) + 1] - m_starts[static_cast<std::size_t>(r)]};
    }
    /// Where run r starts in the whole list (to index per-pair buffers).
    std::size_t offset(int r) const { return m_starts[static_cast<std::size_t>(r)]; }

private:
    const std::vector<Pair>* m_pairs;
    std::vector<std::size_t> m_starts;  // count() + 1 entries
};

/// body(run, pairs, tally) for every run on the engine's threads; the tallies added in run order.
SampleTally sumOverPairRuns(const PairRuns& runs,
                            const std::function<void(int run, std::span<const Pair> pairs, SampleTally& tally)>& body);

}  // namespace marginlab::detail

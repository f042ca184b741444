// SPDX-License-Identifier: MIT
/**
 * uniform_histogram — PML's UniformHistogramMiner(num_bins=100, pos_per_bin=10, neg_per_bin=10).
 *
 * For each kind of pair (all ordered positive pairs, all ordered negative pairs) on the miner's
 * matrix M (default normalized L2, configurable): the range [min M, max M] of that kind is cut
 * into num_bins equal bins (edges as torch.linspace makes them; bins half-open [s, e), the last
 * one closed), and from every non-empty bin pos_per_bin (neg_per_bin) pairs are drawn uniformly
 * with replacement. The draws use the engine's Rng seeded with MinerInput::seed (positives first,
 * bins in increasing order), so the same seed gives the same pairs; the distribution is PML's,
 * the individual draws are not torch.multinomial's.
 * Output: Kind::Pairs, bin by bin. Cost: O(N²·num_bins) time for the bin scan (as PML's), O(N²) memory.
 * With a reference set (MinerInput::referenceEmbeddings, CrossBatchMemory's queue) the anchors
 * stay the batch's and every other member comes from the reference, measured batch → reference;
 * nothing is skipped as the anchor itself (PML's get_all_pairs_indices(labels, ref_labels)).
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class UniformHistogramMiner final : public Miner {
public:
    UniformHistogramMiner(int bins, int positivesPerBin, int negativesPerBin, const DistanceSpec& distance)
        : m_bins(bins),
          m_positivesPerBin(positivesPerBin),
          m_negativesPerBin(negativesPerBin),
          m_distance(distance) {}

    std::string_view name() const override { return "uniform_histogram"; }
    Tuples mine(const MinerInput& input) const override;

private:
    int m_bins;
    int m_positivesPerBin;
    int m_negativesPerBin;
    DistanceSpec m_distance;
};

}  // namespace marginlab

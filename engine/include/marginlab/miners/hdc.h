// SPDX-License-Identifier: MIT
/**
 * hdc — PML's HDCMiner(filter_percentage=0.5), the pair selection of "Hard-Aware Deeply Cascaded
 * Embedding" (Yuan et al., ICCV 2017).
 *
 * From all ordered positive pairs P and negative pairs Nn (on the miner's matrix M, default
 * normalized L2, configurable), keep the k_P = ⌈f·|P|⌉ hardest positive pairs (largest distance,
 * smallest similarity) and the k_N = ⌈f·|Nn|⌉ hardest negative pairs (smallest distance, largest
 * similarity). Each kind is filtered on its own: a batch with one class still keeps positives.
 * Ties at the cut are broken by the lower (anchor, other) pair (torch.topk leaves them unspecified).
 * Output: Kind::Pairs, hardest first. Cost: O(N² log N) time, O(N²) memory.
 * With a reference set (MinerInput::referenceEmbeddings, CrossBatchMemory's queue) the anchors
 * stay the batch's and every other member comes from the reference, measured batch → reference;
 * nothing is skipped as the anchor itself (PML's get_all_pairs_indices(labels, ref_labels)).
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class HdcMiner final : public Miner {
public:
    HdcMiner(Real filterPercentage, const DistanceSpec& distance)
        : m_filterPercentage(filterPercentage), m_distance(distance) {}

    std::string_view name() const override { return "hdc"; }
    Tuples mine(const MinerInput& input) const override;

private:
    Real m_filterPercentage;
    DistanceSpec m_distance;
};

}  // namespace marginlab

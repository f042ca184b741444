// SPDX-License-Identifier: MIT
/**
 * pair_margin — PML's PairMarginMiner(pos_margin=0.2, neg_margin=0.8).
 *
 * On the miner's matrix M itself (default normalized L2, power 1; configurable):
 *   distance:   keep positive pair (a,p) iff M_ap > pos_margin,  negative pair (a,n) iff M_an < neg_margin
 *   similarity: keep positive pair (a,p) iff M_ap < pos_margin,  negative pair (a,n) iff M_an > neg_margin
 * (strict, as PML). Pairs are ordered, a ≠ p. Output: Kind::Pairs, each list in
 * (anchor, other) ascending order.
 * With a reference set (MinerInput::referenceEmbeddings, CrossBatchMemory's queue) the anchors
 * stay the batch's and every other member comes from the reference, measured batch → reference;
 * nothing is skipped as the anchor itself (PML's get_all_pairs_indices(labels, ref_labels)).
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class PairMarginMiner final : public Miner {
public:
    PairMarginMiner(Real positiveMargin, Real negativeMargin, const DistanceSpec& distance)
        : m_positiveMargin(positiveMargin), m_negativeMargin(negativeMargin), m_distance(distance) {}

    std::string_view name() const override { return "pair_margin"; }
    Tuples mine(const MinerInput& input) const override;

private:
    Real m_positiveMargin;
    Real m_negativeMargin;
    DistanceSpec m_distance;
};

}  // namespace marginlab

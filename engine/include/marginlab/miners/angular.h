// SPDX-License-Identifier: MIT
/**
 * angular — PML's AngularMiner(angle=20) (angle in degrees), after Wang et al., "Deep Metric
 * Learning with Angular Loss", ICCV 2017.
 *
 * Over all triplets (a, p, n) in (a, p, n) order, on the *raw* embeddings (PML's
 * pairwise_distance does not normalize, whatever the distance object says):
 *
 *     c = (x_a + x_p)/2,   ap = ‖x_a − x_p + ε‖,   nc = ‖x_n − c + ε‖,   ε = 1e-6 per coordinate
 *     keep (a,p,n) iff atan(ap / (2·nc)) > angle                      (torch's pairwise_distance ε)
 *
 * i.e. the triplets whose negative sees the anchor–positive segment under more than twice the
 * angle. PML requires LpDistance(p=2, power=1, normalized), the only distance offered here.
 * Output: Kind::Triplets. Cost: O(N³·D) time (every triplet is looked at), O(|kept|) memory.
 * With a reference set (MinerInput::referenceEmbeddings, CrossBatchMemory's queue) the anchors
 * stay the batch's and every other member comes from the reference, measured batch → reference;
 * nothing is skipped as the anchor itself (PML's get_all_pairs_indices(labels, ref_labels)).
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class AngularMiner final : public Miner {
public:
    explicit AngularMiner(Real angleDegrees);

    std::string_view name() const override { return "angular"; }
    Tuples mine(const MinerInput& input) const override;

private:
    Real m_angle;  // radians
};

}  // namespace marginlab

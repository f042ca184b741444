// SPDX-License-Identifier: MIT
/**
 * tfa_semihard — TensorFlow-Addons' triplet_semihard_loss negative choice; not a PML miner.
 *
 * For every ordered positive pair (a,p) of an anchor that has a negative (anchors ascending,
 * then p ascending), one triplet (a, p, n*):
 *   n* = argmin { δ_an : y_n ≠ y_a, δ_an > δ_ap }   (nearest negative strictly farther than p)
 *   n* = argmax { δ_an : y_n ≠ y_a }                 if that set is empty (farthest negative)
 * δ = orderSign·M of the miner's distance (default normalized L2 power 1; TF-Addons uses
 * squared L2, which orders the same). Ties go to the lowest index. No parameters.
 * Output: Kind::Triplets. Cost O(N²) expected, on the engine's threads, one distance row at a
 * time: per anchor the negatives are bucket-sorted straight from the row and each positive reads
 * its negative off them (a row holding a NaN: the positives are sorted instead, each negative is
 * ranked among them and a suffix minimum over the ranks gives every positive its negative).
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class TfaSemiHardMiner final : public Miner {
public:
    explicit TfaSemiHardMiner(const DistanceSpec& distance) : m_distance(distance) {}

    std::string_view name() const override { return "tfa_semihard"; }
    Tuples mine(const MinerInput& input) const override;

private:
    DistanceSpec m_distance;
};

}  // namespace marginlab

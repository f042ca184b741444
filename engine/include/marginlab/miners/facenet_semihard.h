// SPDX-License-Identifier: MIT
/**
 * facenet_semihard — FaceNet's semi-hard negative (Schroff et al. 2015); not a PML miner.
 *
 * For every ordered positive pair (a,p) (anchors ascending, then p ascending), one negative drawn
 * uniformly at random from
 *   S(a,p) = { n : y_n ≠ y_a,  δ_ap < δ_an < δ_ap + margin }
 * (δ = orderSign·M of the miner's distance, default normalized L2 power 1; margin default 0.2);
 * the pair is skipped if S(a,p) is empty. Output: Kind::Triplets.
 * Random: Rng seeded with MinerInput::seed, one draw per pair with a non-empty set.
 * Cost O(N²) expected (O(N² log N) worst), on the engine's threads, one distance row at a time
 * (no N×N matrix): each anchor's negatives are bucket-sorted once and S(a,p) is a contiguous
 * range of them, its two ends counted from the sort's cells in O(1) expected time; the draws run
 * in pair order afterwards, so the choice is the same for any thread count. Memory: one int per
 * (anchor, negative) and three per positive pair, kept by the calling thread between calls.
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class FaceNetSemiHardMiner final : public Miner {
public:
    FaceNetSemiHardMiner(Real margin, const DistanceSpec& distance) : m_margin(margin), m_distance(distance) {}

    std::string_view name() const override { return "facenet_semihard"; }
    Tuples mine(const MinerInput& input) const override;

private:
    Real m_margin;
    DistanceSpec m_distance;
};

}  // namespace marginlab

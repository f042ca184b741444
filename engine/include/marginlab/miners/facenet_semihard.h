// SPDX-License-Identifier: MIT
/**
 * facenet_semihard — FaceNet's semi-hard negative (Schroff et al. 2015); not a PML miner.
 *
 * For every ordered positive pair (a,p) (anchors ascending, then p ascending), one negative drawn
 * uniformly at random from
 *   S(a,p) = { n : y_n ≠ y_a,  δ_ap < δ_an < δ_ap + margin }
 * (δ = orderSign·M of the miner's distance, default normalized L2 power 1; margin default 0.2);
 * the pair is skipped if S(a,p) is empty. Output: Kind::Triplets.
 * Random: anchor a draws from its own stream, Rng(Rng::deriveSeed(MinerInput::seed, a)), one draw
 * per positive pair with a non-empty set, its positives in index order (as NCE's noise draws): the
 * same triplets on any thread count, and no sequential pass over all the pairs.
 * Cost O(N²) expected (O(N² log N) worst), on the engine's threads, one distance row at a time
 * (no N×N matrix): each anchor's negatives are bucket-sorted once and S(a,p) is a contiguous
 * range of them, its two ends counted from the sort's cells in O(1) expected time. Memory: O(N)
 * per thread besides the list.
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

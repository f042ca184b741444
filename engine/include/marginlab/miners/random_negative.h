// SPDX-License-Identifier: MIT
/**
 * random_negative — one uniformly random negative per ordered positive pair; not a PML miner
 * (the baseline the other miners are compared with).
 *
 * For every ordered positive pair (a,p) of an anchor with at least one negative (anchors
 * ascending, then p ascending), one triplet (a, p, n) with n uniform over N(a) = {n : y_n ≠ y_a}.
 * Distances are not used. Output: Kind::Triplets.
 * Random: Rng seeded with MinerInput::seed, one draw per pair.
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class RandomNegativeMiner final : public Miner {
public:
    RandomNegativeMiner() = default;

    std::string_view name() const override { return "random_negative"; }
    Tuples mine(const MinerInput& input) const override;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * batch_hard — PML's BatchHardMiner() (Hermans et al. 2017).
 *
 * For every anchor a with at least one positive and one negative, one triplet (a, p*, n*):
 *   p* = argmax_{p ∈ P(a)} δ_ap   (farthest positive; for a similarity the least similar)
 *   n* = argmin_{n ∈ N(a)} δ_an   (nearest negative; for a similarity the most similar)
 * with δ = orderSign·M of the miner's distance (default normalized L2, power 1). Ties go to the
 * lowest index (torch.max / torch.min return the first extreme). Output: Kind::Triplets, anchors
 * ascending; anchors without a positive or without a negative are dropped.
 * Cost O(N²·D) on the engine's threads, one distance row at a time (no N×N matrix); the rows come
 * from the vector units' kernels (src/simd/dispatch.h), the same bits on every unit.
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class BatchHardMiner final : public Miner {
public:
    explicit BatchHardMiner(const DistanceSpec& distance) : m_distance(distance) {}

    std::string_view name() const override { return "batch_hard"; }
    Tuples mine(const MinerInput& input) const override;

private:
    /// Against MinerInput's reference set (PML's ref_emb): no self pair is skipped.
    Tuples mineReference(const MinerInput& input) const;

    DistanceSpec m_distance;
};

}  // namespace marginlab

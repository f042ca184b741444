// SPDX-License-Identifier: MIT
/**
 * batch_easy_hard — PML's BatchEasyHardMiner(pos_strategy="easy", neg_strategy="semihard")
 * (Xuan et al. 2020), with the strategies PML offers for one-positive-one-negative mining.
 *
 * Per anchor a (δ = orderSign·M of the miner's distance, default normalized L2 power 1):
 *   positive p*:  "easy" = argmin_{p ∈ P(a)} δ_ap (nearest),  "hard" = argmax_{p ∈ P(a)} δ_ap (farthest)
 *   negative n*:  "semihard" = argmin { δ_an : n ∈ N(a), δ_an > δ_ap* } (nearest negative strictly
 *                 farther than p*),  "hard" = argmin_{n ∈ N(a)} δ_an,  "easy" = argmax_{n ∈ N(a)} δ_an
 * The anchor is dropped if p* or n* does not exist. Ties go to the lowest index. Output:
 * Kind::Triplets, one (a, p*, n*) per kept anchor, anchors ascending.
 * Cost O(N²·D) on the engine's threads, one distance row at a time (no N×N matrix); the rows come
 * from the vector units' kernels (src/simd/dispatch.h), the same bits on every unit.
 * With a reference set (MinerInput::referenceEmbeddings, CrossBatchMemory's queue) the anchors
 * stay the batch's and every other member comes from the reference, measured batch → reference;
 * nothing is skipped as the anchor itself (PML's get_all_pairs_indices(labels, ref_labels)).
 */
#pragma once

#include "marginlab/miner.h"

#include <optional>
#include <string_view>

namespace marginlab {

class BatchEasyHardMiner final : public Miner {
public:
    enum class PositiveStrategy { Easy, Hard };
    enum class NegativeStrategy { SemiHard, Hard, Easy };

    BatchEasyHardMiner(PositiveStrategy positive, NegativeStrategy negative, const DistanceSpec& distance)
        : m_positive(positive), m_negative(negative), m_distance(distance) {}

    std::string_view name() const override { return "batch_easy_hard"; }
    Tuples mine(const MinerInput& input) const override;

    static std::optional<PositiveStrategy> positiveFromName(std::string_view name);  ///< "easy" | "hard"
    static std::optional<NegativeStrategy> negativeFromName(std::string_view name);  ///< "semihard" | "hard" | "easy"

private:
    PositiveStrategy m_positive;
    NegativeStrategy m_negative;
    DistanceSpec m_distance;
};

}  // namespace marginlab

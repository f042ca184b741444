// SPDX-License-Identifier: MIT
/**
 * triplet_margin — PML's TripletMarginMiner(margin=0.2, type_of_triplets="all").
 *
 * Starts from all triplets T = {(a,p,n) : a ≠ p, y_a = y_p ≠ y_n} and keeps those whose gap
 * g = δ_an − δ_ap (δ = orderSign·M of the miner's distance; for a similarity g = s_ap − s_an)
 * satisfies, with m = margin:
 *   "all":      g ≤ m
 *   "hard":     g ≤ min(m, 0)
 *   "semihard": 0 < g ≤ m
 *   "easy":     g > m
 * Output: Tuples::Kind::All with the equivalent TripletGapFilter — the triplets are not
 * enumerated (N³); the triplet loss applies the filter symbolically and countTuples() counts
 * the kept triplets with the same sweep, O(N²) expected. Default distance: normalized L2, power
 * 1 (configurable).
 */
#pragma once

#include "marginlab/miner.h"

#include <optional>
#include <string_view>

namespace marginlab {

class TripletMarginMiner final : public Miner {
public:
    enum class Type { All, Hard, SemiHard, Easy };

    TripletMarginMiner(Real margin, Type type, const DistanceSpec& distance);

    std::string_view name() const override { return "triplet_margin"; }
    Tuples mine(const MinerInput& input) const override;

    /// The filter that encodes this miner's rule (what mine() returns). With a reference set
    /// (MinerInput::referenceEmbeddings) the same symbolic answer is read against it:
    /// materializeReferenceTriplets() measures the gaps batch → reference, as PML's miner does with ref_emb.
    TripletGapFilter filter() const;
    /// "all" | "hard" | "semihard" | "easy" (PML's spelling).
    static std::optional<Type> typeFromName(std::string_view name);

private:
    Real m_margin;
    Type m_type;
    DistanceSpec m_distance;
};

}  // namespace marginlab

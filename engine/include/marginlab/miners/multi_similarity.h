// SPDX-License-Identifier: MIT
/**
 * multi_similarity — PML's MultiSimilarityMiner(epsilon=0.1) (Wang et al. 2019), default
 * distance CosineSimilarity (configurable).
 *
 * With a similarity s (comparisons reversed for a distance; written with δ = orderSign·M both read
 * "keep (a,p) if δ_ap + ε > min_{n∈N(a)} δ_an", "keep (a,n) if δ_an − ε < max_{p∈P(a)} δ_ap"):
 *   keep positive pair (a,p) iff s_ap − ε < max_{n ∈ N(a)} s_an
 *   keep negative pair (a,n) iff s_an + ε > min_{p ∈ P(a)} s_ap
 * An anchor without negatives keeps no positive pair and vice versa; if the batch has no positive
 * or no negative pair at all nothing is kept. Output: Kind::Pairs (ordered pairs), each list in
 * (anchor, other) ascending order (PML's own order is by similarity; order never changes a loss).
 */
#pragma once

#include "marginlab/miner.h"

namespace marginlab {

class MultiSimilarityMiner final : public Miner {
public:
    MultiSimilarityMiner(Real epsilon, const DistanceSpec& distance) : m_epsilon(epsilon), m_distance(distance) {}

    std::string_view name() const override { return "multi_similarity"; }
    Tuples mine(const MinerInput& input) const override;

private:
    /// Against MinerInput's reference set (PML's ref_emb): no self pair is skipped.
    Tuples mineReference(const MinerInput& input) const;

    Real m_epsilon;
    DistanceSpec m_distance;
};

}  // namespace marginlab

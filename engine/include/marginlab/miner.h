// SPDX-License-Identifier: MIT
/**
 * Miners choose the tuples a tuple loss works on (PML's miners, plus the other published
 * semi-hard rules as named choices). A miner never contributes gradient: it only selects.
 * Each miner has its own distance (PML records the miner's distance separately from the loss's).
 */
#pragma once

#include "marginlab/distance.h"
#include "marginlab/params.h"
#include "marginlab/regions.h"
#include "marginlab/tuples.h"
#include "marginlab/types.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace marginlab {

struct MinerInput {
    const Points& embeddings;  ///< N×D
    const Labels& labels;      ///< N
    std::uint64_t seed = 0;    ///< for random miners: same seed, same choice
    /// PML's ref_emb / ref_labels (MinerInfo::acceptsReference): anchors come from `embeddings`,
    /// positives and negatives from these M rows; the tuples index them. No self pair is removed
    /// (PML compares a batch with a reference as two different sets). nullptr: the batch itself.
    const Points* referenceEmbeddings = nullptr;
    const Labels* referenceLabels = nullptr;
};

struct MinerCounts {
    Count triplets = 0;       ///< triplets selected (for triplet-form output)
    Count positivePairs = 0;  ///< positive pairs selected (pair-form output, or a1/p of the triplets)
    Count negativePairs = 0;
};

class Miner {
public:
    virtual ~Miner() = default;
    virtual std::string_view name() const = 0;
    virtual Tuples mine(const MinerInput& input) const = 0;
};

struct MinerInfo {
    std::string name;         ///< e.g. "batch_hard"
    std::string displayName;
    std::string pmlName;      ///< empty if not PML's
    std::string description;  ///< one sentence: what it keeps
    std::vector<ParamInfo> params;
    DistanceSpec defaultDistance;
    std::function<std::unique_ptr<Miner>(const ParamValues& params, const DistanceSpec& distance)> create;
    /// How it tells semi-hard negatives apart (the triplet overlay draws the miner's rule).
    SemiHardRule semiHardRule = SemiHardRule::Pml;
    /// Mines against a reference set (MinerInput::referenceEmbeddings), as PML's miner does with ref_emb.
    bool acceptsReference = false;
};

struct MinerConfig {
    std::string name;
    ParamValues params;
    std::optional<DistanceSpec> distance;
};

const std::vector<MinerInfo>& minerCatalog();
const MinerInfo* findMiner(std::string_view name);
std::unique_ptr<Miner> makeMiner(const MinerConfig& config, std::string* error);
/// The names of the miners that take a reference set (for messages).
std::string minersAcceptingReference();

/// Counts of what `tuples` selects (Kind::All is counted without enumerating, O(N² log N)).
MinerCounts countTuples(const Tuples& tuples, const Points& embeddings, const Labels& labels);

}  // namespace marginlab

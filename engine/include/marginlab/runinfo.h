// SPDX-License-Identifier: MIT
/**
 * RunInfo: what a view needs to know about a run to draw it, read from the catalogue (never by
 * matching loss or miner names): the distance the loss sees, the triplet margin and semi-hard
 * rule of the easy / semi-hard / hard regions, how the softmax family makes its logits, what the
 * class regions mean, and a one-line title naming the loss, its parameters and the miner.
 *
 * It depends only on the loss and miner configuration, so a view can cache it per configuration
 * revision; the data and the trained state come with each Snapshot.
 */
#pragma once

#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "marginlab/regions.h"

#include <optional>
#include <string>
#include <vector>

namespace marginlab {

struct RunInfo {
    const LossInfo* loss = nullptr;    ///< nullptr for an unknown loss (nothing loss-specific is drawn)
    const MinerInfo* miner = nullptr;  ///< nullptr without a miner
    /// The loss whose owned rows the views draw (class weights, θ inset): `loss` itself, or for
    /// multiple_losses its first component that owns parameters (nullptr when none does).
    const LossInfo* ownerLoss = nullptr;
    DistanceSpec distance;             ///< the loss's distance (its default unless configured)
    Real tripletMargin = 0.0;          ///< gap of the triplet regions (0 when the loss has none)
    SemiHardRule semiHardRule = SemiHardRule::Pml;
    std::optional<MarginLogits> logits;  ///< softmax family: how the logits and the margin are made
    ClassRegions regions = ClassRegions::NearestCentroid;
    int ownedBlocks = 0;
    OwnedLayout ownedLayout = OwnedLayout::ClassRows;
    std::optional<DistanceBand> distanceBand;  ///< MarginLoss's β boundary and band (see LossInfo)
    LossPicture picture;  ///< the loss's own picture (LossInfo::picture), Kind::None without one
    std::string title;    ///< e.g. "Triplet margin (margin 0.2) + Batch hard"
    /// multiple_losses: one label per weighted term, in order ("0.5 × ArcFace (additive angular
    /// margin)"), for the charts of HistoryPoint::component1…; empty for any other loss.
    std::vector<std::string> componentTitles;
    std::string details;  ///< e.g. "normalized L2, reducer avg_non_zero"

    /// The owned rows are class directions the views draw (not, e.g., a per-class β of MarginLoss).
    bool hasClassWeights() const { return ownedBlocks >= 1 && regions != ClassRegions::NearestCentroid; }
    /// Centers per class when every owned block is one center per class (SoftTriple, sub-centers), else 0.
    int centersPerClass() const { return ownedLayout == OwnedLayout::CentersPerClass ? ownedBlocks : 0; }
};

/// Describes the run of `loss` (and `miner`); unknown names give an empty description.
RunInfo describeRun(const LossConfig& loss, const std::optional<MinerConfig>& miner);

}  // namespace marginlab

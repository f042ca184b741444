// SPDX-License-Identifier: MIT
// Catalogue part: PML's wrappers of other losses. MultipleLosses is built by makeLoss (catalog.cpp)
// from its components, so its entry has no `create` and no parameters of its own.
#include "catalog_parts.h"

namespace marginlab::detail {

std::vector<LossInfo> wrapperLosses() {
    LossInfo info;
    info.name = "multiple_losses";
    info.displayName = "Multiple losses";
    info.family = LossFamily::Other;
    info.pmlName = "MultipleLosses";
    info.formula =
        "sum over components i of w_i * L_i(X, y, tuples); each component keeps its own "
        "parameters, distance and owned rows (stacked in component order)";
    // A metric loss and a second tuple loss: both use the trainer's miner and own nothing, so the
    // defaults run on any data, like every other entry's defaults.
    info.defaultComponents = {{LossConfig{"triplet_margin", {}, std::nullopt, {}}, 1.0},
                              {LossConfig{"contrastive", {}, std::nullopt, {}}, 1.0}};
    info.defaultDistance = DistanceSpec::lp(1, true);
    info.acceptsMiner = true;
    info.ownedBlocks = 0;
    return {info};
}

}  // namespace marginlab::detail

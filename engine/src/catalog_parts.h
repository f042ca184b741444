// SPDX-License-Identifier: MIT
// The catalogue is assembled from one list per family, each defined next to its losses.
#pragma once

#include "marginlab/loss.h"
#include "marginlab/miner.h"

#include <vector>

namespace marginlab::detail {

std::vector<LossInfo> tripletFamilyLosses();         // losses/triplet_family.cpp
std::vector<LossInfo> pairFamilyLosses();            // losses/pair_family.cpp
std::vector<LossInfo> contrastiveFamilyLosses();     // losses/contrastive_family.cpp
std::vector<LossInfo> classificationFamilyLosses();  // losses/classification_family.cpp
std::vector<LossInfo> proxyFamilyLosses();           // losses/proxy_family.cpp
std::vector<LossInfo> morePmlLosses();               // losses/more_pml_family.cpp (several families)
std::vector<LossInfo> wrapperLosses();               // losses/wrapper_family.cpp (multiple_losses)
std::vector<MinerInfo> allMiners();                  // miners/miner_family.cpp

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
// Shared checks for the losses that own a per-class matrix (proxy family; internal header).
#pragma once

#include "marginlab/loss.h"

#include <string_view>

namespace marginlab::detail {

/**
 * The number of classes C of a loss owning `blocks` blocks of C rows, after checking the input:
 * the owned matrix is present, has blocks·C rows (C ≥ 1) and as many columns as the embeddings,
 * there is one label per embedding and every label lies in [0, C).
 * Throws std::invalid_argument naming `loss` otherwise: a wrong shape is a programming error
 * of the caller, and silently returning 0 would hide it during training.
 */
int ownedClassCount(const LossInput& input, int blocks, std::string_view loss);

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
/**
 * Label validation for the losses that own a class-weight matrix (the margin-softmax family):
 * their logits are indexed by label, so every label must be a row of W, i.e. lie in [0, C).
 *
 * Loss::evaluate() cannot report errors, so those losses only assert the condition (and return
 * a NaN value with zero gradients in a release build); the Trainer and the command line call
 * validateClassLabels() before a run starts and refuse the configuration with its message.
 */
#pragma once

#include "marginlab/types.h"

#include <string>

namespace marginlab {

/// True if every label is in [0, classCount); otherwise false and a message naming the first bad label.
bool validateClassLabels(const Labels& labels, Eigen::Index classCount, std::string* error);

}  // namespace marginlab

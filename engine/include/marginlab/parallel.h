// SPDX-License-Identifier: MIT
/**
 * How many threads one loss evaluation may use.
 *
 * The largest computations (batch-all triplets over thousands of points) split their anchors
 * into chunks fixed by the problem size alone and add the chunks' results in chunk order, so
 * every result is the same bit for bit whatever the thread count: it changes only the speed.
 */
#pragma once

namespace marginlab {

/// Threads per evaluation, the calling one included; values below 1 mean 1. The default is the
/// number of hardware threads. Safe to call at any time; evaluations already running keep theirs.
void setEngineThreads(int count);
int engineThreads();

}  // namespace marginlab

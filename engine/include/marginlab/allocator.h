// SPDX-License-Identifier: MIT
/**
 * The C library's allocator, set for a program that runs training steps.
 *
 * Every step allocates and frees the same buffers again (N×C logits, per-run gradients, mined
 * lists). glibc's defaults return freed memory at the top of the heap to the system once more
 * than 128 KB is free there, and map blocks of 128 KB – 32 MB fresh from the system, so the next
 * step faults in and zeroes those pages again; on these VMs the page faults took most of a step
 * for the class-based losses (soft triple at N = 1024: 6.3 → 1.8 ms, docs/benchmarks.md).
 */
#pragma once

namespace marginlab {

/**
 * Keeps freed memory for the next step: blocks up to 32 MB come from the heap (not fresh
 * mappings), up to 512 MB of free memory stays at the heap's top, and the heap grows 16 MB at a
 * time. Process-wide; called once by the programs' main(), not by the engine itself. A no-op
 * where the C library is not glibc.
 */
void keepMemoryBetweenSteps();

}  // namespace marginlab

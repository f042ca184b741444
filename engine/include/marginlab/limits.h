// SPDX-License-Identifier: MIT
/**
 * The limits of what MarginLab reads: every reader (scene, loss case, CSV, command line) checks
 * them before it allocates, and names the limit in its message. docs/file-formats.md lists them.
 *
 * They keep a wrong or hostile file from crashing, hanging or exhausting memory; each is far
 * above what a 2D/3D teaching scene needs.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "marginlab/types.h"

namespace marginlab::limits {

/// Points in a scene's data, a CSV file or a loss case (the generators' own maximum).
inline constexpr std::int64_t kMaxPoints = 100'000;
/// Coordinates per point (a loss case may use more than 3; scenes are 2D or 3D).
inline constexpr std::int64_t kMaxDimension = 1024;
/// Classes, declared or implied by the largest label (labels are 0 … classes − 1).
inline constexpr std::int64_t kMaxClasses = 100'000;
/// Points in one P×K batch (P classes × K samples).
inline constexpr std::int64_t kMaxBatchSize = 100'000;
/// CrossBatchMemory's queue (memory_size): every step compares the batch with all of it.
inline constexpr std::int64_t kMaxMemorySize = 65'536;
/// Training steps of one `train` run.
inline constexpr std::int64_t kMaxSteps = 100'000'000;
/// `loss --indent N`.
inline constexpr int kMaxIndent = 16;
/// Bytes of any file read (scene, loss case, CSV) and of standard input.
inline constexpr std::uintmax_t kMaxFileBytes = 128u << 20;
/// Nesting of JSON arrays and objects.
inline constexpr int kMaxJsonDepth = 64;
/// Bytes of one JSON string or key.
inline constexpr std::size_t kMaxStringBytes = 1u << 20;
/// The largest magnitude of a coordinate, weight or loss input: beyond it a squared distance
/// overflows and a loss can no longer be represented (the trainer stops there too).
inline constexpr Real kMaxMagnitude = 1e150;

}  // namespace marginlab::limits

// SPDX-License-Identifier: MIT
/**
 * Trajectories: the positions of every point (and of the loss's own parameters: class weights,
 * proxies, centers) at chosen steps of a run, written by `marginlab-cli train --trajectory`,
 * by a user's own training loop (PyTorch, ...), and read back for replay and as initial points.
 *
 * Shapes: F frames; each frame N×D positions (D = 2 or 3, the same N and D in every frame), and
 * optionally R×D owned parameters (the same R in every frame). N labels in [0, numClasses),
 * the same in every frame. Steps are ≥ 0 and strictly increasing.
 *
 * Files (docs/trajectories.md has examples), chosen by extension:
 * - CSV, long format, one row per point per frame, with a header:
 *     step,kind,point,label,x,y[,z]      kind = point | owned
 *   (`kind` may be left out, `step,point,label,x,y[,z]`: all rows are points). For an owned row
 *   `point` is the row index r and `label` its class, r mod numClasses. Rows are grouped by step
 *   in increasing order; within a step each kind's indices run 0, 1, 2, ...
 * - NPY: OUT.npy holds the positions as an F×N×D float64 array; OUT-labels.npy the N labels
 *   (int64); OUT-steps.npy the F steps (int64; when absent on reading: 0, 1, ..., F−1);
 *   OUT-owned.npy the owned parameters as F×R×D float64 (only when there are any).
 * - JSON: {"format": "marginlab-trajectory", "version": 1, "dimension": D, "num_classes": C,
 *          "labels": [...], "frames": [{"step": s, "positions": [[x, y], ...],
 *          "owned": [[...], ...] (optional)}, ...]}
 *
 * Numbers are written in the shortest form that reads back to the same double, so a trajectory
 * read back equals the one written, bit for bit.
 *
 * Readers validate strictly (a CSV error names line and column) and refuse a file as a whole.
 * Limits (kMax* below) keep a wrong file from exhausting memory.
 */
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "marginlab/dataset.h"
#include "marginlab/types.h"

namespace marginlab {

inline constexpr long kMaxTrajectoryFrames = 100'000;
inline constexpr long kMaxTrajectoryPoints = 1'000'000;           ///< per frame, points + owned rows
inline constexpr std::int64_t kMaxTrajectoryValues = 64'000'000;  ///< coordinates in all frames (512 MB)
inline constexpr std::size_t kMaxTrajectoryLine = 4096;           ///< characters per CSV line
inline constexpr std::uintmax_t kMaxTrajectoryJsonBytes = 256u << 20;

struct Trajectory {
    std::vector<long> steps;        ///< F steps, strictly increasing, ≥ 0
    std::vector<Points> positions;  ///< F frames of N×D
    Labels labels;                  ///< N labels in [0, numClasses)
    int numClasses = 0;
    std::vector<Points> owned;  ///< empty, or F frames of R×D

    long frameCount() const { return static_cast<long>(positions.size()); }
    long pointCount() const { return positions.empty() ? 0 : static_cast<long>(positions.front().rows()); }
    int dimension() const { return positions.empty() ? 0 : static_cast<int>(positions.front().cols()); }
};

enum class TrajectoryFormat { Csv, Npy, Json };

/// By extension (.csv, .npy, .json; case-insensitive); nullopt + message otherwise.
std::optional<TrajectoryFormat> trajectoryFormatFor(const std::filesystem::path& path, std::string* error);

/// Shapes, limits, finite values, increasing steps, labels in range; a message on the first problem.
bool validateTrajectory(const Trajectory& trajectory, std::string* error);

/// Writes in the format of the extension, under a temporary name renamed at the end (no partial
/// file is left behind on failure). NPY also writes the -labels, -steps and -owned siblings.
bool writeTrajectory(const Trajectory& trajectory, const std::filesystem::path& path, std::string* error);

/// Reads a CSV, NPY (with its siblings) or JSON trajectory. Messages start with the file name.
std::optional<Trajectory> readTrajectory(const std::filesystem::path& path, std::string* error);
/// The CSV reader on a stream (messages "line L, column C: ..."; no file name).
std::optional<Trajectory> parseTrajectoryCsv(std::istream& in, std::string* error);

/// The sibling files of an NPY trajectory `OUT.npy`: OUT-labels.npy, OUT-steps.npy, OUT-owned.npy.
std::filesystem::path npySibling(const std::filesystem::path& positions, const std::string& suffix);

/**
 * Initial points for `train --init`: a points CSV (x,y[,z],label, see csv.h), a trajectory
 * (CSV with a `step` header, NPY F×N×D or JSON: its last frame), or an NPY N×D array with
 * labels in PATH-labels.npy. Messages start with the file name.
 */
std::optional<Dataset> readInitialPoints(const std::filesystem::path& path, std::string* error);

/**
 * Initial owned parameters for `train --init-owned`: a CSV of R rows x,y[,z] (optional header),
 * a trajectory's last frame (CSV with a `step` header, NPY F×R×D, or JSON), or an NPY R×D array.
 */
std::optional<Points> readInitialOwned(const std::filesystem::path& path, std::string* error);

}  // namespace marginlab

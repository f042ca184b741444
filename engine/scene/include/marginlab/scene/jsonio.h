// SPDX-License-Identifier: MIT
// Reading and writing engine values as JSON, with error messages that name the JSON path
// (e.g. "cases[2].embeddings[3][1]: expected a finite number").
#pragma once

#include "marginlab/distance.h"
#include "marginlab/history.h"
#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "marginlab/optimizer.h"
#include "marginlab/trainer.h"

#include <nlohmann/json.hpp>

#include <string>

namespace marginlab::json {

using Json = nlohmann::json;

/// An error at a JSON path; thrown by the readers below and caught by their callers.
struct Error {
    std::string path;
    std::string message;
    std::string what() const { return path.empty() ? message : path + ": " + message; }
};

const Json& member(const Json& object, const std::string& key, const std::string& path);
const Json* optionalMember(const Json& object, const std::string& key, const std::string& path);
Real readNumber(const Json& value, const std::string& path);
int readInteger(const Json& value, const std::string& path);
bool readBool(const Json& value, const std::string& path);
std::string readString(const Json& value, const std::string& path);

/// An array of equal-length arrays of finite numbers (N×D, N ≥ 1).
Points readMatrix(const Json& value, const std::string& path);
/// An array of integers.
Labels readLabels(const Json& value, const std::string& path);
/// {"type": "lp"|"cosine"|"dot", "power": 1|2, "normalize_embeddings": bool}; PML class names accepted.
DistanceSpec readDistance(const Json& value, const std::string& path);
/// {"name": value, ...}: numbers, booleans (→ 0/1) and strings (choices).
ParamValues readParams(const Json& value, const std::string& path);
LossConfig readLossConfig(const Json& value, const std::string& path);
MinerConfig readMinerConfig(const Json& value, const std::string& path);
OptimizerConfig readOptimizer(const Json& value, const std::string& path);
BatchConfig readBatch(const Json& value, const std::string& path);
/**
 * An optimizer's state, PyTorch's names: {"type": "sgd"|"momentum"|"adam", "points": GROUP,
 * "owned": GROUP} with GROUP = {"step": n, "momentum_buffer": M} (momentum) or
 * {"step": n, "exp_avg": M, "exp_avg_sq": M} (Adam) or {"step": n} (SGD); a missing group has
 * not stepped. `shapes` gives each group's (rows, cols); every check names its JSON path.
 */
OptimizerState readOptimizerState(const Json& value, const std::string& path,
                                  const std::vector<std::pair<Eigen::Index, Eigen::Index>>& shapes);
/**
 * A run history: {"columns": ["step", "loss", "active", "easy", "semihard", "hard",
 * "precision_at_1", "map_at_r", "r_precision", "collapse"], "rows": [[0, 0.63, ...], ...]}.
 * "step" is required, the other columns optional and in any order; null is a missing value (NaN).
 */
std::vector<HistoryPoint> readHistory(const Json& value, const std::string& path);

/// Pretty JSON in which arrays of scalars (a matrix row, a label list) stay on one line.
std::string format(const Json& value, int indent = 2);

Json toJson(const Points& matrix);
Json toJson(const Labels& labels);
Json toJson(const DistanceSpec& distance);
Json toJson(const ParamValues& params);
Json toJson(const LossConfig& config);
Json toJson(const MinerConfig& config);
Json toJson(const OptimizerConfig& config);
Json toJson(const BatchConfig& config);
Json toJson(const LossStats& stats);
Json toJson(const MinerCounts& counts);
Json toJson(const OptimizerState& state);
Json toJson(const std::vector<HistoryPoint>& history);

}  // namespace marginlab::json

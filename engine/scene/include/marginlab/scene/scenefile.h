// SPDX-License-Identifier: MIT
/**
 * Scene files: everything needed to replay a run (data, labels, positions, loss, miner,
 * parameters, optimizer, batch, seed) plus the app's view settings, as versioned JSON:
 *
 *   { "format": "marginlab-scene", "version": 1, "title": "...", "description": "...",
 *     "data": { "generator": "blobs", "params": {"points": 200, "classes": 4, "seed": 1} }
 *           | { "points": [[x, y], ...], "labels": [0, 1, ...] }
 *           | { "csv": "relative/or/absolute.csv" },
 *     "loss": { "name": "triplet_margin", "params": {...}, "distance": {...} },
 *     "miner": { "name": "batch_hard", ... } | null,
 *     "optimizer": { "type": "adam", "learning_rate": 0.01, ... },
 *     "batch": { "mode": "full" } | { "mode": "pk", "classes": 4, "samples": 8 },
 *     "seed": 1, "metrics_every": 10, "owned": [[...]] (optional), "view": {...} (the app's),
 *     "state": { "step": K, "positions": [[...]], "owned": [[...]], "optimizer": {...},
 *                "history": {"columns": [...], "rows": [[...]]} } (optional: a trained run) }
 *
 * "state" is the moment a saved run had reached (TrainerStart): its step, positions (shaped like
 * the data, whose points stay those of step 0), owned parameters, the optimizer's state (PyTorch's
 * names, json::readOptimizerState) and the chart history (json::readHistory); only "step" and
 * "positions" are required. Opened with the state, the run continues bit for bit as the
 * uninterrupted one. A version-1 reader that predates "state" ignores it and opens the scene at
 * step 0 (the data is unchanged), so the version stays 1.
 *
 * docs/file-formats.md documents it with an example.
 */
#pragma once

#include "marginlab/scene/jsonio.h"

#include <filesystem>
#include <optional>
#include <string>

namespace marginlab {

inline constexpr int kSceneVersion = 1;

struct SceneFile {
    std::string title;
    std::string description;
    json::Json data;        ///< the "data" object as written (generator, explicit points or csv)
    TrainerConfig trainer;  ///< with points and labels resolved from "data"
    json::Json view = json::Json::object();
    /// The chart history of a saved run (with trainer.start; written only with a state).
    std::vector<HistoryPoint> history;
};

/// Parses and validates a scene; CSV paths are relative to `baseDir`. nullopt + message on error.
std::optional<SceneFile> parseScene(const json::Json& document, const std::filesystem::path& baseDir,
                                    std::string* error);
std::optional<SceneFile> readSceneFile(const std::filesystem::path& path, std::string* error);
/// parseScene() that throws json::Error (with its JSON path) instead, for readers that place the
/// scene inside a larger document (a comparison's panels).
SceneFile sceneFromJson(const json::Json& document, const std::filesystem::path& baseDir);
/**
 * The scene as JSON; `positions` (if given) replaces the data by explicit points. With
 * `scene.trainer.start` set, a "state" object records the trained moment (and `scene.history`);
 * save a run with `scene.trainer` = the trainer's config() and `start` = its savedState(). After
 * point edits the data no longer describes the run: pass `positions` = &config().points, so the
 * data becomes the edited points and labels, which the state's positions fit.
 */
json::Json sceneToJson(const SceneFile& scene, const Points* positions = nullptr);

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Scene files and CSV data for the desktop app, on top of marginlab/scene/scenefile.h: reading also
// works for Qt resources (":/scenes/..."), saving goes through QSaveFile so that a failed save
// never leaves a half-written file, and every failure comes back as a message, never a throw.
#pragma once

#include "marginlab/scene/scenefile.h"

#include <QString>

#include <optional>

namespace marginlab::sceneio {

/// The JSON document of a scene or comparison file (or ":/" resource): regular files only, within
/// the size limit, parsed by the strict reader (depth, duplicate keys, …). nullopt + message.
std::optional<json::Json> readDocument(const QString& path, QString* error);
/// Reads and validates a scene (a file or a ":/" resource). nullopt + message on any problem.
std::optional<SceneFile> openScene(const QString& path, QString* error);
/// Writes `scene` as JSON, atomically. False + message on failure (the old file stays).
bool saveScene(const SceneFile& scene, const QString& path, QString* error);
/// `scene` with its data replaced by the points and labels (2 or 3 columns) of a CSV file, an
/// N×D NumPy array with NAME-labels.npy beside it, or a trajectory's last frame (what `--init`
/// reads); the loss and the rest are kept. nullopt + a message naming the file (and for CSV line
/// and column) when it is bad.
std::optional<SceneFile> importData(const SceneFile& scene, const QString& path, QString* error);
/// The scene with its data replaced by a generator configuration (after running the generator).
std::optional<SceneFile> withGenerator(const SceneFile& scene, const std::string& generator, const ParamValues& params,
                                       QString* error);

}  // namespace marginlab::sceneio

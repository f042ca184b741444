// SPDX-License-Identifier: MIT
// Scene files and CSV data for the desktop app, on top of marginlab/scene/scenefile.h: reading also
// works for Qt resources (":/scenes/..."), saving goes through QSaveFile so that a failed save
// never leaves a half-written file, and every failure comes back as a message, never a throw.
#pragma once

#include "marginlab/scene/scenefile.h"

#include <QString>

#include <optional>

namespace marginlab::sceneio {

/**
 * The JSON document of a file or a ":/" resource, read as every reader must: regular files only
 * (a FIFO, folder or device is refused before it is opened, so nothing blocks), at most
 * limits::kMaxFileBytes, parsed by json::parse (nesting depth, string length, duplicate keys,
 * number range). nullopt + a one-line message naming the file otherwise.
 */
std::optional<json::Json> readDocument(const QString& path, QString* error);
/// Reads and validates a scene (a file or a ":/" resource). nullopt + message on any problem.
std::optional<SceneFile> openScene(const QString& path, QString* error);
/// Writes `scene` as JSON, atomically. False + message on failure (the old file stays).
bool saveScene(const SceneFile& scene, const QString& path, QString* error);
/// `scene` with its data replaced by the points and labels of a CSV file; the loss and the rest
/// are kept. nullopt + a message naming line and column when the file is bad.
std::optional<SceneFile> importCsv(const SceneFile& scene, const QString& path, QString* error);
/// The scene with its data replaced by a generator configuration (after running the generator).
std::optional<SceneFile> withGenerator(const SceneFile& scene, const std::string& generator, const ParamValues& params,
                                       QString* error);

}  // namespace marginlab::sceneio

// SPDX-License-Identifier: MIT
/**
 * Comparison files: 2–4 panels that train from the same start in lockstep (TrainerGroup), as one
 * scene file. It is a version-1 scene with a "panels" array; everything outside the panels is
 * shared (data, seed, batch, metrics_every, owned, view), and each panel overrides the loss, the
 * miner and the optimizer, and may name itself:
 *
 *   { "format": "marginlab-scene", "version": 1, "title": "...",
 *     "description": "what to look for",
 *     "data": {...}, "batch": {...}, "seed": 3, "metrics_every": 5, "view": {...},
 *     "loss": {...}, "miner": ..., "optimizer": {...},      (defaults for the panels; optional)
 *     "panels": [ { "title": "...", "loss": {...}, "miner": {...} | null, "optimizer": {...} },
 *                 ... ] }
 *
 * A panel without "loss" / "miner" / "optimizer" takes the top-level one ("miner": null means no
 * miner even when the top level has one). Each panel is checked as the single scene it makes
 * (parseScene), then all together with TrainerGroup::isValid. A comparison is saved at its start:
 * "state" is refused (a trained comparison is not a format yet). A reader of single scenes that
 * predates "panels" opens the top level as one scene when it has a loss, so the version stays 1;
 * a single scene read as a comparison is a comparison of one panel.
 *
 * docs/file-formats.md documents it with an example.
 */
#pragma once

#include "marginlab/scene/scenefile.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace marginlab {

struct ComparisonPanel {
    /// The panel's name: the file's "title" when given, else what differs from the other panels
    /// (comparisonTitles()).
    std::string title;
    bool titleGiven = false;  ///< the title came from the file (written back on save)
    TrainerConfig trainer;
};

struct ComparisonFile {
    std::string title;
    std::string description;  ///< what to look for
    json::Json data;          ///< the shared "data" object as written
    json::Json view = json::Json::object();
    std::vector<ComparisonPanel> panels;  ///< 1–4 (one: a single scene)

    bool isComparison() const { return panels.size() > 1; }
    std::vector<TrainerConfig> trainers() const;
};

/// Whether a scene document has a "panels" array (what the CLI and the app test to choose).
bool isComparisonDocument(const json::Json& document);

/// Parses a comparison (or a single scene, as one panel); CSV paths are relative to `baseDir`.
std::optional<ComparisonFile> parseComparison(const json::Json& document, const std::filesystem::path& baseDir,
                                              std::string* error);
std::optional<ComparisonFile> readComparisonFile(const std::filesystem::path& path, std::string* error);
/// The comparison as JSON: shared entries at the top, the panels' loss / miner / optimizer (and
/// given titles) in "panels". parseComparison(comparisonToJson(c)) gives back `c`.
json::Json comparisonToJson(const ComparisonFile& comparison);

/**
 * One short title per panel naming what differs between the panels: the loss, miner and
 * optimizer are compared; where the names differ the name is shown (a miner's choice-valued
 * parameters with it, e.g. "Triplet margin (semihard)"; no miner: "no miner"), where only
 * parameters differ the differing parameters ("margin 0.05"). Parts are joined with " · ".
 * Identical panels are "Panel 1", "Panel 2", ...; a single panel gets its loss and miner.
 */
std::vector<std::string> comparisonTitles(const std::vector<TrainerConfig>& panels);

}  // namespace marginlab

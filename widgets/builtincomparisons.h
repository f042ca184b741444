// SPDX-License-Identifier: MIT
// The ready comparisons shipped in resources/comparisons/ (compiled into the app through
// resources/marginlab.qrc), for the Scenes menu, and reading a comparison from a file or a Qt
// resource.
#pragma once

#include "marginlab/scene/comparisonfile.h"

#include <QString>

#include <optional>
#include <vector>

namespace marginlab {

struct BuiltInComparison {
    QString resource;  ///< e.g. ":/comparisons/mining-strategies.json" (in the app's resources)
    QString fileName;  ///< e.g. "mining-strategies.json" under resources/comparisons/ in the sources
    QString title;     ///< the menu entry (the file's title)
};

/// In menu order.
const std::vector<BuiltInComparison>& builtInComparisons();

/// Reads a comparison (or a single scene, as one panel) from a file path or a ":/" resource.
std::optional<ComparisonFile> loadComparison(const QString& path, QString* error);
/// Writes `comparison` (comparisonToJson) to `path`, atomically.
bool saveComparison(const ComparisonFile& comparison, const QString& path, QString* error);

}  // namespace marginlab

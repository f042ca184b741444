// SPDX-License-Identifier: MIT
// Exporting the 2D view as a picture: PNG (pixels) or SVG (vector strokes and text; the
// background regions and the point sprites are embedded as images). Written through QSaveFile,
// so a failed export never leaves a half-written file behind.
#pragma once

#include <QSize>
#include <QString>

namespace marginlab {

class PlotView2D;

/// Renders `view` at `size` into `path`; the format follows the suffix (.png or .svg).
/// False and a message on an unknown suffix or a write error.
bool exportView(PlotView2D& view, const QString& path, QSize size, QString* error);

}  // namespace marginlab

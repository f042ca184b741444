// SPDX-License-Identifier: MIT
// Single frames to files: PNG (pixels), SVG and PDF (vectors: every region a path, every point
// an ellipse). Written through QSaveFile, so a failed export never leaves a half-written file.
#pragma once

#include "frame2d.h"

#include <QPainter>
#include <QString>

#include <functional>

namespace marginlab {

class Renderer2D;

/// The file kinds exportFrame() writes, by suffix; empty when the suffix is not one of them.
QString frameFormatOf(const QString& path);

/// Renders `frame` (at frame.size) into `path`: .png, .svg or .pdf. False and a one-line message
/// on an unknown suffix, an empty size or a write error.
bool exportFrame(Renderer2D& renderer, const Frame2D& frame, const QString& path, QString* error);

/// The same for any painting of `size` pixels (a frame with its chart strip, a comparison grid).
bool exportPainting(const QString& path, QSize size, const std::function<void(QPainter&)>& paint, QString* error);

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Animated GIF through giflib: one global palette, frame differences, loops forever.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "framesink.h"
#include "gifpalette.h"

namespace marginlab {

/**
 * An animated GIF made for teaching animations (flat colours on a plain ground):
 *
 * - One global palette for the whole file (the caller's, see GifPalette), no dithering: a
 *   palette colour is stored exactly, anything else becomes its nearest palette colour.
 * - NETSCAPE2.0 application extension: plays in a loop forever.
 * - Delays: GIF counts hundredths of a second, so frame k lasts
 *   round(100·(k+1)/fps) − round(100·k/fps) (30 fps → 3, 4, 3, 3, 4, 3, … averaging 3⅓).
 *   At most 50 fps: browsers play shorter delays at 10 fps.
 * - Frame differences: each frame after the first stores only the bounding box of the pixels
 *   that changed, with unchanged pixels as the transparent index 255 (disposal "do not dispose",
 *   so they show the previous frame). A frame with no change is a 1×1 transparent image, so the
 *   frame count and timing stay those written.
 */
class GifSink final : public FrameSink {
public:
    static constexpr double kMaxFps = 50.0;

    GifSink(QString path, GifPalette palette);
    ~GifSink() override;

    bool open(QSize size, double fps, QString* error) override;
    bool write(const QImage& frame, QString* error) override;
    bool finish(QString* error) override;
    void cancel() override;

    const GifPalette& palette() const { return m_palette; }

    struct State;  // giflib's output callback sees it

private:
    bool fail(const QString& message, QString* error);
    QString writeError() const;

    GifPalette m_palette;
    QSize m_size;
    double m_fps = 0.0;
    std::unique_ptr<State> m_state;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// MP4 (H.264, libx264) and WebM (VP9, libvpx-vp9) through FFmpeg's libraries.
#pragma once

#include <memory>

#include "framesink.h"

namespace marginlab {

/**
 * A video file: H.264 in MP4 (yuv420p, High profile, "+faststart" so that browsers and slide
 * software start playing before the whole file is read) or VP9 in WebM (yuv420p).
 *
 * - Timing: the stream's time base is 1/fps (fractional rates such as 29.97 as an exact
 *   rational); frame k has pts k and every packet a duration of one frame, so the file lasts
 *   exactly frames / fps and players show the last frame.
 * - Colour: BT.709 matrix, limited range, tagged in the stream.
 * - Size: yuv420p halves the chroma resolution, so width and height must be even (see
 *   SinkOptions::padToEven).
 * - Keyframes every 2 seconds, so a player can seek in a long recording.
 * - The encoder is flushed at finish(); an FFmpeg without the encoder gives a message that says
 *   which encoder is missing.
 */
class VideoSink final : public FrameSink {
public:
    enum class Codec { H264, Vp9 };

    VideoSink(QString path, Codec codec, SinkOptions options = {});
    ~VideoSink() override;

    bool open(QSize size, double fps, QString* error) override;
    bool write(const QImage& frame, QString* error) override;
    bool finish(QString* error) override;
    void cancel() override;

    /// Whether this FFmpeg has the codec's encoder (libx264 / libvpx-vp9).
    static bool encoderAvailable(Codec codec);

private:
    struct State;
    bool fail(const QString& message, QString* error);

    Codec m_codec;
    SinkOptions m_options;
    QSize m_size;
    std::unique_ptr<State> m_state;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Frame sinks: where recorded frames go (MP4 / WebM video, GIF, PNG sequences).
//
// A sink is opened with the frame size and rate, receives frames (QImages of exactly that size,
// any format; converted inside), and is finished or cancelled. Every sink writes under a
// temporary name in the destination's folder and renames at finish(), so a destination either
// holds a complete recording or is untouched: cancel(), a failed write or finish(), and the
// destructor of an unfinished sink remove whatever was written. Errors are one sentence that
// names the file. A sink is used from one thread at a time.
#pragma once

#include <QColor>
#include <QImage>
#include <QSize>
#include <QString>
#include <memory>
#include <optional>

#include "gifpalette.h"

namespace marginlab {

class FrameSink {
public:
    virtual ~FrameSink();
    FrameSink(const FrameSink&) = delete;
    FrameSink& operator=(const FrameSink&) = delete;

    /// Starts a recording of frames of `size` at `fps` frames per second (0 < fps ≤ 240).
    /// Creates the temporary file(s); an unwritable destination fails here.
    virtual bool open(QSize size, double fps, QString* error) = 0;
    /// Appends one frame; `frame.size()` must equal the opened size. Pixels with alpha are
    /// composed over white (a recording has no transparency).
    virtual bool write(const QImage& frame, QString* error) = 0;
    /// Completes the file(s) and moves them to the destination (replacing an existing file).
    virtual bool finish(QString* error) = 0;
    /// Abandons the recording: removes the temporary file(s). Safe to call at any time.
    virtual void cancel() = 0;

    /// The destination as given (file, folder or pattern).
    QString destination() const { return m_destination; }
    /// Frames accepted by write() so far.
    int framesWritten() const { return m_frames; }

protected:
    explicit FrameSink(QString destination) : m_destination(std::move(destination)) {}
    /// The checks shared by every sink's open(); fills `error` and returns false on a bad size or rate.
    bool checkOpenArguments(QSize size, double fps, QString* error) const;
    /// The checks shared by every sink's write().
    bool checkFrame(const QImage& frame, QSize expected, bool isOpen, QString* error) const;

    QString m_destination;
    int m_frames = 0;
};

struct SinkOptions {
    /// Video quality as the encoder's constant rate factor; −1 picks the default (H.264: 20,
    /// VP9: 32). Lower is better and larger.
    int quality = -1;
    /// x264's speed preset ("ultrafast" … "veryslow"); empty: "veryfast". Ignored for VP9.
    QString preset;
    /// H.264 / VP9 in yuv420p need an even width and height. false: open() refuses an odd size
    /// with a message; true: the last column / row is repeated to make it even.
    bool padToEven = false;
    /// The GIF's one palette; empty: GifPalette::standard() (a grey ramp and a colour cube).
    std::optional<GifPalette> gifPalette;
};

enum class SinkKind { Mp4, WebM, Gif, PngSequence };

/// The kind of sink for a destination: ".mp4", ".webm", ".gif" (case-insensitive), an existing
/// folder, a path ending in '/', or a printf pattern with one %d / %0Nd ("out/%04d.png").
/// nullopt + message for anything else.
std::optional<SinkKind> sinkKindFor(const QString& destination, QString* error);

/// A new sink for `destination` (see sinkKindFor), not yet opened; nullptr + message otherwise.
std::unique_ptr<FrameSink> makeSink(const QString& destination, const SinkOptions& options, QString* error);

namespace detail {

/// A temporary name next to `destination`: ".NAME.partial" (hidden, same file system, so the
/// final rename is atomic).
QString partialPathFor(const QString& destination);
/// Moves `from` to `to`, replacing `to`; a message naming `to` on failure.
bool replaceFile(const QString& from, const QString& to, QString* error);
/// The frame as Format_RGB32 (0xffRRGGBB words), alpha composed over white; no copy when it
/// already is.
QImage opaqueRgb32(const QImage& frame);

}  // namespace detail

}  // namespace marginlab

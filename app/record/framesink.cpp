// SPDX-License-Identifier: MIT
#include "framesink.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QPainter>
#include <QRegularExpression>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "gifsink.h"
#include "pngsequencesink.h"
#include "videosink.h"

namespace marginlab {

FrameSink::~FrameSink() = default;

bool FrameSink::checkOpenArguments(QSize size, double fps, QString* error) const {
    if (size.width() < 1 || size.height() < 1 || size.width() > 16384 || size.height() > 16384) {
        if (error)
            *error = QStringLiteral("%1: the frame size %2×%3 is outside 1…16384 pixels")
                         .arg(m_destination)
                         .arg(size.width())
                         .arg(size.height());
        return false;
    }
    if (!std::isfinite(fps) || fps <= 0.0 || fps > 240.0) {
        if (error)
            *error = QStringLiteral("%1: the frame rate %2 is outside (0, 240] frames per second")
                         .arg(m_destination)
                         .arg(fps);
        return false;
    }
    return true;
}

bool FrameSink::checkFrame(const QImage& frame, QSize expected, bool isOpen, QString* error) const {
    if (!isOpen) {
        if (error) *error = QStringLiteral("%1: write() before open() or after finish()").arg(m_destination);
        return false;
    }
    if (frame.size() != expected) {
        if (error)
            *error = QStringLiteral("%1: frame %2 is %3×%4, the recording is %5×%6")
                         .arg(m_destination)
                         .arg(m_frames + 1)
                         .arg(frame.width())
                         .arg(frame.height())
                         .arg(expected.width())
                         .arg(expected.height());
        return false;
    }
    return true;
}

namespace {

/// One %d, %Nd or %0Nd conversion (and no other '%' but "%%") makes a PNG pattern.
bool isFramePattern(const QString& destination) {
    static const QRegularExpression conversion(QStringLiteral("%(0?[1-9][0-9]?)?d"));
    QString rest = destination;
    rest.replace(QStringLiteral("%%"), QString());
    const auto matches = conversion.globalMatch(rest);
    int count = 0;
    for (auto it = matches; it.hasNext(); it.next()) ++count;
    rest.remove(conversion);
    return count == 1 && !rest.contains(QLatin1Char('%'));
}

QString unknownKindMessage(const QString& destination) {
    return QStringLiteral(
               "cannot record to '%1': choose a .mp4, .webm or .gif file, a folder (an "
               "existing one, or a path ending in /), or a pattern like out/%04d.png")
        .arg(destination);
}

}  // namespace

std::optional<SinkKind> sinkKindFor(const QString& destination, QString* error) {
    if (destination.isEmpty()) {
        if (error) *error = QStringLiteral("no destination given for the recording");
        return std::nullopt;
    }
    if (destination.contains(QLatin1Char('%'))) {
        if (!isFramePattern(destination) ||
            !destination.endsWith(QStringLiteral(".png"), Qt::CaseInsensitive)) {
            if (error)
                *error = QStringLiteral(
                             "'%1' is not a frame pattern: use one %d or %0Nd and end in .png "
                             "(e.g. out/%04d.png)")
                             .arg(destination);
            return std::nullopt;
        }
        return SinkKind::PngSequence;
    }
    if (destination.endsWith(QLatin1Char('/')) || QFileInfo(destination).isDir())
        return SinkKind::PngSequence;
    const QString suffix = QFileInfo(destination).suffix().toLower();
    if (suffix == QStringLiteral("mp4")) return SinkKind::Mp4;
    if (suffix == QStringLiteral("webm")) return SinkKind::WebM;
    if (suffix == QStringLiteral("gif")) return SinkKind::Gif;
    if (error) *error = unknownKindMessage(destination);
    return std::nullopt;
}

std::unique_ptr<FrameSink> makeSink(const QString& destination, const SinkOptions& options, QString* error) {
    const auto kind = sinkKindFor(destination, error);
    if (!kind) return nullptr;
    switch (*kind) {
        case SinkKind::Mp4:
            return std::make_unique<VideoSink>(destination, VideoSink::Codec::H264, options);
        case SinkKind::WebM:
            return std::make_unique<VideoSink>(destination, VideoSink::Codec::Vp9, options);
        case SinkKind::Gif:
            return std::make_unique<GifSink>(
                destination, options.gifPalette ? *options.gifPalette : GifPalette::standard());
        case SinkKind::PngSequence:
            return std::make_unique<PngSequenceSink>(destination);
    }
    return nullptr;
}

namespace detail {

QString partialPathFor(const QString& destination) {
    const QFileInfo info(destination);
    return info.dir().filePath(QStringLiteral(".%1.partial").arg(info.fileName()));
}

bool replaceFile(const QString& from, const QString& to, QString* error) {
    // std::rename replaces an existing file atomically on POSIX; QFile::rename refuses to.
    if (std::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) == 0) return true;
    const int code = errno;
    if (error)
        *error = QStringLiteral("cannot move the recording to %1: %2")
                     .arg(to, QString::fromLocal8Bit(std::strerror(code)));
    return false;
}

QImage opaqueRgb32(const QImage& frame) {
    if (frame.format() == QImage::Format_RGB32) return frame;
    if (!frame.hasAlphaChannel()) return frame.convertToFormat(QImage::Format_RGB32);
    QImage out(frame.size(), QImage::Format_RGB32);
    out.fill(Qt::white);
    QPainter painter(&out);
    painter.drawImage(0, 0, frame);
    return out;
}

}  // namespace detail

}  // namespace marginlab

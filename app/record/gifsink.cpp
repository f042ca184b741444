// SPDX-License-Identifier: MIT
#include "gifsink.h"

#include <gif_lib.h>

#include <QFile>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace marginlab {

struct GifSink::State {
    QString partialPath;
    std::FILE* file = nullptr;
    GifFileType* gif = nullptr;
    int writeErrno = 0;                 // the first failed fwrite's errno
    std::vector<std::uint8_t> canvas;   // what a viewer shows now, as indices
    std::vector<std::uint8_t> indices;  // the incoming frame, as indices
    std::vector<std::uint8_t> row;      // one row of the stored rectangle

    ~State() {
        if (gif) EGifCloseFile(gif, nullptr);
        if (file) std::fclose(file);
    }
};

namespace {

int writeBytes(GifFileType* gif, const GifByteType* bytes, int length) {
    auto* state = static_cast<GifSink::State*>(gif->UserData);
    const std::size_t written = std::fwrite(bytes, 1, static_cast<std::size_t>(length), state->file);
    if (written != static_cast<std::size_t>(length) && state->writeErrno == 0)
        state->writeErrno = errno ? errno : EIO;
    return static_cast<int>(written);
}

QString giflibError(int code) {
    const char* text = GifErrorString(code);
    return text ? QString::fromUtf8(text) : QStringLiteral("giflib error %1").arg(code);
}

/// Centiseconds of frame `index` at `fps`, with the rounding carried from frame to frame.
int delayOf(long index, double fps) {
    return static_cast<int>(std::llround(100.0 * static_cast<double>(index + 1) / fps) -
                            std::llround(100.0 * static_cast<double>(index) / fps));
}

}  // namespace

GifSink::GifSink(QString path, GifPalette palette)
    : FrameSink(std::move(path)), m_palette(std::move(palette)) {}

GifSink::~GifSink() {
    cancel();
}

bool GifSink::fail(const QString& message, QString* error) {
    if (error) *error = message;
    cancel();
    return false;
}

QString GifSink::writeError() const {
    const int code = m_state && m_state->writeErrno ? m_state->writeErrno : EIO;
    return QStringLiteral("writing %1 failed: %2")
        .arg(m_destination, QString::fromLocal8Bit(std::strerror(code)));
}

bool GifSink::open(QSize size, double fps, QString* error) {
    cancel();
    m_frames = 0;
    if (!checkOpenArguments(size, fps, error)) return false;
    if (size.width() > 65535 || size.height() > 65535)
        return fail(QStringLiteral("%1: too large for a GIF").arg(m_destination), error);
    if (fps > kMaxFps) {
        if (error)
            *error = QStringLiteral(
                         "%1: a GIF plays at most %2 frames per second (its delays are hundredths of a "
                         "second and browsers slow shorter ones down); record at %2 fps or less")
                         .arg(m_destination)
                         .arg(kMaxFps);
        return false;
    }
    m_state = std::make_unique<State>();
    State& s = *m_state;
    s.partialPath = detail::partialPathFor(m_destination);
    s.file = std::fopen(QFile::encodeName(s.partialPath).constData(), "wb");
    if (!s.file)
        return fail(QStringLiteral("cannot write %1: %2")
                        .arg(m_destination, QString::fromLocal8Bit(std::strerror(errno))),
                    error);
    int code = 0;
    s.gif = EGifOpen(&s, writeBytes, &code);
    if (!s.gif) return fail(QStringLiteral("%1: %2").arg(m_destination, giflibError(code)), error);

    GifColorType colours[256] = {};
    for (int i = 0; i < m_palette.size(); ++i) {
        const QRgb c = m_palette.colour(i);
        colours[i] = GifColorType{static_cast<GifByteType>(qRed(c)), static_cast<GifByteType>(qGreen(c)),
                                  static_cast<GifByteType>(qBlue(c))};
    }
    ColorMapObject* map = GifMakeMapObject(256, colours);
    EGifSetGifVersion(s.gif, true);  // GIF89a: delays, transparency and the loop extension
    const int screen = EGifPutScreenDesc(s.gif, size.width(), size.height(), 8, 0, map);
    GifFreeMapObject(map);
    if (screen == GIF_ERROR) return fail(writeError(), error);
    // NETSCAPE2.0 loop extension with a loop count of 0: forever.
    static const GifByteType netscape[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
    static const GifByteType loopForever[] = {1, 0, 0};
    if (EGifPutExtensionLeader(s.gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(s.gif, sizeof netscape, netscape) == GIF_ERROR ||
        EGifPutExtensionBlock(s.gif, sizeof loopForever, loopForever) == GIF_ERROR ||
        EGifPutExtensionTrailer(s.gif) == GIF_ERROR)
        return fail(writeError(), error);

    const auto pixels = static_cast<std::size_t>(size.width()) * static_cast<std::size_t>(size.height());
    s.canvas.assign(pixels, 0);
    s.indices.resize(pixels);
    s.row.resize(static_cast<std::size_t>(size.width()));
    m_size = size;
    m_fps = fps;
    return true;
}

bool GifSink::write(const QImage& frame, QString* error) {
    if (!checkFrame(frame, m_size, m_state != nullptr, error)) return false;
    State& s = *m_state;
    const QImage rgb = detail::opaqueRgb32(frame);
    const int width = m_size.width(), height = m_size.height();

    // Map to indices and find the bounding box of what changed since the shown picture.
    int left = width, right = -1, top = height, bottom = -1;
    for (int y = 0; y < height; ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
        std::uint8_t* out = s.indices.data() + static_cast<std::ptrdiff_t>(y) * width;
        const std::uint8_t* shown = s.canvas.data() + static_cast<std::ptrdiff_t>(y) * width;
        QRgb last = line[0] ^ 1u;  // anything but line[0]
        std::uint8_t lastIndex = 0;
        int rowLeft = width, rowRight = -1;
        for (int x = 0; x < width; ++x) {
            if (line[x] != last) {  // plain grounds repeat colours: skip the lookup
                last = line[x];
                lastIndex = m_palette.indexOf(last);
            }
            out[x] = lastIndex;
            if (lastIndex != shown[x]) {
                rowLeft = std::min(rowLeft, x);
                rowRight = x;
            }
        }
        if (rowRight >= 0) {
            left = std::min(left, rowLeft);
            right = std::max(right, rowRight);
            top = std::min(top, y);
            bottom = y;
        }
    }
    const bool first = m_frames == 0;
    if (first) {
        left = 0, top = 0, right = width - 1, bottom = height - 1;
    }
    const bool unchanged = right < 0;
    if (unchanged) left = 0, top = 0, right = 0, bottom = 0;

    GraphicsControlBlock control{};
    control.DisposalMode = DISPOSE_DO_NOT;
    control.UserInputFlag = false;
    control.DelayTime = delayOf(m_frames, m_fps);
    control.TransparentColor = first ? NO_TRANSPARENT_COLOR : GifPalette::kTransparentIndex;
    GifByteType extension[4];
    EGifGCBToExtension(&control, extension);
    const int boxWidth = right - left + 1, boxHeight = bottom - top + 1;
    if (EGifPutExtension(s.gif, GRAPHICS_EXT_FUNC_CODE, sizeof extension, extension) == GIF_ERROR ||
        EGifPutImageDesc(s.gif, left, top, boxWidth, boxHeight, false, nullptr) == GIF_ERROR)
        return fail(writeError(), error);
    for (int y = top; y <= bottom; ++y) {
        const std::size_t offset = static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
        const std::uint8_t* now = s.indices.data() + offset;
        std::uint8_t* shown = s.canvas.data() + offset;
        for (int x = left; x <= right; ++x) {
            // Unchanged pixels become transparent: long runs of one index compress well.
            const bool same = !first && (unchanged || now[x] == shown[x]);
            s.row[static_cast<std::size_t>(x - left)] = same ? GifPalette::kTransparentIndex : now[x];
            shown[x] = now[x];
        }
        if (EGifPutLine(s.gif, s.row.data(), boxWidth) == GIF_ERROR) return fail(writeError(), error);
    }
    if (s.writeErrno) return fail(writeError(), error);
    ++m_frames;
    return true;
}

bool GifSink::finish(QString* error) {
    if (!m_state) {
        if (error) *error = QStringLiteral("%1: finish() without open()").arg(m_destination);
        return false;
    }
    State& s = *m_state;
    if (m_frames == 0) return fail(QStringLiteral("%1: no frames were recorded").arg(m_destination), error);
    int code = 0;
    const int closed = EGifCloseFile(s.gif, &code);  // writes the trailer and frees, even on error
    s.gif = nullptr;
    if (closed == GIF_ERROR || s.writeErrno) return fail(writeError(), error);
    const bool flushed = std::fflush(s.file) == 0 && !std::ferror(s.file);
    const int flushErrno = errno;
    const bool closedFile = std::fclose(s.file) == 0;
    s.file = nullptr;
    if (!flushed || !closedFile) {
        s.writeErrno = flushed ? errno : flushErrno;
        return fail(writeError(), error);
    }
    const QString partial = s.partialPath;
    if (!detail::replaceFile(partial, m_destination, error)) {
        cancel();
        return false;
    }
    m_state.reset();
    return true;
}

void GifSink::cancel() {
    if (!m_state) return;
    const QString partial = m_state->partialPath;
    m_state.reset();
    QFile::remove(partial);
}

}  // namespace marginlab

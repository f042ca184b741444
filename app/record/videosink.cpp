// SPDX-License-Identifier: MIT
#include "videosink.h"

#include <QFile>
#include <cmath>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace marginlab {

namespace {

QString ffmpegError(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof text);
    return QString::fromUtf8(text);
}

const char* encoderName(VideoSink::Codec codec) {
    return codec == VideoSink::Codec::H264 ? "libx264" : "libvpx-vp9";
}

}  // namespace

struct VideoSink::State {
    QString partialPath;
    AVFormatContext* format = nullptr;
    AVCodecContext* encoder = nullptr;
    AVStream* stream = nullptr;
    SwsContext* scaler = nullptr;
    AVFrame* frame = nullptr;
    AVPacket* packet = nullptr;
    bool fileOpen = false;

    ~State() {
        sws_freeContext(scaler);
        av_frame_free(&frame);
        av_packet_free(&packet);
        avcodec_free_context(&encoder);
        if (format) {
            if (fileOpen) avio_closep(&format->pb);
            avformat_free_context(format);
        }
    }

    /// Sends `input` (nullptr: flush) and writes every packet the encoder hands back.
    int encode(const AVFrame* input) {
        int result = avcodec_send_frame(encoder, input);
        if (result < 0) return result;
        for (;;) {
            result = avcodec_receive_packet(encoder, packet);
            if (result == AVERROR(EAGAIN) || result == AVERROR_EOF) return 0;
            if (result < 0) return result;
            // libx264 and libvpx leave the duration unset; without it the muxer cannot know how
            // long the last frame lasts and the file comes out one frame short.
            if (packet->duration <= 0) packet->duration = 1;
            av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
            packet->stream_index = stream->index;
            result = av_interleaved_write_frame(format, packet);  // takes the packet's data
            if (result < 0) return result;
        }
    }
};

VideoSink::VideoSink(QString path, Codec codec, SinkOptions options)
    : FrameSink(std::move(path)), m_codec(codec), m_options(std::move(options)) {}

VideoSink::~VideoSink() {
    cancel();
}

bool VideoSink::encoderAvailable(Codec codec) {
    return avcodec_find_encoder_by_name(encoderName(codec)) != nullptr;
}

bool VideoSink::fail(const QString& message, QString* error) {
    if (error) *error = message;
    cancel();
    return false;
}

bool VideoSink::open(QSize size, double fps, QString* error) {
    cancel();
    m_frames = 0;
    if (!checkOpenArguments(size, fps, error)) return false;
    // FFmpeg's default level prints the encoders' statistics on standard error; unless a caller
    // chose a level, keep to warnings (a recording's errors come back through `error`).
    if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_WARNING);
    const bool h264 = m_codec == Codec::H264;
    const QString what = h264 ? QStringLiteral("MP4 (H.264)") : QStringLiteral("WebM (VP9)");
    QSize coded = size;
    if (size.width() % 2 != 0 || size.height() % 2 != 0) {
        if (!m_options.padToEven) {
            if (error)
                *error = QStringLiteral(
                             "%1: %2 needs an even width and height (yuv420p), the frames are %3×%4; "
                             "record %5×%6 instead")
                             .arg(m_destination, what)
                             .arg(size.width())
                             .arg(size.height())
                             .arg(size.width() + size.width() % 2)
                             .arg(size.height() + size.height() % 2);
            return false;
        }
        coded = QSize(size.width() + size.width() % 2, size.height() + size.height() % 2);
    }
    const AVCodec* codec = avcodec_find_encoder_by_name(encoderName(m_codec));
    if (!codec) {
        if (error)
            *error = QStringLiteral(
                         "%1: this FFmpeg has no %2 encoder, which %3 needs; record %4 or install an "
                         "FFmpeg built with it")
                         .arg(m_destination, QString::fromLatin1(encoderName(m_codec)), what,
                              h264 ? QStringLiteral("WebM or GIF") : QStringLiteral("MP4 or GIF"));
        return false;
    }

    m_state = std::make_unique<State>();
    State& s = *m_state;
    s.partialPath = detail::partialPathFor(m_destination);
    const QByteArray partial = QFile::encodeName(s.partialPath);
    int result =
        avformat_alloc_output_context2(&s.format, nullptr, h264 ? "mp4" : "webm", partial.constData());
    if (result < 0 || !s.format)
        return fail(QStringLiteral("%1: %2").arg(m_destination, ffmpegError(result)), error);

    // 29.97 → 30000/1001; whole rates stay n/1.
    const AVRational rate = av_d2q(fps, 1001000);
    s.encoder = avcodec_alloc_context3(codec);
    s.stream = avformat_new_stream(s.format, nullptr);
    s.frame = av_frame_alloc();
    s.packet = av_packet_alloc();
    if (!s.encoder || !s.stream || !s.frame || !s.packet)
        return fail(QStringLiteral("%1: out of memory").arg(m_destination), error);
    AVCodecContext* c = s.encoder;
    c->width = coded.width();
    c->height = coded.height();
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = av_inv_q(rate);
    c->framerate = rate;
    c->gop_size = std::max(1, static_cast<int>(std::lround(2.0 * fps)));
    c->color_range = AVCOL_RANGE_MPEG;
    c->colorspace = AVCOL_SPC_BT709;
    c->color_primaries = AVCOL_PRI_BT709;
    c->color_trc = AVCOL_TRC_BT709;
    c->sample_aspect_ratio = AVRational{1, 1};
    if (s.format->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    AVDictionary* codecOptions = nullptr;
    const int quality = m_options.quality >= 0 ? m_options.quality : (h264 ? 20 : 32);
    av_dict_set_int(&codecOptions, "crf", quality, 0);
    if (h264) {
        const QByteArray preset =
            m_options.preset.isEmpty() ? QByteArrayLiteral("veryfast") : m_options.preset.toUtf8();
        av_dict_set(&codecOptions, "preset", preset.constData(), 0);
    } else {
        c->bit_rate = 0;  // constant quality: crf alone
        av_dict_set(&codecOptions, "deadline", "realtime", 0);
        av_dict_set(&codecOptions, "cpu-used", "6", 0);
        av_dict_set(&codecOptions, "row-mt", "1", 0);
    }
    result = avcodec_open2(c, codec, &codecOptions);
    av_dict_free(&codecOptions);
    if (result < 0)
        return fail(QStringLiteral("%1: cannot start the %2 encoder: %3")
                        .arg(m_destination, QString::fromLatin1(encoderName(m_codec)), ffmpegError(result)),
                    error);
    result = avcodec_parameters_from_context(s.stream->codecpar, c);
    if (result < 0) return fail(QStringLiteral("%1: %2").arg(m_destination, ffmpegError(result)), error);
    s.stream->time_base = c->time_base;
    s.stream->avg_frame_rate = rate;
    s.stream->r_frame_rate = rate;

    result = avio_open(&s.format->pb, partial.constData(), AVIO_FLAG_WRITE);
    if (result < 0)
        return fail(QStringLiteral("cannot write %1: %2").arg(m_destination, ffmpegError(result)), error);
    s.fileOpen = true;
    AVDictionary* muxOptions = nullptr;
    if (h264) av_dict_set(&muxOptions, "movflags", "+faststart", 0);
    result = avformat_write_header(s.format, &muxOptions);
    av_dict_free(&muxOptions);
    if (result < 0)
        return fail(QStringLiteral("writing %1 failed: %2").arg(m_destination, ffmpegError(result)), error);

    s.frame->format = c->pix_fmt;
    s.frame->width = c->width;
    s.frame->height = c->height;
    result = av_frame_get_buffer(s.frame, 0);
    if (result < 0) return fail(QStringLiteral("%1: %2").arg(m_destination, ffmpegError(result)), error);
    // AV_PIX_FMT_RGB32 is FFmpeg's name for native-endian 0xAARRGGBB words: QImage::Format_RGB32.
    s.scaler = sws_getContext(coded.width(), coded.height(), AV_PIX_FMT_RGB32, coded.width(), coded.height(),
                              AV_PIX_FMT_YUV420P, SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr);
    if (!s.scaler) return fail(QStringLiteral("%1: cannot convert RGB to yuv420p").arg(m_destination), error);
    // Full-range RGB in, limited-range BT.709 out (what the stream is tagged with).
    const int* bt709 = sws_getCoefficients(SWS_CS_ITU709);
    sws_setColorspaceDetails(s.scaler, bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16);
    m_size = size;
    return true;
}

bool VideoSink::write(const QImage& frame, QString* error) {
    if (!checkFrame(frame, m_size, m_state != nullptr, error)) return false;
    State& s = *m_state;
    QImage rgb = detail::opaqueRgb32(frame);
    if (rgb.size() != QSize(s.encoder->width, s.encoder->height)) {
        // Odd size with padToEven: repeat the last column and row.
        QImage padded(s.encoder->width, s.encoder->height, QImage::Format_RGB32);
        for (int y = 0; y < padded.height(); ++y) {
            const auto* from =
                reinterpret_cast<const QRgb*>(rgb.constScanLine(std::min(y, rgb.height() - 1)));
            auto* to = reinterpret_cast<QRgb*>(padded.scanLine(y));
            std::copy(from, from + rgb.width(), to);
            for (int x = rgb.width(); x < padded.width(); ++x) to[x] = from[rgb.width() - 1];
        }
        rgb = std::move(padded);
    }
    int result = av_frame_make_writable(s.frame);
    if (result < 0) return fail(QStringLiteral("%1: %2").arg(m_destination, ffmpegError(result)), error);
    const uint8_t* planes[1] = {rgb.constBits()};
    const int strides[1] = {static_cast<int>(rgb.bytesPerLine())};
    sws_scale(s.scaler, planes, strides, 0, rgb.height(), s.frame->data, s.frame->linesize);
    s.frame->pts = m_frames;
    result = s.encode(s.frame);
    if (result < 0)
        return fail(QStringLiteral("writing %1 failed at frame %2: %3")
                        .arg(m_destination)
                        .arg(m_frames + 1)
                        .arg(ffmpegError(result)),
                    error);
    ++m_frames;
    return true;
}

bool VideoSink::finish(QString* error) {
    if (!m_state) {
        if (error) *error = QStringLiteral("%1: finish() without open()").arg(m_destination);
        return false;
    }
    State& s = *m_state;
    if (m_frames == 0) return fail(QStringLiteral("%1: no frames were recorded").arg(m_destination), error);
    int result = s.encode(nullptr);
    if (result < 0)
        return fail(QStringLiteral("writing %1 failed: %2").arg(m_destination, ffmpegError(result)), error);
    result = av_write_trailer(s.format);
    if (result >= 0 && s.format->pb->error < 0) result = s.format->pb->error;
    if (result < 0)
        return fail(QStringLiteral("writing %1 failed: %2").arg(m_destination, ffmpegError(result)), error);
    result = avio_closep(&s.format->pb);
    s.fileOpen = false;
    if (result < 0)
        return fail(QStringLiteral("writing %1 failed: %2").arg(m_destination, ffmpegError(result)), error);
    const QString partial = s.partialPath;
    if (!detail::replaceFile(partial, m_destination, error)) {
        cancel();
        return false;
    }
    m_state.reset();
    return true;
}

void VideoSink::cancel() {
    if (!m_state) return;
    const QString partial = m_state->partialPath;
    m_state.reset();  // closes the file first
    QFile::remove(partial);
}

}  // namespace marginlab

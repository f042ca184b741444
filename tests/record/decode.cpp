// SPDX-License-Identifier: MIT
#include "decode.h"

#include <gif_lib.h>

#include <QFile>
#include <cstring>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace marginlab::test {

DecodedVideo decodeVideo(const QString& path) {
    DecodedVideo out;
    AVFormatContext* format = nullptr;
    const QByteArray name = QFile::encodeName(path);
    if (avformat_open_input(&format, name.constData(), nullptr, nullptr) < 0) {
        out.error = QStringLiteral("cannot open");
        return out;
    }
    AVCodecContext* decoder = nullptr;
    SwsContext* scaler = nullptr;
    AVFrame* frame = av_frame_alloc();
    AVPacket* packet = av_packet_alloc();
    auto done = [&] {
        sws_freeContext(scaler);
        av_frame_free(&frame);
        av_packet_free(&packet);
        avcodec_free_context(&decoder);
        avformat_close_input(&format);
        return out;
    };
    if (avformat_find_stream_info(format, nullptr) < 0) {
        out.error = QStringLiteral("no stream info");
        return done();
    }
    const AVCodec* codec = nullptr;
    const int index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (index < 0 || !codec) {
        out.error = QStringLiteral("no video stream");
        return done();
    }
    AVStream* stream = format->streams[index];
    decoder = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(decoder, stream->codecpar);
    // One thread: frame threading would reorder nothing, but keep the reference decode plain.
    decoder->thread_count = 1;
    if (avcodec_open2(decoder, codec, nullptr) < 0) {
        out.error = QStringLiteral("cannot open decoder");
        return done();
    }
    out.codec = QString::fromLatin1(codec->name);
    if (const char* pf = av_get_pix_fmt_name(static_cast<AVPixelFormat>(stream->codecpar->format)))
        out.pixelFormat = QString::fromLatin1(pf);
    out.width = stream->codecpar->width;
    out.height = stream->codecpar->height;
    out.rateNumerator = stream->avg_frame_rate.num;
    out.rateDenominator = stream->avg_frame_rate.den;
    if (stream->duration != AV_NOPTS_VALUE)
        out.durationSeconds = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
    else if (format->duration != AV_NOPTS_VALUE)
        out.durationSeconds = static_cast<double>(format->duration) / AV_TIME_BASE;

    auto receive = [&]() -> bool {
        for (;;) {
            const int result = avcodec_receive_frame(decoder, frame);
            if (result == AVERROR(EAGAIN) || result == AVERROR_EOF) return true;
            if (result < 0) return false;
            QImage image(frame->width, frame->height, QImage::Format_RGB32);
            scaler = sws_getCachedContext(
                scaler, frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
                frame->height, AV_PIX_FMT_RGB32, SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr);
            const int* matrix =
                sws_getCoefficients(frame->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT);
            sws_setColorspaceDetails(scaler, matrix, frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0, matrix,
                                     1, 0, 1 << 16, 1 << 16);
            uint8_t* planes[1] = {image.bits()};
            const int strides[1] = {static_cast<int>(image.bytesPerLine())};
            sws_scale(scaler, frame->data, frame->linesize, 0, frame->height, planes, strides);
            out.frames.push_back(std::move(image));
        }
    };
    while (av_read_frame(format, packet) >= 0) {
        if (packet->stream_index == index) {
            if (avcodec_send_packet(decoder, packet) < 0 || !receive())
                out.error = QStringLiteral("decode error");
        }
        av_packet_unref(packet);
    }
    avcodec_send_packet(decoder, nullptr);
    if (!receive()) out.error = QStringLiteral("decode error at flush");
    return done();
}

DecodedGif decodeGif(const QString& path) {
    DecodedGif out;
    int code = 0;
    GifFileType* gif = DGifOpenFileName(QFile::encodeName(path).constData(), &code);
    if (!gif) {
        out.error = QString::fromUtf8(GifErrorString(code));
        return out;
    }
    if (DGifSlurp(gif) == GIF_ERROR) {
        out.error = QString::fromUtf8(GifErrorString(gif->Error));
        DGifCloseFile(gif, nullptr);
        return out;
    }
    out.width = gif->SWidth;
    out.height = gif->SHeight;
    if (gif->SColorMap)
        for (int i = 0; i < gif->SColorMap->ColorCount; ++i) {
            const GifColorType& c = gif->SColorMap->Colors[i];
            out.globalPalette.push_back(qRgb(c.Red, c.Green, c.Blue));
        }
    // Application extensions come before the first image and are kept with it by DGifSlurp.
    auto scanLoop = [&](const ExtensionBlock* blocks, int count) {
        for (int i = 0; i + 1 < count; ++i)
            if (blocks[i].Function == APPLICATION_EXT_FUNC_CODE && blocks[i].ByteCount == 11 &&
                std::memcmp(blocks[i].Bytes, "NETSCAPE2.0", 11) == 0 && blocks[i + 1].ByteCount == 3 &&
                blocks[i + 1].Bytes[0] == 1 && blocks[i + 1].Bytes[1] == 0 && blocks[i + 1].Bytes[2] == 0)
                out.loopsForever = true;
    };
    scanLoop(gif->ExtensionBlocks, gif->ExtensionBlockCount);
    QImage canvas(out.width, out.height, QImage::Format_RGB32);
    canvas.fill(Qt::black);
    for (int k = 0; k < gif->ImageCount; ++k) {
        const SavedImage& image = gif->SavedImages[k];
        scanLoop(image.ExtensionBlocks, image.ExtensionBlockCount);
        GraphicsControlBlock control{};
        control.TransparentColor = NO_TRANSPARENT_COLOR;
        DGifSavedExtensionToGCB(gif, k, &control);
        out.delays.push_back(control.DelayTime);
        const GifImageDesc& d = image.ImageDesc;
        out.rectangles.emplace_back(d.Left, d.Top, d.Width, d.Height);
        if (d.ColorMap) out.anyLocalPalette = true;
        const ColorMapObject* map = d.ColorMap ? d.ColorMap : gif->SColorMap;
        for (int y = 0; y < d.Height; ++y)
            for (int x = 0; x < d.Width; ++x) {
                const int index = image.RasterBits[y * d.Width + x];
                if (index == control.TransparentColor) continue;
                const GifColorType& c = map->Colors[index];
                canvas.setPixel(d.Left + x, d.Top + y, qRgb(c.Red, c.Green, c.Blue));
            }
        out.frames.push_back(canvas.copy());
    }
    DGifCloseFile(gif, nullptr);
    return out;
}

std::vector<std::string> mp4Boxes(const QString& path) {
    std::vector<std::string> boxes;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return boxes;
    const QByteArray data = file.readAll();
    qsizetype at = 0;
    while (at + 8 <= data.size()) {
        const auto* p = reinterpret_cast<const unsigned char*>(data.constData() + at);
        quint64 size = (quint64(p[0]) << 24) | (quint64(p[1]) << 16) | (quint64(p[2]) << 8) | p[3];
        boxes.emplace_back(data.constData() + at + 4, 4);
        if (size == 1 && at + 16 <= data.size()) {
            size = 0;
            for (int i = 8; i < 16; ++i) size = (size << 8) | p[i];
        }
        if (size < 8) break;
        at += static_cast<qsizetype>(size);
    }
    return boxes;
}

}  // namespace marginlab::test

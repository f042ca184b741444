// SPDX-License-Identifier: MIT
// Frame sinks: encoding speed and the size of a 10-second recording (300 frames at 30 fps) of
// ~500 moving class-coloured discs on white, as a recorded embedding looks. Frames are drawn
// before timing; every disc moves on a circle with a period of 60 frames, so cycling through the
// 60 pre-drawn frames is a seamless animation. One iteration = open, 300 frames, finish.
//
// Also FFmpeg's own GIF encoder on the same frames (mapped to the same palette), to compare
// file size and colour exactness with the giflib sink (docs/recording.md).
#include <benchmark/benchmark.h>

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QGuiApplication>
#include <QPainter>
#include <QTemporaryDir>
#include <cmath>
#include <random>

#include "../tests/record/decode.h"
#include "framesink.h"
#include "gifpalette.h"
#include "gifsink.h"
#include "pngsequencesink.h"
#include "videosink.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace {

using namespace marginlab;

constexpr int kPeriod = 60;            // frames drawn
constexpr int kRecordingFrames = 300;  // 10 s at 30 fps
constexpr double kFps = 30.0;
constexpr int kDiscs = 500;

const QList<QColor>& classColours() {
    static const QList<QColor> colours{QColor(31, 119, 180),  QColor(255, 127, 14),  QColor(44, 160, 44),
                                       QColor(214, 39, 40),   QColor(148, 103, 189), QColor(140, 86, 75),
                                       QColor(227, 119, 194), QColor(127, 127, 127)};
    return colours;
}

/// The pre-drawn frames at `size` (disc radius scales with the height).
const std::vector<QImage>& frames(QSize size) {
    static std::map<std::pair<int, int>, std::vector<QImage>> cache;
    auto& images = cache[{size.width(), size.height()}];
    if (!images.empty()) return images;
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    struct Disc {
        double x, y, orbit, phase;
        int colour;
    };
    std::vector<Disc> discs;
    for (int i = 0; i < kDiscs; ++i) {
        const int colour = i % static_cast<int>(classColours().size());
        // Clustered by class, as a trained embedding is.
        const double cx = 0.2 + 0.6 * ((colour % 4) / 3.0), cy = colour < 4 ? 0.3 : 0.7;
        discs.push_back({cx + 0.09 * (unit(rng) - 0.5) * 2, cy + 0.12 * (unit(rng) - 0.5) * 2,
                         0.01 + 0.03 * unit(rng), 2 * M_PI * unit(rng), colour});
    }
    const double radius = size.height() / 120.0;
    for (int k = 0; k < kPeriod; ++k) {
        QImage image(size, QImage::Format_RGB32);
        image.fill(Qt::white);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(Qt::NoPen);
        for (const Disc& d : discs) {
            const double angle = d.phase + 2 * M_PI * k / kPeriod;
            painter.setBrush(classColours()[d.colour]);
            painter.drawEllipse(QPointF((d.x + d.orbit * std::cos(angle)) * size.width(),
                                        (d.y + d.orbit * std::sin(angle)) * size.height()),
                                radius, radius);
        }
        images.push_back(std::move(image));
    }
    return images;
}

qint64 bytesUnder(const QString& path) {
    const QFileInfo info(path);
    if (info.isFile()) return info.size();
    qint64 total = 0;
    QDirIterator it(path, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) total += QFileInfo(it.next()).size();
    return total;
}

/// Of the pixels whose source colour is a palette colour, the percentage the GIF shows exactly.
double exactPercent(const QString& gifPath, QSize size, const GifPalette& palette) {
    const auto gif = test::decodeGif(gifPath);
    const auto& source = frames(size);
    long exact = 0, total = 0;
    for (std::size_t k = 0; k < gif.frames.size() && k < source.size(); ++k)
        for (int y = 0; y < size.height(); y += 2)
            for (int x = 0; x < size.width(); x += 2) {
                const QRgb want = source[k].pixel(x, y);
                if (palette.exactIndex(want) < 0) continue;
                ++total;
                exact += gif.frames[k].pixel(x, y) == want;
            }
    return total ? 100.0 * static_cast<double>(exact) / static_cast<double>(total) : 0.0;
}

void recordWith(benchmark::State& state, const char* suffix, QSize size) {
    const auto& images = frames(size);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bench") + QLatin1String(suffix));
    SinkOptions options;
    options.gifPalette = GifPalette::fromColours(classColours());
    qint64 bytes = 0;
    for (auto _ : state) {
        QString error;
        auto sink = makeSink(path, options, &error);
        if (!sink || !sink->open(size, kFps, &error)) {
            state.SkipWithError(error.toUtf8().constData());
            return;
        }
        for (int k = 0; k < kRecordingFrames; ++k)
            if (!sink->write(images[static_cast<std::size_t>(k % kPeriod)], &error)) {
                state.SkipWithError(error.toUtf8().constData());
                return;
            }
        if (!sink->finish(&error)) {
            state.SkipWithError(error.toUtf8().constData());
            return;
        }
        state.PauseTiming();
        bytes = bytesUnder(path);
        QFileInfo(path).isDir() ? (void)QDir(path).removeRecursively() : (void)QFile::remove(path);
        state.ResumeTiming();
    }
    state.counters["frames_per_second"] =
        benchmark::Counter(static_cast<double>(kRecordingFrames) * static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate);
    state.counters["MB_per_10s"] = static_cast<double>(bytes) / 1e6;
}

/// FFmpeg's GIF encoder fed the same frames, mapped to the same palette (PAL8) by the same
/// lookup, with index 255 marked transparent so that it can store differences too.
void ffmpegGif(benchmark::State& state, QSize size) {
    const auto& images = frames(size);
    const GifPalette palette = GifPalette::fromColours(classColours());
    QTemporaryDir dir;
    const QByteArray path = dir.filePath(QStringLiteral("ffmpeg.gif")).toUtf8();
    double exact = 0;
    qint64 bytes = 0;
    for (auto _ : state) {
        AVFormatContext* format = nullptr;
        avformat_alloc_output_context2(&format, nullptr, "gif", path.constData());
        const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_GIF);
        AVCodecContext* encoder = avcodec_alloc_context3(codec);
        encoder->width = size.width();
        encoder->height = size.height();
        encoder->pix_fmt = AV_PIX_FMT_PAL8;
        encoder->time_base = AVRational{1, 30};
        AVStream* stream = avformat_new_stream(format, nullptr);
        if (avcodec_open2(encoder, codec, nullptr) < 0) {
            state.SkipWithError("FFmpeg has no GIF encoder");
            return;
        }
        avcodec_parameters_from_context(stream->codecpar, encoder);
        stream->time_base = encoder->time_base;
        avio_open(&format->pb, path.constData(), AVIO_FLAG_WRITE);
        if (avformat_write_header(format, nullptr) < 0) {
            state.SkipWithError("cannot write the GIF header");
            return;
        }
        AVFrame* frame = av_frame_alloc();
        frame->format = AV_PIX_FMT_PAL8;
        frame->width = size.width();
        frame->height = size.height();
        av_frame_get_buffer(frame, 0);
        AVPacket* packet = av_packet_alloc();
        auto drain = [&] {
            while (avcodec_receive_packet(encoder, packet) == 0) {
                packet->duration = 1;
                av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
                av_interleaved_write_frame(format, packet);
            }
        };
        for (int k = 0; k < kRecordingFrames; ++k) {
            av_frame_make_writable(frame);
            auto* colours = reinterpret_cast<std::uint32_t*>(frame->data[1]);
            for (int i = 0; i < 256; ++i) colours[i] = i < palette.size() ? palette.colour(i) : 0x00FFFFFFu;
            const QImage& image = images[static_cast<std::size_t>(k % kPeriod)];
            for (int y = 0; y < size.height(); ++y) {
                const auto* line = reinterpret_cast<const QRgb*>(image.constScanLine(y));
                std::uint8_t* out = frame->data[0] + static_cast<std::ptrdiff_t>(y) * frame->linesize[0];
                for (int x = 0; x < size.width(); ++x) out[x] = palette.indexOf(line[x]);
            }
            frame->pts = k;
            avcodec_send_frame(encoder, frame);
            drain();
        }
        avcodec_send_frame(encoder, nullptr);
        drain();
        av_write_trailer(format);
        avio_closep(&format->pb);
        av_packet_free(&packet);
        av_frame_free(&frame);
        avcodec_free_context(&encoder);
        avformat_free_context(format);
        state.PauseTiming();
        bytes = bytesUnder(QString::fromUtf8(path));
        exact = exactPercent(QString::fromUtf8(path), size, palette);
        state.ResumeTiming();
    }
    state.counters["frames_per_second"] =
        benchmark::Counter(static_cast<double>(kRecordingFrames) * static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate);
    state.counters["MB_per_10s"] = static_cast<double>(bytes) / 1e6;
    state.counters["exact_percent"] = exact;
}

/// The giflib sink with the exactness check of ffmpegGif, for the comparison.
void giflibGifExactness(benchmark::State& state, QSize size) {
    const GifPalette palette = GifPalette::fromColours(classColours());
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("giflib.gif"));
    double exact = 0;
    for (auto _ : state) {
        GifSink sink(path, palette);
        QString error;
        sink.open(size, kFps, &error);
        for (int k = 0; k < kPeriod; ++k) sink.write(frames(size)[static_cast<std::size_t>(k)], &error);
        if (!sink.finish(&error)) {
            state.SkipWithError(error.toUtf8().constData());
            return;
        }
        exact = exactPercent(path, size, palette);
    }
    state.counters["exact_percent"] = exact;
}

const QSize k720p(1280, 720), k360p(640, 360);

BENCHMARK_CAPTURE(recordWith, mp4_1280x720, ".mp4", k720p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(recordWith, webm_1280x720, ".webm", k720p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(recordWith, gif_640x360, ".gif", k360p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(recordWith, gif_1280x720, ".gif", k720p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(recordWith, png_640x360, "-frames/", k360p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(recordWith, mp4_640x360, ".mp4", k360p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(ffmpegGif, ffmpeg_gif_640x360, k360p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(giflibGifExactness, giflib_gif_640x360, k360p)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

// SPDX-License-Identifier: MIT
// Frame sinks: write synthetic animations, decode them with FFmpeg's libraries / giflib, and
// check what a viewer would see (frame count, size, rate, colours, motion); atomic writes.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QGuiApplication>
#include <QPainter>
#include <QTemporaryDir>
#include <cmath>
#include <csignal>

#include "decode.h"
#include "framesink.h"
#include "gifpalette.h"
#include "gifsink.h"
#include "pngsequencesink.h"
#include "videosink.h"

namespace marginlab {
namespace {

const QColor kRed(220, 40, 40), kGreen(30, 160, 60), kBlue(40, 80, 220), kInk(20, 20, 20);
constexpr double kFps = 30.0;
constexpr int kFrames = 30;

/// Frame `k` of a synthetic animation: three discs of the class colours moving on white, and one
/// still disc. Anti-aliased, so edges hold colours outside any palette.
QImage discFrame(int k, QSize size = {320, 240}) {
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    const double w = size.width(), h = size.height();
    painter.setBrush(kRed);
    painter.drawEllipse(QPointF(0.15 * w + 5.0 * k, 0.3 * h), 0.1 * h, 0.1 * h);
    painter.setBrush(kGreen);
    painter.drawEllipse(QPointF(0.8 * w - 4.0 * k, 0.6 * h), 0.12 * h, 0.12 * h);
    painter.setBrush(kBlue);
    painter.drawEllipse(QPointF(0.5 * w, 0.15 * h + 3.0 * k), 0.08 * h, 0.08 * h);
    painter.setBrush(kInk);
    painter.drawEllipse(QPointF(0.1 * w, 0.85 * h), 0.06 * h, 0.06 * h);
    return image;
}

GifPalette testPalette() {
    return GifPalette::fromColours({kRed, kGreen, kBlue, kInk, Qt::white});
}

/// Every file and folder under `dir`, hidden ones included.
QStringList everything(const QString& dir) {
    QStringList entries;
    QDirIterator it(dir, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) entries << QDir(dir).relativeFilePath(it.next());
    entries.sort();
    return entries;
}

bool record(FrameSink& sink, int frames, QString* error, QSize size = {320, 240}, double fps = kFps) {
    if (!sink.open(size, fps, error)) return false;
    for (int k = 0; k < frames; ++k)
        if (!sink.write(discFrame(k, size), error)) return false;
    return sink.finish(error);
}

/// Mean absolute difference per channel between two RGB32 images of one size.
double meanDifference(const QImage& a, const QImage& b) {
    const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
    double sum = 0;
    for (int row = 0; row < x.height(); ++row) {
        const auto* p = reinterpret_cast<const QRgb*>(x.constScanLine(row));
        const auto* q = reinterpret_cast<const QRgb*>(y.constScanLine(row));
        for (int col = 0; col < x.width(); ++col)
            sum += std::abs(qRed(p[col]) - qRed(q[col])) + std::abs(qGreen(p[col]) - qGreen(q[col])) +
                   std::abs(qBlue(p[col]) - qBlue(q[col]));
    }
    return sum / (3.0 * x.width() * x.height());
}

int channelDistance(QRgb a, QRgb b) {
    return std::max(
        {std::abs(qRed(a) - qRed(b)), std::abs(qGreen(a) - qGreen(b)), std::abs(qBlue(a) - qBlue(b))});
}

struct VideoCase {
    VideoSink::Codec codec;
    const char* suffix;
    const char* codecName;
};

class VideoSinkTest : public ::testing::TestWithParam<VideoCase> {};

TEST_P(VideoSinkTest, DecodesToTheFramesWritten) {
    const VideoCase c = GetParam();
    if (!VideoSink::encoderAvailable(c.codec)) GTEST_SKIP() << "no encoder for " << c.codecName;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("discs.") + QLatin1String(c.suffix));
    VideoSink sink(path, c.codec);
    QString error;
    ASSERT_TRUE(record(sink, kFrames, &error)) << error.toStdString();
    EXPECT_EQ(sink.framesWritten(), kFrames);
    EXPECT_EQ(everything(dir.path()), QStringList{QFileInfo(path).fileName()});  // no temporary left

    const test::DecodedVideo video = test::decodeVideo(path);
    ASSERT_TRUE(video.error.isEmpty()) << video.error.toStdString();
    EXPECT_EQ(video.codec, QLatin1String(c.codecName));
    EXPECT_EQ(video.pixelFormat, QStringLiteral("yuv420p"));
    EXPECT_EQ(video.width, 320);
    EXPECT_EQ(video.height, 240);
    ASSERT_EQ(static_cast<int>(video.frames.size()), kFrames);
    ASSERT_GT(video.rateDenominator, 0);
    EXPECT_NEAR(double(video.rateNumerator) / video.rateDenominator, kFps, 1e-9);
    // The last frame lasts its 1/30 s too (packet durations): the stream is exactly one second.
    EXPECT_NEAR(video.durationSeconds, kFrames / kFps, 1e-3);

    for (int k = 0; k < kFrames; ++k) {
        const QImage source = discFrame(k).convertToFormat(QImage::Format_RGB32);
        // Lossy, but close to the source; and red stays red (no channel swap).
        EXPECT_LT(meanDifference(video.frames[k], source), 3.0) << "frame " << k;
        const QPoint redCentre(int(0.15 * 320 + 5.0 * k), int(0.3 * 240));
        EXPECT_LE(channelDistance(video.frames[k].pixel(redCentre), kRed.rgb()), 12) << "frame " << k;
        if (k > 0) {
            // The discs moved, so consecutive decoded frames differ where the source did.
            const double moved = meanDifference(video.frames[k], video.frames[k - 1]);
            const double sourceMoved = meanDifference(source, discFrame(k - 1));
            EXPECT_GT(moved, 0.5 * sourceMoved) << "frame " << k;
        }
    }
}

TEST_P(VideoSinkTest, TwoEncodesDecodeIdentically) {
    const VideoCase c = GetParam();
    if (!VideoSink::encoderAvailable(c.codec)) GTEST_SKIP() << "no encoder for " << c.codecName;
    QTemporaryDir dir;
    QString error;
    const QString a = dir.filePath(QStringLiteral("a.") + QLatin1String(c.suffix));
    const QString b = dir.filePath(QStringLiteral("b.") + QLatin1String(c.suffix));
    VideoSink first(a, c.codec), second(b, c.codec);
    ASSERT_TRUE(record(first, 12, &error)) << error.toStdString();
    ASSERT_TRUE(record(second, 12, &error)) << error.toStdString();
    const auto x = test::decodeVideo(a), y = test::decodeVideo(b);
    ASSERT_EQ(x.frames.size(), 12u);
    ASSERT_EQ(y.frames.size(), 12u);
    for (std::size_t k = 0; k < x.frames.size(); ++k) EXPECT_EQ(x.frames[k], y.frames[k]) << "frame " << k;
}

INSTANTIATE_TEST_SUITE_P(Codecs, VideoSinkTest,
                         ::testing::Values(VideoCase{VideoSink::Codec::H264, "mp4", "h264"},
                                           VideoCase{VideoSink::Codec::Vp9, "webm", "vp9"}),
                         [](const auto& testInfo) { return std::string(testInfo.param.suffix); });

TEST(VideoSink, Mp4StartsWithItsIndex) {
    if (!VideoSink::encoderAvailable(VideoSink::Codec::H264)) GTEST_SKIP();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("fast.mp4"));
    VideoSink sink(path, VideoSink::Codec::H264);
    QString error;
    ASSERT_TRUE(record(sink, 5, &error)) << error.toStdString();
    // +faststart: "moov" before "mdat", so playback starts before the file is fully read.
    const auto boxes = test::mp4Boxes(path);
    const auto moov = std::find(boxes.begin(), boxes.end(), "moov"),
               mdat = std::find(boxes.begin(), boxes.end(), "mdat");
    ASSERT_NE(moov, boxes.end());
    ASSERT_NE(mdat, boxes.end());
    EXPECT_LT(moov - boxes.begin(), mdat - boxes.begin());
}

TEST(VideoSink, FractionalRateIsExact) {
    if (!VideoSink::encoderAvailable(VideoSink::Codec::H264)) GTEST_SKIP();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("ntsc.mp4"));
    VideoSink sink(path, VideoSink::Codec::H264);
    QString error;
    ASSERT_TRUE(record(sink, 10, &error, {160, 120}, 30000.0 / 1001.0)) << error.toStdString();
    const auto video = test::decodeVideo(path);
    EXPECT_EQ(video.rateNumerator, 30000);
    EXPECT_EQ(video.rateDenominator, 1001);
    EXPECT_EQ(video.frames.size(), 10u);
}

TEST(VideoSink, OddSizeIsRefusedOrPadded) {
    if (!VideoSink::encoderAvailable(VideoSink::Codec::H264)) GTEST_SKIP();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("odd.mp4"));
    QString error;
    VideoSink strict(path, VideoSink::Codec::H264);
    EXPECT_FALSE(strict.open({321, 240}, kFps, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("even"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("322×240"))) << error.toStdString();
    EXPECT_TRUE(everything(dir.path()).isEmpty());

    SinkOptions options;
    options.padToEven = true;
    VideoSink padded(path, VideoSink::Codec::H264, options);
    ASSERT_TRUE(record(padded, 3, &error, {321, 239})) << error.toStdString();
    const auto video = test::decodeVideo(path);
    EXPECT_EQ(video.width, 322);
    EXPECT_EQ(video.height, 240);
    ASSERT_EQ(video.frames.size(), 3u);
    // The padding repeats the edge (white here), not black.
    EXPECT_GE(qRed(video.frames[0].pixel(321, 239)), 240);
}

TEST(VideoSink, WrongFrameSizeIsRefused) {
    QTemporaryDir dir;
    VideoSink sink(dir.filePath(QStringLiteral("x.mp4")), VideoSink::Codec::H264);
    QString error;
    if (!VideoSink::encoderAvailable(VideoSink::Codec::H264)) GTEST_SKIP();
    ASSERT_TRUE(sink.open({320, 240}, kFps, &error)) << error.toStdString();
    EXPECT_FALSE(sink.write(discFrame(0, {200, 100}), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("200×100"))) << error.toStdString();
    sink.cancel();
    EXPECT_TRUE(everything(dir.path()).isEmpty());
}

TEST(GifPalette, ExactForPaletteColoursNearestOtherwise) {
    const GifPalette palette = testPalette();
    EXPECT_EQ(palette.size(), GifPalette::kMaxColours);
    for (int i = 0; i < palette.size(); ++i) {
        EXPECT_EQ(palette.indexOf(palette.colour(i)), i) << i;
        EXPECT_EQ(palette.exactIndex(palette.colour(i)), i) << i;
    }
    EXPECT_EQ(palette.colour(0), kRed.rgb());
    EXPECT_EQ(palette.colour(4), QColor(Qt::white).rgb());
    // Colours one level apart share a lookup cell; each palette colour still maps to itself.
    const GifPalette close = GifPalette::fromColours({QColor(100, 100, 100), QColor(101, 100, 100)});
    EXPECT_EQ(close.indexOf(qRgb(100, 100, 100)), 0);
    EXPECT_EQ(close.indexOf(qRgb(101, 100, 100)), 1);
    // A colour not in the palette maps to a near one (the standard palette has a 6-level cube).
    const GifPalette standard = GifPalette::standard();
    const QRgb odd = qRgb(13, 140, 201);
    EXPECT_EQ(standard.exactIndex(odd), -1);
    EXPECT_LE(channelDistance(standard.colour(standard.indexOf(odd)), odd), 40);
}

TEST(GifSink, ExactPaletteColoursLoopAndDelays) {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("discs.gif"));
    const GifPalette palette = testPalette();
    GifSink sink(path, palette);
    QString error;
    ASSERT_TRUE(record(sink, kFrames, &error)) << error.toStdString();
    EXPECT_EQ(everything(dir.path()), QStringList{QStringLiteral("discs.gif")});

    const test::DecodedGif gif = test::decodeGif(path);
    ASSERT_TRUE(gif.error.isEmpty()) << gif.error.toStdString();
    EXPECT_EQ(gif.width, 320);
    EXPECT_EQ(gif.height, 240);
    EXPECT_TRUE(gif.loopsForever);
    EXPECT_FALSE(gif.anyLocalPalette);
    ASSERT_EQ(gif.globalPalette.size(), 256u);
    for (int i = 0; i < palette.size(); ++i) EXPECT_EQ(gif.globalPalette[std::size_t(i)], palette.colour(i));
    ASSERT_EQ(static_cast<int>(gif.frames.size()), kFrames);

    // 30 fps in hundredths: 3 or 4 each, one second in total.
    int total = 0;
    for (int delay : gif.delays) {
        EXPECT_TRUE(delay == 3 || delay == 4) << delay;
        total += delay;
    }
    EXPECT_EQ(total, 100);

    // After the first frame, only the moving discs' bounding box is stored.
    EXPECT_EQ(gif.rectangles[0], QRect(0, 0, 320, 240));
    for (int k = 1; k < kFrames; ++k) {
        EXPECT_LT(gif.rectangles[std::size_t(k)].width() * gif.rectangles[std::size_t(k)].height(),
                  320 * 240 * 3 / 4)
            << "frame " << k;
        // The still disc (bottom left) is outside it.
        EXPECT_FALSE(gif.rectangles[std::size_t(k)].contains(QPoint(32, 204))) << "frame " << k;
    }

    // Every pixel whose source colour is a palette colour comes back exactly; the others (edges)
    // come back as a nearby palette colour.
    long exactPixels = 0;
    for (int k = 0; k < kFrames; ++k) {
        const QImage source = discFrame(k).convertToFormat(QImage::Format_RGB32);
        const QImage& shown = gif.frames[std::size_t(k)];
        for (int y = 0; y < source.height(); ++y)
            for (int x = 0; x < source.width(); ++x) {
                const QRgb want = source.pixel(x, y), got = shown.pixel(x, y);
                if (palette.exactIndex(want) >= 0) {
                    ++exactPixels;
                    ASSERT_EQ(got, want) << "frame " << k << " at " << x << "," << y;
                } else {
                    ASSERT_LE(channelDistance(got, want), 48) << "frame " << k << " at " << x << "," << y;
                }
            }
    }
    EXPECT_GT(exactPixels, long(kFrames) * 320 * 240 * 9 / 10);
    // And the coloured discs are there: frame 0's red disc centre is exactly red.
    EXPECT_EQ(gif.frames[0].pixel(48, 72), kRed.rgb());
}

TEST(GifSink, UnchangedFrameIsOneTransparentPixel) {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("still.gif"));
    GifSink sink(path, testPalette());
    QString error;
    ASSERT_TRUE(sink.open({64, 48}, 10, &error)) << error.toStdString();
    for (int k = 0; k < 3; ++k)
        ASSERT_TRUE(sink.write(discFrame(0, {64, 48}), &error)) << error.toStdString();
    ASSERT_TRUE(sink.finish(&error)) << error.toStdString();
    const auto gif = test::decodeGif(path);
    ASSERT_EQ(gif.frames.size(), 3u);
    EXPECT_EQ(gif.rectangles[1], QRect(0, 0, 1, 1));
    EXPECT_EQ(gif.frames[2], gif.frames[0]);
    EXPECT_EQ(gif.delays, (std::vector<int>{10, 10, 10}));
}

TEST(GifSink, RefusesRatesBrowsersCannotPlay) {
    QTemporaryDir dir;
    GifSink sink(dir.filePath(QStringLiteral("fast.gif")), testPalette());
    QString error;
    EXPECT_FALSE(sink.open({64, 48}, 60, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("50"))) << error.toStdString();
    EXPECT_TRUE(everything(dir.path()).isEmpty());
}

TEST(PngSequenceSink, FolderGetsNumberedFrames) {
    QTemporaryDir dir;
    const QString folder = dir.filePath(QStringLiteral("frames"));
    QString error;
    auto sink = makeSink(folder + QLatin1Char('/'), {}, &error);
    ASSERT_TRUE(sink) << error.toStdString();
    ASSERT_TRUE(record(*sink, 12, &error)) << error.toStdString();
    QStringList expected;
    expected << QStringLiteral("frames");
    for (int k = 1; k <= 12; ++k)
        expected << QStringLiteral("frames/frame_%1.png").arg(k, 4, 10, QLatin1Char('0'));
    expected.sort();
    EXPECT_EQ(everything(dir.path()), expected);
    // PNG is lossless: frame 7 is the 7th frame written, pixel for pixel.
    const QImage back(QDir(folder).filePath(QStringLiteral("frame_0007.png")));
    EXPECT_EQ(back.convertToFormat(QImage::Format_RGB32), discFrame(6).convertToFormat(QImage::Format_RGB32));
}

TEST(PngSequenceSink, PatternInAnExistingFolderLeavesOtherFiles) {
    QTemporaryDir dir;
    QFile other(dir.filePath(QStringLiteral("notes.txt")));
    ASSERT_TRUE(other.open(QIODevice::WriteOnly));
    other.write("keep me");
    other.close();
    QString error;
    auto sink = makeSink(dir.filePath(QStringLiteral("%03d.png")), {}, &error);
    ASSERT_TRUE(sink) << error.toStdString();
    ASSERT_TRUE(record(*sink, 3, &error)) << error.toStdString();
    EXPECT_EQ(everything(dir.path()), (QStringList{QStringLiteral("001.png"), QStringLiteral("002.png"),
                                                   QStringLiteral("003.png"), QStringLiteral("notes.txt")}));
}

TEST(MakeSink, ChoosesByExtension) {
    QTemporaryDir dir;
    QString error;
    EXPECT_EQ(sinkKindFor(QStringLiteral("a/b.MP4"), &error), SinkKind::Mp4);
    EXPECT_EQ(sinkKindFor(QStringLiteral("b.webm"), &error), SinkKind::WebM);
    EXPECT_EQ(sinkKindFor(QStringLiteral("b.gif"), &error), SinkKind::Gif);
    EXPECT_EQ(sinkKindFor(dir.path(), &error), SinkKind::PngSequence);
    EXPECT_EQ(sinkKindFor(QStringLiteral("out/%04d.png"), &error), SinkKind::PngSequence);
    EXPECT_EQ(sinkKindFor(QStringLiteral("out/%d.png"), &error), SinkKind::PngSequence);
    EXPECT_NE(dynamic_cast<GifSink*>(makeSink(QStringLiteral("x.gif"), {}, &error).get()), nullptr);
    EXPECT_NE(dynamic_cast<VideoSink*>(makeSink(QStringLiteral("x.webm"), {}, &error).get()), nullptr);

    EXPECT_FALSE(makeSink(QStringLiteral("movie.avi"), {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("movie.avi")) && error.contains(QStringLiteral(".mp4")))
        << error.toStdString();
    EXPECT_FALSE(makeSink(QStringLiteral("out/%04d_%d.png"), {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("pattern"))) << error.toStdString();
    EXPECT_FALSE(makeSink(QStringLiteral("out/%04s.png"), {}, &error));
    EXPECT_FALSE(makeSink(QStringLiteral("out/%04d.jpg"), {}, &error));
    EXPECT_FALSE(makeSink(QString(), {}, &error));
}

/// One sink of each kind writing to `destination` + the kind's suffix.
std::vector<std::unique_ptr<FrameSink>> oneOfEach(const QString& base) {
    std::vector<std::unique_ptr<FrameSink>> sinks;
    QString error;
    for (const char* suffix : {".mp4", ".webm", ".gif", "-frames/"}) {
        if (QLatin1String(suffix) == QLatin1String(".mp4") &&
            !VideoSink::encoderAvailable(VideoSink::Codec::H264))
            continue;
        if (QLatin1String(suffix) == QLatin1String(".webm") &&
            !VideoSink::encoderAvailable(VideoSink::Codec::Vp9))
            continue;
        SinkOptions options;
        options.gifPalette = testPalette();
        sinks.push_back(makeSink(base + QLatin1String(suffix), options, &error));
    }
    return sinks;
}

TEST(Atomicity, CancelAndDestructionLeaveNothingAndKeepTheOldFile) {
    QTemporaryDir dir;
    // An earlier recording at the same name survives a cancelled one.
    QFile old(dir.filePath(QStringLiteral("rec.gif")));
    ASSERT_TRUE(old.open(QIODevice::WriteOnly));
    old.write("old recording");
    old.close();
    for (auto& sink : oneOfEach(dir.filePath(QStringLiteral("rec")))) {
        QString error;
        ASSERT_TRUE(sink->open({320, 240}, kFps, &error)) << error.toStdString();
        for (int k = 0; k < 5; ++k) ASSERT_TRUE(sink->write(discFrame(k), &error)) << error.toStdString();
        EXPECT_GT(everything(dir.path()).size(), 1)
            << sink->destination().toStdString();  // a temporary exists
        sink->cancel();
        EXPECT_EQ(everything(dir.path()), QStringList{QStringLiteral("rec.gif")})
            << sink->destination().toStdString();
    }
    for (auto& sink : oneOfEach(dir.filePath(QStringLiteral("dropped")))) {
        QString error;
        ASSERT_TRUE(sink->open({320, 240}, kFps, &error)) << error.toStdString();
        ASSERT_TRUE(sink->write(discFrame(0), &error)) << error.toStdString();
    }  // destroyed unfinished
    EXPECT_EQ(everything(dir.path()), QStringList{QStringLiteral("rec.gif")});
    ASSERT_TRUE(old.open(QIODevice::ReadOnly));
    EXPECT_EQ(old.readAll(), QByteArray("old recording"));
}

TEST(Atomicity, FinishReplacesAnExistingFile) {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("again.gif"));
    QFile old(path);
    ASSERT_TRUE(old.open(QIODevice::WriteOnly));
    old.write("old recording");
    old.close();
    GifSink sink(path, testPalette());
    QString error;
    ASSERT_TRUE(record(sink, 2, &error)) << error.toStdString();
    EXPECT_EQ(test::decodeGif(path).frames.size(), 2u);
    EXPECT_EQ(everything(dir.path()), QStringList{QStringLiteral("again.gif")});
}

TEST(Atomicity, UnwritableDestinationsGiveAMessageAndLeaveNothing) {
    QTemporaryDir dir;
    // A regular file where a folder should be: refused even for root.
    QFile blocker(dir.filePath(QStringLiteral("file")));
    ASSERT_TRUE(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    QStringList bases{dir.filePath(QStringLiteral("file/rec")),
                      dir.filePath(QStringLiteral("missing/folder/rec"))};
    if (::geteuid() != 0) {  // root writes into read-only folders
        const QString locked = dir.filePath(QStringLiteral("locked"));
        QDir().mkdir(locked);
        QFile::setPermissions(locked, QFileDevice::ReadOwner | QFileDevice::ExeOwner);
        bases << locked + QStringLiteral("/rec");
    }
    for (const QString& base : bases)
        for (auto& sink : oneOfEach(base)) {
            QString error;
            EXPECT_FALSE(sink->open({320, 240}, kFps, &error)) << sink->destination().toStdString();
            EXPECT_TRUE(error.contains(QFileInfo(sink->destination()).fileName()) ||
                        error.contains(QDir::cleanPath(sink->destination())))
                << error.toStdString();
        }
    QStringList left = everything(dir.path());
    left.removeAll(QStringLiteral("file"));
    left.removeAll(QStringLiteral("locked"));
    EXPECT_TRUE(left.isEmpty()) << left.join(QLatin1Char(' ')).toStdString();
}

/// Files may grow to `bytes` at most while alive (writes beyond fail with EFBIG, like a full disk).
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        getrlimit(RLIMIT_FSIZE, &m_saved);
        m_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit = m_saved;
        limit.rlim_cur = bytes;
        m_active = setrlimit(RLIMIT_FSIZE, &limit) == 0;
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &m_saved);
        std::signal(SIGXFSZ, m_handler);
    }
    bool active() const { return m_active; }

private:
    rlimit m_saved{};
    void (*m_handler)(int) = nullptr;
    bool m_active = false;
};

/// Noise defeats compression, so a few frames exceed the limit.
QImage noiseFrame(int k) {
    QImage image(320, 240, QImage::Format_RGB32);
    std::uint32_t state = 2463534242u + static_cast<std::uint32_t>(k);
    for (int y = 0; y < image.height(); ++y) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < image.width(); ++x) {
            state ^= state << 13, state ^= state >> 17, state ^= state << 5;
            line[x] = 0xFF000000u | (state & 0xFFFFFFu);
        }
    }
    return image;
}

TEST(Atomicity, AFullDiskGivesAMessageAndLeavesNothing) {
    QTemporaryDir dir;
    for (auto& sink : oneOfEach(dir.filePath(QStringLiteral("full")))) {
        QString error;
        bool ok = true;
        {
            FileSizeLimit limit(64 * 1024);
            if (!limit.active()) GTEST_SKIP() << "cannot limit the file size here";
            ok = sink->open({320, 240}, kFps, &error);
            for (int k = 0; ok && k < 20; ++k) ok = sink->write(noiseFrame(k), &error);
            if (ok) ok = sink->finish(&error);
        }
        EXPECT_FALSE(ok) << sink->destination().toStdString();
        EXPECT_TRUE(error.contains(QStringLiteral("File too large"))) << error.toStdString();
        EXPECT_TRUE(error.contains(QStringLiteral("full"))) << error.toStdString();
        EXPECT_TRUE(everything(dir.path()).isEmpty())
            << everything(dir.path()).join(QLatin1Char(' ')).toStdString();
    }
}

}  // namespace
}  // namespace marginlab

int main(int argc, char** argv) {
    // Test discovery runs this without ctest's environment: never ask for a display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}

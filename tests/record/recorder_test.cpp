// SPDX-License-Identifier: MIT
// Recording end to end: `marginlab render` with no display writes MP4 / WebM / GIF / PNG
// sequences / stills that decode back with the right count, size and rate, change as training
// moves, and are the same for the same scene; cancelled or failed recordings leave nothing; a
// trajectory exported by marginlab-cli replays the live run's positions.
#include "decode.h"
#include "recorder.h"
#include "replayplayer.h"

#include "marginlab/scene/scenefile.h"
#include "marginlab/scene/trajectory.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QPainter>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace marginlab;

namespace {

const QString kScene = QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/mining-semihard.json");

struct RunResult {
    int exitCode = -1;
    QString errors;
};

/// Runs a program with no display at all (no DISPLAY, no QT_QPA_PLATFORM): headless must just work.
RunResult run(const QString& program, const QStringList& arguments) {
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
    process.setProcessEnvironment(environment);
    process.start(program, arguments);
    if (!process.waitForFinished(120000)) return {};
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardError())};
}

RunResult render(const QStringList& arguments) { return run(QStringLiteral(MARGINLAB_APP), QStringList{QStringLiteral("render")} + arguments); }

int differingPixels(const QImage& a, const QImage& b) {
    int count = 0;
    for (int y = 0; y < a.height(); ++y)
        for (int x = 0; x < a.width(); ++x)
            if (a.pixel(x, y) != b.pixel(x, y)) ++count;
    return count;
}

QStringList entries(const QString& folder) { return QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot); }

}  // namespace

TEST(Render, VideoAndGifDecodeWithTheRightFramesSizeAndRate) {
    QTemporaryDir dir;
    const QStringList common = {kScene, QStringLiteral("--steps"), QStringLiteral("30"), QStringLiteral("--size"),
                                QStringLiteral("320x240"), QStringLiteral("--fps"), QStringLiteral("25"), QStringLiteral("--quiet")};
    for (const char* name : {"run.mp4", "run.webm"}) {
        const QString path = dir.filePath(QLatin1String(name));
        const RunResult result = render(common + QStringList{QStringLiteral("-o"), path});
        ASSERT_EQ(result.exitCode, 0) << result.errors.toStdString();
        const test::DecodedVideo video = test::decodeVideo(path);
        ASSERT_TRUE(video.error.isEmpty()) << video.error.toStdString();
        EXPECT_EQ(video.frames.size(), 31u);  // step 0 and one frame per step
        EXPECT_EQ(video.width, 320);
        EXPECT_EQ(video.height, 240);
        EXPECT_EQ(video.rateNumerator, 25 * video.rateDenominator);
        // Training moves the points: the last frame is not the first.
        EXPECT_GT(differingPixels(video.frames.front(), video.frames.back()), 200);
    }
    const QString gif = dir.filePath(QStringLiteral("run.gif"));
    const RunResult result = render(common + QStringList{QStringLiteral("-o"), gif});
    ASSERT_EQ(result.exitCode, 0) << result.errors.toStdString();
    const test::DecodedGif decoded = test::decodeGif(gif);
    ASSERT_TRUE(decoded.error.isEmpty()) << decoded.error.toStdString();
    EXPECT_EQ(decoded.frames.size(), 31u);
    EXPECT_TRUE(decoded.loopsForever);
    EXPECT_FALSE(decoded.anyLocalPalette);
    EXPECT_GT(differingPixels(decoded.frames.front(), decoded.frames.back()), 200);
    // The class colours are in the one palette exactly.
    const QRgb classZero = recordingPalette(4).colour(recordingPalette(4).exactIndex(qRgb(0xE6, 0x9F, 0x00)));
    EXPECT_NE(std::find(decoded.globalPalette.begin(), decoded.globalPalette.end(), classZero), decoded.globalPalette.end());
}

TEST(Render, TheSameSceneGivesTheSameFrames) {
    QTemporaryDir dir;
    const QStringList common = {kScene, QStringLiteral("--steps"), QStringLiteral("12"), QStringLiteral("--size"),
                                QStringLiteral("320x240"), QStringLiteral("--chart-strip"), QStringLiteral("--quiet")};
    for (const char* name : {"a.mp4", "b.mp4"})
        ASSERT_EQ(render(common + QStringList{QStringLiteral("-o"), dir.filePath(QLatin1String(name))}).exitCode, 0);
    const test::DecodedVideo a = test::decodeVideo(dir.filePath(QStringLiteral("a.mp4")));
    const test::DecodedVideo b = test::decodeVideo(dir.filePath(QStringLiteral("b.mp4")));
    ASSERT_EQ(a.frames.size(), 13u);
    ASSERT_EQ(a.frames.size(), b.frames.size());
    for (std::size_t i = 0; i < a.frames.size(); ++i) EXPECT_EQ(a.frames[i], b.frames[i]) << "frame " << i;
}

TEST(Render, PngSequencesAndInBetweenFrames) {
    QTemporaryDir dir;
    const QString pattern = dir.filePath(QStringLiteral("frames/%04d.png"));
    QDir().mkpath(dir.filePath(QStringLiteral("frames")));
    const RunResult result = render({kScene, QStringLiteral("--steps"), QStringLiteral("4"), QStringLiteral("--in-between"),
                               QStringLiteral("2"), QStringLiteral("--size"), QStringLiteral("200x150"), QStringLiteral("--quiet"),
                               QStringLiteral("-o"), pattern});
    ASSERT_EQ(result.exitCode, 0) << result.errors.toStdString();
    const QStringList files = entries(dir.filePath(QStringLiteral("frames")));
    // 5 states (steps 0…4) and 2 eased frames between each pair: 5 + 4·2 = 13 numbered files.
    ASSERT_EQ(files.size(), 13) << files.join(QLatin1Char(' ')).toStdString();
    for (const QString& file : files) EXPECT_TRUE(QRegularExpression(QStringLiteral("^\\d{4}\\.png$")).match(file).hasMatch());
    // An eased frame lies between its neighbours: it differs from both.
    const QImage first(dir.filePath(QStringLiteral("frames/") + files[0]));
    const QImage eased(dir.filePath(QStringLiteral("frames/") + files[1]));
    const QImage next(dir.filePath(QStringLiteral("frames/") + files[3]));
    EXPECT_EQ(first.size(), QSize(200, 150));
    EXPECT_GT(differingPixels(first, eased), 0);
    EXPECT_GT(differingPixels(eased, next), 0);
}

TEST(Render, StillsAreOneFrameAndSvgHoldsAVectorShapePerPoint) {
    QTemporaryDir dir;
    const QString svg = dir.filePath(QStringLiteral("still.svg"));
    ASSERT_EQ(render({kScene, QStringLiteral("--steps"), QStringLiteral("3"), QStringLiteral("--quiet"), QStringLiteral("-o"), svg})
                  .exitCode,
              0);
    QFile file(svg);
    ASSERT_TRUE(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    EXPECT_TRUE(text.contains(QStringLiteral("</svg>")));
    EXPECT_EQ(text.count(QStringLiteral("<image")), 0);  // centroid regions and points: all vectors
    std::string error;
    const auto scene = readSceneFile(kScene.toStdString(), &error);
    ASSERT_TRUE(scene) << error;
    const auto points = scene->trainer.points.rows();
    EXPECT_GE(text.count(QStringLiteral("<ellipse")) + text.count(QStringLiteral("<circle")), points);
    const QString png = dir.filePath(QStringLiteral("still.png"));
    ASSERT_EQ(render({kScene, QStringLiteral("--steps"), QStringLiteral("3"), QStringLiteral("--size"), QStringLiteral("300x200"),
                      QStringLiteral("--quiet"), QStringLiteral("-o"), png})
                  .exitCode,
              0);
    EXPECT_EQ(QImage(png).size(), QSize(300, 200));
}

TEST(Render, BadInputAndFailuresLeaveNothingBehind) {
    QTemporaryDir dir;
    // Bad input: exit 2, one line, nothing written.
    RunResult result = render({kScene, QStringLiteral("-o"), dir.filePath(QStringLiteral("x.bmp"))});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_EQ(result.errors.trimmed().count(QLatin1Char('\n')), 0) << result.errors.toStdString();
    result = render({kScene, QStringLiteral("--steps"), QStringLiteral("ten"), QStringLiteral("-o"), dir.filePath(QStringLiteral("x.gif"))});
    EXPECT_EQ(result.exitCode, 2);
    result = render({dir.filePath(QStringLiteral("missing.json")), QStringLiteral("-o"), dir.filePath(QStringLiteral("x.gif"))});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(result.errors.contains(QStringLiteral("missing.json")));
    // An unwritable place (a folder that is really a file: refused even for root): not zero,
    // one line naming it, and nothing new left anywhere.
    const QString notAFolder = dir.filePath(QStringLiteral("plain.txt"));
    QFile plain(notAFolder);
    ASSERT_TRUE(plain.open(QIODevice::WriteOnly));
    plain.close();
    result = render({kScene, QStringLiteral("--steps"), QStringLiteral("3"), QStringLiteral("--quiet"), QStringLiteral("-o"),
                     notAFolder + QStringLiteral("/x.mp4")});
    EXPECT_NE(result.exitCode, 0);
    EXPECT_TRUE(result.errors.contains(QStringLiteral("x.mp4"))) << result.errors.toStdString();
    EXPECT_EQ(entries(dir.path()), QStringList{QStringLiteral("plain.txt")});
}

TEST(Render, EveryBuiltInSceneRenders) {
    QTemporaryDir dir;
    const QStringList scenes = QDir(QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes")).entryList({QStringLiteral("*.json")});
    ASSERT_GE(scenes.size(), 12);
    for (const QString& name : scenes) {
        const QString out = dir.filePath(QFileInfo(name).completeBaseName() + QStringLiteral(".gif"));
        const RunResult result = render({QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/") + name, QStringLiteral("--steps"),
                                         QStringLiteral("6"), QStringLiteral("--size"), QStringLiteral("160x120"), QStringLiteral("--quiet"),
                                         QStringLiteral("-o"), out});
        EXPECT_EQ(result.exitCode, 0) << name.toStdString() << ": " << result.errors.toStdString();
        EXPECT_EQ(test::decodeGif(out).frames.size(), 7u) << name.toStdString();
    }
}

TEST(Render, AComparisonRecordsItsGridInLockstep) {
    QTemporaryDir dir;
    const QString comparison = QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/comparisons/mining-strategies.json");
    const QString gif = dir.filePath(QStringLiteral("grid.gif"));
    const RunResult result = render({comparison, QStringLiteral("--steps"), QStringLiteral("8"), QStringLiteral("--size"),
                                     QStringLiteral("480x360"), QStringLiteral("--chart-strip"), QStringLiteral("--quiet"),
                                     QStringLiteral("-o"), gif});
    ASSERT_EQ(result.exitCode, 0) << result.errors.toStdString();
    const test::DecodedGif decoded = test::decodeGif(gif);
    ASSERT_EQ(decoded.frames.size(), 9u);
    EXPECT_EQ(QSize(decoded.width, decoded.height), QSize(480, 360));
    // Four panels: the title bars (one colour each) sit at the top of the four cells of a 2×2 grid.
    const QImage& last = decoded.frames.back();
    const QRgb topLeft = last.pixel(20, 4), topRight = last.pixel(260, 4);
    EXPECT_NE(topLeft, topRight);
    EXPECT_GT(differingPixels(decoded.frames.front(), last), 200);  // the panels trained
    const QString png = dir.filePath(QStringLiteral("grid.png"));
    ASSERT_EQ(render({comparison, QStringLiteral("--steps"), QStringLiteral("4"), QStringLiteral("--quiet"), QStringLiteral("-o"), png})
                  .exitCode,
              0);
    EXPECT_EQ(QImage(png).size(), QSize(1280, 720));
}

TEST(Recorder, ThreeDRecordingsStartFromTheScenesSavedCamera) {
    std::string error;
    const auto scene = readSceneFile(MARGINLAB_SOURCE_DIR "/resources/scenes/arcface-sphere.json", &error);
    ASSERT_TRUE(scene) << error;
    RecordSettings settings;
    settings.size = QSize(320, 240);
    auto firstFrame = [&](const ViewSettings& view, Frame2D* frame = nullptr) {
        Recorder recorder(std::make_unique<TrainerSource>(scene->trainer), view, settings);
        const Frame2D f = recorder.frameOf(recorder.start());
        if (frame) *frame = f;
        QImage image(settings.size, QImage::Format_RGB32);
        image.fill(Qt::white);
        QPainter painter(&image);
        recorder.paint(painter, f);
        return image;
    };
    ViewSettings top;
    top.camera3d = Camera3D{}.top();
    top.camera3d->worldRadius = 1.5;
    Frame2D frame;
    const QImage saved = firstFrame(top, &frame), fitted = firstFrame(ViewSettings{});
    EXPECT_GT(differingPixels(saved, fitted), 500);
    // Exactly the sphere frame seen through the saved camera.
    Frame3D expected = Renderer3D::sphereFrame(frame, *top.camera3d);
    QImage image(settings.size, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    Renderer3D().paint(painter, expected);
    painter.end();
    EXPECT_EQ(differingPixels(saved, image), 0);
}

TEST(Recorder, CancelLeavesNoFile) {
    QTemporaryDir dir;
    std::string error;
    const auto scene = readSceneFile(kScene.toStdString(), &error);
    ASSERT_TRUE(scene) << error;
    RecordSettings settings;
    settings.size = QSize(160, 120);
    settings.steps = 50;
    Recorder recorder(std::make_unique<TrainerSource>(scene->trainer), ViewSettings{}, settings);
    QString message;
    const QString path = dir.filePath(QStringLiteral("cancelled.gif"));
    auto sink = makeSink(path, SinkOptions{}, &message);
    ASSERT_TRUE(sink);
    int calls = 0;
    EXPECT_FALSE(recorder.record(*sink, [&](const RecordProgress& p) {
        ++calls;
        EXPECT_EQ(p.totalFrames, 51);
        return p.frame < 5;  // Cancel after five frames
    }, &message));
    EXPECT_EQ(calls, 5);
    EXPECT_TRUE(message.contains(QStringLiteral("cancelled")));
    EXPECT_TRUE(entries(dir.path()).isEmpty());
}

TEST(Recorder, AnExportedTrajectoryReplaysTheLiveRun) {
    QTemporaryDir dir;
    const QString csv = dir.filePath(QStringLiteral("run.csv"));
    const RunResult exported = run(QStringLiteral(MARGINLAB_CLI), {QStringLiteral("train"), kScene, QStringLiteral("--steps"),
                                                            QStringLiteral("10"), QStringLiteral("--trajectory"), csv});
    ASSERT_EQ(exported.exitCode, 0) << exported.errors.toStdString();
    std::string error;
    auto trajectory = readTrajectory(csv.toStdString(), &error);
    ASSERT_TRUE(trajectory) << error;
    const auto scene = readSceneFile(kScene.toStdString(), &error);
    ASSERT_TRUE(scene) << error;
    Trainer live(scene->trainer);
    TrajectorySource replay(std::move(*trajectory));
    EXPECT_TRUE(replay.current()->positions == live.snapshot()->positions);
    for (int step = 1; step <= 10; ++step) {
        const auto shown = replay.advance(1);
        ASSERT_TRUE(shown);
        const auto trained = live.step(1);
        EXPECT_EQ(shown->step, trained->step);
        EXPECT_TRUE(shown->positions == trained->positions) << "step " << step;
        EXPECT_TRUE(shown->labels == trained->labels);
    }
    EXPECT_FALSE(replay.advance(1));  // the end of the file
    // And it renders, headless, with the regions and metrics that need no loss.
    const RunResult rendered = render({csv, QStringLiteral("--size"), QStringLiteral("320x240"), QStringLiteral("--chart-strip"),
                                 QStringLiteral("--quiet"), QStringLiteral("-o"), dir.filePath(QStringLiteral("replay.gif"))});
    ASSERT_EQ(rendered.exitCode, 0) << rendered.errors.toStdString();
    EXPECT_EQ(test::decodeGif(dir.filePath(QStringLiteral("replay.gif"))).frames.size(), 11u);
}

TEST(Replay, ThePlayerWalksThroughTheLoggedFrames) {
    QTemporaryDir dir;
    const QString csv = dir.filePath(QStringLiteral("run.csv"));
    ASSERT_EQ(run(QStringLiteral(MARGINLAB_CLI), {QStringLiteral("train"), kScene, QStringLiteral("--steps"), QStringLiteral("6"),
                                                  QStringLiteral("--every"), QStringLiteral("2"), QStringLiteral("--trajectory"), csv})
                  .exitCode,
              0);
    ReplayPlayer player;
    std::vector<long> shown;
    QObject::connect(&player, &ReplayPlayer::snapshotChanged, [&](std::shared_ptr<const Snapshot> s) { shown.push_back(s->step); });
    QString error;
    EXPECT_FALSE(player.open(dir.filePath(QStringLiteral("missing.csv")), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("missing.csv")));
    EXPECT_FALSE(player.isActive());
    ASSERT_TRUE(player.open(csv, &error)) << error.toStdString();
    EXPECT_TRUE(player.isActive());
    EXPECT_EQ(player.run().loss, nullptr);
    for (int i = 0; i < 5; ++i) player.step();  // past the end: stays on the last frame
    EXPECT_EQ(shown, (std::vector<long>{0, 2, 4, 6}));
    EXPECT_GE(player.current()->metrics.precisionAt1, 0.0);  // computed from the positions
    player.reset();
    EXPECT_EQ(player.current()->step, 0);
    player.close();
    EXPECT_FALSE(player.isActive());
}

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}

// SPDX-License-Identifier: MIT
// Recording throughput, render + encode: a 500-point triplet scene with every overlay (class
// regions, split force arrows, the triplet zones of an anchor, read-out and legend) trained and
// recorded through the Recorder into MP4 at 1280×720 and GIF at 640×360, as `marginlab render`
// does. Frames per second = frames / wall time (training included, one step per frame).
#include "recorder.h"

#include "bench_scene.h"

#include <QDir>
#include <QGuiApplication>
#include <QTemporaryDir>

#include <benchmark/benchmark.h>

namespace {

using namespace marginlab;

TrainerConfig scene() {
    TrainerConfig config = bench::generatedScene("blobs", "triplet_margin", 500, 6, 10);
    config.loss.params.numbers["margin"] = 0.2;
    return config;
}

void record(benchmark::State& state, const char* file, int width, int height) {
    constexpr int kFrames = 60;
    QTemporaryDir dir;
    ViewSettings view;
    view.options.splitForces = true;
    view.selection.anchor = 0;
    for (auto _ : state) {
        RecordSettings settings;
        settings.size = QSize(width, height);
        settings.steps = kFrames - 1;
        Recorder recorder(std::make_unique<TrainerSource>(scene(), true), view, settings, QStringLiteral("bench"));
        QString error;
        SinkOptions options;
        options.gifPalette = recordingPalette(6);
        auto sink = makeSink(dir.filePath(QLatin1String(file)), options, &error);
        if (!sink || !recorder.record(*sink, {}, &error)) state.SkipWithError(error.toStdString().c_str());
    }
    state.counters["frames_per_second"] =
        benchmark::Counter(static_cast<double>(kFrames) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_CAPTURE(record, Mp4_1280x720, "out.mp4", 1280, 720)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(record, Gif_640x360, "out.gif", 640, 360)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

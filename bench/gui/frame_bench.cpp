// SPDX-License-Identifier: MIT
// Frame time of the 2D renderer (the one the view, the exporter and the recorder use),
// offscreen: a new snapshot arrives and a 1280×800 frame is painted with every overlay on (regions, split force arrows, normalized copies, triplet overlay,
// and for ArcFace the margin band and the θ inset). N ∈ {500, 2000, 5000}; a triplet scene
// (centroid regions, overlay) and an ArcFace scene (class-weight regions and arrows on the circle).
#include "renderer2d.h"

#include "marginlab/trainer.h"

#include <QGuiApplication>
#include <QThread>
#include <QThreadPool>
#include <QImage>
#include <QPainter>

#include <benchmark/benchmark.h>

#include <memory>

#include "bench_scene.h"

namespace {

using namespace marginlab;

TrainerConfig scene(const char* loss, int points) {
    // The frame is what is measured, not the metrics: they are computed rarely.
    TrainerConfig config = bench::generatedScene("blobs", loss, points, 10, 1000);
    return config;
}

void frame(benchmark::State& state, const char* loss) {
    const TrainerConfig config = scene(loss, static_cast<int>(state.range(0)));
    Trainer trainer(config);
    trainer.setSplitForces(true);
    const std::shared_ptr<const Snapshot> snapshots[2] = {trainer.step(1), trainer.step(1)};
    Frame2D frame;
    frame.size = QSize(1280, 800);
    frame.run = describeRun(config.loss, config.miner);
    frame.options.splitForces = true;  // the defaults draw every overlay but the split arrows
    frame.snapshot = snapshots[0];
    frame.camera = Camera2D::fitting(Renderer2D::dataBounds(frame), frame.size);
    frame.selection.anchor = 0;
    Renderer2D renderer;
    int which = 0;
    // One image painted over and over, like the window's backing store (a fresh 4 MB image per
    // frame would measure page faults, not painting).
    QImage image(QSize(1280, 800), QImage::Format_RGB32);
    for (auto _ : state) {
        which = 1 - which;  // a different snapshot every frame, as while training
        frame.snapshot = snapshots[which];
        QPainter painter(&image);
        renderer.paint(painter, frame);
        painter.end();
        benchmark::DoNotOptimize(image.constBits());
    }
}

}  // namespace

BENCHMARK_CAPTURE(frame, Triplet, "triplet_margin")->Arg(500)->Arg(2000)->Arg(5000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(frame, ArcFace, "arcface")->Arg(500)->Arg(2000)->Arg(5000)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    // As the app does (TrainingController::leaveACoreForTraining): painting leaves a core to training.
    QThreadPool::globalInstance()->setMaxThreadCount(std::max(1, QThread::idealThreadCount() - 1));
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

// SPDX-License-Identifier: MIT
// Frame time of the 3D renderer, offscreen: a new snapshot arrives and a 1280×800 frame of the
// sphere is painted with every overlay on — class regions on the surface with the margin band
// (ArcFace) or mean-direction regions (triplet), class weight arrows or centroids, split force
// arrows, normalized copies, the selected anchor's triplet caps and marks, trails of 8 snapshots,
// the θ inset and the equal-area map. Sphere caps data, 10 classes, N ∈ {500, 2000, 5000}.
#include <benchmark/benchmark.h>

#include <QApplication>
#include <QImage>
#include <QPainter>
#include <memory>

#include "marginlab/trainer.h"
#include "renderer3d.h"
#include "trainingcontroller.h"

#include "bench_main.h"
#include "bench_scene.h"

namespace {

using namespace marginlab;

TrainerConfig scene(const char* loss, int points) {
    // The frame is what is measured, not the metrics: they are computed rarely.
    TrainerConfig config = bench::generatedScene("sphere_caps", loss, points, 10, 1000);
    return config;
}

void frame(benchmark::State& state, const char* loss) {
    const TrainerConfig config = scene(loss, static_cast<int>(state.range(0)));
    Trainer trainer(config);
    trainer.setSplitForces(true);
    std::vector<Points> trail;
    for (int k = 0; k < 8; ++k) trail.push_back(trainer.step(1)->positions);
    const std::shared_ptr<const Snapshot> snapshots[2] = {trainer.step(1), trainer.step(1)};
    Frame3D frame;
    frame.size = QSize(1280, 800);
    frame.run = describeRun(config.loss, config.miner);
    frame.options.splitForces = true;
    frame.snapshot = snapshots[0];
    frame.trail = trail;
    frame.camera = Renderer3D::fitted(frame).turned(0.6).rotatedInView(Eigen::Vector3d::UnitX(), 0.35);
    frame.selection.anchor = 0;
    Renderer3D renderer;
    int which = 0;
    QImage image(QSize(1280, 800), QImage::Format_RGB32);
    for (auto _ : state) {
        which = 1 - which;  // a different snapshot every frame, as while training
        frame.snapshot = snapshots[which];
        frame.camera = frame.camera.turned(0.01);  // and a turning camera (turntable)
        QPainter painter(&image);
        renderer.paint(painter, frame);
        painter.end();
        benchmark::DoNotOptimize(image.constBits());
    }
}

}  // namespace

BENCHMARK_CAPTURE(frame, Triplet, "triplet_margin")
    ->Arg(500)
    ->Arg(2000)
    ->Arg(5000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(frame, ArcFace, "arcface")->Arg(500)->Arg(2000)->Arg(5000)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) { return marginlab::bench::runOffscreenBenchmarks(argc, argv); }

// SPDX-License-Identifier: MIT
// Frame time of the 2D view, offscreen: a new snapshot arrives and the view paints a 1280×800
// frame with every overlay on (regions, force arrows, normalized copies, triplet overlay).
// N ∈ {500, 2000, 5000}; a triplet scene (centroid regions, overlay) and an ArcFace scene
// (class-weight regions and arrows on the circle).
#include "plotview2d.h"

#include "marginlab/generators.h"
#include "marginlab/trainer.h"

#include <QApplication>
#include <QImage>

#include <benchmark/benchmark.h>

#include <memory>

namespace {

using namespace marginlab;

TrainerConfig scene(const char* loss, int points) {
    GeneratorConfig data{"blobs", {}};
    data.params.numbers["points"] = points;
    data.params.numbers["classes"] = 10;
    data.params.numbers["seed"] = 3;
    std::string error;
    const auto dataset = generate(data, &error);
    TrainerConfig config;
    config.points = dataset->points;
    config.labels = dataset->labels;
    config.numClasses = dataset->numClasses;
    config.loss.name = loss;
    config.metricsEvery = 1000;  // the frame is what is measured, not the metrics
    return config;
}

void frame(benchmark::State& state, const char* loss) {
    const TrainerConfig config = scene(loss, static_cast<int>(state.range(0)));
    Trainer trainer(config);
    const std::shared_ptr<const Snapshot> snapshots[2] = {trainer.step(1), trainer.step(1)};
    PlotView2D view;
    view.resize(1280, 800);
    view.setConfig(config);
    view.setOptions(ViewOptions{});  // the defaults draw every overlay
    view.setSnapshot(snapshots[0]);
    view.setAnchor(0);
    int which = 0;
    for (auto _ : state) {
        which = 1 - which;  // a different snapshot every frame, as while training
        view.setSnapshot(snapshots[which]);
        const QImage image = view.renderImage(QSize(1280, 800));
        benchmark::DoNotOptimize(image.constBits());
    }
}

}  // namespace

BENCHMARK_CAPTURE(frame, Triplet, "triplet_margin")->Arg(500)->Arg(2000)->Arg(5000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(frame, ArcFace, "arcface")->Arg(500)->Arg(2000)->Arg(5000)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

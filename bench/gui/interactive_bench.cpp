// SPDX-License-Identifier: MIT
// Interactive speed, as a user sees it: the app's own TrainingController (its worker thread,
// back-pressure and pacing) trains a 2,000-point batch-all triplet scene at one step per frame
// while a PlotView2D, shown on the offscreen platform, repaints every snapshot with its overlays.
// Each iteration plays for two seconds of wall clock and counts the steps trained and the frames
// painted (counters steps/s and frames/s; the target is ≥ 30 of each). Beside it, in the same run,
// the yardstick T of docs/benchmarks.md (one batch-all triplet step at N = 4,096 with its
// gradient, on the engine's threads) so the machine's speed of the day is visible.
#include "plotview2d.h"
#include "trainingcontroller.h"

#include "marginlab/loss.h"
#include "marginlab/runinfo.h"
#include "marginlab/trainer.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QEventLoop>
#include <QTimer>

#include <benchmark/benchmark.h>

#include <random>

#include "bench_main.h"
#include "bench_scene.h"

namespace {

using namespace marginlab;

/// Counts the paint events a widget receives (the frames actually painted, not the requests).
class PaintCounter : public QObject {
public:
    int frames = 0;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::Paint) ++frames;
        return QObject::eventFilter(watched, event);
    }
};

void BM_Interactive_BatchAllTriplet(benchmark::State& state) {
    const int points = static_cast<int>(state.range(0));
    TrainerConfig config = bench::generatedScene("blobs", "triplet_margin", points, 10, 10);
    PlotView2D view;
    view.resize(1280, 800);
    view.setRun(describeRun(config.loss, config.miner));
    view.show();
    PaintCounter counter;
    view.installEventFilter(&counter);
    TrainingController controller;
    QObject::connect(&controller, &TrainingController::snapshotChanged, &view, &PlotView2D::setSnapshot);
    controller.setStepsPerFrame(1);
    controller.restart(config);
    double steps = 0.0, frames = 0.0, seconds = 0.0;
    for (auto _ : state) {
        const long firstStep = controller.currentStep();
        const int firstFrames = counter.frames;
        QElapsedTimer clock;
        clock.start();
        controller.play();
        // A real event loop, which sleeps between events as the app's does (a processEvents()
        // polling loop would spin one of the two cores the worker needs).
        QEventLoop loop;
        QTimer::singleShot(2000, &loop, &QEventLoop::quit);
        loop.exec();
        controller.pause();
        const double elapsed = clock.nsecsElapsed() * 1e-9;
        state.SetIterationTime(elapsed);
        seconds += elapsed;
        steps += static_cast<double>(controller.currentStep() - firstStep);
        frames += counter.frames - firstFrames;
    }
    state.counters["steps/s"] = steps / seconds;
    state.counters["frames/s"] = frames / seconds;
    state.SetLabel(std::to_string(points) + " points, 1 step per frame, 1280×800 view");
}
BENCHMARK(BM_Interactive_BatchAllTriplet)->Arg(2000)->Iterations(3)->UseManualTime()->Unit(benchmark::kSecond);

// The yardstick T: batch-all triplet at N = 4,096 (10 classes, D = 2), as in losses_bench.cpp.
void BM_Yardstick_BatchAllTriplet4096(benchmark::State& state) {
    constexpr int n = 4096;
    std::mt19937_64 rng(12345);
    std::normal_distribution<double> normal(0.0, 1.0);
    Points x(n, 2);
    Labels y(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        y[static_cast<std::size_t>(i)] = i % 10;
        x(i, 0) = normal(rng);
        x(i, 1) = normal(rng);
    }
    std::string error;
    const auto loss = makeLoss(LossConfig{"triplet_margin", {}, std::nullopt}, &error);
    const LossInput input{x, y, nullptr, nullptr, 1};
    for (auto _ : state) {
        LossOutput out = loss->evaluate(input, true);
        benchmark::DoNotOptimize(out.value);
    }
}
BENCHMARK(BM_Yardstick_BatchAllTriplet4096)->Unit(benchmark::kMillisecond)->MinTime(1.0)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return marginlab::bench::runOffscreenBenchmarks(argc, argv); }

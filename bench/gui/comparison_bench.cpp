// SPDX-License-Identifier: MIT
// The comparison's costs (docs/benchmarks.md, target ≤ 16 ms per frame):
// - Frame: four panels of 500 points each, a new group snapshot per frame, painted as the window
//   does (each panel's Renderer2D into its cell of one 1600×1000 image, every overlay on: regions,
//   forces, normalized copies, the triplet overlay of a selected anchor), for the mining
//   comparison (triplet regions) and the softmax family (class-weight regions on the circle).
// - Training: a 4-panel TrainerGroup stepping k steps against the same four configurations run
//   as four separate Trainers one after another (the group adds nothing but bookkeeping: both
//   use the engine's one thread pool).
#include "comparisonpanelview.h"
#include "comparisonview.h"
#include "trainingcontroller.h"

#include "marginlab/generators.h"
#include "marginlab/trainer_group.h"

#include <QApplication>
#include <QImage>
#include <QPainter>

#include <benchmark/benchmark.h>

#include "bench_main.h"

#include <memory>

namespace {

using namespace marginlab;

std::vector<TrainerConfig> panels(bool softmaxFamily, int points) {
    GeneratorConfig data{"blobs", {}};
    data.params.numbers["points"] = points;
    data.params.numbers["classes"] = 4;
    data.params.numbers["noise"] = 1.0;
    data.params.numbers["seed"] = 3;
    std::string error;
    const auto dataset = generate(data, &error);
    TrainerConfig base;
    base.points = dataset->points;
    base.labels = dataset->labels;
    base.numClasses = dataset->numClasses;
    base.metricsEvery = 1000;  // the frame and the steps are measured, not the metrics
    base.optimizer.learningRate = 0.02;
    std::vector<TrainerConfig> out(4, base);
    if (softmaxFamily) {
        const char* names[4] = {"softmax", "normalized_softmax", "cosface", "arcface"};
        for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)].loss.name = names[i];
    } else {
        for (auto& c : out) c.loss.name = "triplet_margin";
        out[1].miner = MinerConfig{"batch_hard", {}, std::nullopt};
        out[2].miner = MinerConfig{"facenet_semihard", {}, std::nullopt};
        out[3].miner = MinerConfig{"triplet_margin", {}, std::nullopt};
        out[3].miner->params.choices["type_of_triplets"] = "semihard";
    }
    return out;
}

void frame(benchmark::State& state, bool softmaxFamily, int only = -1) {
    const std::vector<TrainerConfig> configs = panels(softmaxFamily, static_cast<int>(state.range(0)));
    TrainerGroup group(configs);
    group.setSplitForces(true);
    const GroupSnapshot snapshots[2] = {group.step(1), group.step(1)};
    const QSize size(1600, 1000);
    std::vector<Frame2D> frames(4);
    std::vector<ComparisonPanelView::Renderers> renderers(4);
    for (std::size_t i = 0; i < 4; ++i) {
        Frame2D& f = frames[i];
        f.run = describeRun(configs[i].loss, configs[i].miner);
        f.options.splitForces = true;
        f.snapshot = snapshots[0].panels[i];
        f.size = ComparisonView::cellRect(static_cast<int>(i), 4, size, ComparisonLayout::Auto).size() -
                 QSize(0, ComparisonPanelView::kTitleHeight);
        f.camera = Camera2D::fitting(Renderer2D::dataBounds(f), f.size);
        f.selection.anchor = 0;
    }
    // One image painted over and over, like the window's backing store.
    QImage image(size, QImage::Format_RGB32);
    int which = 0;
    for (auto _ : state) {
        which = 1 - which;  // a new group snapshot every frame, as while training
        QPainter painter(&image);
        for (std::size_t i = 0; i < 4; ++i) {
            if (only >= 0 && static_cast<int>(i) != only) continue;
            frames[i].snapshot = snapshots[which].panels[i];
            ComparisonPanelView::paintPanel(painter, renderers[i], frames[i], Camera3D{}, QStringLiteral("panel"), static_cast<int>(i),
                                            ComparisonView::cellRect(static_cast<int>(i), 4, size, ComparisonLayout::Auto));
        }
        painter.end();
        benchmark::DoNotOptimize(image.constBits());
    }
    state.SetLabel("4 panels × " + std::to_string(state.range(0)) + " points, 1600×1000");
}

void BM_ComparisonFrame_Mining(benchmark::State& state) { frame(state, false); }
void BM_ComparisonFrame_SoftmaxFamily(benchmark::State& state) { frame(state, true); }
BENCHMARK(BM_ComparisonFrame_Mining)->Arg(500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ComparisonFrame_SoftmaxFamily)->Arg(500)->Unit(benchmark::kMillisecond);
// One panel of the softmax family at a time (which of the four costs what).
void BM_ComparisonFrame_SoftmaxPanel(benchmark::State& state) { frame(state, true, static_cast<int>(state.range(1))); }
BENCHMARK(BM_ComparisonFrame_SoftmaxPanel)->Args({500, 0})->Args({500, 1})->Args({500, 2})->Args({500, 3})->Unit(benchmark::kMillisecond);

constexpr int kSteps = 20;

void BM_Training_Group4(benchmark::State& state, bool softmaxFamily) {
    const std::vector<TrainerConfig> configs = panels(softmaxFamily, static_cast<int>(state.range(0)));
    for (auto _ : state) {
        state.PauseTiming();
        TrainerGroup group(configs);
        state.ResumeTiming();
        benchmark::DoNotOptimize(group.step(kSteps));
    }
    state.counters["panel_steps/s"] = benchmark::Counter(4.0 * kSteps, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Training_FourSingleRuns(benchmark::State& state, bool softmaxFamily) {
    const std::vector<TrainerConfig> configs = panels(softmaxFamily, static_cast<int>(state.range(0)));
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<std::unique_ptr<Trainer>> trainers;
        for (const auto& c : configs) trainers.push_back(std::make_unique<Trainer>(c));
        state.ResumeTiming();
        for (auto& t : trainers) benchmark::DoNotOptimize(t->step(kSteps));
    }
    state.counters["panel_steps/s"] = benchmark::Counter(4.0 * kSteps, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_Training_Group4, mining, false)->Arg(500)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Training_FourSingleRuns, mining, false)->Arg(500)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Training_Group4, softmax_family, true)->Arg(500)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Training_FourSingleRuns, softmax_family, true)->Arg(500)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) { return marginlab::bench::runOffscreenBenchmarks(argc, argv); }

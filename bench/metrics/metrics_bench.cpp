// SPDX-License-Identifier: MIT
// The metrics of a large scene (issue 14, "large data stays interactive"): what the trainer
// computes before the first row of a 20,000-point, 4-class scene, exact against sampled queries
// (metrics.h), with a yardstick measured in the same run (docs/benchmarks.md, "Large scenes").
// CPU time is of the whole process (every engine thread): on a loaded machine it is steadier than
// wall time, and on an idle 2-core machine the wall time is about half of it.
#include "marginlab/generators.h"
#include "marginlab/metrics.h"
#include "marginlab/trainer.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <string>

namespace {

using namespace marginlab;

/// Blobs as the app makes them: `n` points, 4 classes, 2D, seed-fixed.
const Dataset& blobs(int n) {
    static std::map<int, Dataset> cache;
    auto found = cache.find(n);
    if (found != cache.end()) return found->second;
    GeneratorConfig config{"blobs", {}};
    config.params.numbers["points"] = n;
    config.params.numbers["classes"] = 4;
    config.params.numbers["noise"] = 1.0;
    config.params.numbers["seed"] = 7;
    std::string error;
    auto dataset = generate(config, &error);
    if (!dataset) std::abort();
    return cache.emplace(n, std::move(*dataset)).first->second;
}

/// Everything the trainer measures at a metrics step, on the given query rows (empty: exact).
void measure(const Dataset& data, const std::vector<Eigen::Index>& queries, Real spread) {
    const DistanceSpec euclidean = DistanceSpec::lp(1, false);
    benchmark::DoNotOptimize(retrievalMetrics(data.points, data.labels, euclidean, queries));
    benchmark::DoNotOptimize(classDistances(data.points, data.labels, euclidean, queries));
    benchmark::DoNotOptimize(meanPairwiseDistance(data.points, euclidean, queries) / spread);
    benchmark::DoNotOptimize(uniformity(data.points, 2.0, queries));
    benchmark::DoNotOptimize(alignment(data.points, data.labels, 2.0, queries));
}

// Yardstick: the exact mean pairwise distance of 2,000 points (4 million distances).
void BM_Yardstick_MeanPairwise2000(benchmark::State& state) {
    const Dataset& data = blobs(2'000);
    for (auto _ : state) benchmark::DoNotOptimize(meanPairwiseDistance(data.points, DistanceSpec::lp(1, false)));
}
BENCHMARK(BM_Yardstick_MeanPairwise2000)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// All the metrics of one metrics step, every point a query (N ≤ 5,000 keeps this path).
void BM_MetricsExact(benchmark::State& state) {
    const Dataset& data = blobs(static_cast<int>(state.range(0)));
    for (auto _ : state) measure(data, {}, 1.0);
}
BENCHMARK(BM_MetricsExact)->Arg(5'000)->Arg(20'000)->Unit(benchmark::kMillisecond)->Iterations(1)->MeasureProcessCPUTime();

// The same on the trainer's sample of 2,000 queries (N > 5,000).
void BM_MetricsSampled(benchmark::State& state) {
    const Dataset& data = blobs(static_cast<int>(state.range(0)));
    const std::vector<Eigen::Index> queries = metricQueries(data.points.rows());
    for (auto _ : state) measure(data, queries, 1.0);
}
BENCHMARK(BM_MetricsSampled)->Arg(20'000)->Arg(100'000)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// The first row: constructing the trainer (step 0's loss and metrics) for a 20,000-point scene
// trained in P×K batches, as `marginlab-cli train` does before it prints anything.
void BM_FirstRow(benchmark::State& state) {
    const Dataset& data = blobs(static_cast<int>(state.range(0)));
    TrainerConfig config;
    config.points = data.points;
    config.labels = data.labels;
    config.numClasses = data.numClasses;
    config.loss.name = "contrastive";
    config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
    for (auto _ : state) {
        Trainer trainer(config);
        benchmark::DoNotOptimize(trainer.snapshot());
    }
}
BENCHMARK(BM_FirstRow)->Arg(20'000)->Arg(100'000)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();

// SPDX-License-Identifier: MIT
// Issue 13, targets 3 and 4: one training step (miner + triplet loss with its gradient) for every
// triplet miner, the angular loss, and the yardstick T = batch-all triplet at N = 4096, all in one
// program so that the ratios to T come from the same run. Data as losses_bench.cpp: D = 2,
// 10 classes, seed-fixed Gaussian points, default parameters. The second argument is the engine's
// thread count. BM_MinerCounts measures the mining statistics (countTuples) a snapshot reports.
//
//   build-engine/bench/marginlab_mined_bench --benchmark_repetitions=3
//   --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "marginlab/allocator.h"
#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "marginlab/parallel.h"
#include "simd/dispatch.h"

namespace {

using namespace marginlab;

struct Problem {
    Points x;
    Labels y;
};

Problem makeProblem(int n) {
    std::mt19937_64 rng(12345);
    std::normal_distribution<double> normal(0.0, 1.0);
    Problem p{Points(n, 2), Labels(static_cast<std::size_t>(n))};
    for (int i = 0; i < n; ++i) {
        p.y[static_cast<std::size_t>(i)] = i % 10;
        p.x(i, 0) = normal(rng);
        p.x(i, 1) = normal(rng);
    }
    return p;
}

struct Case {
    std::string name;   // shown after BM_Mined/
    std::string loss;   // catalogue name
    std::string miner;  // empty: no miner
    ParamValues minerParams;
};

std::vector<Case> cases() {
    std::vector<Case> out;
    out.push_back({"batch_all_triplet", "triplet_margin", "", {}});
    for (const char* type : {"all", "hard", "semihard", "easy"}) {
        ParamValues params;
        params.choices["type_of_triplets"] = type;
        out.push_back(
            {std::string("triplet_margin_miner_") + type, "triplet_margin", "triplet_margin", params});
    }
    out.push_back({"facenet_semihard", "triplet_margin", "facenet_semihard", {}});
    out.push_back({"tfa_semihard", "triplet_margin", "tfa_semihard", {}});
    out.push_back({"batch_easy_hard", "triplet_margin", "batch_easy_hard", {}});
    out.push_back({"batch_hard", "triplet_margin", "batch_hard", {}});
    out.push_back({"angular", "angular", "", {}});
    return out;
}

void minedStep(benchmark::State& state, const Case& c) {
    const int n = static_cast<int>(state.range(0));
    const int threadsBefore = engineThreads();
    setEngineThreads(static_cast<int>(state.range(1)));
    const Problem p = makeProblem(n);
    std::string error;
    const auto loss = makeLoss(LossConfig{c.loss, {}, std::nullopt}, &error);
    std::unique_ptr<Miner> miner;
    if (!c.miner.empty()) miner = makeMiner(MinerConfig{c.miner, c.minerParams, std::nullopt}, &error);
    if (!loss || (!c.miner.empty() && !miner)) {
        state.SkipWithError(error.c_str());
        return;
    }
    auto step = [&](std::uint64_t seed) {
        Tuples tuples;
        if (miner) tuples = miner->mine(MinerInput{p.x, p.y, seed});
        const LossInput input{p.x, p.y, nullptr, miner ? &tuples : nullptr, 1};
        return loss->evaluate(input, true);
    };
    // One untimed step first, as in losses_bench.cpp: the first call at a new N grows the
    // thread-local workspaces, once per animation, not per step.
    (void)step(0);
    std::uint64_t seed = 1;
    for (auto _ : state) {
        LossOutput out = step(seed++);
        benchmark::DoNotOptimize(out.value);
        benchmark::DoNotOptimize(out.gradEmbeddings.data());
    }
    setEngineThreads(threadsBefore);
}

void minerCounts(benchmark::State& state, const Case& c) {
    const int n = static_cast<int>(state.range(0));
    const int threadsBefore = engineThreads();
    setEngineThreads(static_cast<int>(state.range(1)));
    const Problem p = makeProblem(n);
    std::string error;
    const auto miner = makeMiner(MinerConfig{c.miner, c.minerParams, std::nullopt}, &error);
    const Tuples tuples = miner->mine(MinerInput{p.x, p.y, 1});
    for (auto _ : state) {
        const MinerCounts counts = countTuples(tuples, p.x, p.y);
        benchmark::DoNotOptimize(counts.triplets);
    }
    setEngineThreads(threadsBefore);
}

// Every distance row of the batch (N = 4096, D = 2, squared differences + square roots) through
// one vector unit's kernels, one thread: the portable (SSE2) against the AVX2 and AVX-512 units.
void simdRows(benchmark::State& state, detail::simd::Level level) {
    const detail::simd::Kernels* kernels = detail::simd::kernelsFor(level);
    if (!kernels) {
        state.SkipWithError("this CPU lacks the unit");
        return;
    }
    const int n = static_cast<int>(state.range(0));
    const Problem p = makeProblem(n);
    std::vector<double> row(static_cast<std::size_t>(n));
    for (auto _ : state) {
        for (int a = 0; a < n; ++a) {
            kernels->squaredDistanceRow(p.x.data(), n, 2, a, row.data(), 0);
            kernels->sqrtInPlace(row.data(), n);
            benchmark::DoNotOptimize(row.data());
        }
    }
}

// A mined step with the vector units capped (0 portable, 2 the best the CPU has), one thread.
void minedStepAtLevel(benchmark::State& state, const Case& c) {
    const detail::simd::Level before = detail::simd::kernels().level;
    detail::simd::setSimdLevel(static_cast<detail::simd::Level>(state.range(2)));
    minedStep(state, c);
    detail::simd::setSimdLevel(before);
}

const bool registered = [] {
    marginlab::keepMemoryBetweenSteps();  // as the app and the CLI do (before any step)
    for (auto level : {detail::simd::Level::Portable, detail::simd::Level::Avx2, detail::simd::Level::Avx512})
        benchmark::RegisterBenchmark(("BM_SimdRows/" + std::string(detail::simd::levelName(level))).c_str(),
                                     simdRows, level)
            ->Arg(4096)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.5)
            ->UseRealTime();
    static const std::vector<Case> all = cases();
    for (const Case& c : all) {
        benchmark::RegisterBenchmark(("BM_Mined/" + c.name).c_str(), minedStep, c)
            ->ArgsProduct({{1024, 4096}, {1, 2}})
            ->ArgNames({"n", "threads"})
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.5)
            ->UseRealTime();
        if (c.miner == "batch_hard" || c.miner == "tfa_semihard" || c.miner == "facenet_semihard")
            benchmark::RegisterBenchmark(("BM_MinedSimd/" + c.name).c_str(), minedStepAtLevel, c)
                ->ArgsProduct({{4096}, {1}, {0, 2}})
                ->ArgNames({"n", "threads", "simd"})
                ->Unit(benchmark::kMillisecond)
                ->MinTime(0.5)
                ->UseRealTime();
        if (c.miner == "triplet_margin")
            benchmark::RegisterBenchmark(("BM_MinerCounts/" + c.name).c_str(), minerCounts, c)
                ->ArgsProduct({{4096}, {1, 2}})
                ->ArgNames({"n", "threads"})
                ->Unit(benchmark::kMillisecond)
                ->MinTime(0.5)
                ->UseRealTime();
    }
    return true;
}();

}  // namespace

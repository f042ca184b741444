// SPDX-License-Identifier: MIT
// Loss + gradient time per step for every loss of the catalogue, N ∈ {64, 256, 1024, 4096},
// D = 2, 10 classes, default parameters, no miner. Registered at start-up from the catalogue
// so a new loss is benchmarked without touching this file.
#include "marginlab/loss.h"

#include <benchmark/benchmark.h>

#include <random>

namespace {

using namespace marginlab;

struct Problem {
    Points x;
    Labels y;
    Points owned;
};

Problem makeProblem(int n, int blocks) {
    constexpr int kDim = 2;
    constexpr int kClasses = 10;
    std::mt19937_64 rng(12345);
    std::normal_distribution<double> normal(0.0, 1.0);
    Problem p;
    p.x.resize(n, kDim);
    p.y.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        p.y[static_cast<std::size_t>(i)] = i % kClasses;
        for (int j = 0; j < kDim; ++j) p.x(i, j) = normal(rng);
    }
    if (blocks > 0) {
        p.owned.resize(blocks * kClasses, kDim);
        for (Eigen::Index i = 0; i < p.owned.rows(); ++i)
            for (int j = 0; j < kDim; ++j) p.owned(i, j) = normal(rng);
    }
    return p;
}

void lossWithGradient(benchmark::State& state, const LossInfo* info) {
    const int n = static_cast<int>(state.range(0));
    // PNP looks at every (query, positive, negative): O(N³), about a minute per step at N = 4096.
    if (info->name == "pnp" && n > 1024) {
        state.SkipWithError("O(N^3): measured up to N = 1024");
        return;
    }
    const Problem p = makeProblem(n, info->ownedBlocks);
    std::string error;
    const auto loss = makeLoss(LossConfig{info->name, {}, std::nullopt}, &error);
    if (!loss) {
        state.SkipWithError(error.c_str());
        return;
    }
    const LossInput input{p.x, p.y, info->ownedBlocks ? &p.owned : nullptr, nullptr, 1};
    for (auto _ : state) {
        LossOutput out = loss->evaluate(input, true);
        benchmark::DoNotOptimize(out.value);
        benchmark::DoNotOptimize(out.gradEmbeddings.data());
    }
    state.SetComplexityN(n);
}

const bool registered = [] {
    for (const LossInfo& info : lossCatalog()) {
        benchmark::RegisterBenchmark(("BM_Loss/" + info.name).c_str(), lossWithGradient, &info)
            ->Arg(64)
            ->Arg(256)
            ->Arg(1024)
            ->Arg(4096)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.2)
            ->UseRealTime();  // the engine may use several threads: wall time is what counts
    }
    return true;
}();

}  // namespace

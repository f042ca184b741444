// SPDX-License-Identifier: MIT
// Batch-all triplet margin loss: the catalogue's O(N² log N) sweep against a plain O(N³) loop.
#include "marginlab/distance.h"
#include "marginlab/loss.h"

#include <benchmark/benchmark.h>

#include <random>

namespace {

using marginlab::Labels;
using marginlab::Matrix;
using marginlab::Points;
using marginlab::Real;

struct Batch {
    Points x;
    Labels y;
};

Batch makeBatch(int n) {
    std::mt19937_64 rng(20240601);
    std::normal_distribution<Real> normal(0.0, 1.0);
    Batch batch{Points(n, 2), Labels(static_cast<std::size_t>(n))};
    for (int i = 0; i < n; ++i) {
        batch.x(i, 0) = normal(rng);
        batch.x(i, 1) = normal(rng);
        batch.y[static_cast<std::size_t>(i)] = i % 10;
    }
    return batch;
}

void BM_TripletBatchAll(benchmark::State& state) {
    const Batch batch = makeBatch(static_cast<int>(state.range(0)));
    std::string error;
    const auto loss = marginlab::makeLoss(marginlab::LossConfig{"triplet_margin", {}, std::nullopt}, &error);
    if (!loss) {
        state.SkipWithError(error.c_str());
        return;
    }
    for (auto _ : state) {
        const marginlab::LossOutput out = loss->evaluate({batch.x, batch.y}, true);
        benchmark::DoNotOptimize(out.value);
        benchmark::DoNotOptimize(out.gradEmbeddings.data());
    }
}
BENCHMARK(BM_TripletBatchAll)->Arg(64)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond);

// The textbook loop: every (a,p,n), relu(d_ap − d_an + m), AvgNonZero, gradient through ∂L/∂M.
void BM_TripletBruteForce(benchmark::State& state) {
    const Batch batch = makeBatch(static_cast<int>(state.range(0)));
    const int n = static_cast<int>(state.range(0));
    const Real margin = 0.05;
    for (auto _ : state) {
        const marginlab::SelfDistance distance(marginlab::DistanceSpec::lp(1, true), batch.x);
        const Matrix& d = distance.matrix();
        Matrix grad = Matrix::Zero(n, n);
        Real sum = 0.0;
        long active = 0;
        for (int a = 0; a < n; ++a)
            for (int p = 0; p < n; ++p) {
                if (p == a || batch.y[static_cast<std::size_t>(p)] != batch.y[static_cast<std::size_t>(a)]) continue;
                for (int q = 0; q < n; ++q) {
                    if (batch.y[static_cast<std::size_t>(q)] == batch.y[static_cast<std::size_t>(a)]) continue;
                    const Real v = d(a, p) - d(a, q) + margin;
                    if (v <= 0.0) continue;
                    sum += v;
                    ++active;
                    grad(a, p) += 1.0;
                    grad(a, q) -= 1.0;
                }
            }
        const Real value = active > 0 ? sum / Real(active) : 0.0;
        if (active > 0) grad /= Real(active);
        const Points g = distance.backward(grad);
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(g.data());
    }
}
BENCHMARK(BM_TripletBruteForce)->Arg(64)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond);

// The other losses of the family, default parameters, with gradient.
void runCatalogueLoss(benchmark::State& state, const char* name) {
    const Batch batch = makeBatch(static_cast<int>(state.range(0)));
    std::string error;
    const auto loss = marginlab::makeLoss(marginlab::LossConfig{name, {}, std::nullopt}, &error);
    if (!loss) {
        state.SkipWithError(error.c_str());
        return;
    }
    for (auto _ : state) {
        const marginlab::LossOutput out = loss->evaluate({batch.x, batch.y}, true);
        benchmark::DoNotOptimize(out.value);
        benchmark::DoNotOptimize(out.gradEmbeddings.data());
    }
}
void BM_Contrastive(benchmark::State& state) { runCatalogueLoss(state, "contrastive"); }
void BM_ContrastiveHadsell(benchmark::State& state) { runCatalogueLoss(state, "contrastive_hadsell"); }
void BM_CentroidTriplet(benchmark::State& state) { runCatalogueLoss(state, "centroid_triplet"); }
BENCHMARK(BM_Contrastive)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ContrastiveHadsell)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CentroidTriplet)->Arg(1024)->Unit(benchmark::kMillisecond);

}  // namespace

// SPDX-License-Identifier: MIT
// The plain O(N³) batch-all triplet loop, to compare with the catalogue's sweep (BM_Loss/triplet_margin
// in losses_bench.cpp) on the same data: 10 classes, D = 2, seed-fixed Gaussian points.
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

// The textbook loop: every (a,p,n), relu(d_ap − d_an + m), AvgNonZero, gradient through ∂L/∂M.
void BM_TripletBruteForceReference(benchmark::State& state) {
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
BENCHMARK(BM_TripletBruteForceReference)->Arg(64)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond);


}  // namespace

// SPDX-License-Identifier: MIT
// The dense losses' per-pair kernels on one row of N = 4096 values: the row exponential
// (engine/src/losses/exp_row.h) against glibc's exp one value at a time, for the roofline
// reasoning in docs/benchmarks.md ("Speed (issue 13): dense losses"). ns per value =
// time per iteration / 4096.
#include "losses/exp_row.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

namespace {

constexpr int kRow = 4096;

std::vector<double> shiftedExponents() {
    // Shifted exponents as the losses produce them: ≤ 0, most within a few tens of the top.
    std::vector<double> values(kRow);
    for (int j = 0; j < kRow; ++j) values[static_cast<std::size_t>(j)] = -40.0 * j / kRow;
    return values;
}

void BM_RowExp(benchmark::State& state) {
    const std::vector<double> input = shiftedExponents();
    std::vector<double> row(input.size());
    // The row is refilled by a product with 1 the compiler cannot see through, not copied: on some
    // VMs glibc's memcpy of 4–64 KB (rep movsb) runs at under 3 GB/s, and a 32 KB copy then took
    // twice as long as the exponentials it was there for. The 1 is read once from a volatile into
    // a register: passed through DoNotOptimize it stayed on the stack, every multiply read it from
    // there, and on an Ice Lake VM that loop took about 20 ns per value (0.3 ns with the factor in
    // a register; why the stack operand costs so much there is not known), which made the exp
    // look 35 times slower than it is.
    volatile double source = 1.0;
    const double one = source;
    for (auto _ : state) {
        for (int j = 0; j < kRow; ++j) row[static_cast<std::size_t>(j)] = input[static_cast<std::size_t>(j)] * one;
        marginlab::detail::expRowInPlace(row.data(), kRow);
        benchmark::DoNotOptimize(row.data());
    }
    state.SetItemsProcessed(state.iterations() * kRow);
}
BENCHMARK(BM_RowExp);

void BM_GlibcExp(benchmark::State& state) {
    const std::vector<double> input = shiftedExponents();
    std::vector<double> row(input.size());
    for (auto _ : state) {
        for (int j = 0; j < kRow; ++j) row[static_cast<std::size_t>(j)] = std::exp(input[static_cast<std::size_t>(j)]);
        benchmark::DoNotOptimize(row.data());
    }
    state.SetItemsProcessed(state.iterations() * kRow);
}
BENCHMARK(BM_GlibcExp);

}  // namespace

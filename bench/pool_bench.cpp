// SPDX-License-Identifier: MIT
// What one parallel loop costs on the engine's thread pool (engine/src/parallel.cpp) beyond its
// work: two chunks of 100 µs of arithmetic on two threads, after `gap` µs of work on the calling
// thread alone (the serial parts between a step's loops, or a whole step on one thread). The
// ideal is gap + 100 µs; the rest is the pool thread's start and the caller's wait at the end.
// BM_PoolLoop/<gap µs> reports µs per loop (gap included) in the counter loop_us.
#include <benchmark/benchmark.h>

#include <chrono>

#include "marginlab/parallel.h"
#include "parallel.h"

namespace {

using Clock = std::chrono::steady_clock;

/// Arithmetic on this thread for `micros` µs.
void busy(double micros) {
    const auto start = Clock::now();
    double x = 1.0;
    while (std::chrono::duration<double, std::micro>(Clock::now() - start).count() < micros) {
        x = x * 1.0000001 + 1e-9;
        benchmark::DoNotOptimize(x);
    }
}

void BM_PoolLoop(benchmark::State& state) {
    const double gap = static_cast<double>(state.range(0));
    const int before = marginlab::engineThreads();
    marginlab::setEngineThreads(2);
    double loops = 0.0, micros = 0.0;
    for (auto _ : state) {
        const auto start = Clock::now();
        busy(gap);
        marginlab::detail::forEachChunk(2, 2, [](int, int) { busy(100.0); });
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        state.SetIterationTime(elapsed);
        micros += 1e6 * elapsed;
        loops += 1.0;
    }
    state.counters["loop_us"] = micros / loops;
    marginlab::setEngineThreads(before);
}
BENCHMARK(BM_PoolLoop)->Arg(20)->Arg(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

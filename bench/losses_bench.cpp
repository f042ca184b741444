// SPDX-License-Identifier: MIT
// Loss + gradient time per step for every loss of the catalogue, N ∈ {64, 256, 1024, 4096},
// D = 2, 10 classes, default parameters, no miner. Registered at start-up from the catalogue
// so a new loss is benchmarked without touching this file.
//
// --threads=1,2 (this program's own flag) runs every case at each of those engine thread counts
// (benchmark names gain a /threads suffix) and ends with a table of the speed-ups and of each
// time as a ratio to T, the batch-all triplet loss at N = 4096 with the same thread count,
// measured in the same run. Without it, the engine's default thread count and the plain names.
//
// BM_Scaling/<loss>/<N> (N = 1024, 4096) times one step on one thread and one on two in every
// iteration, one after the other (each after an untimed step on its own thread count), and reports their
// ratio (counter speedup = Σ 1-thread time / Σ 2-thread time): a figure that the drift of a shared VM (up
// to 1.5× within minutes) moves for both at once, unlike the ratio of two cases run minutes apart. The
// same iterations time batch-all triplet at the same N likewise (T_speedup), and of_T = speedup /
// T_speedup is issue 13's target 1 (at least 0.9).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "marginlab/allocator.h"
#include "marginlab/loss.h"
#include "marginlab/parallel.h"

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

/// One loss on one problem, ready to step; `error` set if it cannot be made.
struct Case {
    Problem problem;
    std::unique_ptr<Loss> loss;
    std::string error;

    Case(const LossInfo& info, int n) : problem(makeProblem(n, info.ownedBlocks)) {
        // PNP looks at every (query, positive, negative): O(N³), about a minute per step at N = 4096.
        if (info.name == "pnp" && n > 1024) {
            error = "O(N^3): measured up to N = 1024";
            return;
        }
        loss = makeLoss(LossConfig{info.name, {}, std::nullopt}, &error);
    }
    LossInput input() const {
        return LossInput{problem.x, problem.y, problem.owned.rows() > 0 ? &problem.owned : nullptr, nullptr,
                         1};
    }
    void step() const {
        LossOutput out = loss->evaluate(input(), true);
        benchmark::DoNotOptimize(out.value);
        benchmark::DoNotOptimize(out.gradEmbeddings.data());
    }
};

/// Sets the engine's thread count for a scope (0: leave it) and restores it.
class EngineThreads {
public:
    explicit EngineThreads(int threads) : m_before(engineThreads()) {
        if (threads > 0) setEngineThreads(threads);
    }
    ~EngineThreads() { setEngineThreads(m_before); }
    EngineThreads(const EngineThreads&) = delete;
    EngineThreads& operator=(const EngineThreads&) = delete;

private:
    int m_before;
};

void lossWithGradient(benchmark::State& state, const LossInfo* info) {
    const int n = static_cast<int>(state.range(0));
    // With a thread-count argument the engine uses exactly that many threads for this case.
    const EngineThreads threads(static_cast<int>(state.range(1)));
    const Case c(*info, n);
    if (!c.loss) {
        state.SkipWithError(c.error.c_str());
        return;
    }
    // One untimed step first: the first call at a new N grows the thread-local N×N workspaces
    // (page faults on 256 MB at N = 4096), which a running animation pays once, not per step.
    // Without it a case of more than the minimum time is that single cold step.
    c.step();
    for (auto _ : state) c.step();
    state.SetComplexityN(n);
}

/// The catalogue's batch-all triplet loss, the yardstick of issue 13's targets.
const LossInfo& batchAllTriplet() {
    for (const LossInfo& info : lossCatalog())
        if (info.name == "triplet_margin") return info;
    std::abort();  // the catalogue always holds it
}

void scaling(benchmark::State& state, const LossInfo* info) {
    const int n = static_cast<int>(state.range(0));
    const Case c(*info, n);
    if (!c.loss) {
        state.SkipWithError(c.error.c_str());
        return;
    }
    // The yardstick's own speed-up in the same iterations: issue 13's target 1 compares each
    // loss's speed-up with batch-all triplet's "in the same run", and on these VMs the second
    // vCPU's speed drifts within minutes (the yardstick read 1.35-1.94 in separate runs).
    const Case yardstick(batchAllTriplet(), n);
    using Clock = std::chrono::steady_clock;
    auto timedStep = [](const Case& which, int threads) {
        const EngineThreads use(threads);
        // An untimed step first, on the same thread count: training runs its steps back to back,
        // so the pool thread is still polling when the next one starts. Without it every timed
        // two-thread step came after a one-thread step long enough for the pool thread to fall
        // asleep, and paid its wake-up (about 70 µs, BM_PoolLoop), 5-10 % of a 1 ms step.
        which.step();
        const auto start = Clock::now();
        which.step();
        return std::chrono::duration<double>(Clock::now() - start).count();
    };
    // Warm-up, as above, on both thread counts (each pool thread has its scratch).
    for (const Case* which : {&c, &yardstick})
        for (int threads : {1, 2}) timedStep(*which, threads);
    double one = 0.0, two = 0.0, yardstickOne = 0.0, yardstickTwo = 0.0;
    for (auto _ : state) {
        const double t1 = timedStep(c, 1);
        const double t2 = timedStep(c, 2);
        const double y1 = timedStep(yardstick, 1);
        const double y2 = timedStep(yardstick, 2);
        one += t1;
        two += t2;
        yardstickOne += y1;
        yardstickTwo += y2;
        // All four: the minimum time then bounds the run's length for small losses too.
        state.SetIterationTime(t1 + t2 + y1 + y2);
    }
    const double steps = static_cast<double>(state.iterations());
    state.counters["ms_1"] = 1e3 * one / steps;
    state.counters["ms_2"] = 1e3 * two / steps;
    state.counters["speedup"] = one / two;
    state.counters["T_speedup"] = yardstickOne / yardstickTwo;
    // Target 1: at least 0.9.
    state.counters["of_T"] = (one / two) / (yardstickOne / yardstickTwo);
}

void registerLosses(const std::vector<int>& threads) {
    for (const LossInfo& info : lossCatalog()) {
        auto* benchmark = benchmark::RegisterBenchmark(("BM_Loss/" + info.name).c_str(), lossWithGradient, &info);
        for (int n : {64, 256, 1024, 4096}) {
            if (threads.empty()) benchmark->Args({n, 0});
            for (int t : threads) benchmark->Args({n, t});
        }
        benchmark->Unit(benchmark::kMillisecond)
            ->MinTime(0.2)
            ->UseRealTime();  // the engine may use several threads: wall time is what counts
        auto* paired = benchmark::RegisterBenchmark(("BM_Scaling/" + info.name).c_str(), scaling, &info);
        paired->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->MinTime(0.5)->UseManualTime();
    }
}

/// Keeps every case's wall time (ms per iteration; the median with --benchmark_repetitions) for
/// the summary, and prints as usual.
class CollectingReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            // "BM_Loss/<loss>/<N>/<threads>", whatever the repetition and time flags add.
            const std::string key = run.run_name.function_name + "/" + run.run_name.args;
            const double ms = run.GetAdjustedRealTime() * (run.time_unit == benchmark::kMillisecond ? 1.0 : 1e-6);
            if (run.run_type == Run::RT_Iteration && !m_medians.count(key)) m_times[key] = ms;
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median") {
                m_times[key] = ms;
                m_medians.insert(key);
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }
    const std::map<std::string, double>& times() const { return m_times; }

private:
    std::map<std::string, double> m_times;
    std::set<std::string> m_medians;
};

/// The speed-up table: loss, N, ms at each thread count, speed-up first → last, ratio to T.
void printSummary(const std::map<std::string, double>& times, const std::vector<int>& threads) {
    auto find = [&](const std::string& loss, int n, int t) {
        const auto it = times.find("BM_Loss/" + loss + "/" + std::to_string(n) + "/" + std::to_string(t));
        return it == times.end() ? -1.0 : it->second;
    };
    std::vector<double> yardstick;
    for (int t : threads) yardstick.push_back(find("triplet_margin", 4096, t));
    std::printf("\nT = batch-all triplet (triplet_margin), N = 4096:");
    for (std::size_t k = 0; k < threads.size(); ++k) std::printf("  %.1f ms at %d thread(s)", yardstick[k], threads[k]);
    std::printf("\n\n| loss | N |");
    for (int t : threads) std::printf(" ms, %d thread(s) |", t);
    if (threads.size() >= 2) std::printf(" speed-up %d→%d |", threads.front(), threads.back());
    for (int t : threads) std::printf(" ratio to T, %d thread(s) |", t);
    std::printf("\n|---|---|");
    for (std::size_t k = 0; k < 2 * threads.size() + (threads.size() >= 2 ? 1 : 0); ++k) std::printf("---|");
    std::printf("\n");
    for (const LossInfo& info : lossCatalog())
        for (int n : {64, 256, 1024, 4096}) {
            std::vector<double> ms;
            for (int t : threads) ms.push_back(find(info.name, n, t));
            if (ms.front() < 0) continue;
            std::printf("| %s | %d |", info.name.c_str(), n);
            for (double m : ms) std::printf(m < 0 ? " — |" : " %.3f |", m);
            if (threads.size() >= 2)
                std::printf(ms.back() > 0 ? " %.2f× |" : " — |", ms.back() > 0 ? ms.front() / ms.back() : 0.0);
            for (std::size_t k = 0; k < threads.size(); ++k)
                std::printf(ms[k] > 0 && yardstick[k] > 0 ? " %.3f |" : " — |",
                            ms[k] > 0 && yardstick[k] > 0 ? ms[k] / yardstick[k] : 0.0);
            std::printf("\n");
        }
}

}  // namespace

int main(int argc, char** argv) {
    marginlab::keepMemoryBetweenSteps();  // as the app and the CLI do
    // Our own flag first (Google Benchmark rejects flags it does not know).
    std::vector<int> threads;
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i) {
        if (i > 0 && std::strncmp(argv[i], "--threads=", 10) == 0) {
            const std::string list = argv[i] + 10;
            std::size_t at = 0;
            while (at < list.size()) {
                const std::size_t comma = list.find(',', at);
                const int t = std::atoi(list.substr(at, comma == std::string::npos ? std::string::npos : comma - at).c_str());
                if (t < 1) {
                    std::fprintf(stderr, "--threads takes thread counts >= 1, e.g. --threads=1,2\n");
                    return 2;
                }
                threads.push_back(t);
                if (comma == std::string::npos) break;
                at = comma + 1;
            }
            continue;
        }
        rest.push_back(argv[i]);
    }
    int restCount = static_cast<int>(rest.size());
    benchmark::Initialize(&restCount, rest.data());
    if (benchmark::ReportUnrecognizedArguments(restCount, rest.data())) return 1;
    registerLosses(threads);
    CollectingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    if (!threads.empty()) printSummary(reporter.times(), threads);
    benchmark::Shutdown();
    return 0;
}

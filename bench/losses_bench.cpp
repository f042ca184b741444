// SPDX-License-Identifier: MIT
// Loss + gradient time per step for every loss of the catalogue, N ∈ {64, 256, 1024, 4096},
// D = 2, 10 classes, default parameters, no miner. Registered at start-up from the catalogue
// so a new loss is benchmarked without touching this file.
//
// --threads=1,2 (this program's own flag) runs every case at each of those engine thread counts
// (benchmark names gain a /threads suffix) and ends with a table of the speed-ups and of each
// time as a ratio to T, the batch-all triplet loss at N = 4096 with the same thread count,
// measured in the same run. Without it, the engine's default thread count and the plain names.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
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

void lossWithGradient(benchmark::State& state, const LossInfo* info) {
    const int n = static_cast<int>(state.range(0));
    // With a thread-count argument the engine uses exactly that many threads for this case.
    const int threadsBefore = engineThreads();
    if (state.range(1) > 0) setEngineThreads(static_cast<int>(state.range(1)));
    // PNP looks at every (query, positive, negative): O(N³), about a minute per step at N = 4096.
    if (info->name == "pnp" && n > 1024) {
        state.SkipWithError("O(N^3): measured up to N = 1024");
        setEngineThreads(threadsBefore);
        return;
    }
    const Problem p = makeProblem(n, info->ownedBlocks);
    std::string error;
    const auto loss = makeLoss(LossConfig{info->name, {}, std::nullopt}, &error);
    if (!loss) {
        state.SkipWithError(error.c_str());
        setEngineThreads(threadsBefore);
        return;
    }
    const LossInput input{p.x, p.y, info->ownedBlocks ? &p.owned : nullptr, nullptr, 1};
    // One untimed step first: the first call at a new N grows the thread-local N×N workspaces
    // (page faults on 256 MB at N = 4096), which a running animation pays once, not per step.
    // Without it a case of more than the minimum time is that single cold step.
    (void)loss->evaluate(input, true);
    for (auto _ : state) {
        LossOutput out = loss->evaluate(input, true);
        benchmark::DoNotOptimize(out.value);
        benchmark::DoNotOptimize(out.gradEmbeddings.data());
    }
    state.SetComplexityN(n);
    setEngineThreads(threadsBefore);
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

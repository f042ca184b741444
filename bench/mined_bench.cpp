// SPDX-License-Identifier: MIT
// Issue 13, targets 2, 3 and 4: one training step (miner + triplet loss with its gradient) for every
// triplet miner, the angular loss, the dense O(N²) losses (BM_DenseVsT), and the yardstick T = batch-all
// triplet at N = 4096, all in one program so that the ratios to T come from the same run. Data as
// losses_bench.cpp: D = 2, 10 classes, seed-fixed Gaussian points, default parameters. The second argument is
// the engine's thread count. BM_MinedVsT times each case side by side with T in every iteration and reports
// their ratio (per_T = Σ case / Σ T, and per_T_median, the median of the iterations' ratios), the figures
// to quote on a noisy machine; BM_DenseVsT does the same for the
// dense losses and BM_Target4VsT for target 4's batch hard and contrastive at N = 1,024 and NCE at
// N = 4,096 (T always at 4,096). BM_MinerCounts measures the
// mining statistics (countTuples) a snapshot reports.
//
//   build-engine/bench/marginlab_mined_bench --benchmark_repetitions=3
//   --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <utility>
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
    bool dense = false;  // a dense O(N²) loss of issue 13's target 2: only BM_DenseVsT
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
    for (const char* loss : {"contrastive", "contrastive_hadsell", "circle", "multi_similarity",
                             "lifted_structure", "generalized_lifted_structure", "soft_nearest_neighbor",
                             "ntxent", "supcon", "decoupled_contrastive"})
        out.push_back({loss, loss, "", {}, true});
    return out;
}

// One training step of a case: the miner's tuples (if any), then the loss with its gradient.
class Stepper {
public:
    Stepper(const Case& c, const Problem& p) : m_problem(p) {
        m_loss = makeLoss(LossConfig{c.loss, {}, std::nullopt}, &m_error);
        if (m_loss && !c.miner.empty())
            m_miner = makeMiner(MinerConfig{c.miner, c.minerParams, std::nullopt}, &m_error);
        if (m_loss && !c.miner.empty() && !m_miner) m_loss.reset();
    }
    bool valid() const { return m_loss != nullptr; }
    const std::string& error() const { return m_error; }
    LossOutput step(std::uint64_t seed) const {
        Tuples tuples;
        if (m_miner) tuples = m_miner->mine(MinerInput{m_problem.x, m_problem.y, seed});
        const LossInput input{m_problem.x, m_problem.y, nullptr, m_miner ? &tuples : nullptr, 1};
        return m_loss->evaluate(input, true);
    }

private:
    const Problem& m_problem;
    std::string m_error;
    std::unique_ptr<Loss> m_loss;
    std::unique_ptr<Miner> m_miner;
};

void minedStep(benchmark::State& state, const Case& c) {
    const int n = static_cast<int>(state.range(0));
    const int threadsBefore = engineThreads();
    setEngineThreads(static_cast<int>(state.range(1)));
    const Problem p = makeProblem(n);
    const Stepper stepper(c, p);
    if (!stepper.valid()) {
        state.SkipWithError(stepper.error().c_str());
        return;
    }
    // One untimed step first, as in losses_bench.cpp: the first call at a new N grows the
    // thread-local workspaces, once per animation, not per step.
    (void)stepper.step(0);
    std::uint64_t seed = 1;
    for (auto _ : state) {
        LossOutput out = stepper.step(seed++);
        benchmark::DoNotOptimize(out.value);
        benchmark::DoNotOptimize(out.gradEmbeddings.data());
    }
    setEngineThreads(threadsBefore);
}

// T (batch-all triplet at N = 4,096) and the case's step (at its own N) taken one after the other
// in every iteration: these VMs drift by up to 2× within minutes, so two cases timed minutes apart
// give unstable ratios; side by side, per_T = Σ case / Σ T is steady. The iteration time is the
// case's step alone.
void minedStepAgainstT(benchmark::State& state, const Case& c) {
    const int n = static_cast<int>(state.range(0));
    const int threadsBefore = engineThreads();
    setEngineThreads(static_cast<int>(state.range(1)));
    const Problem p = makeProblem(n), atYardstick = makeProblem(4096);
    const Stepper stepper(c, p), yardstick(Case{"batch_all_triplet", "triplet_margin", "", {}}, atYardstick);
    if (!stepper.valid()) {
        state.SkipWithError(stepper.error().c_str());
        return;
    }
    (void)stepper.step(0);
    (void)yardstick.step(0);
    using Clock = std::chrono::steady_clock;
    // A case smaller than T's N takes (4096 / N)² steps per iteration (about T's pairs), so that
    // its share of each iteration stays measurable; the iteration time is one step.
    const int repeats = n < 4096 ? (4096 / n) * (4096 / n) : 1;
    double caseSeconds = 0.0, tSeconds = 0.0;
    std::vector<double> ratios;  // per iteration, for the median
    std::uint64_t seed = 1;
    for (auto _ : state) {
        const auto start = Clock::now();
        benchmark::DoNotOptimize(yardstick.step(0).value);
        const auto middle = Clock::now();
        for (int r = 0; r < repeats; ++r) benchmark::DoNotOptimize(stepper.step(seed++).value);
        const auto end = Clock::now();
        const double seconds = std::chrono::duration<double>(end - middle).count() / repeats;
        state.SetIterationTime(seconds);
        const double yardstickSeconds = std::chrono::duration<double>(middle - start).count();
        caseSeconds += seconds;
        tSeconds += yardstickSeconds;
        ratios.push_back(seconds / yardstickSeconds);
    }
    state.counters["T_ms"] = benchmark::Counter(1e3 * tSeconds / static_cast<double>(state.iterations()));
    state.counters["per_T"] = benchmark::Counter(caseSeconds / tSeconds);
    // The median of the iterations' own ratios: a stall of the VM (steal time) during one half of
    // an iteration moves Σ case / Σ T by its whole length, the median hardly at all.
    std::nth_element(ratios.begin(), ratios.begin() + static_cast<std::ptrdiff_t>(ratios.size() / 2),
                     ratios.end());
    if (!ratios.empty()) state.counters["per_T_median"] = benchmark::Counter(ratios[ratios.size() / 2]);
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
    // Issue 13's target 4 beside T: batch hard and contrastive at N = 1,024 (≤ 0.02 T), NCE at
    // 4,096 (≤ 0.5 T).
    static const std::vector<std::pair<Case, int>> target4 = {
        {{"batch_hard", "triplet_margin", "batch_hard", {}}, 1024},
        {{"contrastive", "contrastive", "", {}}, 1024},
        {{"nce", "nce", "", {}}, 4096}};
    for (const auto& [c, n] : target4)
        benchmark::RegisterBenchmark(("BM_Target4VsT/" + c.name).c_str(), minedStepAgainstT, c)
            ->ArgsProduct({{n}, {1, 2}})
            ->ArgNames({"n", "threads"})
            ->Unit(benchmark::kMillisecond)
            ->Iterations(12)
            ->UseManualTime();
    static const std::vector<Case> all = cases();
    for (const Case& c : all) {
        if (c.dense) {
            benchmark::RegisterBenchmark(("BM_DenseVsT/" + c.name).c_str(), minedStepAgainstT, c)
                ->ArgsProduct({{4096}, {1, 2}})
                ->ArgNames({"n", "threads"})
                ->Unit(benchmark::kMillisecond)
                ->MinTime(1.0)
                ->UseManualTime();
            continue;
        }
        benchmark::RegisterBenchmark(("BM_Mined/" + c.name).c_str(), minedStep, c)
            ->ArgsProduct({{1024, 4096}, {1, 2}})
            ->ArgNames({"n", "threads"})
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.5)
            ->UseRealTime();
        if (!c.miner.empty() || c.loss == "angular")
            benchmark::RegisterBenchmark(("BM_MinedVsT/" + c.name).c_str(), minedStepAgainstT, c)
                ->ArgsProduct({{4096}, {1, 2}})
                ->ArgNames({"n", "threads"})
                ->Unit(benchmark::kMillisecond)
                ->MinTime(1.0)
                ->UseManualTime();
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

// SPDX-License-Identifier: MIT
// The engine's chunked threads (internal parallel.h): every chunk runs once, on a worker in
// range, failures reach the caller, and the chunking depends on the problem size alone.
#include "marginlab/loss.h"
#include "marginlab/parallel.h"
#include "parallel.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace marginlab {
namespace {

class EngineThreads : public ::testing::Test {
protected:
    void TearDown() override { setEngineThreads(m_before); }

private:
    int m_before = engineThreads();
};

TEST_F(EngineThreads, EveryChunkRunsExactlyOnceOnAWorkerInRange) {
    for (int threads : {1, 2, 3, 8}) {
        setEngineThreads(threads);
        const int chunks = 37;
        const int workers = detail::chunkWorkers(chunks);
        EXPECT_EQ(workers, threads);
        std::vector<std::atomic<int>> runs(chunks);
        std::vector<std::atomic<int>> busy(static_cast<std::size_t>(workers));
        std::atomic<bool> sharedWorker{false};
        detail::forEachChunk(chunks, workers, [&](int chunk, int worker) {
            ASSERT_GE(worker, 0);
            ASSERT_LT(worker, workers);
            // A worker is one thread: it never runs two chunks at once.
            if (busy[static_cast<std::size_t>(worker)]++ != 0) sharedWorker = true;
            ++runs[static_cast<std::size_t>(chunk)];
            --busy[static_cast<std::size_t>(worker)];
        });
        for (int chunk = 0; chunk < chunks; ++chunk) EXPECT_EQ(runs[static_cast<std::size_t>(chunk)], 1) << chunk;
        EXPECT_FALSE(sharedWorker);
    }
}

TEST_F(EngineThreads, WorkersNeverOutnumberChunksOrTheSetting) {
    setEngineThreads(4);
    EXPECT_EQ(detail::chunkWorkers(1), 1);
    EXPECT_EQ(detail::chunkWorkers(3), 3);
    EXPECT_EQ(detail::chunkWorkers(100), 4);
    setEngineThreads(0);  // below 1 means 1
    EXPECT_EQ(engineThreads(), 1);
    EXPECT_EQ(detail::chunkWorkers(100), 1);
}

TEST_F(EngineThreads, AFailingChunkIsRethrownToTheCaller) {
    for (int threads : {1, 2}) {
        setEngineThreads(threads);
        EXPECT_THROW(detail::forEachChunk(8, detail::chunkWorkers(8),
                                          [](int chunk, int) {
                                              if (chunk == 5) throw std::runtime_error("chunk 5");
                                          }),
                     std::runtime_error);
    }
}

// A chunk that runs a loop of its own (a loss evaluated inside a chunk of a trainer group, say)
// gets every inner chunk run once, inline: no deadlock on pool threads busy with the outer loop.
TEST_F(EngineThreads, ALoopInsideAChunkRunsEveryInnerChunkOnce) {
    for (int threads : {2, 3, 7}) {
        setEngineThreads(threads);
        const int outer = 9, inner = 11;
        std::vector<std::atomic<int>> runs(static_cast<std::size_t>(outer * inner));
        std::atomic<bool> innerWorkerOutOfRange{false};
        detail::forEachChunk(outer, detail::chunkWorkers(outer), [&](int o, int) {
            const std::thread::id self = std::this_thread::get_id();
            detail::forEachChunk(inner, detail::chunkWorkers(inner), [&](int i, int worker) {
                if (worker != 0 || std::this_thread::get_id() != self) innerWorkerOutOfRange = true;
                ++runs[static_cast<std::size_t>(o * inner + i)];
            });
        });
        for (std::size_t k = 0; k < runs.size(); ++k) EXPECT_EQ(runs[k], 1) << threads << " " << k;
        EXPECT_FALSE(innerWorkerOutOfRange) << threads;
    }
}

// Several threads may run loops at once (a GUI worker and a recording): each loop completes
// with its own chunks, whatever the pool threads were doing.
TEST_F(EngineThreads, LoopsFromSeveralThreadsAtOnceEachComplete) {
    setEngineThreads(3);
    const int callers = 4, rounds = 50, chunks = 16;
    std::vector<std::atomic<long>> sums(static_cast<std::size_t>(callers));
    std::vector<std::thread> threads;
    for (int c = 0; c < callers; ++c)
        threads.emplace_back([&, c] {
            for (int r = 0; r < rounds; ++r)
                detail::forEachChunk(chunks, detail::chunkWorkers(chunks),
                                     [&](int chunk, int) { sums[static_cast<std::size_t>(c)] += chunk + 1; });
        });
    for (std::thread& thread : threads) thread.join();
    for (int c = 0; c < callers; ++c) EXPECT_EQ(sums[static_cast<std::size_t>(c)], rounds * chunks * (chunks + 1) / 2);
}

// The pool's threads are kept: after the first loop, later loops start no thread.
TEST_F(EngineThreads, PoolThreadsAreReusedAcrossLoops) {
    setEngineThreads(2);
    std::mutex lock;
    std::set<std::thread::id> seen;
    for (int round = 0; round < 40; ++round)
        detail::forEachChunk(64, 2, [&](int, int) {
            const std::lock_guard<std::mutex> guard(lock);
            seen.insert(std::this_thread::get_id());
        });
    // The caller plus pool threads started by earlier tests (they ask for at most 8 threads, or
    // the default of one per CPU); a thread per loop would show up to 41 ids.
    EXPECT_LE(seen.size(), std::max(8u, std::thread::hardware_concurrency()) + 1u);
}

// Large enough for several row chunks: every loss must give the same bits on any thread count
// (and, run under ThreadSanitizer, shows the chunks share nothing they write).
TEST_F(EngineThreads, EveryCatalogueLossGivesTheSameBitsOnAnyThreadCount) {
    const int n = 600, classes = 6;
    const Points x = testing::randomPoints(n, 2, 321);
    const Labels y = testing::randomLabels(n, classes, 322);
    for (const LossInfo& info : lossCatalog()) {
        std::string error;
        const auto loss = makeLoss(LossConfig{info.name, {}, std::nullopt}, &error);
        ASSERT_TRUE(loss) << error;
        const Points owned = testing::randomPoints(std::max(1, info.ownedBlocks) * classes, 2, 323);
        LossInput input{x, y, info.ownedBlocks ? &owned : nullptr, nullptr, 7};
        input.splitForces = true;
        setEngineThreads(1);
        const LossOutput one = loss->evaluate(input, true);
        setEngineThreads(3);
        const LossOutput three = loss->evaluate(input, true);
        EXPECT_EQ(one.value, three.value) << info.name;
        EXPECT_TRUE(one.gradEmbeddings == three.gradEmbeddings) << info.name;
        EXPECT_TRUE(one.gradFromPositives == three.gradFromPositives) << info.name;
        EXPECT_TRUE(one.gradOwned == three.gradOwned) << info.name;
        EXPECT_EQ(one.stats.active, three.stats.active) << info.name;
    }
}

TEST(AnchorChunks, CoverTheRowsInOrderWithinTheLimits) {
    for (std::ptrdiff_t n : {0, 1, 255, 256, 257, 600, 4096, 4097, 100000}) {
        const detail::AnchorChunks chunks(n);
        EXPECT_LE(chunks.count(), detail::AnchorChunks::kMaxChunks) << n;
        std::ptrdiff_t next = 0;
        for (int c = 0; c < chunks.count(); ++c) {
            EXPECT_EQ(chunks.begin(c), next) << n;
            EXPECT_GT(chunks.end(c), chunks.begin(c)) << n;
            if (c + 1 < chunks.count()) {
                EXPECT_GE(chunks.end(c) - chunks.begin(c), detail::AnchorChunks::kMinRows) << n;
            }
            next = chunks.end(c);
        }
        EXPECT_EQ(next, n);
    }
    EXPECT_EQ(detail::AnchorChunks(256).count(), 1);  // small problems stay on one thread
    EXPECT_EQ(detail::AnchorChunks(600).count(), 3);
    EXPECT_EQ(detail::AnchorChunks(4096).count(), 16);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// The engine's chunked threads (internal parallel.h): every chunk runs once, on a worker in
// range, failures reach the caller, and the chunking depends on the problem size alone.
#include "marginlab/loss.h"
#include "marginlab/parallel.h"
#include "parallel.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
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

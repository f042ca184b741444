// SPDX-License-Identifier: MIT
// Running independent chunks of work on the engine's threads (internal header).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace marginlab::detail {

/// How many workers forEachChunk will use for `chunks` chunks: min(engineThreads(), chunks), at
/// least 1. Callers size their per-worker scratch with it.
int chunkWorkers(int chunks);

/**
 * Loops with less work than this (in units of about one exponential or a few multiply-adds) run
 * on the calling thread alone: waking a pool thread costs more than it saves. Measured with
 * 10 classes (docs/benchmarks.md, seventh session): at N = 1,024 proxy anchor's columns took
 * 0.12 ms on one thread and 0.29 ms with a second one woken for them; at N = 4,096 (4·10⁴ units)
 * proxy anchor, center loss and P2SGrad still took 1.5–2× as long on two threads as on one.
 */
inline constexpr std::int64_t kMinParallelWork = std::int64_t{1} << 17;

/// chunkWorkers(chunks), or 1 if the loop's whole `work` is below kMinParallelWork. The chunks
/// stay the same either way, so results keep their bits.
int chunkWorkers(int chunks, std::int64_t work);

/**
 * Calls work(chunk, worker) once for every chunk in [0, chunks), on up to `workers` threads
 * (the calling thread is worker 0; the others come from the engine's persistent thread pool,
 * as many as are idle). A worker handles one chunk at a time, so per-worker scratch needs no
 * locking. Which worker runs which chunk varies: a chunk's result must depend on the chunk
 * alone. The first exception thrown is rethrown here once every worker has stopped.
 * Called from inside a chunk (a nested loop), it runs every chunk inline on the calling thread
 * as worker 0: nothing waits for a pool thread busy with the outer loop, and the result is the
 * same. Several threads may call it at once.
 */
void forEachChunk(int chunks, int workers, const std::function<void(int chunk, int worker)>& work);

/**
 * Rows 0..n−1 cut into consecutive runs by n alone (never by the thread count): at least
 * kMinRows rows each, so that small problems stay in one chunk, and at most kMaxChunks runs, so
 * that per-chunk N×D sums stay few.
 */
class AnchorChunks {
public:
    static constexpr std::ptrdiff_t kMinRows = 256;
    static constexpr int kMaxChunks = 16;

    explicit AnchorChunks(std::ptrdiff_t n)
        : m_n(n), m_size(std::max(kMinRows, (n + kMaxChunks - 1) / kMaxChunks)) {}
    int count() const { return m_n <= 0 ? 0 : static_cast<int>((m_n + m_size - 1) / m_size); }
    std::ptrdiff_t begin(int chunk) const { return std::min(m_n, chunk * m_size); }
    std::ptrdiff_t end(int chunk) const { return std::min(m_n, (chunk + 1) * m_size); }

private:
    std::ptrdiff_t m_n;
    std::ptrdiff_t m_size;
};

/// work(begin, end, chunk) for every AnchorChunks run of rows [0, n), on the engine's threads.
/// For loops whose rows are independent, or that keep one partial sum per chunk.
void forEachRowChunk(std::ptrdiff_t n, const std::function<void(std::ptrdiff_t begin, std::ptrdiff_t end, int chunk)>& work);

}  // namespace marginlab::detail

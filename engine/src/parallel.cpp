// SPDX-License-Identifier: MIT
#include "marginlab/parallel.h"

#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace marginlab {

namespace {

int defaultThreads() {
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware == 0 ? 1 : static_cast<int>(hardware);
}

std::atomic<int>& threadSetting() {
    static std::atomic<int> threads{defaultThreads()};
    return threads;
}

}  // namespace

void setEngineThreads(int count) { threadSetting().store(std::max(1, count)); }

int engineThreads() { return threadSetting().load(); }

namespace detail {

int chunkWorkers(int chunks) { return std::max(1, std::min(engineThreads(), chunks)); }

void forEachChunk(int chunks, int workers, const std::function<void(int, int)>& work) {
    workers = std::max(1, std::min(workers, chunks));
    if (workers == 1) {
        for (int chunk = 0; chunk < chunks; ++chunk) work(chunk, 0);
        return;
    }
    std::atomic<int> next{0};
    std::exception_ptr failure;
    std::mutex failureLock;
    auto run = [&](int worker) {
        try {
            for (int chunk = next++; chunk < chunks; chunk = next++) work(chunk, worker);
        } catch (...) {
            const std::lock_guard<std::mutex> lock(failureLock);
            if (!failure) failure = std::current_exception();
            next = chunks;  // the others stop after their current chunk
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(workers) - 1);
    try {
        for (int worker = 1; worker < workers; ++worker) threads.emplace_back(run, worker);
    } catch (const std::system_error&) {
        // No more threads to be had: the ones started and this one share the chunks.
    }
    run(0);
    for (std::thread& thread : threads) thread.join();
    if (failure) std::rethrow_exception(failure);
}

void forEachRowChunk(std::ptrdiff_t n, const std::function<void(std::ptrdiff_t, std::ptrdiff_t, int)>& work) {
    const AnchorChunks chunks(n);
    forEachChunk(chunks.count(), chunkWorkers(chunks.count()),
                 [&](int chunk, int) { work(chunks.begin(chunk), chunks.end(chunk), chunk); });
}

}  // namespace detail

}  // namespace marginlab

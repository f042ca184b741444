// SPDX-License-Identifier: MIT
#include "marginlab/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "parallel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace marginlab {

namespace {

// How long a thread that has run out of work keeps looking before it sleeps. A sleeping thread
// is woken through the kernel: on these VMs that took about 60 µs before it ran (and as long
// again for the caller woken at the end of the loop), while a step of a loss at N = 1,024 runs a
// few loops of a few hundred µs each. Measured (BM_PoolLoop, docs/benchmarks.md, seventeenth
// session): loops of 2 × 100 µs with 20 µs between them took 152 µs each when the threads slept,
// 125 µs with this spin. Longer than the gaps between a step's loops, short enough not to hold a vCPU the
// GUI's thread wants for long.
constexpr std::chrono::microseconds kSpinTime{200};

void relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

/// Polls ready() until it holds or kSpinTime has passed.
template <typename Ready>
void spinUntil(Ready&& ready) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + kSpinTime;
    do {
        for (int i = 0; i < 32; ++i) {
            if (ready()) return;
            relax();
        }
    } while (Clock::now() < deadline);
}

int defaultThreads() {
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware == 0 ? 1 : static_cast<int>(hardware);
}

std::atomic<int>& threadSetting() {
    static std::atomic<int> threads{defaultThreads()};
    return threads;
}

// Set while this thread runs chunks of a loop (as a pool thread or as the caller): a loop
// started from inside a chunk runs inline on that thread. Handing it to the pool could wait for
// threads that are themselves busy with the outer loop's chunks; inline it needs no one, and
// the chunking (fixed by the problem size) gives the same bits either way.
thread_local bool t_insideLoop = false;

class InsideLoop {
public:
    InsideLoop() : m_before(t_insideLoop) { t_insideLoop = true; }
    ~InsideLoop() { t_insideLoop = m_before; }
    InsideLoop(const InsideLoop&) = delete;
    InsideLoop& operator=(const InsideLoop&) = delete;

private:
    bool m_before;
};

// One forEachChunk call shared with the pool. Lives on the caller's stack: the caller does not
// return before every pool thread that joined it has left.
struct Job {
    const std::function<void(int, int)>* work = nullptr;
    int chunks = 0;
    int workers = 1;               // threads allowed, the caller included
    std::atomic<int> next{0};      // the next chunk to hand out
    int joined = 1;                // worker numbers given out (0 = the caller); guarded by the pool's lock
    std::atomic<int> running{0};   // pool threads inside the job; changed under the pool's lock
    std::condition_variable left;  // signalled when `running` drops to 0
    std::mutex failureLock;
    std::exception_ptr failure;

    void run(int worker) {
        const InsideLoop inside;
        try {
            for (int chunk = next++; chunk < chunks; chunk = next++) (*work)(chunk, worker);
        } catch (...) {
            const std::lock_guard<std::mutex> lock(failureLock);
            if (!failure) failure = std::current_exception();
            next = chunks;  // the others stop after their current chunk
        }
    }
};

/**
 * Threads started once and kept for the life of the program (starting one per loop cost about
 * 45 µs, comparable to a whole small loss). Callers post a job and work on it themselves as
 * worker 0; idle pool threads join as workers 1, 2, … up to the job's limit. Several callers
 * (the GUI's worker and a recording, say) may post at once: jobs are served in order, and each
 * caller always makes progress on its own job, so none waits on another.
 */
class ThreadPool {
public:
    static ThreadPool& instance() {
        static ThreadPool pool;
        return pool;
    }

    ~ThreadPool() {
        {
            const std::lock_guard<std::mutex> lock(m_lock);
            m_stop = true;
            noteJobs();
        }
        m_wake.notify_all();
        for (std::thread& thread : m_threads) thread.join();
    }

    void run(Job& job) {
        std::unique_lock<std::mutex> lock(m_lock);
        // Grow to the helpers this job may use; a failure to start one just leaves fewer.
        try {
            while (static_cast<int>(m_threads.size()) < job.workers - 1)
                m_threads.emplace_back([this] { serve(); });
        } catch (const std::system_error&) {
        }
        m_jobs.push_back(&job);
        noteJobs();
        lock.unlock();
        if (job.workers - 1 >= static_cast<int>(m_threads.size()))
            m_wake.notify_all();
        else
            for (int i = 1; i < job.workers; ++i) m_wake.notify_one();
        job.run(0);
        lock.lock();
        // No thread may join from now on; wait for those inside to finish their last chunk.
        const auto queued = std::find(m_jobs.begin(), m_jobs.end(), &job);
        if (queued != m_jobs.end()) m_jobs.erase(queued);
        noteJobs();
        if (job.running != 0) {
            // The helpers are finishing their last chunks: wait for them awake first. Seeing
            // running = 0 here is not enough to return (the helper may still be notifying
            // job.left): the wait below takes the lock, which the helper holds until it is done.
            lock.unlock();
            spinUntil([&] { return job.running == 0; });
            lock.lock();
        }
        job.left.wait(lock, [&] { return job.running == 0; });
    }

private:
    ThreadPool() = default;

    void serve() {
        std::unique_lock<std::mutex> lock(m_lock);
        for (;;) {
            if (!m_stop && m_jobs.empty()) {
                lock.unlock();
                spinUntil([this] { return !m_idle.load(std::memory_order_relaxed); });
                lock.lock();
            }
            m_wake.wait(lock, [this] { return m_stop || !m_jobs.empty(); });
            if (m_stop) return;
            Job& job = *m_jobs.front();
            const int worker = job.joined++;
            if (job.joined >= job.workers) {
                m_jobs.pop_front();  // full: the next thread takes the next job
                noteJobs();
            }
            ++job.running;
            lock.unlock();
            job.run(worker);
            lock.lock();
            if (--job.running == 0) job.left.notify_all();
        }
    }

    std::mutex m_lock;
    std::condition_variable m_wake;
    std::deque<Job*> m_jobs;  // jobs that still take workers, oldest first
    std::vector<std::thread> m_threads;
    bool m_stop = false;
    // m_jobs.empty() && !m_stop, for the idle threads' polling without the lock (noteJobs)
    std::atomic<bool> m_idle{true};

    /// Keeps m_idle up to date; called under m_lock after m_jobs or m_stop changes.
    void noteJobs() { m_idle = m_jobs.empty() && !m_stop; }
};

}  // namespace

void setEngineThreads(int count) {
    threadSetting().store(std::max(1, count));
}

int engineThreads() {
    return threadSetting().load();
}

namespace detail {

int chunkWorkers(int chunks) {
    return std::max(1, std::min(engineThreads(), chunks));
}

int chunkWorkers(int chunks, std::int64_t work) {
    return work < kMinParallelWork ? 1 : chunkWorkers(chunks);
}

void forEachChunk(int chunks, int workers, const std::function<void(int, int)>& work) {
    workers = std::max(1, std::min(workers, chunks));
    if (workers == 1 || t_insideLoop) {
        // Nested loops run inline (see t_insideLoop); the caller's own worker number is kept
        // out of it: chunks of the inner loop run one after another on this thread, worker 0.
        for (int chunk = 0; chunk < chunks; ++chunk) work(chunk, 0);
        return;
    }
    Job job;
    job.work = &work;
    job.chunks = chunks;
    job.workers = workers;
    ThreadPool::instance().run(job);
    if (job.failure) std::rethrow_exception(job.failure);
}

void forEachRowChunk(std::ptrdiff_t n, const std::function<void(std::ptrdiff_t, std::ptrdiff_t, int)>& work) {
    const AnchorChunks chunks(n);
    forEachChunk(chunks.count(), chunkWorkers(chunks.count()),
                 [&](int chunk, int) { work(chunks.begin(chunk), chunks.end(chunk), chunk); });
}

}  // namespace detail

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Soak benchmark: trains a scene for a million steps as the app does (one snapshot per chunk into
// the charts' RunHistory, the retrieval metrics every `metrics_every` steps) and prints the
// resident set size along the way, so growth shows (docs/benchmarks.md, "Soak").
//   marginlab_soak SCENE.json [STEPS [CHUNK]]     default 1,000,000 steps, a snapshot every step
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "marginlab/allocator.h"
#include "marginlab/history.h"
#include "marginlab/scene/scenefile.h"
#include "marginlab/trainer.h"

namespace {

/// VmRSS of this process in KiB (Linux), −1 when unreadable.
long residentKiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    marginlab::keepMemoryBetweenSteps();  // as the app does
    using namespace marginlab;
    if (argc < 2 || argc > 4) {
        std::fprintf(stderr, "usage: marginlab_soak SCENE.json [STEPS [CHUNK]]\n");
        return 2;
    }
    const long steps = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 1'000'000;
    const int chunk = argc > 3 ? static_cast<int>(std::strtol(argv[3], nullptr, 10)) : 1;
    if (steps < 1 || chunk < 1) {
        std::fprintf(stderr, "marginlab_soak: STEPS and CHUNK must be positive\n");
        return 2;
    }
    std::string error;
    const auto scene = readSceneFile(argv[1], &error);
    if (!scene) {
        std::fprintf(stderr, "marginlab_soak: %s\n", error.c_str());
        return 2;
    }
    Trainer trainer(scene->trainer);
    RunHistory history;
    history.append(*trainer.step(chunk));
    const long startKiB = residentKiB();
    const auto began = std::chrono::steady_clock::now();
    std::printf("scene %s, %ld points, %ld steps, a snapshot every %d\n", argv[1],
                static_cast<long>(scene->trainer.points.rows()), steps, chunk);
    std::printf("%10s %10s %10s %12s %s\n", "step", "RSS KiB", "history", "loss", "seconds");
    std::printf("%10ld %10ld %10zu %12.6g %.1f\n", trainer.snapshot()->step, startKiB, history.size(),
                history.points().back().loss, 0.0);
    long peakKiB = startKiB;
    long next = steps / 10;
    while (trainer.snapshot()->step < steps) {
        const auto snapshot = trainer.step(chunk);
        history.append(*snapshot);
        if (snapshot->step >= next || snapshot->step >= steps) {
            const long kib = residentKiB();
            peakKiB = std::max(peakKiB, kib);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
            std::printf("%10ld %10ld %10zu %12.6g %.1f\n", snapshot->step, kib, history.size(), snapshot->loss, seconds);
            std::fflush(stdout);
            next += steps / 10;
        }
    }
    const long endKiB = residentKiB();
    std::printf("RSS start %ld KiB, end %ld KiB, peak %ld KiB, growth %+ld KiB; history %zu points (capacity %zu)\n",
                startKiB, endKiB, std::max(peakKiB, endKiB), endKiB - startKiB, history.size(), history.capacity());
    return 0;
}

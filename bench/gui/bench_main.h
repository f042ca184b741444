// SPDX-License-Identifier: MIT
// main() of the GUI benchmarks that use the widgets library: the offscreen platform, a
// QApplication, and Qt's thread pool capped as the app caps it.
#pragma once

#include <benchmark/benchmark.h>

#include <QApplication>

#include "marginlab/allocator.h"
#include "trainingcontroller.h"

namespace marginlab::bench {

inline int runOffscreenBenchmarks(int argc, char** argv) {
    marginlab::keepMemoryBetweenSteps();  // as the app does
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    TrainingController::leaveACoreForTraining();  // as the app does
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace marginlab::bench

// SPDX-License-Identifier: MIT
// libFuzzer target: the trajectory readers. The first byte picks the format: CSV from a stream,
// or JSON / NPY through a temporary file (readTrajectory reads files).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "marginlab/scene/trajectory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace fs = std::filesystem;
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string error;
    const int format = data[0] % 3;
    if (format == 0) {
        std::istringstream in(text);
        (void)marginlab::parseTrajectoryCsv(in, &error);
        return 0;
    }
    static const fs::path dir = [] {
        const fs::path d = fs::temp_directory_path() / ("marginlab-fuzz-" + std::to_string(::getpid()));
        fs::create_directories(d);
        return d;
    }();
    const fs::path file = dir / (format == 1 ? "t.json" : "t.npy");
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    (void)marginlab::readTrajectory(file, &error);
    (void)marginlab::readInitialPoints(file, &error);
    return 0;
}

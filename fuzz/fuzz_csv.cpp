// SPDX-License-Identifier: MIT
// libFuzzer target: the CSV point reader (x,y[,z],label).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "marginlab/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    (void)marginlab::parseCsv(in);
    return 0;
}

// SPDX-License-Identifier: MIT
// libFuzzer target: the scene reader (JSON text → parseScene), as the CLI, the app and
// `marginlab render` read scenes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "marginlab/scene/scenefile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ml = marginlab;
    try {
        const ml::json::Json document =
            ml::json::parse(std::string_view(reinterpret_cast<const char*>(data), size));
        std::string error;
        // CSV paths resolve in a folder that does not exist: the fuzzer reads no files.
        const auto scene = ml::parseScene(document, "/nonexistent-marginlab-fuzz", &error);
        if (scene) (void)ml::sceneToJson(*scene).dump();
    } catch (const ml::json::Error&) {
    }
    return 0;
}

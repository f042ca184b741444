// SPDX-License-Identifier: MIT
// The engine must build without Qt: no file under engine/ may include a Qt header.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

TEST(QtFree, EngineIncludesNoQtHeader) {
    const std::filesystem::path engine = std::filesystem::path(MARGINLAB_SOURCE_DIR) / "engine";
    ASSERT_TRUE(std::filesystem::exists(engine));
    const std::regex qtInclude(R"(^\s*#\s*include\s*[<"](Q[A-Za-z]|Qt))");
    int filesSeen = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(engine)) {
        if (!entry.is_regular_file()) continue;
        const auto ext = entry.path().extension();
        if (ext != ".h" && ext != ".cpp" && ext != ".txt") continue;
        ++filesSeen;
        std::ifstream in(entry.path());
        std::string line;
        int lineNumber = 0;
        while (std::getline(in, line)) {
            ++lineNumber;
            EXPECT_FALSE(std::regex_search(line, qtInclude))
                << entry.path() << ":" << lineNumber << " includes Qt: " << line;
        }
    }
    EXPECT_GT(filesSeen, 5);
}

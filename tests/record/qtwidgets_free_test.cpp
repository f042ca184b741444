// SPDX-License-Identifier: MIT
// The recorder runs headless (`marginlab render`): app/record must not include or link QtWidgets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The header names QtWidgets installs (QWidget, QDialog, qwidget.h, ...), from its include folder.
std::set<std::string> widgetsHeaders() {
    std::set<std::string> names;
    std::stringstream dirs(MARGINLAB_QTWIDGETS_INCLUDES);
    for (std::string dir; std::getline(dirs, dir, '|');) {
        if (!fs::is_directory(dir) || fs::path(dir).filename() != "QtWidgets") continue;
        for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
    }
    return names;
}

TEST(RecordLibrary, IncludesNoQtWidgetsHeader) {
    const std::set<std::string> widgets = widgetsHeaders();
    ASSERT_GT(widgets.size(), 100u) << "QtWidgets' include folder not found in "
                                    << MARGINLAB_QTWIDGETS_INCLUDES;
    ASSERT_TRUE(widgets.count("QWidget"));
    const std::regex include(R"(#\s*include\s*[<"]([^>"]+)[>"])");
    int files = 0;
    for (const auto& entry :
         fs::recursive_directory_iterator(fs::path(MARGINLAB_SOURCE_DIR) / "app" / "record")) {
        if (!entry.is_regular_file()) continue;
        const std::string text = slurp(entry.path());
        ++files;
        if (entry.path().filename() == "CMakeLists.txt") {
            EXPECT_EQ(text.find("::Widgets"), std::string::npos) << entry.path() << " links QtWidgets";
            EXPECT_FALSE(std::regex_search(text, std::regex(R"(COMPONENTS[^)]*Widgets)"))) << entry.path();
            continue;
        }
        for (std::sregex_iterator it(text.begin(), text.end(), include), end; it != end; ++it) {
            const std::string header = (*it)[1].str();
            const std::string base = fs::path(header).filename().string();
            EXPECT_TRUE(header.rfind("QtWidgets", 0) != 0 && !widgets.count(base))
                << entry.path() << " includes " << header << " (QtWidgets)";
        }
    }
    EXPECT_GE(files, 6);
}

}  // namespace

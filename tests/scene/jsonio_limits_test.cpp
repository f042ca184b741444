// SPDX-License-Identifier: MIT
// json::parse and the strict readers (issue 14): limits refused while parsing, with the place.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "marginlab/limits.h"
#include "marginlab/scene/jsonio.h"
#include "marginlab/scene/scenefile.h"
#include "marginlab/scene/trajectory.h"

namespace marginlab {
namespace {

std::string parseError(const std::string& text) {
    try {
        (void)json::parse(text);
    } catch (const json::Error& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(JsonLimits, NestingIsRefusedAtTheLimitWithItsPath) {
    const int limit = limits::kMaxJsonDepth;
    EXPECT_EQ(parseError(std::string(limit, '[') + std::string(limit, ']')), "(accepted)");
    EXPECT_NE(
        parseError(std::string(limit + 1, '[') + std::string(limit + 1, ']')).find("nested deeper than 64"),
        std::string::npos);
    EXPECT_NE(parseError(R"({"a": [0, {"b": )" + std::string(100, '[')).find("a[1].b[0]"), std::string::npos);
    // A million levels: refused quickly, no stack overflow.
    EXPECT_NE(parseError(std::string(1'000'000, '[')).find("nested deeper than 64"), std::string::npos);
}

TEST(JsonLimits, DuplicateKeysLongStringsAndOverflowAreRefused) {
    EXPECT_EQ(parseError(R"({"a": {"b": 1, "b": 2}})"),
              "a.b: duplicate key (each key may appear once in an object)");
    EXPECT_NE(
        parseError("\"" + std::string(limits::kMaxStringBytes + 1, 'x') + "\"").find("the limit is 1048576"),
        std::string::npos);
    EXPECT_EQ(parseError("{\n  \"x\": 1e400}"),
              "line 2, column 12: number overflow parsing '1e400' (numbers must be finite doubles, at most "
              "about ±1.8e308)");
    EXPECT_NE(parseError("{\"x\": tru}").find("line 1, column"), std::string::npos);
}

TEST(JsonLimits, IntegersSayWhatIsWrong) {
    auto integerError = [](const std::string& text) {
        try {
            (void)json::readInteger(json::parse(text), "n");
        } catch (const json::Error& e) {
            return e.what();
        }
        return std::string("(accepted)");
    };
    const std::string written =
        "n: expected an integer written without a decimal point or exponent (like 3, not 3.0 or 3e0)";
    EXPECT_EQ(integerError("0.0"), written);
    EXPECT_EQ(integerError("1e23"), written);
    EXPECT_EQ(integerError("1.5"), "n: expected an integer, found a number with a fraction (1.5)");
    EXPECT_EQ(integerError("18446744073709551615"),
              "n: expected an integer from -2147483648 to 2147483647, found 18446744073709551615");
    EXPECT_EQ(integerError("2147483648"),
              "n: expected an integer from -2147483648 to 2147483647, found 2147483648");
    EXPECT_EQ(integerError("true"), "n: expected an integer, found a boolean");
    EXPECT_EQ(integerError("-2147483648"), "(accepted)");
}

TEST(JsonLimits, PrintableEscapesControlCharacters) {
    EXPECT_EQ(json::printable(std::string("a\nb\x1b[0m\t") + '\0' + "é"), "a\\nb\\x1b[0m\\t\\x00é");
}

TEST(JsonLimits, SuggestionsOnlyForNearMisses) {
    EXPECT_EQ(json::didYouMean("minner", {"miner", "loss"}), " (did you mean \"miner\"?)");
    EXPECT_EQ(json::didYouMean("distanse", {"distance", "params"}), " (did you mean \"distance\"?)");
    EXPECT_EQ(json::didYouMean("colour", {"miner", "loss"}), "");
}

TEST(JsonLimits, TrajectoryJsonBeyondDoubleRangeIsAMessageNotACrash) {
    // Found by fuzz/fuzz_trajectory: the out_of_range exception escaped the reader.
    const auto path =
        std::filesystem::temp_directory_path() / ("marginlab-limits-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path)
        << R"({"format": "marginlab-trajectory", "version": 1, "labels": [0, 1], "frames": [{"step": 0, "positions": [[-1e69812, 0], [1, 1]]}]})";
    std::string error;
    EXPECT_FALSE(readTrajectory(path, &error));
    EXPECT_NE(error.find("number overflow parsing '-1e69812'"), std::string::npos) << error;
    EXPECT_FALSE(readInitialPoints(path, &error));
    EXPECT_NE(error.find("number overflow"), std::string::npos) << error;
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace marginlab

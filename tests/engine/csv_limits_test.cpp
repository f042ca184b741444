// SPDX-License-Identifier: MIT
// CSV limits (marginlab/limits.h): magnitudes beyond 1e150, too many points, non-regular files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "marginlab/csv.h"
#include "marginlab/limits.h"

namespace marginlab {
namespace {

std::string errorOf(const std::variant<Dataset, CsvError>& result) {
    const auto* error = std::get_if<CsvError>(&result);
    return error ? error->message : std::string("(accepted)");
}

TEST(CsvLimits, MagnitudesBeyondTheSupportedRangeAreRefused) {
    std::istringstream in("x,y,label\n0,0,0\n1e151,0,1\n");
    EXPECT_EQ(errorOf(parseCsv(in)),
              "line 3, column 1: expected a number of magnitude at most 1e150, found '1e151'");
    std::istringstream fine("0,0,0\n1e150,-1e150,1\n");
    EXPECT_TRUE(std::holds_alternative<Dataset>(parseCsv(fine)));
}

TEST(CsvLimits, TooManyPointsStopAtTheLimit) {
    std::string text;
    for (std::int64_t i = 0; i <= limits::kMaxPoints; ++i) text += "0,0," + std::to_string(i % 3) + "\n";
    std::istringstream in(text);
    EXPECT_EQ(errorOf(parseCsv(in)), "line " + std::to_string(limits::kMaxPoints + 1) +
                                         ": more than the limit of " + std::to_string(limits::kMaxPoints) +
                                         " points");
}

TEST(CsvLimits, FifoIsRefusedWithoutBlocking) {
    const auto path =
        std::filesystem::temp_directory_path() / ("marginlab-csv-fifo-" + std::to_string(::getpid()));
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    EXPECT_EQ(errorOf(readCsvFile(path.string())),
              "cannot open: expected a regular file, not a FIFO, folder or device");
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace marginlab

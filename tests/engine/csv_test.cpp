// SPDX-License-Identifier: MIT
#include "marginlab/csv.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

namespace marginlab {
namespace {

std::variant<Dataset, CsvError> parse(const std::string& text) {
    std::istringstream in(text);
    return parseCsv(in);
}

Dataset parseOk(const std::string& text) {
    auto result = parse(text);
    if (auto* error = std::get_if<CsvError>(&result)) {
        ADD_FAILURE() << "unexpected error: " << error->message;
        return {};
    }
    return std::get<Dataset>(std::move(result));
}

CsvError parseError(const std::string& text) {
    auto result = parse(text);
    if (std::holds_alternative<Dataset>(result)) {
        ADD_FAILURE() << "accepted: " << text;
        return {-1, -1, ""};
    }
    return std::get<CsvError>(result);
}

void expectError(const std::string& text, int line, int column, const std::string& message) {
    const CsvError e = parseError(text);
    EXPECT_EQ(e.line, line) << text;
    EXPECT_EQ(e.column, column) << text;
    EXPECT_EQ(e.message, message) << text;
}

TEST(DataCsv, Reads2dWithoutHeader) {
    const Dataset d = parseOk("1,2,0\n3.5,-4e2,1\n0.125, 6 ,0\n");
    ASSERT_EQ(d.points.rows(), 3);
    ASSERT_EQ(d.points.cols(), 2);
    EXPECT_EQ(d.points(1, 0), 3.5);
    EXPECT_EQ(d.points(1, 1), -400.0);
    EXPECT_EQ(d.points(2, 0), 0.125);
    EXPECT_EQ(d.points(2, 1), 6.0);
    EXPECT_EQ(d.labels, (Labels{0, 1, 0}));
    EXPECT_EQ(d.numClasses, 2);
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"0", "1"}));
}

TEST(DataCsv, RemapsLabelsInAscendingOrderAndKeepsTheirNames) {
    const Dataset d = parseOk("0,0,7\n1,1,-3\n2,2,+12\n3,3,007\n4,4,-3\n");
    EXPECT_EQ(d.labels, (Labels{1, 0, 2, 1, 0}));
    EXPECT_EQ(d.numClasses, 3);
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"-3", "7", "12"}));
}

TEST(DataCsv, Reads3dWithHeaderAndWhitespace) {
    const Dataset d = parseOk("x, y, z, class\n 1 ,2,3, 5\n\t4,5,6,5 \n");
    ASSERT_EQ(d.points.rows(), 2);
    ASSERT_EQ(d.points.cols(), 3);
    EXPECT_EQ(d.points(1, 2), 6.0);
    EXPECT_EQ(d.numClasses, 1);
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"5"}));
}

TEST(DataCsv, AcceptsCrlfBlankLinesBomAndNoFinalNewline) {
    const Dataset d = parseOk("\xEF\xBB\xBFx,y,label\r\n\r\n1,2,0\r\n   \r\n3,4,1");
    ASSERT_EQ(d.points.rows(), 2);
    EXPECT_EQ(d.points(1, 1), 4.0);
    EXPECT_EQ(d.labels, (Labels{0, 1}));
}

TEST(DataCsv, ReadsFixtureFiles) {
    const std::string dir = MARGINLAB_TEST_DATA_DIR;
    auto r2 = readCsvFile(dir + "/points2d_header.csv");
    ASSERT_TRUE(std::holds_alternative<Dataset>(r2)) << std::get<CsvError>(r2).message;
    const Dataset& d2 = std::get<Dataset>(r2);
    EXPECT_EQ(d2.points.rows(), 3);
    EXPECT_EQ(d2.points.cols(), 2);
    EXPECT_EQ(d2.points(1, 1), 0.4);
    EXPECT_EQ(d2.labels, (Labels{1, 0, 1}));
    EXPECT_EQ(d2.classNames, (std::vector<std::string>{"1", "3"}));

    auto r3 = readCsvFile(dir + "/points3d_crlf.csv");
    ASSERT_TRUE(std::holds_alternative<Dataset>(r3)) << std::get<CsvError>(r3).message;
    const Dataset& d3 = std::get<Dataset>(r3);
    EXPECT_EQ(d3.points.rows(), 3);
    EXPECT_EQ(d3.points.cols(), 3);
    EXPECT_EQ(d3.points(2, 0), 7.25);
    EXPECT_EQ(d3.labels, (Labels{1, 0, 1}));
}

TEST(DataCsv, MissingFileAndDirectory) {
    auto r = readCsvFile("/nonexistent/points.csv");
    ASSERT_TRUE(std::holds_alternative<CsvError>(r));
    EXPECT_EQ(std::get<CsvError>(r).line, 0);
    EXPECT_EQ(std::get<CsvError>(r).message, "cannot open: file not found");
    auto dir = readCsvFile(MARGINLAB_TEST_DATA_DIR);
    ASSERT_TRUE(std::holds_alternative<CsvError>(dir));
    EXPECT_EQ(std::get<CsvError>(dir).line, 0);
    EXPECT_NE(std::get<CsvError>(dir).message.find("expected a regular file"), std::string::npos);
}

TEST(DataCsv, InconsistentColumns) {
    expectError("1,2,0\n3,4,5,1\n", 2, 4, "line 2, column 4: expected 3 fields like line 1, found 4");
    expectError("x,y,z,l\n1,2,3,0\n\n3,4,1\n", 4, 4, "line 4, column 4: expected 4 fields like line 2, found 3");
    expectError("1,2\n3,4\n", 1, 0,
                "line 1: expected 3 fields (x,y,label) or 4 fields (x,y,z,label), found 2");
    expectError("1,2,3,4,5\n", 1, 0,
                "line 1: expected 3 fields (x,y,label) or 4 fields (x,y,z,label), found 5");
}

TEST(DataCsv, RejectsNonFiniteAndNonNumericCoordinates) {
    expectError("1,2,0\nnan,4,1\n", 2, 1, "line 2, column 1: expected a finite number, found 'nan'");
    expectError("1,2,0\n3,-inf,1\n", 2, 2, "line 2, column 2: expected a finite number, found '-inf'");
    expectError("1,2,0\n3,Infinity,1\n", 2, 2, "line 2, column 2: expected a finite number, found 'Infinity'");
    expectError("1,2,0\n3,1e999,1\n", 2, 2, "line 2, column 2: expected a number in double range, found '1e999'");
    expectError("1,2,0\n1.5x,4,1\n", 2, 1, "line 2, column 1: expected a number, found '1.5x'");
    expectError("1,2,0\n1,2,0\n1,2,0\n1,2,0\n1,2,0\n1,2,0\n1,abc,0\n", 7, 2,
                "line 7, column 2: expected a number, found 'abc'");
    expectError("1,,0\n3,4,1\n", 1, 2, "line 1, column 2: expected a number, found an empty field");
    expectError("1,2,3,0\n4,5,0x1,1\n", 2, 3, "line 2, column 3: expected a number, found '0x1'");
    expectError("1,2,0\n\"3\",4,1\n", 2, 1, "line 2, column 1: expected a number, found '\"3\"'");
    // A line-1 field that is numeric makes it a data row, not a header.
    expectError("1,y,label\n1,2,0\n", 1, 2, "line 1, column 2: expected a number, found 'y'");
    // Only line 1 may be a header.
    expectError("\nx,y,label\n1,2,0\n", 2, 1, "line 2, column 1: expected a number, found 'x'");
}

TEST(DataCsv, RejectsNonIntegerLabels) {
    expectError("1,2,0\n3,4,1.5\n", 2, 3, "line 2, column 3: expected an integer label, found '1.5'");
    expectError("1,2,0\n3,4,a\n", 2, 3, "line 2, column 3: expected an integer label, found 'a'");
    expectError("1,2,3,0\n3,4,5,\n", 2, 4, "line 2, column 4: expected an integer label, found an empty field");
    expectError("1,2,0\n3,4,99999999999999999999\n", 2, 3,
                "line 2, column 3: expected an integer label in range, found '99999999999999999999'");
}

TEST(DataCsv, TooFewRows) {
    expectError("", 0, 0, "expected at least 2 data rows (x,y[,z],label), found 0");
    expectError("\n\n  \n", 3, 0, "line 3: expected at least 2 data rows (x,y[,z],label), found 0");
    expectError("x,y,label\n", 1, 0, "line 1: expected at least 2 data rows (x,y[,z],label), found 0");
    expectError("x,y,label\n1,2,0\n", 2, 0, "line 2: expected at least 2 data rows (x,y[,z],label), found 1");
}

TEST(DataCsv, LongFieldsAreCutInMessages) {
    const std::string junk(200, 'q');
    const CsvError e = parseError("1,2,0\n" + junk + ",4,1\n");
    EXPECT_EQ(e.message, "line 2, column 1: expected a number, found '" + std::string(40, 'q') + "...'");
}

TEST(DataCsv, GarbageNeverCrashes) {
    // Binary-ish noise, stray separators: always an error or a consistent data set.
    const std::string inputs[] = {std::string("\0\0\0", 3), ",,,", ",,\n,,", "\xff\xfe,1,2\n", "1,2,3\r\r\n4,5,6",
                                  "1,2,3,4,5,6,7,8\n", std::string(10000, ',')};
    for (const std::string& text : inputs) {
        auto r = parse(text);
        if (auto* d = std::get_if<Dataset>(&r)) {
            EXPECT_EQ(static_cast<std::size_t>(d->points.rows()), d->labels.size());
        }
    }
}

TEST(DataCsv, RandomInputsGiveAnErrorOrAConsistentDataSet) {
    // Seeded random text over the characters that matter to the parser.
    const std::string alphabet = "0123456789012345.,,,,--+eE\n\n\r \tnaifx\"";
    std::mt19937_64 rng(2024);
    int accepted = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        std::string text(rng() % 60, ' ');
        for (char& c : text) c = alphabet[rng() % alphabet.size()];
        auto result = parse(text);
        if (const auto* d = std::get_if<Dataset>(&result)) {
            ++accepted;
            ASSERT_GE(d->points.rows(), 2);
            ASSERT_TRUE(d->points.cols() == 2 || d->points.cols() == 3);
            ASSERT_EQ(static_cast<std::size_t>(d->points.rows()), d->labels.size());
            ASSERT_TRUE(d->points.allFinite());
            ASSERT_EQ(d->classNames.size(), static_cast<std::size_t>(d->numClasses));
            for (int label : d->labels) ASSERT_TRUE(label >= 0 && label < d->numClasses);
        } else {
            const CsvError& e = std::get<CsvError>(result);
            ASSERT_GE(e.line, 0);
            ASSERT_FALSE(e.message.empty());
            ASSERT_NE(e.message.find("expected"), std::string::npos) << e.message;
        }
    }
    // Valid rows appended to random prefixes: some inputs must get through.
    for (int trial = 0; trial < 200; ++trial) {
        const std::string text = std::to_string(rng() % 100) + "," + std::to_string(rng() % 7) + ".5," +
                                 std::to_string(rng() % 3) + "\n1,2,0\n";
        if (std::holds_alternative<Dataset>(parse(text))) ++accepted;
    }
    EXPECT_GE(accepted, 200);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/csv.h"

#include "marginlab/limits.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace marginlab {

namespace {

constexpr std::size_t kMaxShownField = 40;  // longer fields are cut in messages

std::string_view trim(std::string_view s) {
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> splitFields(std::string_view line) {
    std::vector<std::string_view> fields;
    for (;;) {
        const auto comma = line.find(',');
        fields.push_back(trim(line.substr(0, comma)));
        if (comma == std::string_view::npos) return fields;
        line.remove_prefix(comma + 1);
    }
}

/// from_chars does not take a leading '+'; a user's file may.
std::string_view withoutPlus(std::string_view s) {
    if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
    return s;
}

std::string shown(std::string_view field) {
    if (field.empty()) return "an empty field";
    std::string text(field.substr(0, kMaxShownField));
    if (field.size() > kMaxShownField) text += "...";
    return "'" + text + "'";
}

enum class NumberProblem { None, NotANumber, NotFinite, OutOfRange };

NumberProblem parseNumber(std::string_view field, double* value) {
    const std::string_view s = withoutPlus(field);
    if (s.empty()) return NumberProblem::NotANumber;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value, std::chars_format::general);
    if (ec == std::errc::result_out_of_range && end == s.data() + s.size()) return NumberProblem::OutOfRange;
    if (ec != std::errc() || end != s.data() + s.size()) return NumberProblem::NotANumber;
    if (!std::isfinite(*value)) return NumberProblem::NotFinite;  // from_chars accepts "nan" and "inf"
    return NumberProblem::None;
}

bool isNumber(std::string_view field) {
    double unused = 0;
    return parseNumber(field, &unused) == NumberProblem::None;
}

CsvError makeError(int line, int column, const std::string& what) {
    std::string prefix;
    if (line > 0) prefix = "line " + std::to_string(line) + (column > 0 ? ", column " + std::to_string(column) : "") + ": ";
    return {line, column, prefix + what};
}

}  // namespace

std::variant<Dataset, CsvError> parseCsv(std::istream& in) {
    std::vector<double> coordinates;
    std::vector<long long> rawLabels;
    std::size_t fieldsPerRow = 0;
    int firstDataLine = 0;
    int lineNumber = 0;
    std::string line;
    while (std::getline(in, line)) {
        ++lineNumber;
        std::string_view text(line);
        if (lineNumber == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
        if (trim(text).empty()) continue;
        const auto fields = splitFields(text);
        if (lineNumber == 1 && fields.size() >= 2 && !isNumber(fields[0]) && !isNumber(fields[1])) continue;

        if (fieldsPerRow == 0) {
            if (fields.size() != 3 && fields.size() != 4)
                return makeError(lineNumber, 0,
                                 "expected 3 fields (x,y,label) or 4 fields (x,y,z,label), found " +
                                     std::to_string(fields.size()));
            fieldsPerRow = fields.size();
            firstDataLine = lineNumber;
        } else if (fields.size() != fieldsPerRow) {
            // Point at the first extra field, or at the first missing one.
            const int column = static_cast<int>(std::min(fields.size(), fieldsPerRow)) + 1;
            return makeError(lineNumber, column,
                             "expected " + std::to_string(fieldsPerRow) + " fields like line " +
                                 std::to_string(firstDataLine) + ", found " + std::to_string(fields.size()));
        }
        for (std::size_t k = 0; k + 1 < fields.size(); ++k) {
            double value = 0;
            const int column = static_cast<int>(k) + 1;
            switch (parseNumber(fields[k], &value)) {
            case NumberProblem::None: break;
            case NumberProblem::NotANumber:
                return makeError(lineNumber, column, "expected a number, found " + shown(fields[k]));
            case NumberProblem::NotFinite:
                return makeError(lineNumber, column, "expected a finite number, found " + shown(fields[k]));
            case NumberProblem::OutOfRange:
                return makeError(lineNumber, column,
                                 "expected a number in double range, found " + shown(fields[k]));
            }
            // Beyond this a squared distance overflows: the trainer could not use the point.
            if (std::abs(value) > limits::kMaxMagnitude)
                return makeError(lineNumber, column,
                                 "expected a number of magnitude at most 1e150, found " + shown(fields[k]));
            coordinates.push_back(value);
        }
        const std::string_view labelField = withoutPlus(fields.back());
        long long label = 0;
        const auto [end, ec] = std::from_chars(labelField.data(), labelField.data() + labelField.size(), label);
        const int labelColumn = static_cast<int>(fields.size());
        if (ec == std::errc::result_out_of_range)
            return makeError(lineNumber, labelColumn, "expected an integer label in range, found " + shown(fields.back()));
        if (labelField.empty() || ec != std::errc() || end != labelField.data() + labelField.size())
            return makeError(lineNumber, labelColumn, "expected an integer label, found " + shown(fields.back()));
        rawLabels.push_back(label);
        if (static_cast<std::int64_t>(rawLabels.size()) > limits::kMaxPoints)
            return makeError(lineNumber, 0,
                             "more than the limit of " + std::to_string(limits::kMaxPoints) + " points");
    }
    if (in.bad()) return makeError(lineNumber, 0, "read error after this line");
    if (rawLabels.size() < 2)
        return makeError(lineNumber, 0,
                         "expected at least 2 data rows (x,y[,z],label), found " + std::to_string(rawLabels.size()));

    // Ascending order of the original values: std::map is ordered.
    std::map<long long, int> classOf;
    for (long long raw : rawLabels) classOf.emplace(raw, 0);
    Dataset data;
    for (auto& [raw, index] : classOf) {
        index = data.numClasses++;
        data.classNames.push_back(std::to_string(raw));
    }
    const auto dimension = static_cast<Eigen::Index>(fieldsPerRow - 1);
    const auto rows = static_cast<Eigen::Index>(rawLabels.size());
    data.points.resize(rows, dimension);
    data.labels.resize(rawLabels.size());
    for (Eigen::Index i = 0; i < rows; ++i) {
        for (Eigen::Index k = 0; k < dimension; ++k)
            data.points(i, k) = coordinates[static_cast<std::size_t>(i * dimension + k)];
        data.labels[static_cast<std::size_t>(i)] = classOf.at(rawLabels[static_cast<std::size_t>(i)]);
    }
    return data;
}

std::variant<Dataset, CsvError> readCsvFile(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    // Callers name the file; the message says what is wrong with it.
    if (ec || !std::filesystem::exists(status)) return CsvError{0, 0, "cannot open: file not found"};
    if (!std::filesystem::is_regular_file(status))
        return CsvError{0, 0, "cannot open: expected a regular file, not a FIFO, folder or device"};
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > limits::kMaxFileBytes)
        return CsvError{0, 0, "the file has " + std::to_string(size) + " bytes, more than the limit of " +
                                  std::to_string(limits::kMaxFileBytes)};
    std::ifstream in(path, std::ios::binary);
    if (!in) return CsvError{0, 0, "cannot open for reading"};
    return parseCsv(in);
}

}  // namespace marginlab

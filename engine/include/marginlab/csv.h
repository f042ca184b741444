// SPDX-License-Identifier: MIT
/**
 * Import of labelled points from CSV: `x,y,label` (2D) or `x,y,z,label` (3D), one point per line.
 *
 * - Comma separated; spaces and tabs around fields are ignored; blank lines are skipped; CRLF and a
 *   UTF-8 byte-order mark are accepted.
 * - Optional header: line 1 is a header when neither of its first two fields is a number.
 * - Every data row has the same number of fields, 3 or 4. Coordinates are finite decimal numbers
 *   (no "nan", "inf", out-of-range or trailing characters); labels are integers.
 * - At least 2 data rows. Labels are remapped to 0..C−1 in ascending order of their value;
 *   classNames[c] keeps the original value (in canonical form, e.g. "007" → "7").
 * - Errors carry a 1-based line and column (column = field number; 0 when the whole line or file
 *   is concerned; line 0 when the file cannot be read) and a message that says what was expected,
 *   e.g. "line 7, column 2: expected a number, found 'abc'". No partial data set is ever returned.
 */
#pragma once

#include "marginlab/dataset.h"

#include <istream>
#include <string>
#include <variant>

namespace marginlab {

struct CsvError {
    int line = 0;
    int column = 0;
    std::string message;  ///< complete, with the location prefix
};

std::variant<Dataset, CsvError> parseCsv(std::istream& in);
std::variant<Dataset, CsvError> readCsvFile(const std::string& path);

}  // namespace marginlab

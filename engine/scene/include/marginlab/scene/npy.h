// SPDX-License-Identifier: MIT
/**
 * NumPy's .npy format (format versions 1.0–3.0), enough for trajectories and initial points:
 * C-order arrays of little-endian float64 / float32 (read as double) or integers of 1–8 bytes
 * (read as int64). What `np.save(path, array)` writes, and what `np.load(path)` reads back.
 *
 * A file is refused as a whole, with a message saying what was expected, when its header is
 * malformed, its dtype is not one of those, it is Fortran-ordered, its data is shorter or longer
 * than the shape says, or it holds more than `maxValues` numbers.
 */
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace marginlab::npy {

struct Array {
    std::vector<std::int64_t> shape;
    bool isInteger = false;
    std::vector<double> reals;           ///< C-order values when !isInteger
    std::vector<std::int64_t> integers;  ///< C-order values when isInteger
    std::int64_t size() const;           ///< product of the shape
};

std::optional<Array> read(const std::filesystem::path& path, std::int64_t maxValues, std::string* error);

/// The bytes of a version-1.0 .npy file: '<f8' for reals, '<i8' for integers, C order.
std::string encode(const std::vector<std::int64_t>& shape, const std::vector<double>& values);
std::string encode(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& values);

}  // namespace marginlab::npy

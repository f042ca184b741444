// SPDX-License-Identifier: MIT
/**
 * Basic numeric types of the engine.
 *
 * Embeddings are stored row-major, one point per row: `Points` is N×D with D ∈ {2, 3} for the
 * views (any D works for the math). Labels are integer class ids, one per row.
 * Everything is double: the engine is checked against references to 1e-9.
 */
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace marginlab {

using Real = double;
using Points = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Matrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<Real, Eigen::Dynamic, 1>;
using Labels = std::vector<int>;
using Count = std::int64_t;

}  // namespace marginlab

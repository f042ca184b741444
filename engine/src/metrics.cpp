// SPDX-License-Identifier: MIT
#include "marginlab/metrics.h"

#include "parallel.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace marginlab {

namespace {

Points embedded(const Points& x, const DistanceSpec& spec) { return spec.normalizes() ? normalizeRows(x) : x; }

/// The rows that query: every row of n for an empty list, else the list. False when an entry is
/// outside [0, n) (callers then return their "nothing to measure" value).
struct QueryRows {
    Eigen::Index n = 0;
    std::span<const Eigen::Index> list;
    Eigen::Index count() const { return list.empty() ? n : static_cast<Eigen::Index>(list.size()); }
    Eigen::Index operator[](Eigen::Index slot) const { return list.empty() ? slot : list[static_cast<std::size_t>(slot)]; }
    bool valid() const {
        return std::all_of(list.begin(), list.end(), [&](Eigen::Index q) { return q >= 0 && q < n; });
    }
};

/// Row i of the matrix M, entries computed as SelfDistance does (Lp from differences, so equal
/// points are at exactly 0 and ties stay ties). Plain loops over the row-major storage: this is
/// the O(N²·D) inner loop of every function here.
void distanceRow(const Points& e, Eigen::Index i, const DistanceSpec& spec, std::vector<Real>& row) {
    const Eigen::Index n = e.rows(), d = e.cols();
    row.resize(static_cast<std::size_t>(n));
    const Real* query = e.data() + i * d;
    const bool similarity = spec.isSimilarity(), squared = spec.power == 2;
    for (Eigen::Index j = 0; j < n; ++j) {
        const Real* other = e.data() + j * d;
        Real m = 0;
        if (similarity) {
            for (Eigen::Index k = 0; k < d; ++k) m += query[k] * other[k];
        } else {
            for (Eigen::Index k = 0; k < d; ++k) {
                const Real diff = query[k] - other[k];
                m += diff * diff;
            }
            if (!squared) m = std::sqrt(m);
        }
        row[static_cast<std::size_t>(j)] = m;
    }
}


/// One query's contribution, summed in query order afterwards: any thread count gives the same bits.
struct QueryScore {
    double precisionAt1 = 0, rPrecision = 0, map = 0;
    bool counted = false;
};

using Candidates = std::vector<std::pair<Real, Eigen::Index>>;

/// Scores a query from candidates that contain its R nearest: select them, order just those.
QueryScore scoreQuery(Candidates& candidates, int r, int label, const Labels& y) {
    QueryScore score;
    const auto rEnd = candidates.begin() + r;
    std::nth_element(candidates.begin(), rEnd - 1, candidates.end());
    std::sort(candidates.begin(), rEnd);
    int relevant = 0;
    double precisionSum = 0;
    for (int k = 0; k < r; ++k) {
        if (y[static_cast<std::size_t>(candidates[static_cast<std::size_t>(k)].second)] != label) continue;
        ++relevant;
        precisionSum += static_cast<double>(relevant) / (k + 1);
    }
    score.precisionAt1 = y[static_cast<std::size_t>(candidates[0].second)] == label ? 1.0 : 0.0;
    score.rPrecision = static_cast<double>(relevant) / r;
    score.map = precisionSum / r;
    score.counted = true;
    return score;
}

/**
 * A uniform grid over 2D/3D points for exact k-nearest-neighbour queries under the Euclidean
 * distance (or its square). Cells are cubes of side h holding about two points each. A search
 * visits the cells around the query in growing Chebyshev rings; after ring t every unvisited
 * point is at least t·h away, so once K visited points are closer than that, the K nearest are
 * all among the visited ones. Their keys are then computed exactly as the brute force does, so
 * the order (ties by index included) and every metric are the same bit for bit.
 */
class PointGrid {
public:
    static std::optional<PointGrid> build(const Points& e) {
        const Eigen::Index n = e.rows(), d = e.cols();
        if ((d != 2 && d != 3) || n < 2 || !e.allFinite()) return std::nullopt;
        PointGrid grid;
        grid.m_points = &e;
        grid.m_dimension = static_cast<int>(d);
        Real extent = 0;
        for (int k = 0; k < grid.m_dimension; ++k) {
            grid.m_low[k] = e.col(k).minCoeff();
            extent = std::max(extent, e.col(k).maxCoeff() - grid.m_low[k]);
        }
        if (!(extent > 0) || !std::isfinite(extent)) return std::nullopt;
        const double perAxis = std::ceil(std::pow(static_cast<double>(n) / 2.0, 1.0 / static_cast<double>(d)));
        grid.m_side = extent / perAxis;
        if (!(grid.m_side > 0)) return std::nullopt;
        std::size_t cells = 1;
        for (int k = 0; k < grid.m_dimension; ++k) {
            const Real span = e.col(k).maxCoeff() - grid.m_low[k];
            grid.m_cells[k] = static_cast<int>(std::min(perAxis, std::floor(span / grid.m_side))) + 1;
            cells *= static_cast<std::size_t>(grid.m_cells[k]);
        }
        // Counting sort of the points by cell.
        grid.m_cellOf.resize(static_cast<std::size_t>(n));
        grid.m_start.assign(cells + 1, 0);
        for (Eigen::Index i = 0; i < n; ++i) {
            std::array<int, 3> c{};
            grid.cellCoordinates(i, c);
            const std::size_t cell = grid.flatten(c);
            grid.m_cellOf[static_cast<std::size_t>(i)] = cell;
            ++grid.m_start[cell + 1];
        }
        for (std::size_t c = 0; c < cells; ++c) grid.m_start[c + 1] += grid.m_start[c];
        grid.m_order.resize(static_cast<std::size_t>(n));
        std::vector<std::size_t> fill(grid.m_start.begin(), grid.m_start.end() - 1);
        for (Eigen::Index i = 0; i < n; ++i) grid.m_order[fill[grid.m_cellOf[static_cast<std::size_t>(i)]]++] = i;
        return grid;
    }

    /// Fills `out` with (key, j) for a set of points j ≠ q that holds the k nearest of q.
    void candidates(Eigen::Index q, int k, bool squared, Candidates& out, std::vector<Real>& euclidean,
                    std::vector<Real>& scratch) const {
        out.clear();
        euclidean.clear();
        std::array<int, 3> c{};
        cellCoordinates(q, c);
        int maxRing = 0;
        for (int a = 0; a < m_dimension; ++a) maxRing = std::max({maxRing, c[a], m_cells[a] - 1 - c[a]});
        // First guess from the average density, then grow by half until the proof holds.
        const double cellsNeeded = 2.0 * (k + 1) * static_cast<double>(m_start.size() - 1) /
                                   static_cast<double>(m_points->rows());
        int ring = std::max(1, static_cast<int>(std::ceil(std::pow(cellsNeeded, 1.0 / m_dimension) / 2.0)));
        int visited = -1;
        // Grow until at least k points are visited.
        for (;;) {
            ring = std::min(ring, maxRing);
            addBlock(q, c, visited, ring, squared, out, euclidean);
            visited = ring;
            if (ring >= maxRing) return;  // everything visited
            if (out.size() >= static_cast<std::size_t>(k)) break;
            ring += std::max(1, ring / 2);
        }
        // The k-th smallest visited distance bounds the k-th nearest overall: every point within it
        // lies within ring floor(bound / h) + 1 (+ 1 for rounding in the cell assignment), beyond
        // which points are farther than the bound.
        scratch = euclidean;
        std::nth_element(scratch.begin(), scratch.begin() + (k - 1), scratch.end());
        const Real bound = scratch[static_cast<std::size_t>(k - 1)];
        const double needed = std::floor(bound / m_side) + 2.0;
        if (needed > ring) addBlock(q, c, visited, static_cast<int>(std::min<double>(needed, maxRing)), squared, out, euclidean);
    }

private:
    void cellCoordinates(Eigen::Index i, std::array<int, 3>& c) const {
        for (int a = 0; a < m_dimension; ++a) {
            const Real t = std::floor(((*m_points)(i, a) - m_low[a]) / m_side);
            c[a] = static_cast<int>(std::clamp<Real>(t, 0, m_cells[a] - 1));
        }
    }
    std::size_t flatten(const std::array<int, 3>& c) const {
        std::size_t index = 0;
        for (int a = m_dimension - 1; a >= 0; --a) index = index * static_cast<std::size_t>(m_cells[a]) + static_cast<std::size_t>(c[a]);
        return index;
    }
    /// Adds the cells at Chebyshev distance (skip, ring] from cell c.
    void addBlock(Eigen::Index q, const std::array<int, 3>& c, int skip, int ring, bool squared, Candidates& out,
                  std::vector<Real>& euclidean) const {
        const Eigen::Index d = m_points->cols();
        const Real* query = m_points->data() + q * d;
        std::array<int, 3> low{}, high{}, cell{};
        for (int a = 0; a < 3; ++a) {
            low[a] = a < m_dimension ? std::max(0, c[a] - ring) : 0;
            high[a] = a < m_dimension ? std::min(m_cells[a] - 1, c[a] + ring) : 0;
        }
        for (cell[2] = low[2]; cell[2] <= high[2]; ++cell[2])
            for (cell[1] = low[1]; cell[1] <= high[1]; ++cell[1])
                for (cell[0] = low[0]; cell[0] <= high[0]; ++cell[0]) {
                    int chebyshev = 0;
                    for (int a = 0; a < m_dimension; ++a) chebyshev = std::max(chebyshev, std::abs(cell[a] - c[a]));
                    if (chebyshev <= skip) continue;
                    const std::size_t flat = flatten(cell);
                    for (std::size_t s = m_start[flat]; s < m_start[flat + 1]; ++s) {
                        const Eigen::Index j = m_order[s];
                        if (j == q) continue;
                        // The same arithmetic as distanceRow, so keys equal the brute force's.
                        const Real* other = m_points->data() + j * d;
                        Real m = 0;
                        for (Eigen::Index a = 0; a < d; ++a) {
                            const Real diff = query[a] - other[a];
                            m += diff * diff;
                        }
                        const Real distance = std::sqrt(m);
                        out.emplace_back(squared ? m : distance, j);
                        euclidean.push_back(distance);
                    }
                }
    }

    const Points* m_points = nullptr;
    int m_dimension = 2;
    std::array<Real, 3> m_low{};
    std::array<int, 3> m_cells{1, 1, 1};
    Real m_side = 1;
    std::vector<std::size_t> m_cellOf;
    std::vector<std::size_t> m_start;
    std::vector<Eigen::Index> m_order;
};

}  // namespace

RetrievalMetrics retrievalMetrics(const Points& x, const Labels& y, const DistanceSpec& spec,
                                  std::span<const Eigen::Index> queryList) {
    RetrievalMetrics result;
    const Eigen::Index n = x.rows();
    const QueryRows queries{n, queryList};
    if (static_cast<std::size_t>(n) != y.size() || n < 2 || !queries.valid()) return result;

    std::unordered_map<int, int> classSize;
    for (int label : y) ++classSize[label];

    const Points e = embedded(x, spec);
    const Real sign = spec.orderSign();
    // Euclidean (Lp) neighbours in 2D/3D come from a grid; similarities and other dimensions
    // scan every point. Both give the same numbers.
    const std::optional<PointGrid> grid = spec.isSimilarity() ? std::nullopt : PointGrid::build(e);
    std::vector<QueryScore> scores(static_cast<std::size_t>(queries.count()));
    detail::forEachRowChunk(queries.count(), [&](std::ptrdiff_t begin, std::ptrdiff_t end, int) {
        std::vector<Real> row, scratch;
        // (δ, index) pairs: comparing pairs orders by closeness, then by lower index, without an
        // indirection per comparison.
        Candidates candidates;
        for (Eigen::Index slot = begin; slot < end; ++slot) {
            const Eigen::Index q = queries[slot];
            const int label = y[static_cast<std::size_t>(q)];
            const int r = classSize.at(label) - 1;
            if (r == 0) continue;  // lone query
            if (grid) {
                grid->candidates(q, r, spec.power == 2, candidates, row, scratch);
            } else {
                distanceRow(e, q, spec, row);
                candidates.clear();
                candidates.reserve(static_cast<std::size_t>(n));
                for (Eigen::Index j = 0; j < n; ++j) {
                    if (j == q) continue;
                    const Real d = sign * row[static_cast<std::size_t>(j)];
                    // NaN (a diverged embedding) ranks last, keeping the comparison a strict weak order.
                    candidates.emplace_back(std::isnan(d) ? std::numeric_limits<Real>::infinity() : d, j);
                }
            }
            scores[static_cast<std::size_t>(slot)] = scoreQuery(candidates, r, label, y);
        }
    });
    double sumP1 = 0, sumRPrecision = 0, sumMap = 0;  // summed per query, divided once at the end
    for (const QueryScore& score : scores) {
        if (!score.counted) continue;
        sumP1 += score.precisionAt1;
        sumRPrecision += score.rPrecision;
        sumMap += score.map;
        ++result.queries;
    }
    if (result.queries > 0) {
        result.precisionAt1 = sumP1 / result.queries;
        result.rPrecision = sumRPrecision / result.queries;
        result.mapAtR = sumMap / result.queries;
    }
    return result;
}

ClassDistances classDistances(const Points& x, const Labels& y, const DistanceSpec& spec,
                              std::span<const Eigen::Index> queryList) {
    ClassDistances result;
    const Eigen::Index n = x.rows();
    const QueryRows queries{n, queryList};
    if (static_cast<std::size_t>(n) != y.size() || !queries.valid()) return result;
    const Points e = embedded(x, spec);
    // Per-row partial sums (they limit rounding growth), computed on the engine's threads and
    // added in row order: the same bits for any thread count.
    const auto rows = static_cast<std::size_t>(queries.count());
    std::vector<double> rowIntra(rows), rowInter(rows);
    std::vector<Count> rowIntraCount(rows);
    detail::forEachRowChunk(queries.count(), [&](std::ptrdiff_t begin, std::ptrdiff_t end, int) {
        std::vector<Real> row;
        for (Eigen::Index slot = begin; slot < end; ++slot) {
            const Eigen::Index i = queries[slot];
            distanceRow(e, i, spec, row);
            double sameSum = 0, otherSum = 0;
            Count same = 0;
            for (Eigen::Index j = 0; j < n; ++j) {
                if (j == i) continue;
                if (y[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(j)]) {
                    sameSum += row[static_cast<std::size_t>(j)];
                    ++same;
                } else {
                    otherSum += row[static_cast<std::size_t>(j)];
                }
            }
            rowIntra[static_cast<std::size_t>(slot)] = sameSum;
            rowInter[static_cast<std::size_t>(slot)] = otherSum;
            rowIntraCount[static_cast<std::size_t>(slot)] = same;
        }
    });
    double intra = 0, inter = 0;
    Count intraCount = 0, interCount = 0;
    for (std::size_t i = 0; i < rowIntra.size(); ++i) {
        intra += rowIntra[i];
        inter += rowInter[i];
        intraCount += rowIntraCount[i];
        interCount += static_cast<Count>(n - 1) - rowIntraCount[i];
    }
    if (intraCount > 0) result.meanIntra = intra / static_cast<double>(intraCount);
    if (interCount > 0) result.meanInter = inter / static_cast<double>(interCount);
    return result;
}

Real meanPairwiseDistance(const Points& x, const DistanceSpec& spec, std::span<const Eigen::Index> queryList) {
    const Eigen::Index n = x.rows();
    const QueryRows queries{n, queryList};
    if (n < 2 || !queries.valid()) return 0.0;
    const Points e = embedded(x, spec);
    std::vector<double> rowSums(static_cast<std::size_t>(queries.count()));
    detail::forEachRowChunk(queries.count(), [&](std::ptrdiff_t begin, std::ptrdiff_t end, int) {
        std::vector<Real> row;
        for (Eigen::Index slot = begin; slot < end; ++slot) {
            const Eigen::Index i = queries[slot];
            distanceRow(e, i, spec, row);
            double rowSum = 0;
            for (Eigen::Index j = 0; j < n; ++j)
                if (j != i) rowSum += row[static_cast<std::size_t>(j)];
            rowSums[static_cast<std::size_t>(slot)] = rowSum;
        }
    });
    double total = 0;
    for (const double rowSum : rowSums) total += rowSum;  // in row order, as before
    return total / (static_cast<double>(queries.count()) * static_cast<double>(n - 1));
}

std::vector<Eigen::Index> metricQueries(Eigen::Index n) {
    std::vector<Eigen::Index> rows;
    if (n <= kExactMetricsPoints) return rows;
    rows.reserve(static_cast<std::size_t>(kSampledQueries));
    for (Eigen::Index k = 0; k < kSampledQueries; ++k)
        rows.push_back(static_cast<Eigen::Index>((2 * static_cast<double>(k) + 1) * static_cast<double>(n) /
                                                 (2 * static_cast<double>(kSampledQueries))));
    return rows;
}

namespace {

/// Mean of f(‖x̂_i − x̂_j‖²) over ordered pairs (i in the sampled rows, j ≠ i) that `take` accepts:
/// the sampled form of uniformity and alignment, on the engine's threads, rows added in order.
template <typename Take, typename Term>
Real sampledPairMean(const Points& e, std::span<const Eigen::Index> rows, Take take, Term term) {
    const Eigen::Index n = e.rows(), d = e.cols();
    std::vector<double> sums(rows.size());
    std::vector<long long> counts(rows.size());
    detail::forEachRowChunk(static_cast<Eigen::Index>(rows.size()), [&](std::ptrdiff_t begin, std::ptrdiff_t end, int) {
        for (std::ptrdiff_t slot = begin; slot < end; ++slot) {
            const Eigen::Index i = rows[static_cast<std::size_t>(slot)];
            const Real* a = e.data() + i * d;
            double sum = 0.0;
            long long count = 0;
            for (Eigen::Index j = 0; j < n; ++j) {
                if (j == i || !take(i, j)) continue;
                const Real* b = e.data() + j * d;
                Real squared = 0.0;
                for (Eigen::Index k = 0; k < d; ++k) squared += (a[k] - b[k]) * (a[k] - b[k]);
                sum += term(squared);
                ++count;
            }
            sums[static_cast<std::size_t>(slot)] = sum;
            counts[static_cast<std::size_t>(slot)] = count;
        }
    });
    double sum = 0.0;
    long long count = 0;
    for (std::size_t s = 0; s < rows.size(); ++s) {
        sum += sums[s];
        count += counts[s];
    }
    return count ? sum / static_cast<double>(count) : 0.0;
}

}  // namespace

Real uniformity(const Points& x, Real t, std::span<const Eigen::Index> queryList) {
    const Eigen::Index n = x.rows();
    if (n < 2 || !QueryRows{n, queryList}.valid()) return 0.0;
    const Points e = normalizeRows(x);
    if (!queryList.empty())
        return std::log(sampledPairMean(
            e, queryList, [](Eigen::Index, Eigen::Index) { return true; }, [t](Real squared) { return std::exp(-t * squared); }));
    const Eigen::Index d = e.cols();
    // Every term is in [e^{−4t}, 1]: a plain sum cannot overflow, and for t ≤ 100 not underflow to 0.
    double sum = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const Real* a = e.data() + i * d;
        for (Eigen::Index j = i + 1; j < n; ++j) {
            const Real* b = e.data() + j * d;
            Real squared = 0.0;
            for (Eigen::Index k = 0; k < d; ++k) squared += (a[k] - b[k]) * (a[k] - b[k]);
            sum += std::exp(-t * squared);
        }
    }
    const double pairs = 0.5 * static_cast<double>(n) * static_cast<double>(n - 1);
    return std::log(sum / pairs);
}

Real alignment(const Points& x, const Labels& y, Real alpha, std::span<const Eigen::Index> queryList) {
    const Eigen::Index n = x.rows();
    if (static_cast<std::size_t>(n) != y.size() || n < 2 || !QueryRows{n, queryList}.valid()) return 0.0;
    const Points e = normalizeRows(x);
    if (!queryList.empty())
        return sampledPairMean(
            e, queryList,
            [&y](Eigen::Index i, Eigen::Index j) { return y[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(j)]; },
            [alpha](Real squared) { return alpha == 2.0 ? squared : std::pow(squared, alpha / 2.0); });
    const Eigen::Index d = e.cols();
    double sum = 0.0;
    long long pairs = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const Real* a = e.data() + i * d;
        for (Eigen::Index j = i + 1; j < n; ++j) {
            if (y[static_cast<std::size_t>(i)] != y[static_cast<std::size_t>(j)]) continue;
            const Real* b = e.data() + j * d;
            Real squared = 0.0;
            for (Eigen::Index k = 0; k < d; ++k) squared += (a[k] - b[k]) * (a[k] - b[k]);
            sum += alpha == 2.0 ? squared : std::pow(squared, alpha / 2.0);
            ++pairs;
        }
    }
    return pairs ? sum / static_cast<double>(pairs) : 0.0;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

namespace marginlab {

namespace {

Points embedded(const Points& x, const DistanceSpec& spec) { return spec.normalizes() ? normalizeRows(x) : x; }

/// Row i of the matrix M, entries computed as SelfDistance does (Lp from differences, so equal
/// points are at exactly 0 and ties stay ties).
void distanceRow(const Points& e, Eigen::Index i, const DistanceSpec& spec, std::vector<Real>& row) {
    const Eigen::Index n = e.rows();
    row.resize(static_cast<std::size_t>(n));
    for (Eigen::Index j = 0; j < n; ++j) {
        Real m = 0;
        if (spec.isSimilarity()) {
            m = e.row(i).dot(e.row(j));
        } else {
            m = (e.row(i) - e.row(j)).squaredNorm();
            if (spec.power != 2) m = std::sqrt(m);
        }
        row[static_cast<std::size_t>(j)] = m;
    }
}

}  // namespace

RetrievalMetrics retrievalMetrics(const Points& x, const Labels& y, const DistanceSpec& spec) {
    RetrievalMetrics result;
    const Eigen::Index n = x.rows();
    if (static_cast<std::size_t>(n) != y.size() || n < 2) return result;

    std::unordered_map<int, int> classSize;
    for (int label : y) ++classSize[label];

    const Points e = embedded(x, spec);
    const Real sign = spec.orderSign();
    std::vector<Real> row, delta(static_cast<std::size_t>(n));
    std::vector<Eigen::Index> candidates;
    candidates.reserve(static_cast<std::size_t>(n));
    double sumP1 = 0, sumRPrecision = 0, sumMap = 0;  // summed per query, divided once at the end

    for (Eigen::Index q = 0; q < n; ++q) {
        const int label = y[static_cast<std::size_t>(q)];
        const int r = classSize[label] - 1;
        if (r == 0) continue;  // lone query

        distanceRow(e, q, spec, row);
        for (Eigen::Index j = 0; j < n; ++j) {
            const Real d = sign * row[static_cast<std::size_t>(j)];
            // NaN (a diverged embedding) ranks last, keeping the comparison a strict weak order.
            delta[static_cast<std::size_t>(j)] = std::isnan(d) ? std::numeric_limits<Real>::infinity() : d;
        }
        candidates.clear();
        for (Eigen::Index j = 0; j < n; ++j)
            if (j != q) candidates.push_back(j);
        const auto closer = [&](Eigen::Index a, Eigen::Index b) {
            const Real da = delta[static_cast<std::size_t>(a)], db = delta[static_cast<std::size_t>(b)];
            return da < db || (da == db && a < b);
        };
        // Only the R nearest matter: select them, then order just those.
        const auto rEnd = candidates.begin() + r;
        std::nth_element(candidates.begin(), rEnd - 1, candidates.end(), closer);
        std::sort(candidates.begin(), rEnd, closer);

        int relevant = 0;
        double precisionSum = 0;
        for (int k = 0; k < r; ++k) {
            if (y[static_cast<std::size_t>(candidates[static_cast<std::size_t>(k)])] != label) continue;
            ++relevant;
            precisionSum += static_cast<double>(relevant) / (k + 1);
        }
        sumP1 += y[static_cast<std::size_t>(candidates[0])] == label ? 1.0 : 0.0;
        sumRPrecision += static_cast<double>(relevant) / r;
        sumMap += precisionSum / r;
        ++result.queries;
    }
    if (result.queries > 0) {
        result.precisionAt1 = sumP1 / result.queries;
        result.rPrecision = sumRPrecision / result.queries;
        result.mapAtR = sumMap / result.queries;
    }
    return result;
}

ClassDistances classDistances(const Points& x, const Labels& y, const DistanceSpec& spec) {
    ClassDistances result;
    const Eigen::Index n = x.rows();
    if (static_cast<std::size_t>(n) != y.size()) return result;
    const Points e = embedded(x, spec);
    std::vector<Real> row;
    double intra = 0, inter = 0;
    Count intraCount = 0, interCount = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        distanceRow(e, i, spec, row);
        double rowIntra = 0, rowInter = 0;  // per-row partial sums limit rounding growth
        for (Eigen::Index j = 0; j < n; ++j) {
            if (j == i) continue;
            if (y[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(j)]) {
                rowIntra += row[static_cast<std::size_t>(j)];
                ++intraCount;
            } else {
                rowInter += row[static_cast<std::size_t>(j)];
                ++interCount;
            }
        }
        intra += rowIntra;
        inter += rowInter;
    }
    if (intraCount > 0) result.meanIntra = intra / static_cast<double>(intraCount);
    if (interCount > 0) result.meanInter = inter / static_cast<double>(interCount);
    return result;
}

Real meanPairwiseDistance(const Points& x, const DistanceSpec& spec) {
    const Eigen::Index n = x.rows();
    if (n < 2) return 0.0;
    const Points e = embedded(x, spec);
    std::vector<Real> row;
    double total = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        distanceRow(e, i, spec, row);
        double rowSum = 0;
        for (Eigen::Index j = 0; j < n; ++j)
            if (j != i) rowSum += row[static_cast<std::size_t>(j)];
        total += rowSum;
    }
    return total / (static_cast<double>(n) * static_cast<double>(n - 1));
}

}  // namespace marginlab

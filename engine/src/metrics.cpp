// SPDX-License-Identifier: MIT
#include "marginlab/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace marginlab {

namespace {

Points embedded(const Points& x, const DistanceSpec& spec) { return spec.normalizes() ? normalizeRows(x) : x; }

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

}  // namespace

RetrievalMetrics retrievalMetrics(const Points& x, const Labels& y, const DistanceSpec& spec) {
    RetrievalMetrics result;
    const Eigen::Index n = x.rows();
    if (static_cast<std::size_t>(n) != y.size() || n < 2) return result;

    std::unordered_map<int, int> classSize;
    for (int label : y) ++classSize[label];

    const Points e = embedded(x, spec);
    const Real sign = spec.orderSign();
    std::vector<Real> row;
    // (δ, index) pairs: comparing pairs orders by closeness, then by lower index, without an
    // indirection per comparison.
    std::vector<std::pair<Real, Eigen::Index>> candidates;
    candidates.reserve(static_cast<std::size_t>(n));
    double sumP1 = 0, sumRPrecision = 0, sumMap = 0;  // summed per query, divided once at the end

    for (Eigen::Index q = 0; q < n; ++q) {
        const int label = y[static_cast<std::size_t>(q)];
        const int r = classSize[label] - 1;
        if (r == 0) continue;  // lone query

        distanceRow(e, q, spec, row);
        candidates.clear();
        for (Eigen::Index j = 0; j < n; ++j) {
            if (j == q) continue;
            const Real d = sign * row[static_cast<std::size_t>(j)];
            // NaN (a diverged embedding) ranks last, keeping the comparison a strict weak order.
            candidates.emplace_back(std::isnan(d) ? std::numeric_limits<Real>::infinity() : d, j);
        }
        // Only the R nearest matter: select them, then order just those.
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
        sumP1 += y[static_cast<std::size_t>(candidates[0].second)] == label ? 1.0 : 0.0;
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

Real uniformity(const Points& x, Real t) {
    const Eigen::Index n = x.rows();
    if (n < 2) return 0.0;
    const Points e = normalizeRows(x);
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

Real alignment(const Points& x, const Labels& y, Real alpha) {
    const Eigen::Index n = x.rows();
    if (static_cast<std::size_t>(n) != y.size() || n < 2) return 0.0;
    const Points e = normalizeRows(x);
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

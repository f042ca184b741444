// SPDX-License-Identifier: MIT
// retrievalMetrics finds Euclidean neighbours in 2D/3D on a grid: it must give exactly the
// numbers of a full scan (same keys, same tie rule, same summation order).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "marginlab/metrics.h"
#include "marginlab/parallel.h"

namespace marginlab {
namespace {

/// Full scan: every other point, keyed as sqrt(Σ diff²) (or Σ diff² for power 2), sorted
/// with ties by lower index; per-query values summed in query order.
RetrievalMetrics fullScan(const Points& x, const Labels& y, const DistanceSpec& spec) {
    const Points e = spec.normalizes() ? normalizeRows(x) : x;
    const Eigen::Index n = e.rows();
    double p1 = 0, rp = 0, map = 0;
    int queries = 0;
    for (Eigen::Index q = 0; q < n; ++q) {
        const int label = y[static_cast<std::size_t>(q)];
        const int r = static_cast<int>(std::count(y.begin(), y.end(), label)) - 1;
        if (r == 0) continue;
        std::vector<std::pair<Real, Eigen::Index>> order;
        for (Eigen::Index j = 0; j < n; ++j) {
            if (j == q) continue;
            Real m = 0;
            for (Eigen::Index k = 0; k < e.cols(); ++k) m += (e(q, k) - e(j, k)) * (e(q, k) - e(j, k));
            order.emplace_back(spec.power == 2 ? m : std::sqrt(m), j);
        }
        std::sort(order.begin(), order.end());
        int relevant = 0;
        double precisionSum = 0;
        for (int k = 0; k < r; ++k)
            if (y[static_cast<std::size_t>(order[static_cast<std::size_t>(k)].second)] == label)
                precisionSum += static_cast<double>(++relevant) / (k + 1);
        p1 += y[static_cast<std::size_t>(order[0].second)] == label ? 1.0 : 0.0;
        rp += static_cast<double>(relevant) / r;
        map += precisionSum / r;
        ++queries;
    }
    RetrievalMetrics out;
    out.queries = queries;
    if (queries > 0)
        out.precisionAt1 = p1 / queries, out.rPrecision = rp / queries, out.mapAtR = map / queries;
    return out;
}

void expectIdentical(const RetrievalMetrics& a, const RetrievalMetrics& b, const std::string& context) {
    EXPECT_EQ(a.queries, b.queries) << context;
    EXPECT_EQ(a.precisionAt1, b.precisionAt1) << context;
    EXPECT_EQ(a.rPrecision, b.rPrecision) << context;
    EXPECT_EQ(a.mapAtR, b.mapAtR) << context;
}

struct Shape {
    const char* name;
    int dimension;
    int classes;
    double clusterSpread;  ///< 0: integer lattice with duplicates and exact ties
};

class GridRetrieval : public ::testing::TestWithParam<Shape> {};

TEST_P(GridRetrieval, SameNumbersAsAFullScan) {
    const Shape shape = GetParam();
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    const int n = 1500;
    Points x(n, shape.dimension);
    Labels y(n);
    for (int i = 0; i < n; ++i) {
        y[static_cast<std::size_t>(i)] = static_cast<int>(rng() % static_cast<unsigned>(shape.classes));
        for (int k = 0; k < shape.dimension; ++k)
            x(i, k) = shape.clusterSpread == 0
                          ? static_cast<double>(rng() % 6)
                          : y[static_cast<std::size_t>(i)] * (k + 1) % 3 + shape.clusterSpread * normal(rng);
    }
    x(5, 0) = 1e6;  // one far outlier: a grid dominated by empty cells
    const int previousThreads = engineThreads();
    for (int threads : {1, 2}) {
        setEngineThreads(threads);
        for (const DistanceSpec& spec :
             {DistanceSpec::lp(1, false), DistanceSpec::lp(2, false), DistanceSpec::lp(1, true)})
            expectIdentical(
                retrievalMetrics(x, y, spec), fullScan(x, y, spec),
                std::string(shape.name) + " " + spec.describe() + " threads " + std::to_string(threads));
    }
    setEngineThreads(previousThreads);
    const RetrievalMetrics m = retrievalMetrics(x, y, DistanceSpec::lp(1, false));
    EXPECT_GT(m.queries, n / 2);  // not a vacuous comparison
    EXPECT_GT(m.mapAtR, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GridRetrieval,
                         ::testing::Values(Shape{"TwoClasses2D", 2, 2, 0.7},
                                           Shape{"ManyClasses2D", 2, 40, 0.3}, Shape{"Lattice2D", 2, 3, 0.0},
                                           Shape{"Clusters3D", 3, 5, 0.5}, Shape{"Lattice3D", 3, 4, 0.0}),
                         [](const ::testing::TestParamInfo<Shape>& param) {
                             return std::string(param.param.name);
                         });

TEST(GridRetrieval, CoincidentPointsFallBackToTheScan) {
    Points x = Points::Constant(30, 2, 0.25);
    Labels y(30);
    for (int i = 0; i < 30; ++i) y[static_cast<std::size_t>(i)] = i % 3;
    expectIdentical(retrievalMetrics(x, y, DistanceSpec::lp(1, false)),
                    fullScan(x, y, DistanceSpec::lp(1, false)), "all points equal");
}

}  // namespace
}  // namespace marginlab

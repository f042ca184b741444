// SPDX-License-Identifier: MIT
#include "marginlab/metrics.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <random>
#include <utility>

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;

/// Obvious reference: full sort of every other point per query, straight from the definitions.
RetrievalMetrics bruteForce(const Points& x, const Labels& y, const DistanceSpec& spec) {
    const Matrix m = SelfDistance(spec, x).matrix();
    const int n = static_cast<int>(x.rows());
    RetrievalMetrics out{0, 0, 0, 0};
    for (int q = 0; q < n; ++q) {
        int r = 0;
        for (int j = 0; j < n; ++j) r += j != q && y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(q)];
        if (r == 0) continue;
        std::vector<std::pair<Real, int>> order;
        for (int j = 0; j < n; ++j)
            if (j != q) order.emplace_back(spec.isSimilarity() ? -m(q, j) : m(q, j), j);  // closest first
        std::sort(order.begin(), order.end());  // pairs: ties by lower index
        std::vector<int> rel;
        for (const auto& [d, j] : order) rel.push_back(y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(q)]);
        Real hits = 0, ap = 0;
        for (int k = 1; k <= r; ++k) {
            hits += rel[static_cast<std::size_t>(k - 1)];
            ap += rel[static_cast<std::size_t>(k - 1)] * hits / k;
        }
        out.precisionAt1 += rel[0];
        out.rPrecision += hits / r;
        out.mapAtR += ap / r;
        ++out.queries;
    }
    if (out.queries > 0) {
        out.precisionAt1 /= out.queries;
        out.rPrecision /= out.queries;
        out.mapAtR /= out.queries;
    }
    return out;
}

std::vector<DistanceSpec> allSpecs() {
    return {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false), DistanceSpec::lp(2, false),
            DistanceSpec::cosine(), DistanceSpec::dot(false)};
}

void expectSame(const RetrievalMetrics& a, const RetrievalMetrics& b, const std::string& context) {
    EXPECT_EQ(a.queries, b.queries) << context;
    EXPECT_NEAR(a.precisionAt1, b.precisionAt1, 1e-12) << context;
    EXPECT_NEAR(a.rPrecision, b.rPrecision, 1e-12) << context;
    EXPECT_NEAR(a.mapAtR, b.mapAtR, 1e-12) << context;
}

Points onLine(std::initializer_list<double> xs) {
    Points p = Points::Zero(static_cast<Eigen::Index>(xs.size()), 2);
    Eigen::Index i = 0;
    for (double v : xs) p(i++, 0) = v;
    return p;
}

TEST(DataMetrics, MatchesBruteForceOnRandomData) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed)
        for (int d : {2, 3})
            for (int classes : {2, 3, 5}) {
                const int n = 15 + static_cast<int>(seed) * 7;
                const Points x = randomPoints(n, d, seed * 31 + static_cast<std::uint64_t>(d));
                const Labels y = randomLabels(n, classes, seed * 17 + static_cast<std::uint64_t>(classes));
                for (const DistanceSpec& spec : allSpecs())
                    expectSame(retrievalMetrics(x, y, spec), bruteForce(x, y, spec), spec.describe());
            }
}

TEST(DataMetrics, MatchesBruteForceWithManyTies) {
    // Small integer coordinates: many exactly equal distances (and duplicate points), so the
    // lower-index tie rule decides the order.
    std::mt19937_64 rng(99);
    for (int trial = 0; trial < 20; ++trial) {
        const int n = 12 + trial;
        Points x(n, 2);
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < 2; ++k) x(i, k) = static_cast<double>(rng() % 4);
        Labels y(static_cast<std::size_t>(n));
        for (auto& label : y) label = static_cast<int>(rng() % 3);
        for (const DistanceSpec& spec : {DistanceSpec::lp(1, false), DistanceSpec::lp(2, false)})
            expectSame(retrievalMetrics(x, y, spec), bruteForce(x, y, spec), "trial " + std::to_string(trial));
    }
}

TEST(DataMetrics, HandComputedHalf) {
    // Points on a line: A at 0 and 3, B at 4 and 8; R = 1 for everyone.
    //   0 → nearest 3 (A) ✓;  3 → nearest 4 (B) ✗;  4 → nearest 3 (A) ✗;  8 → nearest 4 (B) ✓
    // so precision@1 = R-precision = MAP@R = 2/4 = 0.5.
    const RetrievalMetrics m = retrievalMetrics(onLine({0, 3, 4, 8}), {0, 0, 1, 1}, DistanceSpec::lp(1, false));
    EXPECT_EQ(m.queries, 4);
    EXPECT_DOUBLE_EQ(m.precisionAt1, 0.5);
    EXPECT_DOUBLE_EQ(m.rPrecision, 0.5);
    EXPECT_DOUBLE_EQ(m.mapAtR, 0.5);
}

TEST(DataMetrics, HandComputedAlternatingLineWithTies) {
    // A,B,A,B,A,B at 0..5, R = 2. Nearest two (ties → lower index):
    //   q0: 1(B) 2(A) → rel 0,1: AP = (1/2)(1/2) = 1/4, R-prec 1/2
    //   q1: 0(A) 2(A) (tie at 1) → 0;  q2: 1(B) 3(B) → 0;  q3: 2(A) 4(A) → 0;  q4: 3(B) 5(B) → 0
    //   q5: 4(A) 3(B) → rel 0,1: AP = 1/4, R-prec 1/2
    // precision@1 = 0, R-precision = 1/6, MAP@R = (1/2)/6 = 1/12.
    const RetrievalMetrics m =
        retrievalMetrics(onLine({0, 1, 2, 3, 4, 5}), {0, 1, 0, 1, 0, 1}, DistanceSpec::lp(1, false));
    EXPECT_EQ(m.queries, 6);
    EXPECT_DOUBLE_EQ(m.precisionAt1, 0.0);
    EXPECT_DOUBLE_EQ(m.rPrecision, 1.0 / 6);
    EXPECT_DOUBLE_EQ(m.mapAtR, 1.0 / 12);
}

TEST(DataMetrics, HandComputedMapBelowRPrecision) {
    // A at 0, 10, 11; B at 1 (a lone query, excluded); R = 2 for the A queries.
    //   q0 (0):  1(B) 10(A) → rel 0,1: AP = (1/2)(1/2) = 1/4, R-prec 1/2, p@1 0
    //   q10:     11(A) 1(B) → rel 1,0: AP = (1/2)(1)   = 1/2, R-prec 1/2, p@1 1
    //   q11:     10(A) 1(B) → rel 1,0: AP = 1/2,              R-prec 1/2, p@1 1
    const RetrievalMetrics m = retrievalMetrics(onLine({0, 10, 11, 1}), {0, 0, 0, 1}, DistanceSpec::lp(2, false));
    EXPECT_EQ(m.queries, 3);
    EXPECT_DOUBLE_EQ(m.precisionAt1, 2.0 / 3);
    EXPECT_DOUBLE_EQ(m.rPrecision, 0.5);
    EXPECT_DOUBLE_EQ(m.mapAtR, 1.25 / 3);
}

TEST(DataMetrics, SimilaritiesRankLargestFirst) {
    // By angle, 0 and 1 are close (same direction) though far apart in Euclidean terms.
    Points x(4, 2);
    x << 1, 0, 10, 0.1, 1.2, 0.9, 1.3, 1.0;
    const Labels y{0, 0, 1, 1};
    const RetrievalMetrics cosine = retrievalMetrics(x, y, DistanceSpec::cosine());
    EXPECT_DOUBLE_EQ(cosine.precisionAt1, 1.0);
    const RetrievalMetrics euclidean = retrievalMetrics(x, y, DistanceSpec::lp(1, false));
    // Euclidean: 0's nearest is 2 (B), 1's is 3 (B); 2 and 3 find each other: 2 of 4.
    EXPECT_DOUBLE_EQ(euclidean.precisionAt1, 0.5);
}

TEST(DataMetrics, LoneQueriesAndDegenerateInputs) {
    const Points x = randomPoints(5, 2, 3);
    const RetrievalMetrics none = retrievalMetrics(x, {0, 1, 2, 3, 4}, DistanceSpec::lp(1, true));
    EXPECT_EQ(none.queries, 0);
    EXPECT_EQ(none.precisionAt1, 0.0);
    EXPECT_EQ(none.mapAtR, 0.0);
    const RetrievalMetrics one = retrievalMetrics(x, {0, 0, 0, 0, 0}, DistanceSpec::lp(1, true));
    EXPECT_EQ(one.queries, 5);
    EXPECT_DOUBLE_EQ(one.precisionAt1, 1.0);
    EXPECT_DOUBLE_EQ(one.rPrecision, 1.0);
    EXPECT_DOUBLE_EQ(one.mapAtR, 1.0);
    EXPECT_EQ(retrievalMetrics(x, {0, 0}, DistanceSpec::lp(1, true)).queries, 0);  // size mismatch
    EXPECT_EQ(retrievalMetrics(Points(0, 2), {}, DistanceSpec::lp(1, true)).queries, 0);
    // A diverged (NaN) embedding must not break the ordering.
    Points bad = randomPoints(8, 2, 4);
    bad(3, 0) = std::numeric_limits<Real>::quiet_NaN();
    const RetrievalMetrics withNan = retrievalMetrics(bad, {0, 1, 0, 1, 0, 1, 0, 1}, DistanceSpec::lp(1, false));
    EXPECT_EQ(withNan.queries, 8);
}

TEST(DataMetrics, ClassDistancesAndMeanPairwiseByHand) {
    Points x(3, 2);
    x << 0, 0, 3, 0, 0, 4;  // pairwise distances 3 (0-1), 4 (0-2), 5 (1-2)
    const ClassDistances c = classDistances(x, {0, 0, 1}, DistanceSpec::lp(1, false));
    EXPECT_DOUBLE_EQ(c.meanIntra, 3.0);
    EXPECT_DOUBLE_EQ(c.meanInter, 4.5);
    EXPECT_DOUBLE_EQ(meanPairwiseDistance(x, DistanceSpec::lp(1, false)), 4.0);
    EXPECT_DOUBLE_EQ(meanPairwiseDistance(x, DistanceSpec::lp(2, false)), 50.0 / 3);
    const ClassDistances allSame = classDistances(x, {2, 2, 2}, DistanceSpec::lp(1, false));
    EXPECT_DOUBLE_EQ(allSame.meanIntra, 4.0);
    EXPECT_EQ(allSame.meanInter, 0.0);
    EXPECT_EQ(meanPairwiseDistance(x.topRows(1), DistanceSpec::lp(1, false)), 0.0);
}

TEST(DataMetrics, ClassDistancesMatchTheFullMatrix) {
    const Points x = randomPoints(23, 3, 8);
    const Labels y = randomLabels(23, 4, 9);
    for (const DistanceSpec& spec : allSpecs()) {
        const Matrix m = SelfDistance(spec, x).matrix();
        Real intra = 0, inter = 0, all = 0;
        int nIntra = 0, nInter = 0;
        for (int i = 0; i < 23; ++i)
            for (int j = 0; j < 23; ++j) {
                if (i == j) continue;
                all += m(i, j);
                if (y[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(j)]) {
                    intra += m(i, j);
                    ++nIntra;
                } else {
                    inter += m(i, j);
                    ++nInter;
                }
            }
        const ClassDistances c = classDistances(x, y, spec);
        EXPECT_NEAR(c.meanIntra, intra / nIntra, 1e-12) << spec.describe();
        EXPECT_NEAR(c.meanInter, inter / nInter, 1e-12) << spec.describe();
        EXPECT_NEAR(meanPairwiseDistance(x, spec), all / (23 * 22), 1e-12) << spec.describe();
    }
}

TEST(DataMetrics, Handles4096Points) {
    const Points x = randomPoints(4096, 2, 21);
    const Labels y = randomLabels(4096, 10, 22);
    const auto start = std::chrono::steady_clock::now();
    const RetrievalMetrics m = retrievalMetrics(x, y, DistanceSpec::lp(1, true));
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(m.queries, 4096);
    // Random labels: everything is near chance (1/10 of the others share a label).
    EXPECT_NEAR(m.precisionAt1, 0.1, 0.03);
    EXPECT_NEAR(m.rPrecision, 0.1, 0.03);
    RecordProperty("retrieval_ms", std::to_string(ms));
    std::printf("retrievalMetrics N=4096: %.1f ms\n", ms);
}

}  // namespace
}  // namespace marginlab

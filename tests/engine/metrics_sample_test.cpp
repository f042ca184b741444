// SPDX-License-Identifier: MIT
// Metrics on sampled query points (large scenes): each sampled query is exact (a slow full sort in
// the test gives the same bits), every row as the list gives the exact numbers, the estimate of a
// 6,000-point scene is close to the exact value, and the trainer samples only above the threshold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

#include "marginlab/metrics.h"
#include "marginlab/trainer.h"

namespace marginlab {
namespace {

struct Cloud {
    Points x;
    Labels y;
};

/// Four noisy, overlapping Gaussian classes in the plane, stored class by class (as the generators do).
Cloud blobs(int n, int classes, double noise, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    Cloud c{Points(n, 2), Labels(static_cast<std::size_t>(n))};
    for (int i = 0; i < n; ++i) {
        const int label = i * classes / n;
        c.y[static_cast<std::size_t>(i)] = label;
        const double angle = 2.0 * 3.141592653589793 * label / classes;
        c.x(i, 0) = 2.0 * std::cos(angle) + noise * normal(rng);
        c.x(i, 1) = 2.0 * std::sin(angle) + noise * normal(rng);
    }
    return c;
}

/// The definitions of metrics.h over the listed queries only, by a full sort per query (ties by index).
RetrievalMetrics slowSampled(const Points& x, const Labels& y, const std::vector<Eigen::Index>& queries) {
    const Eigen::Index n = x.rows();
    double p1 = 0, rp = 0, map = 0;
    int counted = 0;
    for (Eigen::Index q : queries) {
        const int label = y[static_cast<std::size_t>(q)];
        const int r = static_cast<int>(std::count(y.begin(), y.end(), label)) - 1;
        if (r == 0) continue;
        std::vector<std::pair<Real, Eigen::Index>> order;
        for (Eigen::Index j = 0; j < n; ++j) {
            if (j == q) continue;
            Real m = 0;
            for (Eigen::Index k = 0; k < x.cols(); ++k) m += (x(q, k) - x(j, k)) * (x(q, k) - x(j, k));
            order.emplace_back(std::sqrt(m), j);
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
        ++counted;
    }
    RetrievalMetrics out;
    out.queries = counted;
    if (counted > 0) out.precisionAt1 = p1 / counted, out.rPrecision = rp / counted, out.mapAtR = map / counted;
    return out;
}

TEST(MetricQueries, AFixedSystematicSampleAboveTheThreshold) {
    EXPECT_TRUE(metricQueries(10).empty());
    EXPECT_TRUE(metricQueries(kExactMetricsPoints).empty());
    for (Eigen::Index n : {kExactMetricsPoints + 1, Eigen::Index{20'000}, Eigen::Index{100'000}}) {
        const std::vector<Eigen::Index> rows = metricQueries(n);
        ASSERT_EQ(static_cast<Eigen::Index>(rows.size()), kSampledQueries);
        for (std::size_t k = 0; k < rows.size(); ++k) {
            EXPECT_GE(rows[k], 0);
            EXPECT_LT(rows[k], n);
            if (k > 0) {
                EXPECT_LT(rows[k - 1], rows[k]);  // distinct, ascending
            }
        }
        EXPECT_EQ(metricQueries(n), rows);  // the same rows every time
    }
    // Evenly spread: with 20,000 points stored in 4 class blocks, each block gets a quarter.
    const std::vector<Eigen::Index> rows = metricQueries(20'000);
    for (int block = 0; block < 4; ++block)
        EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [&](Eigen::Index r) { return r / 5'000 == block; }),
                  kSampledQueries / 4);
}

TEST(SampledMetrics, EachSampledQueryIsExact) {
    const Cloud c = blobs(3'000, 4, 1.2, 3);
    std::vector<Eigen::Index> queries;
    for (Eigen::Index q = 7; q < 3'000; q += 13) queries.push_back(q);
    const RetrievalMetrics fast = retrievalMetrics(c.x, c.y, DistanceSpec::lp(1, false), queries);
    const RetrievalMetrics slow = slowSampled(c.x, c.y, queries);
    EXPECT_EQ(fast.queries, static_cast<int>(queries.size()));
    EXPECT_EQ(fast.queries, slow.queries);
    EXPECT_EQ(fast.precisionAt1, slow.precisionAt1);
    EXPECT_EQ(fast.rPrecision, slow.rPrecision);
    EXPECT_EQ(fast.mapAtR, slow.mapAtR);
    EXPECT_GT(fast.mapAtR, 0.2);  // overlapping classes: neither trivial nor perfect
    EXPECT_LT(fast.mapAtR, 0.99);

    // The pair statistics over the listed rows, by plain loops.
    double sum = 0, intra = 0, inter = 0, uniform = 0, aligned = 0;
    long long pairs = 0, intraPairs = 0, alignedPairs = 0;
    const Points u = normalizeRows(c.x);
    for (Eigen::Index i : queries)
        for (Eigen::Index j = 0; j < c.x.rows(); ++j) {
            if (j == i) continue;
            const double d = (c.x.row(i) - c.x.row(j)).norm();
            const double chord = (u.row(i) - u.row(j)).squaredNorm();
            sum += d;
            ++pairs;
            uniform += std::exp(-2.0 * chord);
            if (c.y[static_cast<std::size_t>(i)] == c.y[static_cast<std::size_t>(j)]) {
                intra += d, ++intraPairs;
                aligned += chord, ++alignedPairs;
            } else {
                inter += d;
            }
        }
    const DistanceSpec euclidean = DistanceSpec::lp(1, false);
    EXPECT_NEAR(meanPairwiseDistance(c.x, euclidean, queries), sum / static_cast<double>(pairs), 1e-12);
    const ClassDistances distances = classDistances(c.x, c.y, euclidean, queries);
    EXPECT_NEAR(distances.meanIntra, intra / static_cast<double>(intraPairs), 1e-12);
    EXPECT_NEAR(distances.meanInter, inter / static_cast<double>(pairs - intraPairs), 1e-12);
    EXPECT_NEAR(uniformity(c.x, 2.0, queries), std::log(uniform / static_cast<double>(pairs)), 1e-12);
    EXPECT_NEAR(alignment(c.x, c.y, 2.0, queries), aligned / static_cast<double>(alignedPairs), 1e-12);
}

TEST(SampledMetrics, EveryRowAsTheListGivesTheExactNumbers) {
    const Cloud c = blobs(900, 3, 1.0, 5);
    std::vector<Eigen::Index> all(900);
    std::iota(all.begin(), all.end(), Eigen::Index{0});
    const DistanceSpec euclidean = DistanceSpec::lp(1, false);
    const RetrievalMetrics exact = retrievalMetrics(c.x, c.y, euclidean);
    const RetrievalMetrics listed = retrievalMetrics(c.x, c.y, euclidean, all);
    EXPECT_EQ(listed.queries, exact.queries);
    EXPECT_EQ(listed.precisionAt1, exact.precisionAt1);
    EXPECT_EQ(listed.rPrecision, exact.rPrecision);
    EXPECT_EQ(listed.mapAtR, exact.mapAtR);
    EXPECT_EQ(meanPairwiseDistance(c.x, euclidean, all), meanPairwiseDistance(c.x, euclidean));
    EXPECT_EQ(classDistances(c.x, c.y, euclidean, all).meanIntra, classDistances(c.x, c.y, euclidean).meanIntra);
    EXPECT_EQ(classDistances(c.x, c.y, euclidean, all).meanInter, classDistances(c.x, c.y, euclidean).meanInter);
    // Ordered pairs against unordered ones: the same mean, summed in another order.
    EXPECT_NEAR(uniformity(c.x, 2.0, all), uniformity(c.x), 1e-12);
    EXPECT_NEAR(alignment(c.x, c.y, 2.0, all), alignment(c.x, c.y), 1e-12);
    // A row outside the points is refused (nothing measured), not read out of bounds.
    const std::vector<Eigen::Index> bad{0, 900};
    EXPECT_EQ(retrievalMetrics(c.x, c.y, euclidean, bad).queries, 0);
    EXPECT_EQ(meanPairwiseDistance(c.x, euclidean, bad), 0.0);
}

TEST(SampledMetrics, TheEstimateIsCloseToTheExactValue) {
    const Cloud c = blobs(6'000, 4, 1.3, 11);
    const std::vector<Eigen::Index> queries = metricQueries(6'000);
    ASSERT_EQ(static_cast<Eigen::Index>(queries.size()), kSampledQueries);
    const DistanceSpec euclidean = DistanceSpec::lp(1, false);
    const RetrievalMetrics exact = retrievalMetrics(c.x, c.y, euclidean);
    const RetrievalMetrics sampled = retrievalMetrics(c.x, c.y, euclidean, queries);
    // Standard error ≤ 0.5/√2000 ≈ 0.011 (and much less for MAP@R's smooth per-query values).
    EXPECT_NEAR(sampled.precisionAt1, exact.precisionAt1, 0.04);
    EXPECT_NEAR(sampled.rPrecision, exact.rPrecision, 0.03);
    EXPECT_NEAR(sampled.mapAtR, exact.mapAtR, 0.03);
    EXPECT_NE(sampled.mapAtR, exact.mapAtR);  // it is an estimate: not the same computation
    const Real spread = meanPairwiseDistance(c.x, euclidean);
    EXPECT_NEAR(meanPairwiseDistance(c.x, euclidean, queries) / spread, 1.0, 0.02);
    EXPECT_NEAR(uniformity(c.x, 2.0, queries), uniformity(c.x), 0.03);
    EXPECT_NEAR(alignment(c.x, c.y, 2.0, queries) / alignment(c.x, c.y), 1.0, 0.05);
}

TEST(SampledMetrics, TheTrainerSamplesOnlyLargeScenes) {
    for (int n : {600, 20'000}) {
        const Cloud c = blobs(n, 4, 1.0, 2);
        TrainerConfig config;
        config.points = c.x;
        config.labels = c.y;
        config.numClasses = 4;
        config.loss.name = "contrastive";
        config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
        Trainer trainer(config);
        const auto snapshot = trainer.snapshot();
        ASSERT_TRUE(snapshot);
        const Metrics& m = snapshot->metrics;
        // Contrastive measures on the unit circle (PML's LpDistance normalizes by default).
        const DistanceSpec sphere = DistanceSpec::lp(1, true);
        EXPECT_EQ(m.step, 0);
        if (n <= kExactMetricsPoints) {
            EXPECT_EQ(sampledMetricQueries(n), 0);
            EXPECT_EQ(m.mapAtR, retrievalMetrics(c.x, c.y, sphere).mapAtR);
        } else {
            EXPECT_EQ(sampledMetricQueries(n), kSampledQueries);
            EXPECT_EQ(m.mapAtR, retrievalMetrics(c.x, c.y, sphere, metricQueries(n)).mapAtR);
            EXPECT_NEAR(m.collapse, 1.0, 1e-12);  // the reference spread is measured on the same sample
        }
    }
}

}  // namespace
}  // namespace marginlab

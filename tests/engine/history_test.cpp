// SPDX-License-Identifier: MIT
// RunHistory: the points the charts show, computed from snapshots as the charts panel does, the
// rules for repeated snapshots, and decimation that keeps the ends, the extremes and the metrics.
#include "marginlab/generators.h"
#include "marginlab/history.h"
#include "marginlab/trainer.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <algorithm>
#include <cmath>

namespace marginlab {
namespace {

TrainerConfig tripletRun() {
    TrainerConfig config = testing::blobsRun(48, 3, 2, 1.5);
    config.loss.name = "triplet_margin";
    config.loss.params.numbers["margin"] = 0.3;
    config.optimizer.learningRate = 0.03;
    config.metricsEvery = 4;
    return config;
}

TEST(HistoryPoint, HoldsWhatTheChartsShow) {
    Trainer trainer(tripletRun());
    const auto snapshot = trainer.step(3);
    const HistoryPoint point = HistoryPoint::of(*snapshot);
    const LossStats& s = snapshot->stats;
    ASSERT_GT(s.tuples, 0);
    ASSERT_TRUE(s.hasRegions);
    ASSERT_GT(s.semiHard + s.hard, 0);  // not a trivial run
    EXPECT_EQ(point.step, 3);
    EXPECT_EQ(point.loss, snapshot->loss);
    EXPECT_EQ(point.activeFraction, static_cast<Real>(s.active) / static_cast<Real>(s.tuples));
    EXPECT_EQ(point.easy, static_cast<Real>(s.easy) / static_cast<Real>(s.tuples));
    EXPECT_EQ(point.semiHard, static_cast<Real>(s.semiHard) / static_cast<Real>(s.tuples));
    EXPECT_EQ(point.hard, static_cast<Real>(s.hard) / static_cast<Real>(s.tuples));
    EXPECT_NEAR(point.easy + point.semiHard + point.hard, 1.0, 1e-12);
    // Metrics were computed at step 0, not at step 3: missing here.
    EXPECT_EQ(snapshot->metrics.step, 0);
    EXPECT_FALSE(point.hasMetrics());
    EXPECT_TRUE(std::isnan(point.mapAtR));
    EXPECT_TRUE(std::isnan(point.collapse));

    const auto due = trainer.step(1);  // step 4 is due
    const HistoryPoint withMetrics = HistoryPoint::of(*due);
    ASSERT_TRUE(withMetrics.hasMetrics());
    EXPECT_EQ(withMetrics.precisionAt1, due->metrics.precisionAt1);
    EXPECT_EQ(withMetrics.mapAtR, due->metrics.mapAtR);
    EXPECT_EQ(withMetrics.rPrecision, due->metrics.rPrecision);
    EXPECT_EQ(withMetrics.collapse, due->metrics.collapse);
}

TEST(HistoryPoint, MissingValuesAreNaN) {
    Snapshot snapshot;
    snapshot.step = 7;
    snapshot.loss = std::numeric_limits<Real>::infinity();
    snapshot.stats.tuples = 10;
    snapshot.stats.active = 4;  // no regions: a loss without a triplet margin
    snapshot.metrics.step = 5;
    const HistoryPoint point = HistoryPoint::of(snapshot);
    EXPECT_TRUE(std::isnan(point.loss));
    EXPECT_EQ(point.activeFraction, 0.4);
    EXPECT_FALSE(point.hasRegions());
    EXPECT_TRUE(std::isnan(point.hard));
    EXPECT_FALSE(point.hasMetrics());
    snapshot.stats.tuples = 0;
    snapshot.stats.active = 0;
    EXPECT_TRUE(std::isnan(HistoryPoint::of(snapshot).activeFraction));
}

TEST(RunHistory, RepeatedSnapshotsAddNothingAndReEvaluationsAddAPoint) {
    TrainerConfig config = tripletRun();
    Trainer trainer(config);
    RunHistory history;
    history.append(*trainer.snapshot());
    history.append(*trainer.step(2));
    history.append(*trainer.snapshot());  // the same snapshot again (e.g. after a pause)
    EXPECT_EQ(history.size(), 2u);
    std::stop_source stop;
    stop.request_stop();
    history.append(*trainer.step(5, stop.get_token()));  // a cancelled copy of step 2
    EXPECT_EQ(history.size(), 2u);

    std::string error;
    Points moved = trainer.snapshot()->positions;
    moved.row(0) *= 2.0;
    ASSERT_TRUE(trainer.editPoints(moved, config.labels, &error)) << error;
    history.append(*trainer.snapshot());  // step 2 again, re-evaluated after the edit
    ASSERT_EQ(history.size(), 3u);
    EXPECT_EQ(history.points()[1].step, 2);
    EXPECT_EQ(history.points()[2].step, 2);
    EXPECT_GT(history.points()[2].revision, history.points()[1].revision);
    EXPECT_NE(history.points()[2].loss, history.points()[1].loss);

    Snapshot stale;  // from before a reset, arriving late
    stale.step = 1;
    stale.revision = 99;
    history.append(stale);
    EXPECT_EQ(history.size(), 3u);

    history.clear();
    EXPECT_TRUE(history.empty());
}

TEST(RunHistory, AssignRefusesBadPoints) {
    RunHistory history;
    std::vector<HistoryPoint> points(3);
    points[0].step = 0;
    points[1].step = 4;
    points[2].step = 2;
    std::string error;
    EXPECT_FALSE(history.assign(points, &error));
    EXPECT_NE(error.find("history point 2: steps must not decrease"), std::string::npos) << error;
    points[2].step = 5;
    points[1].easy = 1.5;
    EXPECT_FALSE(history.assign(points, &error));
    EXPECT_NE(error.find("history point 1"), std::string::npos) << error;
    EXPECT_TRUE(history.empty());
    points[1].easy = 0.5;
    EXPECT_TRUE(history.assign(points, &error)) << error;
    EXPECT_EQ(history.size(), 3u);
}

std::vector<HistoryPoint> syntheticHistory(int n, int metricsEvery) {
    std::vector<HistoryPoint> points;
    for (int i = 0; i < n; ++i) {
        HistoryPoint p;
        p.step = i;
        p.loss = 1.0 + 0.5 * std::sin(0.05 * i);
        p.activeFraction = 0.5;
        if (i % metricsEvery == 0) p.precisionAt1 = p.mapAtR = p.rPrecision = 0.25;
        points.push_back(p);
    }
    return points;
}

TEST(RunHistory, DecimationKeepsEndsExtremesAndMetrics) {
    std::vector<HistoryPoint> points = syntheticHistory(10000, 10);
    points[4321].loss = 50.0;  // a spike
    points[7777].loss = -3.0;  // a dip
    RunHistory history;
    std::string error;
    ASSERT_TRUE(history.assign(points, &error)) << error;

    EXPECT_EQ(history.decimated(20000).size(), 10000u);  // short enough: whole
    for (std::size_t maxPoints : {0u, 1u, 2u, 3u, 4u, 5u, 8u, 100u, 1000u}) {
        SCOPED_TRACE(maxPoints);
        const std::vector<HistoryPoint> out = history.decimated(maxPoints);
        EXPECT_LE(out.size(), maxPoints);
        if (maxPoints >= 2) {
            // Every bucket keeps at least one point; with fewer than 5 points, exactly maxPoints.
            EXPECT_GE(out.size(), maxPoints >= 5 ? 2 + (maxPoints - 2) / 3 : maxPoints);
            EXPECT_EQ(out.front().step, 0);
            EXPECT_EQ(out.back().step, 9999);
        }
        for (std::size_t i = 1; i < out.size(); ++i) EXPECT_LT(out[i - 1].step, out[i].step);
        if (maxPoints >= 5) {
            const auto has = [&](long step) {
                return std::any_of(out.begin(), out.end(),
                                   [&](const HistoryPoint& p) { return p.step == step; });
            };
            EXPECT_TRUE(has(4321));
            EXPECT_TRUE(has(7777));
            // Every bucket keeps a point with metrics: the retrieval curve stays as long as the loss's.
            const auto metrics =
                std::count_if(out.begin(), out.end(), [](const HistoryPoint& p) { return p.hasMetrics(); });
            EXPECT_GE(static_cast<std::size_t>(metrics), (maxPoints - 2) / 3);
        }
    }
    // With 1000 points the curve keeps its shape: the largest loss of every stretch is there.
    const std::vector<HistoryPoint> out = history.decimated(1000);
    Real top = 0.0;
    for (const HistoryPoint& p : out) top = std::max(top, p.loss);
    EXPECT_EQ(top, 50.0);
}

TEST(RunHistory, DecimationKeepsAPointPerBucketWithoutFiniteLoss) {
    std::vector<HistoryPoint> points = syntheticHistory(300, 1000);
    for (HistoryPoint& p : points) p.loss = HistoryPoint::kMissing;
    RunHistory history;
    ASSERT_TRUE(history.assign(points, nullptr));
    const std::vector<HistoryPoint> out = history.decimated(32);
    EXPECT_EQ(out.size(), 2u + 10u);  // first, last and one point in each of the 10 buckets
}

}  // namespace
}  // namespace marginlab

namespace marginlab {
namespace {

// A run far longer than the capacity: memory stays bounded, old and recent steps keep the same
// resolution, and the first point, a spike, a dip and the metrics curve survive the thinning.
TEST(RunHistory, ALongRunStaysWithinTheCapacity) {
    constexpr std::size_t capacity = 1000;
    RunHistory history(capacity);
    Snapshot snapshot;
    snapshot.stats.tuples = 10;
    snapshot.stats.active = 5;
    std::size_t largest = 0;
    for (long step = 0; step < 200'000; ++step) {
        snapshot.step = step;
        snapshot.loss = step == 1234 ? 90.0 : step == 98'765 ? -4.0 : 1.0 + 0.001 * static_cast<Real>(step % 7);
        snapshot.metrics.step = step % 50 == 0 ? step : -1;
        snapshot.metrics.precisionAt1 = 0.5;
        history.append(snapshot);
        largest = std::max(largest, history.size());
    }
    EXPECT_LT(largest, capacity);
    const std::vector<HistoryPoint>& points = history.points();
    ASSERT_GE(points.size(), capacity / 2);
    EXPECT_EQ(points.front().step, 0);
    EXPECT_EQ(points.back().step, 199'999);
    for (std::size_t i = 1; i < points.size(); ++i) ASSERT_LT(points[i - 1].step, points[i].step);
    EXPECT_GT(history.stride(), 1);
    // The same resolution over the whole run: every tenth of it keeps its share of the points.
    for (long tenth = 0; tenth < 10; ++tenth)
        EXPECT_GE(std::count_if(points.begin(), points.end(), [&](const HistoryPoint& p) { return p.step / 20'000 == tenth; }),
                  static_cast<long>(points.size() / 20))
            << "tenth " << tenth;
    const auto has = [&](long step) {
        return std::any_of(points.begin(), points.end(), [&](const HistoryPoint& p) { return p.step == step; });
    };
    EXPECT_TRUE(has(1234));
    EXPECT_TRUE(has(98'765));
    // The retrieval curve goes on over the whole run: every tenth of it keeps metrics points.
    for (long tenth = 0; tenth < 10; ++tenth)
        EXPECT_GE(std::count_if(points.begin(), points.end(),
                                [&](const HistoryPoint& p) { return p.hasMetrics() && p.step / 20'000 == tenth; }),
                  2)
            << "tenth " << tenth;

    // A file with more points than the capacity is thinned the same way on assign.
    RunHistory small(capacity);
    std::vector<HistoryPoint> many(5000);
    for (std::size_t i = 0; i < many.size(); ++i) many[i].step = static_cast<long>(i);
    ASSERT_TRUE(small.assign(many, nullptr));
    EXPECT_LT(small.size(), capacity);
    EXPECT_EQ(small.points().front().step, 0);
    EXPECT_EQ(small.points().back().step, 4999);
}

}  // namespace
}  // namespace marginlab

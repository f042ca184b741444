// SPDX-License-Identifier: MIT
#include "marginlab/generators.h"
#include "marginlab/trainer.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cmath>
#include <cstring>

namespace marginlab {
namespace {

TrainerConfig blobsConfig(const std::string& loss, int points = 60, int classes = 3) {
    TrainerConfig config = testing::blobsRun(points, classes, 7);
    config.loss.name = loss;
    config.optimizer.kind = OptimizerKind::Adam;
    config.optimizer.learningRate = 0.02;
    config.seed = 3;
    config.metricsEvery = 5;
    return config;
}

void expectSameSnapshot(const Snapshot& a, const Snapshot& b) {
    EXPECT_EQ(a.step, b.step);
    // Bit for bit: compare the raw bytes, not with a tolerance.
    ASSERT_EQ(a.positions.size(), b.positions.size());
    EXPECT_EQ(0, std::memcmp(a.positions.data(), b.positions.data(), sizeof(Real) * a.positions.size()));
    ASSERT_EQ(a.owned.size(), b.owned.size());
    if (a.owned.size()) {
        EXPECT_EQ(0, std::memcmp(a.owned.data(), b.owned.data(), sizeof(Real) * a.owned.size()));
    }
    EXPECT_EQ(std::memcmp(&a.loss, &b.loss, sizeof(Real)), 0);
    EXPECT_EQ(a.stats.active, b.stats.active);
}

TEST(Trainer, SameConfigurationAndSeedGiveTheSameTrajectoryBitForBit) {
    for (const char* loss : {"triplet_margin", "softmax", "nce"}) {
        TrainerConfig config = blobsConfig(loss);
        config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
        config.batch.classesPerBatch = 2;
        config.batch.samplesPerClass = 6;
        if (loss == std::string("triplet_margin")) config.miner = MinerConfig{"random_negative", {}, std::nullopt};
        Trainer first(config), second(config);
        for (int chunk = 0; chunk < 4; ++chunk) expectSameSnapshot(*first.step(5), *second.step(5));
        EXPECT_EQ(first.snapshot()->step, 20) << loss;
    }
}

TEST(Trainer, ADifferentSeedGivesADifferentTrajectory) {
    TrainerConfig config = blobsConfig("triplet_margin");
    config.loss.params.numbers["margin"] = 2.0;  // wider than any normalized distance: every triplet is active
    config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
    config.batch.classesPerBatch = 2;
    config.batch.samplesPerClass = 4;
    Trainer first(config);
    config.seed = 4;
    Trainer second(config);
    EXPECT_NE(first.step(5)->positions, second.step(5)->positions);
}

TEST(Trainer, TrainingSeparatesBlobs) {
    TrainerConfig config = blobsConfig("contrastive", 90, 3);
    config.optimizer.learningRate = 0.05;
    Trainer trainer(config);
    const Real startLoss = trainer.snapshot()->loss;
    const auto end = trainer.step(100);
    EXPECT_EQ(end->status, TrainStatus::Running);
    EXPECT_LT(end->loss, 0.5 * startLoss);
    EXPECT_GT(end->metrics.precisionAt1, 0.95);
    EXPECT_EQ(end->metrics.step, 100);
}

TEST(Trainer, PkBatchesTouchOnlyTheirPoints) {
    TrainerConfig config = blobsConfig("triplet_margin", 60, 5);
    config.loss.params.numbers["margin"] = 2.0;
    config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
    config.batch.classesPerBatch = 2;
    config.batch.samplesPerClass = 3;
    Trainer trainer(config);
    const auto snapshot = trainer.step(1);
    int moved = 0;
    for (Eigen::Index i = 0; i < snapshot->gradient.rows(); ++i) moved += snapshot->gradient.row(i).isZero() ? 0 : 1;
    EXPECT_GT(moved, 0);
    EXPECT_LE(moved, 6);
}

TEST(Trainer, OwnedParametersAreInitialisedAndLearned) {
    TrainerConfig config = blobsConfig("softmax", 60, 3);
    Trainer trainer(config);
    const Points start = trainer.snapshot()->owned;
    ASSERT_EQ(start.rows(), 3);
    ASSERT_EQ(start.cols(), 2);
    EXPECT_NE(trainer.step(3)->owned, start);
}

TEST(Trainer, LearnedMarginBetaStartsAtPmlsBetaForEveryClass) {
    TrainerConfig config = blobsConfig("margin_learn_beta", 60, 3);
    {
        Trainer trainer(config);
        const Points owned = trainer.snapshot()->owned;
        ASSERT_EQ(owned.rows(), 3);
        ASSERT_EQ(owned.cols(), 2);
        for (int c = 0; c < 3; ++c) {
            EXPECT_EQ(owned(c, 0), 1.2) << "class " << c;  // PML: ones(num_classes) * 1.2
            EXPECT_EQ(owned(c, 1), 0.0) << "class " << c;  // unused column
        }
        // β is learned from there: it moves and stays per class.
        const Points later = trainer.step(5)->owned;
        EXPECT_NE(later.col(0), owned.col(0));
        EXPECT_EQ(later.col(1), owned.col(1));
    }
    config.loss.params.numbers["beta"] = 0.7;
    EXPECT_EQ(Trainer(config).snapshot()->owned.col(0), Eigen::VectorXd::Constant(3, 0.7));
    // An explicit start wins over the loss's initial values.
    Points explicitOwned(3, 2);
    explicitOwned << 0.5, 9, 0.6, 9, 0.8, 9;
    config.owned = explicitOwned;
    EXPECT_EQ(Trainer(config).snapshot()->owned, explicitOwned);
    // Switching a running trainer to the learned β starts β there too.
    Trainer switched(blobsConfig("margin", 60, 3));
    config.owned.reset();
    ASSERT_TRUE(switched.reconfigure(config.loss, std::nullopt, config.optimizer, config.batch, nullptr));
    EXPECT_EQ(switched.snapshot()->owned.col(0), Eigen::VectorXd::Constant(3, 0.7));
}

TEST(Trainer, OwnedParametersWithoutInitialValuesKeepTheSeededNormalRows) {
    // Class weights, proxies and centers start from the trainer's seeded N(0,1) draw: the same rows
    // for every loss with one block (what the PML comparisons were run with), not a constant.
    const Points softmax = Trainer(blobsConfig("softmax", 60, 3)).snapshot()->owned;
    const Points proxies = Trainer(blobsConfig("proxy_anchor", 60, 3)).snapshot()->owned;
    EXPECT_EQ(softmax, proxies);
    EXPECT_GT((softmax.rowwise() - softmax.row(0)).norm(), 0.1);
    const Points centers = Trainer(blobsConfig("soft_triple", 60, 3)).snapshot()->owned;
    ASSERT_EQ(centers.rows(), 30);
    EXPECT_EQ(centers.topRows(3), softmax);  // the same stream, continued for the other blocks
    for (const LossInfo& info : lossCatalog())
        if (info.initialOwned) {
            EXPECT_EQ(info.name, "margin_learn_beta") << "a new initial-value hook: test its values";
        }
}

TEST(Trainer, EditingPointsKeepsTheRunAndTrainsTheNewPoint) {
    TrainerConfig config = blobsConfig("softmax", 60, 3);
    Trainer trainer(config);
    const auto before = trainer.step(10);
    Points edited(61, 2);
    edited.topRows(60) = before->positions;
    edited.row(60) << 4.0, -4.0;
    Labels labels = config.labels;
    labels.push_back(2);
    std::string error;
    ASSERT_TRUE(trainer.editPoints(edited, labels, &error)) << error;
    const auto after = trainer.snapshot();
    EXPECT_EQ(after->step, 10);                 // the run goes on …
    EXPECT_EQ(after->owned, before->owned);     // … with the learned class weights
    EXPECT_EQ(after->positions, edited);
    EXPECT_FALSE(after->deadGradient);
    EXPECT_EQ(trainer.config().labels.size(), 61u);
    const auto later = trainer.step(5);
    EXPECT_EQ(later->step, 15);
    EXPECT_NE(later->positions.row(60), edited.row(60));  // the new point is trained like the others

    // The same edit at the same step gives the same trajectory.
    Trainer again(config);
    again.step(10);
    ASSERT_TRUE(again.editPoints(edited, labels, &error));
    expectSameSnapshot(*again.step(5), *later);
}

TEST(Trainer, BadEditsAreRefusedAndChangeNothing) {
    TrainerConfig config = blobsConfig("triplet_margin", 30, 3);
    Trainer trainer(config);
    const auto before = trainer.step(2);
    std::string error;
    EXPECT_FALSE(trainer.editPoints(before->positions, Labels(30, 3), &error));  // class 3 of 3
    EXPECT_NE(error.find("label 3"), std::string::npos) << error;
    EXPECT_FALSE(trainer.editPoints(Points::Zero(30, 3), config.labels, &error));
    EXPECT_FALSE(trainer.editPoints(before->positions.topRows(1), Labels{0}, &error));
    EXPECT_EQ(trainer.snapshot(), before);
}

TEST(Trainer, DivergenceStopsAndKeepsTheLastFiniteState) {
    TrainerConfig config = blobsConfig("softmax", 30, 3);
    config.optimizer.kind = OptimizerKind::Sgd;
    config.optimizer.learningRate = 1e200;
    config.optimizer.ownedLearningRate = 1e200;
    Trainer trainer(config);
    const auto end = trainer.step(50);
    ASSERT_EQ(end->status, TrainStatus::Diverged);
    EXPECT_LT(end->step, 50);
    EXPECT_TRUE(end->positions.allFinite());
    EXPECT_TRUE(end->owned.allFinite());
    EXPECT_NE(end->message.find("non-finite"), std::string::npos);
    const auto again = trainer.step(5);
    EXPECT_EQ(again->step, end->step);
    EXPECT_EQ(again->positions, end->positions);
}

TEST(Trainer, CoordinatesThatWouldOverflowDistancesCountAsDivergence) {
    // Squared distances of points near 1e300 are infinite; ∞ − ∞ inside the triplet loss is NaN
    // and relu(NaN) reads as a zero loss, so the guard has to look at the coordinates.
    TrainerConfig config = blobsConfig("triplet_margin", 30, 3);
    config.loss.distance = DistanceSpec::lp(2, false);
    config.loss.params.numbers["margin"] = 100.0;  // every triplet active
    config.optimizer.kind = OptimizerKind::Sgd;
    config.optimizer.learningRate = 1e300;
    Trainer trainer(config);
    const auto end = trainer.step(10);
    ASSERT_EQ(end->status, TrainStatus::Diverged);
    EXPECT_LE(end->positions.cwiseAbs().maxCoeff(), 1e150);
    EXPECT_EQ(end->positions, config.points);  // the very first update was refused
}

TEST(Trainer, StopRequestCancelsBetweenSteps) {
    Trainer trainer(blobsConfig("triplet_margin"));
    std::stop_source source;
    source.request_stop();
    const auto snapshot = trainer.step(10, source.get_token());
    EXPECT_EQ(snapshot->status, TrainStatus::Cancelled);
    EXPECT_EQ(snapshot->step, 0);
}

TEST(Trainer, CollapseIndicatorFallsWhenPointsContract) {
    // With a single class the contrastive loss has only positive pairs: it pulls everything together.
    TrainerConfig config = blobsConfig("contrastive", 40, 2);
    std::fill(config.labels.begin(), config.labels.end(), 0);
    config.numClasses = 1;
    config.loss.distance = DistanceSpec::lp(1, false);
    config.optimizer.learningRate = 0.05;
    config.metricsEvery = 1;
    Trainer trainer(config);
    EXPECT_DOUBLE_EQ(trainer.snapshot()->metrics.collapse, 1.0);
    EXPECT_LT(trainer.step(200)->metrics.collapse, 0.2);
}

TEST(Trainer, InvalidConfigurationsAreExplained) {
    std::string error;
    TrainerConfig config = blobsConfig("triplet_margin");
    config.labels[3] = 9;
    EXPECT_FALSE(config.isValid(&error));
    EXPECT_NE(error.find("label 9 of point 3"), std::string::npos) << error;

    config = blobsConfig("softmax");
    config.miner = MinerConfig{"batch_hard", {}, std::nullopt};
    EXPECT_FALSE(config.isValid(&error));
    EXPECT_NE(error.find("does not use a miner"), std::string::npos) << error;

    config = blobsConfig("no_such_loss");
    EXPECT_FALSE(config.isValid(&error));
    EXPECT_NE(error.find("unknown loss"), std::string::npos) << error;

    config = blobsConfig("triplet_margin");
    config.loss.params.numbers["margin"] = std::nan("");
    EXPECT_FALSE(config.isValid(&error));

    config = blobsConfig("softmax");
    config.owned = Points::Zero(2, 2);
    EXPECT_FALSE(config.isValid(&error));
    EXPECT_NE(error.find("3×2"), std::string::npos) << error;
}

}  // namespace
}  // namespace marginlab

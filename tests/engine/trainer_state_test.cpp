// SPDX-License-Identifier: MIT
// The trainer's snapshots and state: one snapshot per chunk with the same numbers as stepping one
// at a time, a step-0 snapshot that evaluates what the first step will, reconfiguring a running
// trainer, and continuing a run from a saved moment bit for bit.
#include "marginlab/generators.h"
#include "marginlab/metrics.h"
#include "marginlab/trainer.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cmath>
#include <cstring>

namespace marginlab {
namespace {

TrainerConfig blobs(const std::string& loss, int points = 60, int classes = 4, Real noise = 1.2) {
    TrainerConfig config = testing::blobsRun(points, classes, 11, noise);
    config.loss.name = loss;
    config.optimizer.learningRate = 0.03;
    config.seed = 5;
    config.metricsEvery = 5;
    return config;
}

TrainerConfig minedTriplets(const std::string& miner) {
    TrainerConfig config = blobs("triplet_margin");
    config.loss.params.numbers["margin"] = 0.4;
    config.miner = MinerConfig{miner, {}, std::nullopt};
    return config;
}

bool sameBits(const Points& a, const Points& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 ||
            std::memcmp(a.data(), b.data(), sizeof(Real) * static_cast<std::size_t>(a.size())) == 0);
}

bool sameBits(Real a, Real b) {
    return std::memcmp(&a, &b, sizeof(Real)) == 0;
}

void expectSameStats(const LossStats& a, const LossStats& b) {
    EXPECT_EQ(a.tupleKind, b.tupleKind);
    EXPECT_EQ(a.tuples, b.tuples);
    EXPECT_EQ(a.active, b.active);
    EXPECT_EQ(a.hasRegions, b.hasRegions);
    EXPECT_EQ(a.easy, b.easy);
    EXPECT_EQ(a.semiHard, b.semiHard);
    EXPECT_EQ(a.hard, b.hard);
}

void expectSameCounts(const MinerCounts& a, const MinerCounts& b) {
    EXPECT_EQ(a.triplets, b.triplets);
    EXPECT_EQ(a.positivePairs, b.positivePairs);
    EXPECT_EQ(a.negativePairs, b.negativePairs);
}

/// Everything a step reports, bit for bit (metrics aside: they depend on when they were due).
void expectSameStep(const Snapshot& a, const Snapshot& b) {
    EXPECT_EQ(a.step, b.step);
    EXPECT_TRUE(sameBits(a.positions, b.positions));
    EXPECT_TRUE(sameBits(a.owned, b.owned));
    EXPECT_TRUE(sameBits(a.gradient, b.gradient));
    EXPECT_TRUE(sameBits(a.loss, b.loss)) << a.loss << " vs " << b.loss;
    expectSameStats(a.stats, b.stats);
    expectSameCounts(a.minerCounts, b.minerCounts);
    EXPECT_EQ(a.deadGradient, b.deadGradient);
}

// ---- one snapshot per chunk ----

TEST(TrainerChunks, AChunkEndsWhereSingleStepsEnd) {
    std::vector<TrainerConfig> configs = {minedTriplets("batch_hard"), minedTriplets("random_negative"),
                                          blobs("softmax"), blobs("nce")};
    configs[1].batch = BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 3, 5};
    configs[3].batch = BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 2, 12};
    configs[2].optimizer.kind = OptimizerKind::Momentum;
    for (const TrainerConfig& config : configs) {
        SCOPED_TRACE(config.loss.name + (config.miner ? " + " + config.miner->name : ""));
        Trainer chunked(config), single(config);
        std::shared_ptr<const Snapshot> last;
        for (int s = 0; s < 13; ++s) last = single.step(1);
        const auto chunk = chunked.step(13);
        expectSameStep(*chunk, *last);
        EXPECT_GT(chunk->loss, 0.0);  // the run does something
        EXPECT_FALSE(sameBits(chunk->positions, config.points));
        if (config.miner) {
            EXPECT_GT(chunk->minerCounts.triplets, 0);
        }
    }
}

TEST(TrainerChunks, MetricsAreComputedAtTheEndOfAChunkThatCrossedADueStep) {
    const TrainerConfig config = blobs("contrastive");  // metricsEvery = 5
    Trainer chunked(config), single(config);

    auto snapshot = chunked.step(7);  // crosses step 5: metrics of step 7
    EXPECT_EQ(snapshot->metrics.step, 7);
    const RetrievalMetrics retrieval =
        retrievalMetrics(snapshot->positions, snapshot->labels, DistanceSpec::lp(1, true));
    EXPECT_EQ(snapshot->metrics.precisionAt1, retrieval.precisionAt1);
    EXPECT_EQ(snapshot->metrics.mapAtR, retrieval.mapAtR);
    EXPECT_EQ(snapshot->metrics.rPrecision, retrieval.rPrecision);

    snapshot = chunked.step(2);  // steps 8, 9: nothing due, the metrics of step 7 stay
    EXPECT_EQ(snapshot->metrics.step, 7);
    snapshot = chunked.step(1);  // step 10 is due
    EXPECT_EQ(snapshot->metrics.step, 10);

    // One step at a time: exactly at the multiples of metricsEvery, as before chunks existed.
    for (int s = 1; s <= 10; ++s) {
        const auto one = single.step(1);
        EXPECT_EQ(one->metrics.step, s < 5 ? 0 : (s < 10 ? 5 : 10)) << s;
    }
    EXPECT_EQ(single.snapshot()->metrics.precisionAt1, snapshot->metrics.precisionAt1);
    EXPECT_EQ(single.snapshot()->metrics.collapse, snapshot->metrics.collapse);
}

TEST(TrainerChunks, DivergenceInsideAChunkReportsTheLastFiniteStep) {
    TrainerConfig config = blobs("softmax", 30, 3);
    config.optimizer.kind = OptimizerKind::Sgd;
    config.optimizer.learningRate = 1e120;
    config.optimizer.ownedLearningRate = 1e120;
    Trainer single(config);
    std::shared_ptr<const Snapshot> lastGood;
    for (int s = 0; s < 50; ++s) {
        const auto snapshot = single.step(1);
        if (snapshot->status == TrainStatus::Diverged) break;
        lastGood = snapshot;
    }
    ASSERT_TRUE(lastGood);
    ASSERT_GT(lastGood->step, 0);  // at least one update succeeded, so the chunk has something to report
    Trainer chunked(config);
    const auto end = chunked.step(50);
    ASSERT_EQ(end->status, TrainStatus::Diverged);
    expectSameStep(*end, *lastGood);
    EXPECT_EQ(end->message, single.snapshot()->message);
}

// ---- the step-0 snapshot evaluates what the first step will ----

TEST(TrainerStepZero, MinedLossAtTheStartIsTheMinedEvaluation) {
    for (const char* minerName : {"batch_hard", "triplet_margin"}) {
        SCOPED_TRACE(minerName);
        const TrainerConfig config = minedTriplets(minerName);
        Trainer trainer(config);
        const auto start = trainer.snapshot();

        // Both miners are deterministic: the seed does not matter for the direct evaluation.
        std::string error;
        const auto miner = makeMiner(*config.miner, &error);
        const auto loss = makeLoss(config.loss, &error);
        const Tuples tuples = miner->mine(MinerInput{config.points, config.labels, 0});
        const LossOutput mined =
            loss->evaluate(LossInput{config.points, config.labels, nullptr, &tuples, 0}, true);
        const LossOutput all =
            loss->evaluate(LossInput{config.points, config.labels, nullptr, nullptr, 0}, false);
        ASSERT_NE(mined.value, all.value);  // the miner makes a difference here

        EXPECT_EQ(start->step, 0);
        EXPECT_TRUE(sameBits(start->loss, mined.value)) << start->loss << " vs " << mined.value;
        expectSameStats(start->stats, mined.stats);
        expectSameCounts(start->minerCounts, countTuples(tuples, config.points, config.labels));
        EXPECT_GT(start->minerCounts.triplets, 0);
        EXPECT_TRUE(sameBits(start->gradient, mined.gradEmbeddings));

        // … and the first step reports the same evaluation (no spike at step 1).
        const auto first = trainer.step(1);
        EXPECT_TRUE(sameBits(first->loss, start->loss));
        EXPECT_TRUE(sameBits(first->gradient, start->gradient));
        expectSameStats(first->stats, start->stats);
        expectSameCounts(first->minerCounts, start->minerCounts);
    }
}

TEST(TrainerStepZero, RandomMinersAndSampledBatchesUseTheFirstStepsDraws) {
    TrainerConfig config = minedTriplets("random_negative");
    config.batch = BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 3, 4};
    Trainer trainer(config);
    const auto start = trainer.snapshot();
    int touched = 0;
    for (Eigen::Index i = 0; i < start->gradient.rows(); ++i)
        touched += start->gradient.row(i).isZero() ? 0 : 1;
    EXPECT_GT(touched, 0);
    EXPECT_LE(touched, 12);  // only the P×K batch of step 0
    const auto first = trainer.step(1);
    EXPECT_TRUE(sameBits(first->loss, start->loss));
    EXPECT_TRUE(sameBits(first->gradient, start->gradient));
    expectSameCounts(first->minerCounts, start->minerCounts);

    // NCE samples its negatives with the loss's seed of the step.
    TrainerConfig nce = blobs("nce");
    Trainer sampling(nce);
    const Real before = sampling.snapshot()->loss;
    EXPECT_TRUE(sameBits(sampling.step(1)->loss, before));
}

TEST(TrainerStepZero, AfterAnEditTheSnapshotEvaluatesTheNextStep) {
    const TrainerConfig config = minedTriplets("batch_hard");
    Trainer trainer(config);
    const auto before = trainer.step(8);
    Points edited = before->positions;
    edited.row(3) << 0.5, -0.25;
    std::string error;
    ASSERT_TRUE(trainer.editPoints(edited, before->labels, &error)) << error;
    const auto now = trainer.snapshot();
    EXPECT_EQ(now->step, 8);

    const auto miner = makeMiner(*config.miner, &error);
    const auto loss = makeLoss(config.loss, &error);
    const Tuples tuples = miner->mine(MinerInput{edited, config.labels, 0});
    const LossOutput mined = loss->evaluate(LossInput{edited, config.labels, nullptr, &tuples, 0}, true);
    EXPECT_TRUE(sameBits(now->loss, mined.value));
    expectSameCounts(now->minerCounts, countTuples(tuples, edited, config.labels));
    EXPECT_TRUE(sameBits(trainer.step(1)->loss, now->loss));
}

// ---- reconfigure ----

TEST(TrainerReconfigure, KeepsThePointsAndGoesOnFromTheSameStep) {
    TrainerConfig config = minedTriplets("batch_hard");
    Trainer trainer(config);
    const auto before = trainer.step(10);
    const std::uint64_t revision = before->revision;
    LossConfig loss = config.loss;
    loss.params.numbers["margin"] = 0.1;
    std::string error;
    ASSERT_TRUE(trainer.reconfigure(loss, MinerConfig{"triplet_margin", {}, std::nullopt}, config.optimizer,
                                    config.batch, &error))
        << error;
    const auto now = trainer.snapshot();
    EXPECT_EQ(now->step, 10);
    EXPECT_TRUE(sameBits(now->positions, before->positions));
    EXPECT_EQ(now->labels, before->labels);
    EXPECT_GT(now->revision, revision);
    EXPECT_EQ(trainer.config().loss.params.numbers.at("margin"), 0.1);
    ASSERT_TRUE(trainer.config().miner);
    EXPECT_EQ(trainer.config().miner->name, "triplet_margin");

    // The snapshot evaluates the new settings at the unchanged points.
    const auto miner = makeMiner(MinerConfig{"triplet_margin", {}, std::nullopt}, &error);
    const auto newLoss = makeLoss(loss, &error);
    const Tuples tuples = miner->mine(MinerInput{before->positions, before->labels, 0});
    const LossOutput expected =
        newLoss->evaluate(LossInput{before->positions, before->labels, nullptr, &tuples, 0}, false);
    EXPECT_TRUE(sameBits(now->loss, expected.value));
    EXPECT_NE(now->loss, before->loss);

    // Training goes on from step 10, with the same optimizer state: equal to a run that had
    // these settings and this optimizer state from a saved moment of step 10.
    Trainer reference = [&] {
        Trainer original(config);
        original.step(10);
        TrainerConfig resumed = config;
        resumed.loss = loss;
        resumed.miner = MinerConfig{"triplet_margin", {}, std::nullopt};
        resumed.start = original.savedState();
        return Trainer(resumed);
    }();
    expectSameStep(*trainer.step(5), *reference.step(5));
}

TEST(TrainerReconfigure, OwnedParametersAndOptimizerStateFollowTheRules) {
    TrainerConfig config = blobs("softmax", 60, 3);
    Trainer trainer(config);
    const auto trained = trainer.step(6);
    std::string error;

    // Same owned shape (softmax → cosface: one block of class weights), same optimizer kind:
    // weights and moments are kept, a new learning rate applies from the next step.
    LossConfig cosface{"cosface", {}, std::nullopt};
    OptimizerConfig faster = config.optimizer;
    faster.learningRate = 0.1;
    ASSERT_TRUE(trainer.reconfigure(cosface, std::nullopt, faster, config.batch, &error)) << error;
    EXPECT_TRUE(sameBits(trainer.snapshot()->owned, trained->owned));
    const TrainerStart kept = trainer.savedState();
    ASSERT_TRUE(kept.optimizer);
    EXPECT_EQ(kept.optimizer->groups[0].steps, 6);
    EXPECT_EQ(kept.optimizer->groups[1].steps, 6);

    // A different owned shape (center loss: weights and centers, 2C rows) starts them as a new
    // run would; another optimizer kind starts the optimizer afresh.
    OptimizerConfig momentum = config.optimizer;
    momentum.kind = OptimizerKind::Momentum;
    ASSERT_TRUE(trainer.reconfigure(LossConfig{"center", {}, std::nullopt}, std::nullopt, momentum,
                                    config.batch, &error))
        << error;
    TrainerConfig fresh = config;
    fresh.loss = LossConfig{"center", {}, std::nullopt};
    EXPECT_TRUE(sameBits(trainer.snapshot()->owned, Trainer(fresh).snapshot()->owned));
    EXPECT_EQ(trainer.snapshot()->owned.rows(), 6);
    const TrainerStart restarted = trainer.savedState();
    EXPECT_EQ(restarted.optimizer->kind, OptimizerKind::Momentum);
    EXPECT_EQ(restarted.optimizer->groups[0].steps, 0);
    EXPECT_EQ(restarted.optimizer->groups[1].steps, 0);
    EXPECT_EQ(trainer.step(2)->step, 8);
}

TEST(TrainerReconfigure, InvalidSettingsAreRefusedAndChangeNothing) {
    const TrainerConfig config = blobs("softmax", 30, 3);
    Trainer trainer(config);
    const auto before = trainer.step(3);
    std::string error;
    EXPECT_FALSE(trainer.reconfigure(config.loss, MinerConfig{"batch_hard", {}, std::nullopt},
                                     config.optimizer, config.batch, &error));
    EXPECT_NE(error.find("does not use a miner"), std::string::npos) << error;
    LossConfig bad = config.loss;
    bad.params.numbers["no_such_parameter"] = 1.0;
    EXPECT_FALSE(trainer.reconfigure(bad, std::nullopt, config.optimizer, config.batch, &error));
    OptimizerConfig negative = config.optimizer;
    negative.learningRate = -1.0;
    EXPECT_FALSE(trainer.reconfigure(config.loss, std::nullopt, negative, config.batch, &error));
    EXPECT_NE(error.find("learning rate"), std::string::npos) << error;
    EXPECT_FALSE(trainer.reconfigure(config.loss, std::nullopt, config.optimizer,
                                     BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 0, 4}, &error));
    EXPECT_EQ(trainer.snapshot(), before);
    EXPECT_EQ(trainer.config().loss.name, "softmax");
    // Still the same run: it continues as an untouched one.
    Trainer untouched(config);
    untouched.step(3);
    expectSameStep(*trainer.step(4), *untouched.step(4));
}

TEST(TrainerReconfigure, ADivergedRunResumesWithSaferSettings) {
    TrainerConfig config = blobs("contrastive", 30, 3);
    config.optimizer.kind = OptimizerKind::Sgd;
    config.optimizer.learningRate = 1e300;
    config.loss.distance = DistanceSpec::lp(1, false);
    Trainer trainer(config);
    ASSERT_EQ(trainer.step(20)->status, TrainStatus::Diverged);
    OptimizerConfig safe = config.optimizer;
    safe.learningRate = 0.01;
    std::string error;
    ASSERT_TRUE(trainer.reconfigure(config.loss, std::nullopt, safe, config.batch, &error)) << error;
    EXPECT_EQ(trainer.snapshot()->status, TrainStatus::Running);
    const auto later = trainer.step(3);
    EXPECT_EQ(later->status, TrainStatus::Running);
    EXPECT_EQ(later->step, trainer.snapshot()->step);
}

// ---- a run continues from a saved moment ----

TEST(TrainerStart, ContinuingFromASavedMomentIsTheUninterruptedRun) {
    std::vector<TrainerConfig> configs = {minedTriplets("random_negative"), blobs("softmax"),
                                          blobs("center")};
    configs[0].batch = BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 3, 5};
    configs[1].optimizer.kind = OptimizerKind::Momentum;
    configs[1].optimizer.nesterov = true;
    configs[2].optimizer.weightDecay = 0.01;
    for (const TrainerConfig& config : configs) {
        SCOPED_TRACE(config.loss.name);
        Trainer whole(config);
        whole.step(30);
        Trainer first(config);
        first.step(15);
        TrainerConfig resumed = config;
        resumed.start = first.savedState();
        Trainer second(resumed);
        EXPECT_EQ(second.snapshot()->step, 15);
        EXPECT_TRUE(sameBits(second.snapshot()->positions, first.snapshot()->positions));
        expectSameStep(*second.step(15), *whole.snapshot());

        // Without the optimizer state it continues from the points, but not bit for bit with Adam.
        resumed.start->optimizer.reset();
        Trainer forgetful(resumed);
        EXPECT_FALSE(sameBits(forgetful.step(15)->positions, whole.snapshot()->positions));
    }
}

TEST(TrainerStart, BadStartsAreExplained) {
    const TrainerConfig config = blobs("softmax", 30, 3);
    Trainer trainer(config);
    trainer.step(4);
    std::string error;
    TrainerConfig bad = config;
    bad.start = trainer.savedState();
    ASSERT_TRUE(bad.isValid(&error)) << error;

    bad.start->step = -1;
    EXPECT_FALSE(bad.isValid(&error));
    EXPECT_NE(error.find("start step"), std::string::npos) << error;

    bad.start = trainer.savedState();
    bad.start->positions = Points::Zero(29, 2);
    EXPECT_FALSE(bad.isValid(&error));
    EXPECT_NE(error.find("30×2"), std::string::npos) << error;

    bad.start = trainer.savedState();
    bad.start->positions(2, 1) = std::nan("");
    EXPECT_FALSE(bad.isValid(&error));

    bad.start = trainer.savedState();
    bad.start->owned = Points::Zero(2, 2);
    EXPECT_FALSE(bad.isValid(&error));
    EXPECT_NE(error.find("3×2"), std::string::npos) << error;

    bad.start = trainer.savedState();
    bad.start->optimizer->groups[0].second(0, 0) = -1.0;
    EXPECT_FALSE(bad.isValid(&error));
    EXPECT_NE(error.find("second moment"), std::string::npos) << error;

    bad.start = trainer.savedState();
    bad.start->optimizer->kind = OptimizerKind::Momentum;
    EXPECT_FALSE(bad.isValid(&error));
    EXPECT_NE(error.find("momentum"), std::string::npos) << error;

    bad.start = trainer.savedState();
    bad.start->optimizer->groups[1].first.resize(0, 0);
    EXPECT_FALSE(bad.isValid(&error));
    EXPECT_NE(error.find("missing"), std::string::npos) << error;
}

}  // namespace
}  // namespace marginlab

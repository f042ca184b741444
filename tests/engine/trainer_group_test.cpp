// SPDX-License-Identifier: MIT
// TrainerGroup: panels share data, start and batch sequence, step in lockstep, and each equals
// its configuration run alone, bit for bit.
#include "marginlab/generators.h"
#include "marginlab/trainer_group.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cstring>

namespace marginlab {
namespace {

TrainerConfig base() {
    TrainerConfig config = testing::blobsRun(64, 4, 21, 1.4);
    config.loss.name = "triplet_margin";
    config.loss.params.numbers["margin"] = 0.3;
    config.optimizer.learningRate = 0.03;
    config.batch = BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 3, 8};
    config.seed = 17;
    config.metricsEvery = 5;
    return config;
}

TrainerConfig withMiner(const std::string& miner) {
    TrainerConfig config = base();
    config.miner = MinerConfig{miner, {}, std::nullopt};
    return config;
}

bool sameBits(const Points& a, const Points& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 ||
            std::memcmp(a.data(), b.data(), sizeof(Real) * static_cast<std::size_t>(a.size())) == 0);
}

void expectSame(const Snapshot& a, const Snapshot& b) {
    EXPECT_EQ(a.step, b.step);
    EXPECT_TRUE(sameBits(a.positions, b.positions));
    EXPECT_TRUE(sameBits(a.owned, b.owned));
    EXPECT_TRUE(sameBits(a.gradient, b.gradient));
    EXPECT_EQ(std::memcmp(&a.loss, &b.loss, sizeof(Real)), 0) << a.loss << " vs " << b.loss;
    EXPECT_EQ(a.stats.active, b.stats.active);
    EXPECT_EQ(a.minerCounts.triplets, b.minerCounts.triplets);
    EXPECT_EQ(a.metrics.step, b.metrics.step);
    EXPECT_EQ(a.metrics.precisionAt1, b.metrics.precisionAt1);
}

TEST(TrainerGroup, IdenticalPanelsStayIdentical) {
    TrainerGroup group({withMiner("batch_hard"), withMiner("batch_hard"), withMiner("batch_hard")});
    for (int chunk = 0; chunk < 3; ++chunk) {
        const GroupSnapshot snapshot = group.step(6);
        ASSERT_EQ(snapshot.panels.size(), 3u);
        EXPECT_EQ(snapshot.panels[0]->step, 6 * (chunk + 1));
        expectSame(*snapshot.panels[1], *snapshot.panels[0]);
        expectSame(*snapshot.panels[2], *snapshot.panels[0]);
    }
    EXPECT_FALSE(sameBits(group.snapshot().panels[0]->positions, base().points));
}

TEST(TrainerGroup, APanelEqualsItsConfigurationRunAlone) {
    std::vector<TrainerConfig> configs = {withMiner("batch_hard"), withMiner("random_negative"), base(),
                                          base()};
    configs[2].loss = LossConfig{"proxy_nca", {}, std::nullopt};
    configs[3].loss = LossConfig{"proxy_anchor", {}, std::nullopt};
    configs[3].optimizer.kind = OptimizerKind::Momentum;
    TrainerGroup group(configs);
    group.step(7);
    const GroupSnapshot snapshot = group.step(13);
    for (std::size_t i = 0; i < configs.size(); ++i) {
        SCOPED_TRACE(i);
        Trainer alone(configs[i]);
        expectSame(*snapshot.panels[i], *alone.step(20));
    }
    // Proxy NCA and proxy anchor own one block of proxies each: they started from the same ones.
    Trainer nca(configs[2]), anchor(configs[3]);
    EXPECT_TRUE(sameBits(nca.snapshot()->owned, anchor.snapshot()->owned));
}

TEST(TrainerGroup, DifferentMinersDivergeFromTheSameStart) {
    TrainerGroup group({withMiner("batch_hard"), withMiner("triplet_margin"), withMiner("random_negative")});
    const GroupSnapshot start = group.snapshot();
    for (std::size_t i = 1; i < 3; ++i)
        EXPECT_TRUE(sameBits(start.panels[i]->positions, start.panels[0]->positions));
    // The same batch of step 0 for all: the same points carry a gradient, whatever the miner picks.
    const GroupSnapshot later = group.step(10);
    EXPECT_FALSE(sameBits(later.panels[0]->positions, later.panels[1]->positions));
    EXPECT_FALSE(sameBits(later.panels[0]->positions, later.panels[2]->positions));
    EXPECT_FALSE(sameBits(later.panels[1]->positions, later.panels[2]->positions));
    for (const auto& panel : later.panels) EXPECT_EQ(panel->step, 10);
}

TEST(TrainerGroup, PanelLimitAndMismatchedRunsAreRefused) {
    std::string error;
    EXPECT_FALSE(TrainerGroup::isValid({}, &error));
    EXPECT_NE(error.find("at least one panel"), std::string::npos) << error;
    EXPECT_FALSE(TrainerGroup::isValid(std::vector<TrainerConfig>(5, base()), &error));
    EXPECT_NE(error.find("at most 4 panels"), std::string::npos) << error;
    EXPECT_TRUE(TrainerGroup::isValid(std::vector<TrainerConfig>(4, base()), &error)) << error;

    TrainerConfig moved = base();
    moved.points(3, 0) += 1e-9;
    EXPECT_FALSE(TrainerGroup::isValid({base(), moved}, &error));
    EXPECT_NE(error.find("panel 2 and panel 1 have different data"), std::string::npos) << error;

    TrainerConfig relabelled = base();
    relabelled.labels[0] = (relabelled.labels[0] + 1) % 4;
    EXPECT_FALSE(TrainerGroup::isValid({base(), base(), relabelled}, &error));
    EXPECT_NE(error.find("panel 3 and panel 1 have different data"), std::string::npos) << error;

    TrainerConfig reseeded = base();
    reseeded.seed = 18;
    EXPECT_FALSE(TrainerGroup::isValid({base(), reseeded}, &error));
    EXPECT_NE(error.find("different seeds"), std::string::npos) << error;

    TrainerConfig fullBatch = base();
    fullBatch.batch = BatchConfig{};
    EXPECT_FALSE(TrainerGroup::isValid({base(), fullBatch}, &error));
    EXPECT_NE(error.find("batch"), std::string::npos) << error;

    TrainerConfig invalid = base();
    invalid.loss.name = "no_such_loss";
    EXPECT_FALSE(TrainerGroup::isValid({base(), invalid}, &error));
    EXPECT_NE(error.find("panel 2: unknown loss"), std::string::npos) << error;

    TrainerConfig softmax = base(), cosface = base();
    softmax.loss = LossConfig{"softmax", {}, std::nullopt};
    cosface.loss = LossConfig{"cosface", {}, std::nullopt};
    cosface.owned = Points::Ones(4, 2);
    EXPECT_FALSE(TrainerGroup::isValid({softmax, cosface}, &error));
    EXPECT_NE(error.find("different loss parameters"), std::string::npos) << error;
}

TEST(TrainerGroup, ReconfigureChangesOnePanelAndEditsChangeAll) {
    TrainerGroup group({withMiner("batch_hard"), withMiner("batch_hard")});
    group.step(5);
    std::string error;
    const TrainerConfig config = withMiner("batch_hard");
    ASSERT_TRUE(group.reconfigure(1, config.loss, MinerConfig{"random_negative", {}, std::nullopt},
                                  config.optimizer, &error))
        << error;
    EXPECT_EQ(group.panel(0).config().miner->name, "batch_hard");
    EXPECT_EQ(group.panel(1).config().miner->name, "random_negative");
    EXPECT_FALSE(group.reconfigure(2, config.loss, std::nullopt, config.optimizer, &error));
    EXPECT_NE(error.find("no panel 3"), std::string::npos) << error;
    GroupSnapshot snapshot = group.step(5);
    EXPECT_FALSE(sameBits(snapshot.panels[0]->positions, snapshot.panels[1]->positions));

    // An edit reaches every panel; a bad one reaches none.
    Points edited = snapshot.panels[0]->positions;
    edited.row(0) << 2.0, 2.0;
    EXPECT_FALSE(group.editPoints(edited, Labels(64, 9), &error));
    EXPECT_EQ(group.snapshot().panels[1], snapshot.panels[1]);
    ASSERT_TRUE(group.editPoints(edited, config.labels, &error)) << error;
    for (const auto& panel : group.snapshot().panels) {
        EXPECT_TRUE(sameBits(panel->positions, edited));
        EXPECT_EQ(panel->step, 10);
    }

    // Batch settings are shared: they change for every panel.
    EXPECT_FALSE(group.setBatch(BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 0, 3}, &error));
    ASSERT_TRUE(group.setBatch(BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 2, 4}, &error)) << error;
    for (std::size_t i = 0; i < group.size(); ++i)
        EXPECT_EQ(group.panel(i).config().batch.classesPerBatch, 2);
    snapshot = group.step(3);
    for (const auto& panel : snapshot.panels) EXPECT_EQ(panel->step, 13);
}

TEST(TrainerGroup, AStoppedChunkIsCaughtUpByTheNextOne) {
    TrainerGroup group({base(), base()});
    std::stop_source stop;
    stop.request_stop();
    const GroupSnapshot stopped = group.step(4, stop.get_token());
    EXPECT_EQ(stopped.panels[0]->step, 0);
    const GroupSnapshot next = group.step(2);
    EXPECT_EQ(group.step(), 6);
    for (const auto& panel : next.panels) EXPECT_EQ(panel->step, 6);
    Trainer alone(base());
    expectSame(*next.panels[1], *alone.step(6));
}

TEST(TrainerGroup, PanelsCanStartFromASavedMoment) {
    Trainer saved(withMiner("batch_hard"));
    saved.step(9);
    TrainerConfig hard = withMiner("batch_hard"), random = withMiner("random_negative");
    hard.start = saved.savedState();
    random.start = saved.savedState();
    random.start->optimizer.reset();  // a panel may start the optimizer afresh from the same points
    TrainerGroup group({hard, random});
    EXPECT_EQ(group.step(), 9);
    const GroupSnapshot snapshot = group.step(4);
    for (const auto& panel : snapshot.panels) EXPECT_EQ(panel->step, 13);
    Trainer whole(withMiner("batch_hard"));
    expectSame(*snapshot.panels[0], *whole.step(13));  // the saved run goes on as if uninterrupted

    TrainerConfig elsewhere = random;
    elsewhere.start->step = 8;
    std::string error;
    EXPECT_FALSE(TrainerGroup::isValid({hard, elsewhere}, &error));
    EXPECT_NE(error.find("different moments"), std::string::npos) << error;
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// MultipleLosses (PML's wrapper): the weighted sum of catalogue losses, checked against the
// components evaluated one by one on their own rows, and against central finite differences.
#include "marginlab/losses/multiple_losses.h"

#include <gtest/gtest.h>

#include <cmath>

#include "marginlab/generators.h"
#include "marginlab/history.h"
#include "marginlab/miner.h"
#include "marginlab/runinfo.h"
#include "marginlab/trainer.h"
#include "test_support.h"

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

LossConfig plain(const std::string& name, ParamValues params = {}) {
    return LossConfig{name, std::move(params), std::nullopt, {}};
}

ParamValues numbers(std::initializer_list<std::pair<const std::string, double>> values) {
    ParamValues p;
    for (const auto& [k, v] : values) p.numbers[k] = v;
    return p;
}

LossConfig sum(std::vector<LossComponent> components) {
    LossConfig config = plain("multiple_losses");
    config.components = std::move(components);
    return config;
}

std::unique_ptr<Loss> build(const LossConfig& config) {
    std::string error;
    auto loss = makeLoss(config, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

std::string errorOf(const LossConfig& config) {
    std::string error;
    EXPECT_FALSE(makeLoss(config, &error)) << "accepted";
    return error;
}

// ---------------------------------------------------------------------------------------------
// Value, gradients and components: the weighted sum of each component evaluated alone.

TEST(MultipleLosses, IsTheWeightedSumOfItsComponentsEvaluatedAloneOnTheirOwnRows) {
    // Triplet (owns nothing), ArcFace (1 block) and the center loss (2 blocks): 3·C owned rows.
    const std::vector<LossComponent> parts = {{plain("triplet_margin", numbers({{"margin", 0.2}})), 1.0},
                                              {plain("arcface", numbers({{"scale", 8.0}})), 0.5},
                                              {plain("center"), 0.25}};
    const auto loss = build(sum(parts));
    const int n = 14, classes = 3, d = 2;
    EXPECT_EQ(ownedBlocksOf(sum(parts)), 3);
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        const Points x = randomPoints(n, d, seed);
        const Labels y = randomLabels(n, classes, seed + 10);
        const Points owned = randomPoints(3 * classes, d, seed + 20);
        LossInput input{x, y, &owned, nullptr, seed};
        input.splitForces = true;
        const LossOutput out = loss->evaluate(input, true);

        // The reference: each loss built alone, given only its rows, its terms added by hand.
        Real value = 0.0;
        Points grad = Points::Zero(n, d), split = Points::Zero(n, d),
               gradOwned = Points::Zero(3 * classes, d);
        std::vector<Real> weighted;
        const int firstRow[] = {0, 0, classes};
        const int rows[] = {0, classes, 2 * classes};
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const auto alone = build(parts[i].loss);
            const Points own = owned.middleRows(firstRow[i], rows[i]);
            LossInput single{x, y, rows[i] ? &own : nullptr, nullptr, seed};
            single.splitForces = true;
            const LossOutput term = alone->evaluate(single, true);
            ASSERT_GT(std::abs(term.value), 1e-6)
                << "component " << i << " adds nothing: the test would be blind to it";
            value += parts[i].weight * term.value;
            weighted.push_back(parts[i].weight * term.value);
            grad += parts[i].weight * term.gradEmbeddings;
            split += parts[i].weight * term.gradFromPositives;
            if (rows[i]) gradOwned.middleRows(firstRow[i], rows[i]) = parts[i].weight * term.gradOwned;
        }
        EXPECT_NEAR(out.value, value, 1e-12 * std::abs(value));
        ASSERT_EQ(out.components.size(), 3u);
        for (std::size_t i = 0; i < 3; ++i)
            EXPECT_NEAR(out.components[i], weighted[i], 1e-12 * std::abs(weighted[i]));
        EXPECT_LE((out.gradEmbeddings - grad).cwiseAbs().maxCoeff(), 1e-12);
        EXPECT_LE((out.gradFromPositives - split).cwiseAbs().maxCoeff(), 1e-12);
        ASSERT_EQ(out.gradOwned.rows(), 3 * classes);
        EXPECT_LE((out.gradOwned - gradOwned).cwiseAbs().maxCoeff(), 1e-12);
        // The triplet's statistics (it has regions), not ArcFace's samples.
        EXPECT_EQ(out.stats.tupleKind, "triplets");
        EXPECT_TRUE(out.stats.hasRegions);
        // Without a gradient: the same value.
        EXPECT_EQ(loss->evaluate(LossInput{x, y, &owned, nullptr, seed}, false).value, out.value);
    }
}

TEST(MultipleLosses, MatchesCentralFiniteDifferencesInPointsAndOwnedRows) {
    const auto loss =
        build(sum({{plain("triplet_margin", numbers({{"margin", 0.3}, {"smooth_loss", 1}})), 0.7},
                   {plain("cosface", numbers({{"scale", 6.0}})), 0.3},
                   {plain("proxy_anchor"), 1.5}}));
    for (int d : {2, 3})
        for (std::uint64_t seed : {4u, 5u}) {
            const int n = 10, classes = 3;
            const Points x = randomPoints(n, d, seed * 7 + d);
            const Labels y = randomLabels(n, classes, seed);
            const Points owned = randomPoints(2 * classes, d, seed + 3);
            const LossInput input{x, y, &owned, nullptr, seed};
            ASSERT_GT(loss->evaluate(input, true).gradOwned.cwiseAbs().maxCoeff(), 1e-3);
            const auto error = finiteDifferenceError(*loss, input, 1e-6);
            EXPECT_LE(error.embeddings, 1e-6) << "D " << d << " seed " << seed;
            EXPECT_LE(error.owned, 1e-6) << "D " << d << " seed " << seed;
        }
}

TEST(MultipleLosses, AWeightScalesItsTermAndZeroRemovesIt) {
    const Points x = randomPoints(12, 2, 9);
    const Labels y = randomLabels(12, 3, 9);
    const LossInput input{x, y, nullptr, nullptr, 1};
    const Real triplet = build(plain("triplet_margin"))->evaluate(input, false).value;
    const Real contrastive = build(plain("contrastive"))->evaluate(input, false).value;
    ASSERT_GT(triplet, 0.0);
    ASSERT_GT(contrastive, 0.0);
    EXPECT_NEAR(build(sum({{plain("triplet_margin"), 2.0}, {plain("contrastive"), 0.0}}))
                    ->evaluate(input, false)
                    .value,
                2.0 * triplet, 1e-15);
    // Without components the catalogue's defaults: triplet + contrastive, both weighted 1 (PML's default
    // weight).
    EXPECT_NEAR(build(plain("multiple_losses"))->evaluate(input, false).value, triplet + contrastive, 1e-14);
}

// ---------------------------------------------------------------------------------------------
// Miners: the trainer's tuples reach every component that accepts a miner, and only those.

TEST(MultipleLosses, MinedTuplesReachTheComponentsThatAcceptAMiner) {
    const int n = 16, classes = 4;
    const Points x = randomPoints(n, 2, 31);
    const Labels y = randomLabels(n, classes, 32);
    const Points owned = randomPoints(classes, 2, 33);
    std::string error;
    const auto miner = makeMiner(MinerConfig{"batch_hard", {}, std::nullopt}, &error);
    ASSERT_TRUE(miner) << error;
    const Tuples tuples = miner->mine(MinerInput{x, y, 1});

    const auto loss = build(sum({{plain("triplet_margin", numbers({{"margin", 0.5}})), 1.0},
                                 {plain("normalized_softmax"), 0.5},
                                 {plain("contrastive"), 2.0}}));
    const LossOutput out = loss->evaluate(LossInput{x, y, &owned, &tuples, 1}, true);
    const Real tripletMined = build(plain("triplet_margin", numbers({{"margin", 0.5}})))
                                  ->evaluate(LossInput{x, y, nullptr, &tuples, 1}, false)
                                  .value;
    const Real tripletAll = build(plain("triplet_margin", numbers({{"margin", 0.5}})))
                                ->evaluate(LossInput{x, y, nullptr, nullptr, 1}, false)
                                .value;
    const Real softmax =
        build(plain("normalized_softmax"))->evaluate(LossInput{x, y, &owned, nullptr, 1}, false).value;
    const Real contrastiveMined =
        build(plain("contrastive"))->evaluate(LossInput{x, y, nullptr, &tuples, 1}, false).value;
    const Real contrastiveAll =
        build(plain("contrastive"))->evaluate(LossInput{x, y, nullptr, nullptr, 1}, false).value;
    ASSERT_NE(tripletMined, tripletAll);  // the miner changes both tuple losses, or the test is blind
    ASSERT_NE(contrastiveMined, contrastiveAll);
    ASSERT_EQ(out.components.size(), 3u);
    EXPECT_DOUBLE_EQ(out.components[0], tripletMined);
    EXPECT_DOUBLE_EQ(out.components[1], 0.5 * softmax);
    EXPECT_DOUBLE_EQ(out.components[2], 2.0 * contrastiveMined);
    EXPECT_NEAR(out.value, tripletMined + 0.5 * softmax + 2.0 * contrastiveMined, 1e-13);

    EXPECT_TRUE(acceptsMinerOf(sum({{plain("arcface"), 1.0}, {plain("triplet_margin"), 1.0}})));
    EXPECT_FALSE(acceptsMinerOf(sum({{plain("arcface"), 1.0}, {plain("normalized_softmax"), 1.0}})));
}

// ---------------------------------------------------------------------------------------------
// Configuration errors, each with a message that says what and where.

TEST(MultipleLosses, RefusesBadConfigurationsWithAMessage) {
    auto contains = [](const std::string& text, const std::string& part) {
        return text.find(part) != std::string::npos;
    };
    EXPECT_TRUE(contains(errorOf(sum({{plain("triplet_margin"), 1.0}})), "needs 2 to 4 components, not 1"));
    EXPECT_TRUE(contains(errorOf(sum(std::vector<LossComponent>(5, {plain("contrastive"), 1.0}))), "not 5"));
    const std::string nested =
        errorOf(sum({{plain("triplet_margin"), 1.0}, {plain("multiple_losses"), 1.0}}));
    EXPECT_TRUE(contains(nested, "component 2")) << nested;
    EXPECT_TRUE(contains(nested, "cannot contain another multiple_losses")) << nested;
    const std::string unknown = errorOf(sum({{plain("triplet_margin"), 1.0}, {plain("tripletz"), 1.0}}));
    EXPECT_TRUE(contains(unknown, "component 2: unknown loss 'tripletz'")) << unknown;
    const std::string badParam =
        errorOf(sum({{plain("arcface", numbers({{"margin", 500.0}})), 1.0}, {plain("triplet_margin"), 1.0}}));
    EXPECT_TRUE(contains(badParam, "component 1")) << badParam;
    EXPECT_TRUE(contains(badParam, "margin")) << badParam;
    for (Real weight : {-1.0, std::nan(""), HUGE_VAL, 2e6}) {
        const std::string bad =
            errorOf(sum({{plain("triplet_margin"), 1.0}, {plain("contrastive"), weight}}));
        EXPECT_TRUE(contains(bad, "component 2 (contrastive): weight must be between 0 and 1e6")) << bad;
    }
    LossConfig withParams = sum({{plain("triplet_margin"), 1.0}, {plain("contrastive"), 1.0}});
    withParams.params.numbers["margin"] = 0.1;
    EXPECT_TRUE(contains(errorOf(withParams), "no parameters of its own"));
    LossConfig withDistance = sum({{plain("triplet_margin"), 1.0}, {plain("contrastive"), 1.0}});
    withDistance.distance = DistanceSpec::cosine();
    EXPECT_TRUE(contains(errorOf(withDistance), "no distance of its own"));
    LossConfig notAWrapper = plain("triplet_margin");
    notAWrapper.components = {{plain("contrastive"), 1.0}, {plain("contrastive"), 1.0}};
    EXPECT_TRUE(contains(errorOf(notAWrapper), "takes no components"));
    // A component with a distance it cannot take.
    LossConfig badDistance = plain("arcface");
    badDistance.distance = DistanceSpec::lp(1, false);
    EXPECT_TRUE(contains(errorOf(sum({{plain("triplet_margin"), 1.0}, {badDistance, 1.0}})),
                         "component 2: loss arcface works only with"));
}

// ---------------------------------------------------------------------------------------------
// Owned rows: stacked in component order, each started as its loss starts them alone.

TEST(MultipleLosses, OwnedRowsStackInComponentOrderAndStartAsEachLossStartsThem) {
    const LossConfig config =
        sum({{plain("arcface"), 1.0}, {plain("margin_learn_beta", numbers({{"beta", 0.8}})), 1.0}});
    EXPECT_EQ(ownedBlocksOf(config), 2);
    const int classes = 3;
    Points owned = randomPoints(2 * classes, 2, 5);
    const Points before = owned;
    writeInitialOwned(config, owned);
    EXPECT_TRUE(owned.topRows(classes) == before.topRows(classes));  // ArcFace keeps its seeded rows
    for (int c = 0; c < classes; ++c) {
        EXPECT_EQ(owned(classes + c, 0), 0.8);  // PML: β = beta for every class
        EXPECT_EQ(owned(classes + c, 1), 0.0);
    }
    EXPECT_EQ(ownedBlocksOf(plain("multiple_losses")), 0);  // the defaults own nothing
    EXPECT_EQ(ownedBlocksOf(plain("soft_triple")), 10);
    EXPECT_EQ(ownedBlocksOf(plain("no_such_loss")), 0);
}

TEST(MultipleLosses, ViewsUseTheFirstComponentForTuplesAndTheFirstOwnerForClassRows) {
    const LossConfig config =
        sum({{plain("triplet_margin", numbers({{"margin", 0.3}})), 1.0}, {plain("arcface"), 0.5}});
    const RunInfo run = describeRun(config, MinerConfig{"batch_hard", {}, std::nullopt});
    ASSERT_TRUE(run.loss);
    EXPECT_EQ(run.loss->name, "multiple_losses");
    ASSERT_TRUE(run.ownerLoss);
    EXPECT_EQ(run.ownerLoss->name, "arcface");
    EXPECT_EQ(run.regions, ClassRegions::ClassWeights);
    EXPECT_EQ(run.ownedBlocks, 1);
    EXPECT_TRUE(run.hasClassWeights());
    ASSERT_TRUE(run.logits);
    EXPECT_TRUE(run.logits->hasMargin);
    EXPECT_EQ(run.tripletMargin, 0.3);
    EXPECT_TRUE(run.distance == DistanceSpec::lp(1, true));
    EXPECT_EQ(run.title,
              "Multiple losses: Triplet margin (margin 0.3) + 0.5 × ArcFace (additive angular margin), mined "
              "by Batch hard");
    // Without an owner the regions are the tuple losses' centroids.
    const RunInfo tuples = describeRun(plain("multiple_losses"), std::nullopt);
    EXPECT_EQ(tuples.regions, ClassRegions::NearestCentroid);
    EXPECT_EQ(tuples.ownedBlocks, 0);
    EXPECT_FALSE(tuples.ownerLoss);
    EXPECT_FALSE(tuples.logits);
    EXPECT_EQ(tuples.tripletMargin, 0.05);
}

// ---------------------------------------------------------------------------------------------
// Training: the trainer keeps the weighted components in every snapshot and the history.

TrainerConfig blobs(const LossConfig& loss) {
    TrainerConfig config = testing::blobsRun(40, 4, 2);
    config.loss = loss;
    config.optimizer.kind = OptimizerKind::Adam;
    config.optimizer.learningRate = 0.02;
    config.seed = 4;
    return config;
}

TEST(MultipleLosses, TrainerReportsEachWeightedComponentAndTheHistoryKeepsThem) {
    TrainerConfig config =
        blobs(sum({{plain("triplet_margin", numbers({{"margin", 0.2}})), 1.0}, {plain("arcface"), 0.25}}));
    config.miner = MinerConfig{"batch_hard", {}, std::nullopt};
    std::string error;
    ASSERT_TRUE(config.isValid(&error)) << error;
    Trainer trainer(config);
    RunHistory history;
    history.append(*trainer.snapshot());
    EXPECT_EQ(trainer.snapshot()->owned.rows(), 4);  // ArcFace's C×D class weights
    for (int chunk = 0; chunk < 5; ++chunk) {
        const auto s = trainer.step(4);
        history.append(*s);
        ASSERT_EQ(s->lossComponents.size(), 2u);
        EXPECT_NEAR(s->lossComponents[0] + s->lossComponents[1], s->loss,
                    1e-12 * std::max(1.0, std::abs(s->loss)));
        EXPECT_GT(s->lossComponents[1], 0.0);
    }
    const HistoryPoint& last = history.points().back();
    EXPECT_EQ(last.component1, trainer.snapshot()->lossComponents[0]);
    EXPECT_EQ(last.component2, trainer.snapshot()->lossComponents[1]);
    EXPECT_TRUE(std::isnan(last.component3));
    // A miner is refused when no component takes one.
    TrainerConfig noMiner = blobs(sum({{plain("arcface"), 1.0}, {plain("cosface"), 1.0}}));
    noMiner.miner = MinerConfig{"batch_hard", {}, std::nullopt};
    EXPECT_FALSE(noMiner.isValid(&error));
    EXPECT_NE(error.find("does not use a miner"), std::string::npos) << error;
    // A single loss reports no components.
    EXPECT_TRUE(Trainer(blobs(plain("triplet_margin"))).snapshot()->lossComponents.empty());
}

TEST(MultipleLosses, ReconfiguringToAnotherOwnerReseedsTheOwnedRows) {
    TrainerConfig config = blobs(sum({{plain("triplet_margin"), 1.0}, {plain("contrastive"), 1.0}}));
    Trainer trainer(config);
    trainer.step(3);
    EXPECT_EQ(trainer.snapshot()->owned.rows(), 0);
    std::string error;
    ASSERT_TRUE(trainer.reconfigure(sum({{plain("triplet_margin"), 1.0}, {plain("arcface"), 1.0}}),
                                    std::nullopt, config.optimizer, config.batch, &error))
        << error;
    EXPECT_EQ(trainer.snapshot()->owned.rows(), 4);
    EXPECT_EQ(trainer.snapshot()->step, 3);
    const auto s = trainer.step(2);
    EXPECT_EQ(s->lossComponents.size(), 2u);
}

}  // namespace
}  // namespace marginlab

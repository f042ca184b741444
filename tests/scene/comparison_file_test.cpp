// SPDX-License-Identifier: MIT
// Comparison files: panels share data, seed, batch and start and override loss / miner /
// optimizer; titles name what differs; save → open gives the same comparison; old single scenes
// open as one panel; and what cannot be compared is refused with the JSON path.
#include "marginlab/scene/comparisonfile.h"

#include "marginlab/trainer_group.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace marginlab {
namespace {

namespace fs = std::filesystem;
using json::Json;

const fs::path kComparisons = fs::path(MARGINLAB_SOURCE_DIR) / "resources/comparisons";

std::optional<ComparisonFile> parse(const Json& document, std::string* error) {
    return parseComparison(document, fs::path(MARGINLAB_SOURCE_DIR), error);
}

Json baseDocument() {
    return Json::parse(R"({"format": "marginlab-scene", "version": 1, "title": "t", "description": "look",
        "data": {"generator": "blobs", "params": {"points": 40, "classes": 4, "seed": 2}},
        "loss": {"name": "triplet_margin", "params": {"margin": 0.2}},
        "optimizer": {"type": "adam", "learning_rate": 0.02}, "seed": 5, "metrics_every": 3,
        "panels": [{"miner": {"name": "batch_hard"}}, {"miner": null},
                   {"loss": {"name": "triplet_margin", "params": {"margin": 0.05}}, "miner": {"name": "batch_hard"}}]})");
}

TEST(ComparisonFile, PanelsShareTheRunAndOverrideTheirSettings) {
    std::string error;
    const auto c = parse(baseDocument(), &error);
    ASSERT_TRUE(c) << error;
    ASSERT_EQ(c->panels.size(), 3u);
    EXPECT_TRUE(c->isComparison());
    EXPECT_EQ(c->title, "t");
    EXPECT_EQ(c->description, "look");
    for (const ComparisonPanel& p : c->panels) {
        EXPECT_EQ(p.trainer.points, c->panels[0].trainer.points);
        EXPECT_EQ(p.trainer.labels, c->panels[0].trainer.labels);
        EXPECT_EQ(p.trainer.seed, 5u);
        EXPECT_EQ(p.trainer.metricsEvery, 3);
        EXPECT_EQ(p.trainer.optimizer.learningRate, 0.02);
    }
    ASSERT_TRUE(c->panels[0].trainer.miner);
    EXPECT_EQ(c->panels[0].trainer.miner->name, "batch_hard");
    EXPECT_FALSE(c->panels[1].trainer.miner);
    EXPECT_EQ(c->panels[2].trainer.loss.params.numbers.at("margin"), 0.05);
    EXPECT_TRUE(TrainerGroup::isValid(c->trainers(), &error)) << error;
    // What differs: the margin (0.2 is the default, so it is compared completed) and the miner.
    EXPECT_EQ(c->panels[0].title, "margin 0.2 · Batch hard");
    EXPECT_EQ(c->panels[1].title, "margin 0.2 · no miner");
    EXPECT_EQ(c->panels[2].title, "margin 0.05 · Batch hard");
}

TEST(ComparisonFile, TitlesNameOnlyWhatDiffers) {
    auto config = [](const std::string& loss, std::optional<std::string> miner) {
        TrainerConfig c;
        c.loss.name = loss;
        if (miner) c.miner = MinerConfig{*miner, {}, std::nullopt};
        return c;
    };
    // Only the miner differs: the miner's name (with its variant choice), nothing about the loss.
    TrainerConfig pml = config("triplet_margin", "triplet_margin");
    pml.miner->params.choices["type_of_triplets"] = "semihard";
    const auto miners = comparisonTitles({config("triplet_margin", "batch_hard"), config("triplet_margin", std::nullopt), pml});
    EXPECT_EQ(miners, (std::vector<std::string>{"Batch hard", "no miner", "Triplet margin (semihard)"}));
    // Only the loss differs: the short loss name.
    const auto losses = comparisonTitles({config("cosface", std::nullopt), config("arcface", std::nullopt)});
    EXPECT_EQ(losses, (std::vector<std::string>{"CosFace", "ArcFace"}));
    // Only the optimizer differs: its name with the learning rate.
    TrainerConfig sgd = config("triplet_margin", std::nullopt), adam = sgd;
    sgd.optimizer.kind = OptimizerKind::Sgd;
    sgd.optimizer.learningRate = 0.5;
    EXPECT_EQ(comparisonTitles({adam, sgd}), (std::vector<std::string>{"adam lr 0.01", "sgd lr 0.5"}));
    // Same kind, other rate: just the rate.
    adam.optimizer.learningRate = 0.02;
    TrainerConfig adam2 = adam;
    adam2.optimizer.learningRate = 0.1;
    EXPECT_EQ(comparisonTitles({adam, adam2}), (std::vector<std::string>{"learning rate 0.02", "learning rate 0.1"}));
    // Nothing differs.
    EXPECT_EQ(comparisonTitles({adam, adam}), (std::vector<std::string>{"Panel 1", "Panel 2"}));
    // Two sums of losses: the term that differs, by its weight, loss or parameter.
    TrainerConfig sumA = config("multiple_losses", std::nullopt), sumB = sumA, sumC = sumA;
    sumA.loss.components = {{LossConfig{"triplet_margin"}, 1.0}, {LossConfig{"arcface"}, 0.5}};
    sumB.loss.components = {{LossConfig{"triplet_margin"}, 1.0}, {LossConfig{"arcface"}, 2.0}};
    sumC.loss.components = {{LossConfig{"triplet_margin"}, 1.0}, {LossConfig{"cosface"}, 0.5}};
    EXPECT_EQ(comparisonTitles({sumA, sumB}), (std::vector<std::string>{"term 2 0.5 × ArcFace", "term 2 2 × ArcFace"}));
    // Another loss in a term: its name, and its parameters where they differ.
    EXPECT_EQ(comparisonTitles({sumA, sumC}), (std::vector<std::string>{"term 2 0.5 × ArcFace · term 2 margin 28.6",
                                                                        "term 2 0.5 × CosFace · term 2 margin 0.35"}));
}

TEST(ComparisonFile, SaveOpenRoundTrip) {
    std::string error;
    auto c = parse(baseDocument(), &error);
    ASSERT_TRUE(c) << error;
    c->panels[1].title = "All triplets";
    c->panels[1].titleGiven = true;
    const Json saved = comparisonToJson(*c);
    EXPECT_TRUE(isComparisonDocument(saved));
    EXPECT_FALSE(saved.contains("loss"));  // every panel says its own
    const auto back = parse(saved, &error);
    ASSERT_TRUE(back) << error;
    ASSERT_EQ(back->panels.size(), c->panels.size());
    EXPECT_EQ(back->title, c->title);
    EXPECT_EQ(back->description, c->description);
    for (std::size_t i = 0; i < c->panels.size(); ++i) {
        const TrainerConfig& a = c->panels[i].trainer;
        const TrainerConfig& b = back->panels[i].trainer;
        EXPECT_EQ(back->panels[i].title, c->panels[i].title);
        EXPECT_EQ(back->panels[i].titleGiven, c->panels[i].titleGiven);
        EXPECT_EQ(json::toJson(a.loss), json::toJson(b.loss));
        EXPECT_EQ(a.miner.has_value(), b.miner.has_value());
        if (a.miner) {
            EXPECT_EQ(json::toJson(*a.miner), json::toJson(*b.miner));
        }
        EXPECT_EQ(json::toJson(a.optimizer), json::toJson(b.optimizer));
        EXPECT_EQ(a.points, b.points);
        EXPECT_EQ(a.labels, b.labels);
        EXPECT_EQ(a.seed, b.seed);
        EXPECT_EQ(a.metricsEvery, b.metricsEvery);
    }
    EXPECT_EQ(comparisonToJson(*back), saved);
}

TEST(ComparisonFile, SingleScenesOpenAsOnePanelAndComparisonsStayReadableAsScenes) {
    std::string error;
    const auto single = readComparisonFile(fs::path(MARGINLAB_SOURCE_DIR) / "resources/scenes/mining-batch-hard.json", &error);
    ASSERT_TRUE(single) << error;
    ASSERT_EQ(single->panels.size(), 1u);
    EXPECT_FALSE(single->isComparison());
    EXPECT_EQ(single->title, "Mining 2/3: batch-hard");
    EXPECT_FALSE(single->panels[0].title.empty());
    // A reader of single scenes that does not know "panels" opens the shared top level.
    const auto scene = parseScene(baseDocument(), fs::path(MARGINLAB_SOURCE_DIR), &error);
    ASSERT_TRUE(scene) << error;
    EXPECT_EQ(scene->trainer.loss.name, "triplet_margin");
}

TEST(ComparisonFile, RefusesWhatCannotBeCompared) {
    auto refused = [](Json document, const std::string& expected) {
        std::string error;
        EXPECT_FALSE(parse(document, &error)) << expected;
        EXPECT_NE(error.find(expected), std::string::npos) << error;
    };
    Json d = baseDocument();
    d["panels"].push_back(Json::object());
    d["panels"].push_back(Json::object());
    refused(d, "1 to 4 panels");
    d = baseDocument();
    d["panels"] = Json::array();
    refused(d, "1 to 4 panels");
    d = baseDocument();
    d["panels"][1]["data"] = Json::object();
    refused(d, "panels[1]: \"data\" cannot differ");
    d = baseDocument();
    d["panels"][0]["batch"] = {{"mode", "full"}};
    refused(d, "panels[0]: \"batch\" cannot differ");
    d = baseDocument();
    d.erase("loss");
    refused(d, "panels[0]: has no loss");
    d = baseDocument();
    d["panels"][2]["loss"] = {{"name", "no_such_loss"}};
    refused(d, "panels[2]");
    d = baseDocument();
    d["state"] = {{"step", 3}};
    refused(d, "state");
    d = baseDocument();
    d["panels"] = Json::object();
    refused(d, "expected an array");
}

TEST(ComparisonFile, EveryReadyComparisonOpens) {
    int count = 0;
    for (const auto& entry : fs::directory_iterator(kComparisons)) {
        std::string error;
        const auto c = readComparisonFile(entry.path(), &error);
        ASSERT_TRUE(c) << error;
        EXPECT_GE(c->panels.size(), 2u) << entry.path();
        EXPECT_FALSE(c->title.empty()) << entry.path();
        EXPECT_GT(c->description.size(), 100u) << entry.path() << ": say what to look for";
        std::vector<std::string> titles;
        for (const ComparisonPanel& p : c->panels) {
            EXPECT_FALSE(p.title.empty());
            titles.push_back(p.title);
        }
        std::sort(titles.begin(), titles.end());
        EXPECT_EQ(std::adjacent_find(titles.begin(), titles.end()), titles.end()) << entry.path() << ": two panels share a title";
        ++count;
    }
    EXPECT_EQ(count, 6);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Saved runs in scene files: a run saved at step k and reopened continues bit for bit as the
// uninterrupted one (positions, owned parameters, optimizer state and chart history through the
// JSON text); old files without a state still open; a bad state is refused naming its JSON path.
#include "marginlab/scene/scenefile.h"

#include "marginlab/generators.h"
#include "marginlab/history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

namespace marginlab {
namespace {

using json::Json;

SceneFile blobScene(const std::string& loss) {
    GeneratorConfig data{"blobs", {}};
    data.params.numbers["points"] = 40;
    data.params.numbers["classes"] = 4;
    data.params.numbers["noise"] = 1.3;
    data.params.numbers["seed"] = 9;
    std::string error;
    auto dataset = generate(data, &error);
    EXPECT_TRUE(dataset) << error;
    SceneFile scene;
    scene.title = "state test";
    scene.data = {{"generator", "blobs"},
                  {"params", {{"points", 40}, {"classes", 4}, {"noise", 1.3}, {"seed", 9}}}};
    scene.trainer.points = dataset->points;
    scene.trainer.labels = dataset->labels;
    scene.trainer.numClasses = dataset->numClasses;
    scene.trainer.loss.name = loss;
    scene.trainer.optimizer.learningRate = 0.03;
    scene.trainer.seed = 4;
    scene.trainer.metricsEvery = 4;
    return scene;
}

bool sameBits(const Points& a, const Points& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 ||
            std::memcmp(a.data(), b.data(), sizeof(Real) * static_cast<std::size_t>(a.size())) == 0);
}

bool sameValue(Real a, Real b) {
    return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(Real)) == 0;
}

void expectSameHistory(const std::vector<HistoryPoint>& a, const std::vector<HistoryPoint>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(a[i].step, b[i].step);
        for (Real HistoryPoint::*field :
             {&HistoryPoint::loss, &HistoryPoint::activeFraction, &HistoryPoint::easy,
              &HistoryPoint::semiHard, &HistoryPoint::hard, &HistoryPoint::precisionAt1,
              &HistoryPoint::mapAtR, &HistoryPoint::rPrecision, &HistoryPoint::collapse})
            EXPECT_TRUE(sameValue(a[i].*field, b[i].*field)) << a[i].*field << " vs " << b[i].*field;
    }
}

/// The scene through its JSON text, as a file would carry it.
SceneFile throughText(const SceneFile& scene) {
    const std::string text = json::format(sceneToJson(scene));
    std::string error;
    auto reopened = parseScene(Json::parse(text), ".", &error);
    EXPECT_TRUE(reopened) << error;
    return reopened ? *reopened : SceneFile{};
}

TEST(SceneState, ASavedRunContinuesAsTheUninterruptedRun) {
    std::vector<SceneFile> scenes = {blobScene("triplet_margin"), blobScene("softmax"), blobScene("center")};
    scenes[0].trainer.loss.params.numbers["margin"] = 0.5;
    scenes[0].trainer.miner = MinerConfig{"random_negative", {}, std::nullopt};
    scenes[0].trainer.batch = BatchConfig{BatchConfig::Mode::ClassesTimesSamples, 3, 5};
    scenes[1].trainer.optimizer.kind = OptimizerKind::Momentum;
    scenes[2].trainer.optimizer.kind = OptimizerKind::Sgd;
    scenes[2].trainer.optimizer.learningRate = 0.2;
    for (const SceneFile& scene : scenes) {
        SCOPED_TRACE(scene.trainer.loss.name);
        Trainer whole(scene.trainer);
        RunHistory wholeHistory;
        wholeHistory.append(*whole.snapshot());
        for (int s = 0; s < 30; ++s) wholeHistory.append(*whole.step(1));

        Trainer first(scene.trainer);
        RunHistory firstHistory;
        firstHistory.append(*first.snapshot());
        for (int s = 0; s < 15; ++s) firstHistory.append(*first.step(1));
        SceneFile saved = scene;
        saved.trainer.start = first.savedState();
        saved.history = firstHistory.points();

        const SceneFile reopened = throughText(saved);
        ASSERT_TRUE(reopened.trainer.start);
        EXPECT_EQ(reopened.trainer.start->step, 15);
        EXPECT_TRUE(
            sameBits(reopened.trainer.points, scene.trainer.points));  // the data stays that of step 0
        Trainer second(reopened.trainer);
        RunHistory secondHistory;
        std::string error;
        ASSERT_TRUE(secondHistory.assign(reopened.history, &error)) << error;
        secondHistory.append(*second.snapshot());  // the reopened moment is already in the history
        EXPECT_EQ(secondHistory.size(), 16u);
        for (int s = 0; s < 15; ++s) secondHistory.append(*second.step(1));

        const auto a = whole.snapshot();
        const auto b = second.snapshot();
        EXPECT_EQ(b->step, 30);
        EXPECT_TRUE(sameBits(a->positions, b->positions));
        EXPECT_TRUE(sameBits(a->owned, b->owned));
        EXPECT_TRUE(sameValue(a->loss, b->loss));
        EXPECT_EQ(a->metrics.precisionAt1, b->metrics.precisionAt1);
        EXPECT_EQ(a->metrics.collapse, b->metrics.collapse);
        EXPECT_FALSE(sameBits(a->positions, scene.trainer.points));
        expectSameHistory(secondHistory.points(), wholeHistory.points());
    }
}

TEST(SceneState, AnEditedRunIsSavedWithItsEditedPoints) {
    SceneFile scene = blobScene("softmax");
    Trainer whole(scene.trainer);
    whole.step(5);
    Points edited(41, 2);
    edited.topRows(40) = whole.snapshot()->positions;
    edited.row(40) << 1.5, -0.5;
    Labels labels = scene.trainer.labels;
    labels.push_back(2);
    std::string error;
    ASSERT_TRUE(whole.editPoints(edited, labels, &error)) << error;
    whole.step(5);

    SceneFile saved = scene;
    saved.trainer = whole.config();  // the edited points and labels
    saved.trainer.start = whole.savedState();
    // Without the edited points the state does not fit the data (40 generated points) …
    std::string message;
    EXPECT_FALSE(parseScene(sceneToJson(saved), ".", &message));
    EXPECT_NE(message.find("state.positions: is 41×2, expected 40×2 like the data"), std::string::npos) << message;
    // … with them it does.
    const std::string text = json::format(sceneToJson(saved, &whole.config().points));
    auto parsed = parseScene(Json::parse(text), ".", &error);
    ASSERT_TRUE(parsed) << error;
    const SceneFile reopened = *parsed;
    ASSERT_TRUE(reopened.trainer.start);
    EXPECT_EQ(reopened.trainer.points.rows(), 41);
    EXPECT_EQ(reopened.trainer.labels, labels);
    Trainer second(reopened.trainer);
    const auto a = whole.step(7);
    const auto b = second.step(7);
    EXPECT_EQ(b->step, 17);
    EXPECT_TRUE(sameBits(a->positions, b->positions));
    EXPECT_TRUE(sameBits(a->owned, b->owned));
}

TEST(SceneState, TheStateIsWrittenOnlyForASavedRun) {
    SceneFile scene = blobScene("softmax");
    const Json plain = sceneToJson(scene);
    EXPECT_FALSE(plain.contains("state"));
    Trainer trainer(scene.trainer);
    trainer.step(3);
    scene.trainer.start = trainer.savedState();
    const Json saved = sceneToJson(scene);
    ASSERT_TRUE(saved.contains("state"));
    const Json& state = saved["state"];
    EXPECT_EQ(state["step"], 3);
    EXPECT_EQ(state["positions"].size(), 40u);
    EXPECT_EQ(state["owned"].size(), 4u);
    EXPECT_EQ(state["optimizer"]["type"], "adam");
    EXPECT_EQ(state["optimizer"]["points"]["step"], 3);
    EXPECT_EQ(state["optimizer"]["owned"]["exp_avg_sq"].size(), 4u);
    EXPECT_FALSE(state.contains("history"));  // none was given
    EXPECT_EQ(saved["version"], 1);
}

TEST(SceneState, BuiltInScenesWithoutAStateStillOpen) {
    const std::filesystem::path dir = std::filesystem::path(MARGINLAB_SOURCE_DIR) / "resources" / "scenes";
    int opened = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        std::string error;
        const auto scene = readSceneFile(entry.path(), &error);
        ASSERT_TRUE(scene) << error;
        EXPECT_FALSE(scene->trainer.start) << entry.path();
        EXPECT_TRUE(scene->history.empty());
        ++opened;
    }
    EXPECT_GE(opened, 12);
}

TEST(SceneState, HistoryRoundTripKeepsMissingValues) {
    std::vector<HistoryPoint> points(3);
    points[0].step = 0;
    points[0].loss = 0.1 + 0.2;  // not a short decimal
    points[0].precisionAt1 = 1.0 / 3.0;
    points[1].step = 1;
    points[1].activeFraction = 0.75;
    points[2].step = 1;
    points[2].loss = 1e-300;
    points[2].easy = 0.25;
    points[2].semiHard = 0.5;
    points[2].hard = 0.25;
    const Json text = Json::parse(json::toJson(points).dump());
    expectSameHistory(json::readHistory(text, "history"), points);
    // Columns may come in any order and some may be left out.
    const Json partial = {{"columns", {"loss", "step"}}, {"rows", {{0.5, 0}, {nullptr, 3}}}};
    const auto read = json::readHistory(partial, "h");
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read[1].step, 3);
    EXPECT_TRUE(std::isnan(read[1].loss));
    EXPECT_TRUE(std::isnan(read[0].easy));
}

struct BadState {
    const char* name;
    std::function<void(Json& state)> spoil;
    const char* message;
};

class SceneBadState : public ::testing::TestWithParam<BadState> {};

TEST_P(SceneBadState, IsRefusedNamingThePath) {
    SceneFile scene = blobScene("softmax");
    Trainer trainer(scene.trainer);
    RunHistory history;
    history.append(*trainer.snapshot());
    history.append(*trainer.step(2));
    scene.trainer.start = trainer.savedState();
    scene.history = history.points();
    Json document = Json::parse(sceneToJson(scene).dump());
    std::string error;
    ASSERT_TRUE(parseScene(document, ".", &error)) << error;  // valid before it is spoiled
    GetParam().spoil(document["state"]);
    EXPECT_FALSE(parseScene(document, ".", &error));
    EXPECT_NE(error.find(GetParam().message), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SceneBadState,
    ::testing::Values(
        BadState{"NegativeStep", [](Json& s) { s["step"] = -3; }, "state.step: must be ≥ 0"},
        BadState{"FractionalStep", [](Json& s) { s["step"] = 2.5; }, "state.step: expected an integer"},
        BadState{"MissingPositions", [](Json& s) { s.erase("positions"); }, "state: missing \"positions\""},
        BadState{"FewerPositions", [](Json& s) { s["positions"].erase(0); },
                 "state.positions: is 39×2, expected 40×2 like the data"},
        BadState{"NonFinitePosition",
                 [](Json& s) { s["positions"][3][1] = std::numeric_limits<double>::infinity(); },
                 "state.positions[3][1]: expected a finite number"},
        BadState{"OwnedShape", [](Json& s) { s["owned"].erase(0); }, "state.owned: is 3×2, expected 4×2"},
        BadState{"MomentShape", [](Json& s) { s["optimizer"]["points"]["exp_avg"].erase(5); },
                 "state.optimizer.points.exp_avg: is 39×2, expected 40×2"},
        BadState{"NegativeSecondMoment", [](Json& s) { s["optimizer"]["owned"]["exp_avg_sq"][1][0] = -1.0; },
                 "state.optimizer.owned.exp_avg_sq: a second moment must be ≥ 0"},
        BadState{"MissingMoment", [](Json& s) { s["optimizer"]["points"].erase("exp_avg_sq"); },
                 "state.optimizer.points: missing \"exp_avg_sq\" after 2 steps"},
        BadState{"WrongOptimizer",
                 [](Json& s) {
                     s["optimizer"] = {{"type", "sgd"}};
                 },
                 "state.optimizer.type: is sgd but the scene's optimizer is adam"},
        BadState{"MomentumBufferForAdam",
                 [](Json& s) { s["optimizer"]["points"]["momentum_buffer"] = s["positions"]; },
                 "state.optimizer.points: unknown entry \"momentum_buffer\" for the adam optimizer"},
        BadState{"NegativeOptimizerStep", [](Json& s) { s["optimizer"]["owned"]["step"] = -1; },
                 "state.optimizer.owned.step: must be ≥ 0"},
        BadState{"UnknownEntry", [](Json& s) { s["velocity"] = 1; }, "state: unknown entry \"velocity\""},
        BadState{"HistoryUnknownColumn", [](Json& s) { s["history"]["columns"][2] = "accuracy"; },
                 "state.history.columns[2]: unknown history column \"accuracy\""},
        BadState{"HistoryShortRow", [](Json& s) { s["history"]["rows"][1].erase(3); },
                 "state.history.rows[1]: expected an array of 12 values"},
        BadState{"HistoryFraction", [](Json& s) { s["history"]["rows"][1][2] = 1.5; },
                 "state.history.rows[1]: fractions and retrieval metrics must be in [0, 1]"},
        BadState{"HistoryBackwards",
                 [](Json& s) {
                     s["history"]["rows"][0][0] = 2;
                     s["history"]["rows"][1][0] = 1;
                 },
                 "state.history.rows[1]: steps must not decrease"},
        BadState{"HistoryBeyondTheState", [](Json& s) { s["history"]["rows"][1][0] = 7; },
                 "state.history: goes on to step 7, after the state's step 2"}),
    [](const ::testing::TestParamInfo<BadState>& param) { return std::string(param.param.name); });

TEST(SceneState, OwnedParametersForALossWithoutThemAreRefused) {
    SceneFile scene = blobScene("contrastive");
    Trainer trainer(scene.trainer);
    scene.trainer.start = trainer.savedState();
    Json document = sceneToJson(scene);
    document["state"]["owned"] = {{1.0, 0.0}};
    std::string error;
    EXPECT_FALSE(parseScene(document, ".", &error));
    EXPECT_NE(error.find("state.owned: loss contrastive has no parameters of its own"), std::string::npos)
        << error;
}

}  // namespace
}  // namespace marginlab

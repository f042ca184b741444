// SPDX-License-Identifier: MIT
// multiple_losses in scene files: {"name": "multiple_losses", "losses": [{"name", "params",
// "distance", "weight"}, ...]} read strictly (each error names its JSON path), written back the
// same way, a saved run's owned rows and component history through the text; and the ready scene
// "Triplet + ArcFace" trained headless, checked against what its text claims with plain loops.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "marginlab/generators.h"
#include "marginlab/history.h"
#include "marginlab/scene/scenefile.h"
#include "marginlab/trainer.h"

namespace marginlab {
namespace {

using json::Json;

const char* kScene = R"({
  "format": "marginlab-scene", "version": 1, "title": "sum",
  "data": {"generator": "blobs", "params": {"points": 40, "classes": 4, "seed": 2}},
  "loss": {"name": "multiple_losses", "losses": [
    {"name": "triplet_margin", "params": {"margin": 0.2}, "distance": {"type": "cosine"}, "weight": 1.0},
    {"name": "arcface", "params": {"scale": 16}, "weight": 0.5}]},
  "optimizer": {"type": "adam", "learning_rate": 0.02},
  "seed": 3
})";

std::optional<SceneFile> parse(const Json& document, std::string* error) {
    return parseScene(document, ".", error);
}

TEST(MultipleLossesScene, ReadsTheComponentsAndWritesThemBackTheSameWay) {
    std::string error;
    const auto scene = parse(Json::parse(kScene), &error);
    ASSERT_TRUE(scene) << error;
    const LossConfig& loss = scene->trainer.loss;
    EXPECT_EQ(loss.name, "multiple_losses");
    ASSERT_EQ(loss.components.size(), 2u);
    EXPECT_EQ(loss.components[0].loss.name, "triplet_margin");
    EXPECT_EQ(loss.components[0].loss.params.number("margin"), 0.2);
    ASSERT_TRUE(loss.components[0].loss.distance);
    EXPECT_TRUE(*loss.components[0].loss.distance == DistanceSpec::cosine());
    EXPECT_EQ(loss.components[0].weight, 1.0);
    EXPECT_EQ(loss.components[1].loss.name, "arcface");
    EXPECT_EQ(loss.components[1].weight, 0.5);
    EXPECT_FALSE(loss.components[1].loss.distance);

    const Json written = sceneToJson(*scene);
    const Json expectedLoss = Json::parse(R"({"name": "multiple_losses", "losses": [
        {"name": "triplet_margin", "params": {"margin": 0.2}, "distance": {"type": "cosine"}, "weight": 1.0},
        {"name": "arcface", "params": {"scale": 16.0}, "weight": 0.5}]})");
    EXPECT_EQ(written["loss"], expectedLoss) << written["loss"].dump();
    const auto again = parse(Json::parse(json::format(written)), &error);
    ASSERT_TRUE(again) << error;
    EXPECT_EQ(sceneToJson(*again), written);
    // Weights default to 1 (PML), and a component may be a bare name.
    Json shorter = Json::parse(kScene);
    shorter["loss"]["losses"] = Json::array({"contrastive", Json{{"name", "triplet_margin"}}});
    const auto defaults = parse(shorter, &error);
    ASSERT_TRUE(defaults) << error;
    EXPECT_EQ(defaults->trainer.loss.components[0].weight, 1.0);
    EXPECT_EQ(defaults->trainer.loss.components[1].weight, 1.0);
    EXPECT_EQ(defaults->trainer.loss.components[0].loss.name, "contrastive");
}

TEST(MultipleLossesScene, ASavedRunKeepsItsOwnedRowsAndComponentHistory) {
    std::string error;
    auto scene = parse(Json::parse(kScene), &error);
    ASSERT_TRUE(scene) << error;
    Trainer trainer(scene->trainer);
    RunHistory history;
    history.append(*trainer.snapshot());
    history.append(*trainer.step(5));
    scene->trainer.start = trainer.savedState();
    scene->history = history.points();
    const Json written = sceneToJson(*scene);
    EXPECT_NE(std::find(written["state"]["history"]["columns"].begin(),
                        written["state"]["history"]["columns"].end(), "component_2"),
              written["state"]["history"]["columns"].end());
    EXPECT_EQ(std::find(written["state"]["history"]["columns"].begin(),
                        written["state"]["history"]["columns"].end(), "component_3"),
              written["state"]["history"]["columns"].end())
        << "columns of components that do not exist";
    const auto reopened = parse(Json::parse(json::format(written)), &error);
    ASSERT_TRUE(reopened) << error;
    ASSERT_TRUE(reopened->trainer.start && reopened->trainer.start->owned);
    EXPECT_EQ(reopened->trainer.start->owned->rows(), 4);  // ArcFace's class weights only
    ASSERT_EQ(reopened->history.size(), 2u);
    EXPECT_EQ(reopened->history[1].component1, history.points()[1].component1);
    EXPECT_EQ(reopened->history[1].component2, history.points()[1].component2);
    EXPECT_TRUE(std::isnan(reopened->history[1].component4));
    // Reopened, it continues as the uninterrupted run.
    Trainer continued(reopened->trainer);
    const auto a = trainer.step(3);
    const auto b = continued.step(3);
    EXPECT_EQ(a->loss, b->loss);
    EXPECT_EQ(a->lossComponents, b->lossComponents);
}

struct BadLoss {
    const char* name;
    std::function<void(Json& loss)> spoil;
    const char* path;
    const char* message;
};

class MultipleLossesBadScene : public ::testing::TestWithParam<BadLoss> {};

TEST_P(MultipleLossesBadScene, IsRefusedNamingThePath) {
    Json document = Json::parse(kScene);
    GetParam().spoil(document["loss"]);
    std::string error;
    EXPECT_FALSE(parse(document, &error));
    EXPECT_NE(error.find(GetParam().path), std::string::npos) << error;
    EXPECT_NE(error.find(GetParam().message), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, MultipleLossesBadScene,
    ::testing::Values(
        BadLoss{"NotAnArray",
                [](Json& l) {
                    l["losses"] = Json{{"name", "arcface"}};
                },
                "loss.losses", "expected an array of losses"},
        BadLoss{"One", [](Json& l) { l["losses"].erase(1); }, "loss.losses", "needs 2 to 4 losses, found 1"},
        BadLoss{"Five",
                [](Json& l) {
                    for (int i = 0; i < 3; ++i) l["losses"].push_back("contrastive");
                },
                "loss.losses", "found 5"},
        BadLoss{"Nested",
                [](Json& l) {
                    l["losses"][1] =
                        Json{{"name", "multiple_losses"}, {"losses", {"contrastive", "contrastive"}}};
                },
                "loss.losses[1].losses", "no nested multiple_losses"},
        BadLoss{"NestedByName", [](Json& l) { l["losses"][0] = "multiple_losses"; }, "loss.losses[0].name",
                "cannot contain another multiple_losses"},
        BadLoss{"Typo", [](Json& l) { l["losses"][1]["weigth"] = 2; }, "loss.losses[1].weigth",
                "did you mean \"weight\""},
        BadLoss{"WeightText", [](Json& l) { l["losses"][1]["weight"] = "half"; }, "loss.losses[1].weight",
                "expected a number"},
        BadLoss{"NegativeWeight", [](Json& l) { l["losses"][1]["weight"] = -0.5; }, "loss.losses[1].weight",
                "between 0 and 1e6"},
        BadLoss{"UnknownParam", [](Json& l) { l["losses"][0]["params"]["margn"] = 0.1; },
                "loss.losses[0].params.margn", "did you mean \"margin\""},
        BadLoss{"NotAnEntry", [](Json& l) { l["losses"][1] = 3; }, "loss.losses[1]",
                "expected a loss name or an object"},
        BadLoss{"OnAnotherLoss", [](Json& l) { l["name"] = "triplet_margin"; }, "loss.losses",
                "takes no \"losses\""},
        BadLoss{"ParamsBeside", [](Json& l) { l["params"] = Json::object(); }, "loss.params", "unknown key"},
        BadLoss{"UnknownComponent", [](Json& l) { l["losses"][1]["name"] = "arcfaec"; }, "loss",
                "component 2: unknown loss 'arcfaec'"}),
    [](const ::testing::TestParamInfo<BadLoss>& param) { return std::string(param.param.name); });

// ---------------------------------------------------------------------------------------------
// The ready scene: what its text claims, measured with plain loops.

SceneFile readyScene() {
    std::string error;
    auto scene = readSceneFile(
        std::filesystem::path(MARGINLAB_SOURCE_DIR) / "resources" / "scenes" / "triplet-arcface.json",
        &error);
    EXPECT_TRUE(scene) << error;
    return scene ? *scene : SceneFile{};
}

/// Fraction of points whose class weight (owned row c) has the largest cosine with them.
double sectorAccuracy(const Snapshot& s) {
    int right = 0;
    for (Eigen::Index i = 0; i < s.positions.rows(); ++i) {
        int best = -1;
        double bestCosine = -2.0;
        for (Eigen::Index c = 0; c < s.owned.rows(); ++c) {
            const double cosine =
                s.owned.row(c).dot(s.positions.row(i)) / (s.owned.row(c).norm() * s.positions.row(i).norm());
            if (cosine > bestCosine) bestCosine = cosine, best = static_cast<int>(c);
        }
        right += best == s.labels[static_cast<std::size_t>(i)];
    }
    return static_cast<double>(right) / static_cast<double>(s.positions.rows());
}

/// Mean angle (radians) between same-class and between other-class directions.
std::pair<double, double> meanAngles(const Snapshot& s) {
    double same = 0.0, other = 0.0;
    long sameCount = 0, otherCount = 0;
    for (Eigen::Index i = 0; i < s.positions.rows(); ++i)
        for (Eigen::Index j = i + 1; j < s.positions.rows(); ++j) {
            const double cosine = s.positions.row(i).normalized().dot(s.positions.row(j).normalized());
            const double angle = std::acos(std::clamp(cosine, -1.0, 1.0));
            if (s.labels[static_cast<std::size_t>(i)] == s.labels[static_cast<std::size_t>(j)])
                same += angle, ++sameCount;
            else
                other += angle, ++otherCount;
        }
    return {same / static_cast<double>(sameCount), other / static_cast<double>(otherCount)};
}

TEST(MultipleLossesScene, TripletPlusArcFaceTightensTheClassesInTheSectorsOfTheirWeights) {
    const SceneFile scene = readyScene();
    ASSERT_EQ(scene.trainer.loss.components.size(), 2u);
    Trainer trainer(scene.trainer);
    const auto start = trainer.snapshot();
    ASSERT_EQ(start->lossComponents.size(), 2u);
    const auto [sameBefore, otherBefore] = meanAngles(*start);
    const double sectorsBefore = sectorAccuracy(*start);
    const auto end = trainer.step(200);
    ASSERT_EQ(end->status, TrainStatus::Running) << end->message;
    // "Both terms fall."
    EXPECT_LT(end->lossComponents[0], 0.5 * start->lossComponents[0]);
    EXPECT_LT(end->lossComponents[1], 0.5 * start->lossComponents[1]);
    // "In the sector of their own class weight": from a seeded random start to nearly every point.
    EXPECT_LT(sectorsBefore, 0.8);
    EXPECT_GE(sectorAccuracy(*end), 0.97);
    // "Tight and apart": same-class directions close, other classes far.
    const auto [same, other] = meanAngles(*end);
    EXPECT_LT(same, 0.5 * sameBefore);
    EXPECT_GT(other, 4.0 * same);
    EXPECT_GT(other, otherBefore);
}

}  // namespace
}  // namespace marginlab

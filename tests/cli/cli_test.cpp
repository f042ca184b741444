// SPDX-License-Identifier: MIT
// marginlab-cli end to end: the JSON it prints equals the engine's own numbers, and bad input
// gives a clear message and a non-zero exit code, never a crash.
#include "marginlab/scene/jsonio.h"

#include "marginlab/loss.h"
#include "marginlab/miner.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>

namespace marginlab {
namespace {

using json::Json;

struct CliRun {
    int exitCode = -1;
    std::string out;
    std::string err;
};

CliRun runCli(const std::string& arguments, const std::string& input = {}) {
    static int counter = 0;
    const auto dir = std::filesystem::temp_directory_path() / ("marginlab-cli-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto base = dir / std::to_string(counter++);
    const std::string in = base.string() + ".json", out = base.string() + ".out", err = base.string() + ".err";
    std::ofstream(in) << input;
    const std::string command = std::string(MARGINLAB_CLI) + " " + arguments + " < " + in + " > " + out + " 2> " + err;
    const int status = std::system(command.c_str());
    CliRun run;
    run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto slurp = [](const std::string& path) {
        std::ifstream f(path);
        return std::string(std::istreambuf_iterator<char>(f), {});
    };
    run.out = slurp(out);
    run.err = slurp(err);
    return run;
}

Points randomMatrix(int rows, int cols, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal;
    Points p(rows, cols);
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) p(i, j) = normal(rng);
    return p;
}

TEST(Cli, HelpForEveryCommand) {
    for (const char* command : {"--help", "loss --help", "train --help", "list --help"}) {
        const CliRun run = runCli(command);
        EXPECT_EQ(run.exitCode, 0) << command;
        EXPECT_NE(run.out.find("marginlab-cli"), std::string::npos) << command;
    }
}

TEST(Cli, LossRoundTripMatchesTheEngine) {
    const Points x = randomMatrix(12, 2, 1);
    const Labels y = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
    const Points w = randomMatrix(3, 2, 2);
    Json cases = Json::array();
    cases.push_back({{"id", "triplet"},
                     {"embeddings", json::toJson(x)},
                     {"labels", y},
                     {"loss", {{"name", "triplet_margin"}, {"params", {{"margin", 0.3}}}}},
                     {"miner", {{"name", "batch_hard"}}}});
    cases.push_back({{"id", "arcface"},
                     {"embeddings", json::toJson(x)},
                     {"labels", y},
                     {"weights", json::toJson(w)},
                     {"loss", {{"name", "arcface"}, {"params", {{"scale", 8.0}}}}}});
    const CliRun run = runCli("loss -", Json{{"cases", cases}}.dump());
    ASSERT_EQ(run.exitCode, 0) << run.err;
    const Json results = Json::parse(run.out).at("results");
    ASSERT_EQ(results.size(), 2u);

    std::string error;
    auto triplet = makeLoss(LossConfig{"triplet_margin", {{{"margin", 0.3}}, {}}, std::nullopt}, &error);
    auto miner = makeMiner(MinerConfig{"batch_hard", {}, std::nullopt}, &error);
    const Tuples tuples = miner->mine(MinerInput{x, y, 0});
    const LossOutput expected = triplet->evaluate(LossInput{x, y, nullptr, &tuples, 0}, true);
    EXPECT_EQ(results[0].at("id"), "triplet");
    EXPECT_DOUBLE_EQ(results[0].at("loss").get<double>(), expected.value);
    const Points grad = json::readMatrix(results[0].at("grad_embeddings"), "grad");
    EXPECT_TRUE(grad.isApprox(expected.gradEmbeddings, 1e-15) || expected.gradEmbeddings.isZero());
    EXPECT_EQ(results[0].at("miner").at("triplets").get<long>(), 12);
    EXPECT_TRUE(results[0].at("grad_weights").is_null());

    auto arcface = makeLoss(LossConfig{"arcface", {{{"scale", 8.0}}, {}}, std::nullopt}, &error);
    const LossOutput expectedArc = arcface->evaluate(LossInput{x, y, &w, nullptr, 0}, true);
    EXPECT_DOUBLE_EQ(results[1].at("loss").get<double>(), expectedArc.value);
    const Points gradW = json::readMatrix(results[1].at("grad_weights"), "grad_weights");
    EXPECT_TRUE(gradW.isApprox(expectedArc.gradOwned, 1e-15));
}

TEST(Cli, LossWithAReferenceSetMatchesTheEngine) {
    const Points x = randomMatrix(6, 2, 5);
    const Labels y = {0, 1, 2, 0, 1, 2};
    const Points r = randomMatrix(9, 2, 6);
    const Labels ry = {2, 1, 0, 0, 1, 2, 2, 0, 1};
    Json item = {{"embeddings", json::toJson(x)},
                 {"labels", y},
                 {"ref_embeddings", json::toJson(r)},
                 {"ref_labels", ry},
                 {"loss", {{"name", "triplet_margin"}, {"params", {{"margin", 0.3}}}}},
                 {"miner", {{"name", "batch_hard"}}}};
    const CliRun run = runCli("loss -", item.dump());
    ASSERT_EQ(run.exitCode, 0) << run.err;
    const Json result = Json::parse(run.out).at("results").at(0);
    std::string error;
    auto triplet = makeLoss(LossConfig{"triplet_margin", {{{"margin", 0.3}}, {}}, std::nullopt}, &error);
    auto miner = makeMiner(MinerConfig{"batch_hard", {}, std::nullopt}, &error);
    MinerInput minerInput{x, y, 0};
    minerInput.referenceEmbeddings = &r;
    minerInput.referenceLabels = &ry;
    const Tuples tuples = miner->mine(minerInput);
    LossInput input{x, y, nullptr, &tuples, 0};
    input.referenceEmbeddings = &r;
    input.referenceLabels = &ry;
    const LossOutput expected = triplet->evaluate(input, true);
    ASSERT_GT(expected.value, 0.0);
    EXPECT_DOUBLE_EQ(result.at("loss").get<double>(), expected.value);
    EXPECT_TRUE(json::readMatrix(result.at("grad_embeddings"), "grad").isApprox(expected.gradEmbeddings, 1e-15));
    EXPECT_EQ(result.at("miner").at("triplets").get<long>(), 6);

    // A loss without tuples compares every batch × reference pair (here NCA, PML's nca_computation
    // with ref_emb): the engine's number.
    item["loss"] = "nca";
    item.erase("miner");
    const CliRun nca = runCli("loss -", item.dump());
    ASSERT_EQ(nca.exitCode, 0) << nca.err;
    LossInput allPairs{x, y, nullptr, nullptr, 0};
    allPairs.referenceEmbeddings = &r;
    allPairs.referenceLabels = &ry;
    const LossOutput ncaExpected =
        makeLoss(LossConfig{"nca", {}, std::nullopt}, &error)->evaluate(allPairs, false);
    EXPECT_DOUBLE_EQ(Json::parse(nca.out).at("results").at(0).at("loss").get<double>(), ncaExpected.value);

    // Refused: a loss or miner that cannot take one, and half of the pair.
    item["loss"] = "npairs";
    CliRun refused = runCli("loss -", item.dump());
    EXPECT_EQ(refused.exitCode, 2);
    EXPECT_NE(refused.err.find("does not take a reference set"), std::string::npos) << refused.err;
    item["loss"] = "triplet_margin";
    item["miner"] = "facenet_semihard";
    refused = runCli("loss -", item.dump());
    EXPECT_NE(refused.err.find("does not mine a reference set"), std::string::npos) << refused.err;
    item.erase("miner");
    item.erase("ref_labels");
    refused = runCli("loss -", item.dump());
    EXPECT_NE(refused.err.find("go together"), std::string::npos) << refused.err;
}

TEST(Cli, MultipleLossesGivesTheWeightedTermsAndTheStackedRowGradients) {
    const Points x = randomMatrix(12, 2, 5);
    const Labels y = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
    const Points w = randomMatrix(3, 2, 6);  // ArcFace's rows; the triplet owns none
    const Json item = {{"embeddings", json::toJson(x)},
                       {"labels", y},
                       {"weights", json::toJson(w)},
                       {"miner", "batch_hard"},
                       {"loss", Json::parse(R"({"name": "multiple_losses", "losses": [
                            {"name": "triplet_margin", "params": {"margin": 0.3}},
                            {"name": "arcface", "params": {"scale": 8}, "weight": 0.5}]})")}};
    const CliRun run = runCli("loss -", item.dump());
    ASSERT_EQ(run.exitCode, 0) << run.err;
    const Json result = Json::parse(run.out).at("results").at(0);

    // The terms evaluated alone: the mined triplets reach the triplet term, not ArcFace.
    std::string error;
    auto miner = makeMiner(MinerConfig{"batch_hard", {}, std::nullopt}, &error);
    const Tuples tuples = miner->mine(MinerInput{x, y, 0});
    const LossOutput triplet =
        makeLoss(LossConfig{"triplet_margin", {{{"margin", 0.3}}, {}}, std::nullopt}, &error)
            ->evaluate(LossInput{x, y, nullptr, &tuples, 0}, true);
    const LossOutput arcface = makeLoss(LossConfig{"arcface", {{{"scale", 8.0}}, {}}, std::nullopt}, &error)
                                   ->evaluate(LossInput{x, y, &w, nullptr, 0}, true);
    ASSERT_GT(triplet.value, 0.0);
    const std::vector<double> components = result.at("components").get<std::vector<double>>();
    ASSERT_EQ(components.size(), 2u);
    EXPECT_DOUBLE_EQ(components[0], triplet.value);
    EXPECT_DOUBLE_EQ(components[1], 0.5 * arcface.value);
    EXPECT_NEAR(result.at("loss").get<double>(), triplet.value + 0.5 * arcface.value, 1e-13);
    const Points grad = json::readMatrix(result.at("grad_embeddings"), "grad");
    EXPECT_LE((grad - (triplet.gradEmbeddings + 0.5 * arcface.gradEmbeddings)).cwiseAbs().maxCoeff(), 1e-13);
    const Points gradW = json::readMatrix(result.at("grad_weights"), "grad_weights");
    EXPECT_LE((gradW - 0.5 * arcface.gradOwned).cwiseAbs().maxCoeff(), 1e-13);

    // Bad sums: a message naming the place, exit code 2.
    Json nested = item;
    nested["loss"]["losses"][1] = "multiple_losses";
    CliRun bad = runCli("loss -", nested.dump());
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("loss.losses[1].name"), std::string::npos) << bad.err;
    Json noWeights = item;
    noWeights.erase("weights");
    bad = runCli("loss -", noWeights.dump());
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("needs \"weights\" (1·C×D)"), std::string::npos) << bad.err;
}

struct BadCase {
    const char* name;
    const char* input;
    const char* expectedMessage;
};

void PrintTo(const BadCase& c, std::ostream* out) { *out << c.name; }

class CliBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(CliBadInput, GivesAMessageAndExitCodeTwo) {
    const BadCase& c = GetParam();
    const CliRun run = runCli("loss -", c.input);
    EXPECT_EQ(run.exitCode, 2) << run.err;
    EXPECT_NE(run.err.find(c.expectedMessage), std::string::npos) << "stderr was: " << run.err;
    EXPECT_TRUE(run.out.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadInput,
    ::testing::Values(
        BadCase{"NotJson", "{\"embeddings\": [[1, 2]", "line 1, column"},
        BadCase{"NanLiteral", R"({"embeddings": [[NaN, 1]], "labels": [0], "loss": "contrastive"})", "line 1, column"},
        BadCase{"UnknownLoss", R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1], "loss": "nope"})",
                "unknown loss 'nope'"},
        BadCase{"RaggedRows", R"({"embeddings": [[0, 1], [1]], "labels": [0, 1], "loss": "contrastive"})",
                "embeddings[1]: has 1 entries, expected 2"},
        BadCase{"LabelCount", R"({"embeddings": [[0, 1], [1, 0]], "labels": [0], "loss": "contrastive"})",
                "has 1 labels for 2 embeddings"},
        BadCase{"FractionalLabel", R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1.5], "loss": "contrastive"})",
                "labels[1]: expected an integer"},
        BadCase{"StringCoordinate", R"({"embeddings": [[0, "a"], [1, 0]], "labels": [0, 1], "loss": "contrastive"})",
                "embeddings[0][1]: expected a number"},
        BadCase{"MissingWeights", R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1], "loss": "cosface"})",
                "needs \"weights\""},
        BadCase{"WeightShape",
                R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1], "weights": [[1, 0, 0], [0, 1, 0]], "loss": "cosface"})",
                "has 3 columns"},
        BadCase{"LabelWithoutWeightRow",
                R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 2], "weights": [[1, 0], [0, 1]], "loss": "cosface"})",
                "label 2 of point 1 is outside [0, 2)"},
        BadCase{"UnknownParameter",
                R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1], "loss": {"name": "contrastive", "params": {"margn": 1}}})",
                "loss.params.margn: unknown parameter; expected one of pos_margin, neg_margin"},
        BadCase{"UnknownMiner",
                R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1], "loss": "triplet_margin", "miner": "nope"})",
                "unknown miner 'nope'"},
        BadCase{"BadDistance",
                R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1], "loss": {"name": "contrastive", "distance": {"type": "lp", "power": 3}}})",
                "expected 1 or 2"}),
    [](const ::testing::TestParamInfo<BadCase>& param) { return std::string(param.param.name); });

TEST(Cli, TrainPrintsOneRowPerStep) {
    const Json scene = {{"format", "marginlab-scene"},
                        {"version", 1},
                        {"data", {{"generator", "blobs"}, {"params", {{"points", 40}, {"classes", 4}}}}},
                        {"loss", {{"name", "triplet_margin"}, {"params", {{"margin", 0.2}}}}},
                        {"optimizer", {{"type", "adam"}, {"learning_rate", 0.05}}},
                        {"seed", 5}};
    const CliRun run = runCli("train - --steps 7", scene.dump());
    ASSERT_EQ(run.exitCode, 0) << run.err;
    std::istringstream lines(run.out);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "step,loss,active,precision_at_1,collapse");
    int rows = 0;
    while (std::getline(lines, line)) {
        EXPECT_EQ(line.rfind(std::to_string(rows) + ",", 0), 0u) << line;
        ++rows;
    }
    EXPECT_EQ(rows, 8);  // steps 0 to 7
}

// Step 0 evaluates what the first step will (with the miner), so a mined scene does not start
// with batch-all's loss and a spike at step 1.
TEST(Cli, TrainStartsWithTheMinedLoss) {
    for (const char* scene : {"mining-batch-hard.json", "mining-semihard.json"}) {
        const CliRun run = runCli(std::string("train ") + MARGINLAB_SOURCE_DIR + "/resources/scenes/" + scene + " --steps 2");
        ASSERT_EQ(run.exitCode, 0) << run.err;
        std::istringstream lines(run.out);
        std::string header, row0, row1, row2;
        std::getline(lines, header);
        std::getline(lines, row0);
        std::getline(lines, row1);
        std::getline(lines, row2);
        auto loss = [](const std::string& row) {
            const auto first = row.find(',');
            return row.substr(first + 1, row.find(',', first + 1) - first - 1);
        };
        ASSERT_EQ(row0.rfind("0,", 0), 0u) << row0;
        ASSERT_EQ(row1.rfind("1,", 0), 0u) << row1;
        EXPECT_EQ(loss(row0), loss(row1)) << scene;
        EXPECT_NE(loss(row0), "0.6363288955") << scene;  // batch-all's loss on this data
        EXPECT_NE(loss(row1), loss(row2)) << scene;      // and the run moves on
    }
}

TEST(Cli, TrainRejectsANewerSceneVersion) {
    const Json scene = {{"version", 99}, {"data", {{"generator", "blobs"}}}, {"loss", "contrastive"}};
    const CliRun run = runCli("train - --steps 1", scene.dump());
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_NE(run.err.find("newer MarginLab"), std::string::npos) << run.err;
}

TEST(Cli, TrainNeedsSteps) {
    const CliRun run = runCli("train - --steps zero", "{}");
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_NE(run.err.find("--steps needs an integer from 1 to"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace marginlab

namespace marginlab {
namespace {

// docs/losses.md is generated from the catalogue; a loss added or changed without regenerating
// it would leave the reference wrong.
TEST(Cli, LossReferenceIsUpToDate) {
    const CliRun run = runCli("list losses --markdown");
    ASSERT_EQ(run.exitCode, 0) << run.err;
    std::ifstream doc(std::string(MARGINLAB_SOURCE_DIR) + "/docs/losses.md");
    const std::string committed(std::istreambuf_iterator<char>(doc), {});
    EXPECT_EQ(run.out, committed) << "regenerate it: build/app/cli/marginlab-cli list losses --markdown > docs/losses.md";
}

}  // namespace
}  // namespace marginlab

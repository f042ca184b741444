// SPDX-License-Identifier: MIT
// "cross_batch_memory" in scene files: read strictly, written back unchanged, and a saved run's
// memory queue ("state.memory") carries the run on bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "marginlab/generators.h"
#include "marginlab/scene/scenefile.h"

namespace marginlab {
namespace {

using json::Json;

Json memoryScene() {
    return Json::parse(R"({
      "format": "marginlab-scene", "version": 1,
      "data": {"generator": "blobs", "params": {"points": 60, "classes": 4, "seed": 2}},
      "loss": {"name": "contrastive"},
      "batch": {"mode": "pk", "classes": 2, "samples": 4},
      "cross_batch_memory": {"memory_size": 32},
      "seed": 5
    })");
}

TEST(CrossBatchMemoryScene, IsReadAndWrittenBack) {
    std::string error;
    auto scene = parseScene(memoryScene(), ".", &error);
    ASSERT_TRUE(scene) << error;
    ASSERT_TRUE(scene->trainer.crossBatchMemory);
    EXPECT_EQ(scene->trainer.crossBatchMemory->memorySize, 32);
    const Json written = sceneToJson(*scene);
    EXPECT_EQ(written.at("cross_batch_memory"), Json::parse(R"({"memory_size": 32})"));
    auto again = parseScene(Json::parse(json::format(written)), ".", &error);
    ASSERT_TRUE(again) << error;
    EXPECT_EQ(again->trainer.crossBatchMemory, scene->trainer.crossBatchMemory);

    // Null and absent both mean no memory; nothing is written then.
    Json none = memoryScene();
    none["cross_batch_memory"] = nullptr;
    auto plain = parseScene(none, ".", &error);
    ASSERT_TRUE(plain) << error;
    EXPECT_FALSE(plain->trainer.crossBatchMemory);
    EXPECT_FALSE(sceneToJson(*plain).contains("cross_batch_memory"));
}

struct BadMemory {
    const char* patch;  // replaces "cross_batch_memory" (or the batch / loss when it names them)
    const char* key;
    const char* message;
};

TEST(CrossBatchMemoryScene, BadBlocksAreRefusedWithClearMessages) {
    const BadMemory cases[] = {
        {R"({"memory_size": 0})", "cross_batch_memory",
         "cross_batch_memory.memory_size: must be between 1 and"},
        {R"({"memory_size": 1e9})", "cross_batch_memory", "memory_size"},
        {R"({"memory_size": 32, "size": 3})", "cross_batch_memory", "size"},
        {R"({})", "cross_batch_memory", "memory_size"},
        {R"(256)", "cross_batch_memory", "expected an object"},
        {R"({"memory_size": 4})", "cross_batch_memory", "must hold at least one batch (8 points)"},
        {R"({"mode": "full"})", "batch", "needs P×K batches"},
        {R"({"name": "softmax"})", "loss", "loss softmax cannot compare with a cross-batch memory"},
    };
    for (const BadMemory& bad : cases) {
        SCOPED_TRACE(bad.patch);
        Json document = memoryScene();
        document[bad.key] = Json::parse(bad.patch);
        std::string error;
        EXPECT_FALSE(parseScene(document, ".", &error));
        EXPECT_NE(error.find(bad.message), std::string::npos) << error;
    }
}

TEST(CrossBatchMemoryScene, ASavedRunKeepsItsQueue) {
    std::string error;
    auto scene = parseScene(memoryScene(), ".", &error);
    ASSERT_TRUE(scene) << error;
    Trainer whole(scene->trainer);
    whole.step(7);  // 56 rows went through a queue of 32: it has wrapped
    SceneFile saved = *scene;
    saved.trainer.start = whole.savedState();
    ASSERT_TRUE(saved.trainer.start->memory);
    EXPECT_TRUE(saved.trainer.start->memory->filled);
    const std::string text = json::format(sceneToJson(saved));
    auto reopened = parseScene(Json::parse(text), ".", &error);
    ASSERT_TRUE(reopened) << error;
    ASSERT_TRUE(reopened->trainer.start && reopened->trainer.start->memory);
    EXPECT_EQ(*reopened->trainer.start->memory, *saved.trainer.start->memory);
    Trainer continued(reopened->trainer);
    const auto a = continued.step(6);
    const auto b = whole.step(6);
    ASSERT_EQ(a->positions.size(), b->positions.size());
    EXPECT_EQ(0, std::memcmp(a->positions.data(), b->positions.data(), sizeof(Real) * a->positions.size()));

    // A queue that does not fit its memory is refused, naming the path.
    Json document = Json::parse(text);
    document["state"]["memory"]["queue_index"] = 40;
    EXPECT_FALSE(parseScene(document, ".", &error));
    EXPECT_NE(error.find("state.memory.queue_index"), std::string::npos) << error;
    document = Json::parse(text);
    document["state"]["memory"]["labels"] = Json::array({0, 1});
    EXPECT_FALSE(parseScene(document, ".", &error));
    EXPECT_NE(error.find("state.memory.labels"), std::string::npos) << error;
    document = Json::parse(text);
    document.erase("cross_batch_memory");
    EXPECT_FALSE(parseScene(document, ".", &error));
    EXPECT_NE(error.find("state.memory"), std::string::npos) << error;
}

TEST(CrossBatchMemoryScene, TheReadySceneShowsWhatItsTextSays) {
    std::string error;
    auto scene = readSceneFile(
        std::filesystem::path(MARGINLAB_SOURCE_DIR) / "resources" / "scenes" / "cross-batch-memory.json",
        &error);
    ASSERT_TRUE(scene) << error;
    const TrainerConfig& config = scene->trainer;
    ASSERT_TRUE(config.crossBatchMemory);
    EXPECT_EQ(config.crossBatchMemory->memorySize, 256);
    EXPECT_EQ(config.numClasses, 8);
    // "Each step draws only 2 of the 8 classes (P×K = 2×4)": the batch alone gives each point
    // 3 positives and 4 negatives.
    TrainerConfig alone = config;
    alone.crossBatchMemory.reset();
    Trainer plain(alone);
    EXPECT_EQ(plain.step(1)->stats.tuples, 8 * 7);

    Trainer trainer(config);
    const Real startPrecision = trainer.snapshot()->metrics.precisionAt1;
    trainer.step(40);  // 320 rows went in: the queue of 256 is full
    const auto full = trainer.snapshot();
    ASSERT_EQ(full->memoryPositions.rows(), 256);
    // "every step now meets negatives of all the other classes (about 220 per point instead of 4)"
    std::vector<int> perClass(8, 0);
    for (int label : full->memoryLabels) ++perClass[static_cast<std::size_t>(label)];
    double negatives = 0;
    for (int c = 0; c < 8; ++c) {
        EXPECT_GT(perClass[static_cast<std::size_t>(c)], 0) << "class " << c << " is missing from the memory";
        negatives += (256 - perClass[static_cast<std::size_t>(c)]) / 8.0;
    }
    EXPECT_GT(negatives, 200);
    EXPECT_LT(negatives, 240);
    EXPECT_EQ(full->stats.tuples, 8 * 255);  // every memory row but the anchor's own copy
    // "only the batch points move": the gradient has at most P×K non-zero rows.
    int moving = 0;
    for (Eigen::Index i = 0; i < full->gradient.rows(); ++i) moving += full->gradient.row(i).norm() > 0;
    EXPECT_GT(moving, 0);
    EXPECT_LE(moving, 8);
    // And it trains: retrieval on the sphere improves clearly.
    trainer.step(560);
    const auto trained = trainer.snapshot();
    EXPECT_EQ(trained->status, TrainStatus::Running);
    EXPECT_GT(trained->metrics.precisionAt1, startPrecision + 0.1) << startPrecision;
    EXPECT_GT(trained->metrics.precisionAt1, 0.9);
}

}  // namespace
}  // namespace marginlab

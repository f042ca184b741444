// SPDX-License-Identifier: MIT
#include "marginlab/scene/scenefile.h"

#include "marginlab/csv.h"
#include "marginlab/generators.h"
#include "marginlab/limits.h"
#include "marginlab/scene/trajectory.h"

#include <string_view>

namespace marginlab {

namespace {

using json::Error;
using json::Json;

// The keys each block accepts, one list per block: a key that is not here is refused with its
// JSON path (and a "did you mean" for a near miss). "view" is the app's and stays lenient.
constexpr std::string_view kSceneKeys[] = {"format", "version",       "title", "description", "data",
                                           "loss",   "miner",         "optimizer", "batch", "seed",
                                           "metrics_every", "owned", "view",  "state", "cross_batch_memory",
                                           // A comparison's panels: read by parseComparison; a single-scene
                                           // reader opens the shared top level (comparisonfile.h).
                                           "panels"};
constexpr std::string_view kGeneratorDataKeys[] = {"generator", "params"};
constexpr std::string_view kPointsDataKeys[] = {"points", "labels", "classes"};
constexpr std::string_view kCsvDataKeys[] = {"csv"};
constexpr std::string_view kNpyDataKeys[] = {"npy"};

Dataset readData(const Json& data, const std::filesystem::path& baseDir) {
    if (!data.is_object()) throw Error{"data", "expected an object"};
    const int sources = data.contains("generator") + data.contains("csv") + data.contains("npy") + data.contains("points");
    if (sources > 1)
        throw Error{"data", "has more than one of \"generator\", \"csv\", \"npy\" and \"points\"; give exactly one"};
    if (const Json* npy = json::optionalMember(data, "npy", "data")) {
        // NumPy's N×D float array (D = 2 or 3) with its labels in NAME-labels.npy beside it, as
        // `--init` reads it (an F×N×D trajectory gives its last frame).
        json::checkKeys(data, kNpyDataKeys, "data");
        std::filesystem::path path = json::readString(*npy, "data.npy");
        if (path.is_relative()) path = baseDir / path;
        if (path.extension() != ".npy") throw Error{"data.npy", path.string() + ": expected a .npy file"};
        std::string message;
        auto dataset = readInitialPoints(path, &message);
        if (!dataset) throw Error{"data.npy", message};
        return std::move(*dataset);
    }
    if (const Json* generator = json::optionalMember(data, "generator", "data")) {
        json::checkKeys(data, kGeneratorDataKeys, "data");
        GeneratorConfig config;
        config.name = json::readString(*generator, "data.generator");
        const GeneratorInfo* info = findGenerator(config.name);
        if (const Json* params = json::optionalMember(data, "params", "data"))
            config.params = json::readParams(*params, "data.params", info ? &info->params : nullptr);
        std::string error;
        auto dataset = generate(config, &error);
        if (!dataset) throw Error{"data", error};
        return std::move(*dataset);
    }
    if (const Json* csv = json::optionalMember(data, "csv", "data")) {
        json::checkKeys(data, kCsvDataKeys, "data");
        std::filesystem::path path = json::readString(*csv, "data.csv");
        if (path.is_relative()) path = baseDir / path;
        auto result = readCsvFile(path.string());
        if (const auto* failure = std::get_if<CsvError>(&result))
            throw Error{"data.csv", path.string() + ": " + failure->message};
        return std::get<Dataset>(std::move(result));
    }
    json::checkKeys(data, kPointsDataKeys, "data");
    Dataset dataset;
    dataset.points = json::readBoundedMatrix(json::member(data, "points", "data"), "data.points");
    dataset.labels = json::readLabels(json::member(data, "labels", "data"), "data.labels");
    if (dataset.labels.size() != static_cast<std::size_t>(dataset.points.rows()))
        throw Error{"data.labels", "has " + std::to_string(dataset.labels.size()) + " labels for " +
                                       std::to_string(dataset.points.rows()) + " points"};
    int top = -1;
    for (std::size_t i = 0; i < dataset.labels.size(); ++i) {
        if (dataset.labels[i] < 0)
            throw Error{"data.labels[" + std::to_string(i) + "]", "labels must be 0, 1, 2, ..."};
        top = std::max(top, dataset.labels[i]);
    }
    dataset.numClasses = top + 1;
    if (const Json* classes = json::optionalMember(data, "classes", "data")) {
        const int declared = json::readInteger(*classes, "data.classes");
        if (declared > limits::kMaxClasses)
            throw Error{"data.classes", std::to_string(declared) + " is more than the limit of " +
                                            std::to_string(limits::kMaxClasses) + " classes"};
        if (declared <= top) throw Error{"data.classes", "is smaller than the largest label + 1"};
        dataset.numClasses = declared;
    }
    return dataset;
}

// The "state" of a saved run, checked against the (already valid) configuration.
void readState(const Json& value, SceneFile& scene) {
    TrainerConfig& trainer = scene.trainer;
    if (!value.is_object()) throw Error{"state", "expected an object"};
    for (const auto& [key, unused] : value.items())
        if (key != "step" && key != "positions" && key != "owned" && key != "optimizer" && key != "history" &&
            key != "memory")
            throw Error{"state", "unknown entry \"" + key + "\""};
    // Filled in place (the scene is thrown away on any error below).
    TrainerStart& start = trainer.start.emplace();
    const int step = json::readInteger(json::member(value, "step", "state"), "state.step");
    if (step < 0) throw Error{"state.step", "must be ≥ 0"};
    start.step = step;
    auto shape = [](Eigen::Index rows, Eigen::Index cols) { return std::to_string(rows) + "×" + std::to_string(cols); };
    start.positions = json::readBoundedMatrix(json::member(value, "positions", "state"), "state.positions");
    if (start.positions.rows() != trainer.points.rows() || start.positions.cols() != trainer.points.cols())
        throw Error{"state.positions", "is " + shape(start.positions.rows(), start.positions.cols()) + ", expected " +
                                           shape(trainer.points.rows(), trainer.points.cols()) + " like the data"};
    const Eigen::Index ownedRows =
        static_cast<Eigen::Index>(ownedBlocksOf(trainer.loss)) * trainer.numClasses;
    if (const Json* owned = json::optionalMember(value, "owned", "state")) {
        if (ownedRows == 0) throw Error{"state.owned", "loss " + trainer.loss.name + " has no parameters of its own"};
        start.owned = json::readBoundedMatrix(*owned, "state.owned");
        if (start.owned->rows() != ownedRows || start.owned->cols() != trainer.points.cols())
            throw Error{"state.owned", "is " + shape(start.owned->rows(), start.owned->cols()) + ", expected " +
                                           shape(ownedRows, trainer.points.cols())};
    }
    if (const Json* optimizer = json::optionalMember(value, "optimizer", "state")) {
        start.optimizer = json::readOptimizerState(*optimizer, "state.optimizer",
                                                   {{trainer.points.rows(), trainer.points.cols()},
                                                    {ownedRows, trainer.points.cols()}});
        if (start.optimizer->kind != trainer.optimizer.kind)
            throw Error{"state.optimizer.type", "is " + optimizerName(start.optimizer->kind) + " but the scene's optimizer is " +
                                                    optimizerName(trainer.optimizer.kind)};
    }
    if (const Json* memory = json::optionalMember(value, "memory", "state")) {
        if (!trainer.crossBatchMemory)
            throw Error{"state.memory",
                        "the scene has no \"cross_batch_memory\" for this queue to belong to"};
        json::checkKeys(*memory, {"queue_index", "filled", "positions", "labels"}, "state.memory");
        MemoryQueue& queue = start.memory.emplace();
        queue.queueIndex = json::readInteger(json::member(*memory, "queue_index", "state.memory"),
                                             "state.memory.queue_index");
        queue.filled = json::readBool(json::member(*memory, "filled", "state.memory"), "state.memory.filled");
        const int size = trainer.crossBatchMemory->memorySize;
        if (queue.queueIndex < 0 || queue.queueIndex >= size)
            throw Error{"state.memory.queue_index",
                        "must be in [0, " + std::to_string(size) + ") (the memory_size)"};
        const Eigen::Index rows = queue.filled ? size : queue.queueIndex;
        const Json& positions = json::member(*memory, "positions", "state.memory");
        // An empty queue is written as []: no rows, so no width either.
        if (!(positions.is_array() && positions.empty()))
            queue.embeddings = json::readBoundedMatrix(positions, "state.memory.positions");
        if (queue.embeddings.rows() != rows || (rows > 0 && queue.embeddings.cols() != trainer.points.cols()))
            throw Error{"state.memory.positions",
                        "is " + shape(queue.embeddings.rows(), queue.embeddings.cols()) + ", expected " +
                            shape(rows, trainer.points.cols()) + " (the slots filled so far)"};
        queue.labels =
            json::readLabels(json::member(*memory, "labels", "state.memory"), "state.memory.labels");
        if (static_cast<Eigen::Index>(queue.labels.size()) != rows)
            throw Error{"state.memory.labels", "has " + std::to_string(queue.labels.size()) + " labels for " +
                                                   std::to_string(rows) + " rows"};
        if (rows == 0) queue.embeddings.resize(0, 0);
    }
    if (const Json* history = json::optionalMember(value, "history", "state")) {
        scene.history = json::readHistory(*history, "state.history");
        if (!scene.history.empty() && scene.history.back().step > start.step)
            throw Error{"state.history", "goes on to step " + std::to_string(scene.history.back().step) +
                                             ", after the state's step " + std::to_string(start.step)};
    }
}

}  // namespace

std::optional<SceneFile> parseScene(const Json& document, const std::filesystem::path& baseDir, std::string* error) {
    try {
        return sceneFromJson(document, baseDir);
    } catch (const Error& e) {
        if (error) *error = e.what();
    } catch (const std::exception& e) {
        if (error) *error = e.what();
    }
    return std::nullopt;
}

SceneFile sceneFromJson(const Json& document, const std::filesystem::path& baseDir) {
    {
        if (!document.is_object()) throw Error{"", "a scene is a JSON object"};
        json::checkKeys(document, kSceneKeys, "");
        if (const Json* format = json::optionalMember(document, "format", ""))
            if (json::readString(*format, "format") != "marginlab-scene")
                throw Error{"format", "this is not a MarginLab scene"};
        const int version = json::readInteger(json::member(document, "version", ""), "version");
        if (version > kSceneVersion)
            throw Error{"version", "the scene was written by a newer MarginLab (version " + std::to_string(version) +
                                       "; this one reads up to " + std::to_string(kSceneVersion) + ")"};
        if (version < 1) throw Error{"version", "must be at least 1"};

        SceneFile scene;
        if (const Json* title = json::optionalMember(document, "title", "")) scene.title = json::readString(*title, "title");
        if (const Json* text = json::optionalMember(document, "description", ""))
            scene.description = json::readString(*text, "description");
        scene.data = json::member(document, "data", "");
        Dataset dataset = readData(scene.data, baseDir);

        TrainerConfig& trainer = scene.trainer;
        trainer.points = std::move(dataset.points);
        trainer.labels = std::move(dataset.labels);
        trainer.numClasses = dataset.numClasses;
        trainer.loss = json::readLossConfig(json::member(document, "loss", ""), "loss");
        if (const Json* miner = json::optionalMember(document, "miner", ""))
            trainer.miner = json::readMinerConfig(*miner, "miner");
        if (const Json* optimizer = json::optionalMember(document, "optimizer", ""))
            trainer.optimizer = json::readOptimizer(*optimizer, "optimizer");
        if (const Json* batch = json::optionalMember(document, "batch", "")) trainer.batch = json::readBatch(*batch, "batch");
        if (const Json* seed = json::optionalMember(document, "seed", "")) {
            const int value = json::readInteger(*seed, "seed");
            if (value < 0) throw Error{"seed", "must be ≥ 0"};
            trainer.seed = static_cast<std::uint64_t>(value);
        }
        if (const Json* every = json::optionalMember(document, "metrics_every", ""))
            trainer.metricsEvery = json::readInteger(*every, "metrics_every");
        if (const Json* owned = json::optionalMember(document, "owned", "")) trainer.owned = json::readBoundedMatrix(*owned, "owned");
        if (const Json* memory = json::optionalMember(document, "cross_batch_memory", "");
            memory && !memory->is_null()) {
            if (!memory->is_object())
                throw Error{"cross_batch_memory", "expected an object like {\"memory_size\": 256} or null"};
            json::checkKeys(*memory, {"memory_size"}, "cross_batch_memory");
            const int size = json::readInteger(json::member(*memory, "memory_size", "cross_batch_memory"),
                                               "cross_batch_memory.memory_size");
            if (size < 1 || size > limits::kMaxMemorySize)
                throw Error{"cross_batch_memory.memory_size",
                            "must be between 1 and " + std::to_string(limits::kMaxMemorySize)};
            trainer.crossBatchMemory = CrossBatchMemoryConfig{size};
        }
        if (const Json* view = json::optionalMember(document, "view", "")) scene.view = *view;

        std::string message;
        if (!trainer.isValid(&message)) throw Error{"", message};
        if (const Json* state = json::optionalMember(document, "state", "")) {
            readState(*state, scene);
            if (!trainer.isValid(&message)) throw Error{"state", message};
        }
        return scene;
    }
}

std::optional<SceneFile> readSceneFile(const std::filesystem::path& path, std::string* error) {
    Json document;
    try {
        const std::string text = json::readFile(path.string());  // names the path itself
        try {
            document = json::parse(text);
        } catch (const Error& e) {
            throw Error{"", path.string() + ": " + e.what()};
        }
    } catch (const Error& e) {
        if (error) *error = e.what();
        return std::nullopt;
    }
    std::string message;
    auto scene = parseScene(document, path.parent_path(), &message);
    if (!scene && error) *error = path.string() + ": " + message;
    return scene;
}

Json sceneToJson(const SceneFile& scene, const Points* positions) {
    const TrainerConfig& trainer = scene.trainer;
    Json out = {{"format", "marginlab-scene"}, {"version", kSceneVersion}};
    if (!scene.title.empty()) out["title"] = scene.title;
    if (!scene.description.empty()) out["description"] = scene.description;
    if (positions) {
        out["data"] = {{"points", json::toJson(*positions)}, {"labels", json::toJson(trainer.labels)},
                       {"classes", trainer.numClasses}};
    } else {
        out["data"] = scene.data;
    }
    out["loss"] = json::toJson(trainer.loss);
    out["miner"] = trainer.miner ? json::toJson(*trainer.miner) : Json(nullptr);
    out["optimizer"] = json::toJson(trainer.optimizer);
    out["batch"] = json::toJson(trainer.batch);
    out["seed"] = trainer.seed;
    out["metrics_every"] = trainer.metricsEvery;
    if (trainer.owned) out["owned"] = json::toJson(*trainer.owned);
    if (trainer.crossBatchMemory)
        out["cross_batch_memory"] = {{"memory_size", trainer.crossBatchMemory->memorySize}};
    out["view"] = scene.view;
    if (trainer.start) {
        const TrainerStart& start = *trainer.start;
        Json state = {{"step", start.step}, {"positions", json::toJson(start.positions)}};
        if (start.owned) state["owned"] = json::toJson(*start.owned);
        if (start.optimizer) state["optimizer"] = json::toJson(*start.optimizer);
        if (start.memory) {
            const MemoryQueue& queue = *start.memory;
            state["memory"] = {
                {"queue_index", queue.queueIndex},
                {"filled", queue.filled},
                {"positions", queue.embeddings.rows() ? json::toJson(queue.embeddings) : Json::array()},
                {"labels", json::toJson(queue.labels)}};
        }
        if (!scene.history.empty()) state["history"] = json::toJson(scene.history);
        out["state"] = std::move(state);
    }
    return out;
}

}  // namespace marginlab

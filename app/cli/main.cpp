// SPDX-License-Identifier: MIT
// marginlab-cli: evaluate losses on given embeddings, and train scenes headless. No Qt.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "compare.h"
#include "marginlab/allocator.h"
#include "marginlab/generators.h"
#include "marginlab/limits.h"
#include "marginlab/loss.h"
#include "marginlab/losses/class_labels.h"
#include "marginlab/miner.h"
#include "marginlab/scene/comparisonfile.h"
#include "marginlab/scene/jsonio.h"
#include "marginlab/scene/scenefile.h"
#include "marginlab/scene/trajectory.h"
#include "marginlab/trainer.h"

namespace {

using marginlab::json::Error;
using marginlab::json::Json;
namespace ml = marginlab;

constexpr const char* kUsage = R"(marginlab-cli — MarginLab's engine on the command line

Usage:
  marginlab-cli loss IN.json [--indent N]      evaluate losses, gradients and miners (JSON out)
  marginlab-cli train SCENE.json --steps K [--metrics-every M] [--trajectory OUT [--every M]]
                    [--init POSITIONS] [--init-owned FILE]
                                               train a scene headless, one CSV row per step
                                               (a comparison: one row per panel per step)
  marginlab-cli list [losses|miners|generators]
                                               names, parameters and defaults
  marginlab-cli COMMAND --help                 help for one command

IN.json / SCENE.json may be '-' for standard input. Documentation: docs/cli.md.
)";

constexpr const char* kLossUsage = R"(marginlab-cli loss IN.json [--indent N]

Reads one case or {"cases": [...]}; each case:
  {"id": "a", "embeddings": [[x, y], ...], "labels": [0, 1, ...],
   "weights": [[...], ...]                      (class weights / proxies: C×D, row c = class c; center loss: 2C×D)
   "loss":  {"name": "triplet_margin", "params": {"margin": 0.2}, "distance": {"type": "lp", "power": 1, "normalize_embeddings": true}},
   "miner": {"name": "batch_hard", "params": {}, "distance": {...}}   (optional)
   "seed": 0,                                   (optional; for sampling miners and losses)
   "ref_embeddings": [[x, y], ...], "ref_labels": [...]}
                                                (optional, together: PML's ref_emb / ref_labels, as
                                                CrossBatchMemory passes them; anchors from the batch,
                                                positives / negatives from these rows, no gradient to
                                                them; for the losses and miners that take a reference)
Prints {"results": [{"id", "loss", "grad_embeddings" (N×D), "grad_weights" (C×D or null),
                     "miner": {"triplets", "positive_pairs", "negative_pairs"} or null, "stats"}]}.
Invalid input: a message on standard error naming the case and the JSON path; exit code 2.
)";

constexpr const char* kTrainUsage = R"(marginlab-cli train SCENE.json --steps K [--metrics-every M] [--plot]
                   [--trajectory OUT [--every M]] [--init POSITIONS] [--init-owned FILE]

Runs the scene for K steps and prints CSV: step,loss,active,precision_at_1,collapse, one row
per step from step 0 to K. The loss of step k is the one the update to step k evaluated (at the
points of step k - 1); step 0 shows what the first update evaluates, so rows 0 and 1 agree.
Precision@1 and collapse (the mean pairwise distance relative to step 0) are recomputed every
M steps (default: the scene's metrics_every, 10 when it has none). --plot adds a text chart of the loss after the table. Stops early with a
message on standard error (exit code 3) if training diverges.

--trajectory OUT   also writes the positions (and the loss's class weights / proxies / centers)
                   at step 0, every M steps (--every, default 1) and the last step, to OUT:
                   .csv (step,kind,point,label,x,y[,z]), .npy (F×N×D + OUT-labels.npy,
                   OUT-steps.npy, OUT-owned.npy) or .json. See docs/trajectories.md.
--init POSITIONS   starts from these points instead of the scene's data: a CSV x,y[,z],label,
                   an NPY N×D array with POSITIONS-labels.npy, or a trajectory (its last frame).
--init-owned FILE  starts the loss's own parameters from FILE: a CSV of rows x,y[,z], an NPY R×D
                   array, or a trajectory (its last frame).
A comparison (a scene with "panels", 2-4 panels trained in lockstep from the same start) prints
step,panel,loss,active,precision_at_1,map_at_r,easy,semi_hard,hard,collapse,title: one row per panel per
step; it takes only --steps and --metrics-every, and a diverged panel stops (exit code 3 at the end)
while the others go on.
Scene format: docs/file-formats.md.
)";

/// One CSV row of `train`, of any length (a collapsed run prints numbers of 150 digits).
std::string formatRow(const ml::Snapshot& snapshot) {
    auto print = [&](char* buffer, std::size_t size) {
        return std::snprintf(buffer, size, "%ld,%.10g,%lld,%.6f,%.6f\n", snapshot.step, snapshot.loss,
                             static_cast<long long>(snapshot.stats.active), snapshot.metrics.precisionAt1,
                             snapshot.metrics.collapse);
    };
    std::string row(96, '\0');  // enough for ordinary rows; measured and redone for longer ones
    int length = print(row.data(), row.size());
    if (length < 0) throw Error{"", "cannot format a row"};
    if (static_cast<std::size_t>(length) >= row.size()) {
        row.resize(static_cast<std::size_t>(length) + 1);
        length = print(row.data(), row.size());
    }
    row.resize(static_cast<std::size_t>(length));
    return row;
}

/**
 * The loss curve for --plot in bounded memory: every value until kKept, then every second one
 * (and so on), which is more than the chart's 64 columns need for any run length.
 */
class LossCurve {
public:
    void add(double value) {
        if (m_count++ % m_stride != 0) return;
        m_values.push_back(value);
        if (m_values.size() < kKept) return;
        for (std::size_t i = 0; 2 * i < m_values.size(); ++i) m_values[i] = m_values[2 * i];
        m_values.resize((m_values.size() + 1) / 2);
        m_stride *= 2;
    }
    const std::vector<double>& values() const { return m_values; }
    long count() const { return m_count; }

private:
    static constexpr std::size_t kKept = 4096;
    std::vector<double> m_values;
    long m_count = 0;
    long m_stride = 1;
};

/// A text chart of a curve, `width` columns × `height` rows, with its range on the axis.
void plotCurve(const LossCurve& curve, const std::string& title) {
    constexpr int width = 64, height = 12;
    const std::vector<double>& values = curve.values();
    if (values.empty()) return;
    const auto [lowIt, highIt] = std::minmax_element(values.begin(), values.end());
    const double low = *lowIt, high = *highIt > *lowIt ? *highIt : *lowIt + 1.0;
    std::vector<std::string> rows(height, std::string(width, ' '));
    for (int col = 0; col < width; ++col) {
        const std::size_t index = values.size() == 1 ? 0 : col * (values.size() - 1) / (width - 1);
        const double t = (values[index] - low) / (high - low);
        const int row = height - 1 - static_cast<int>(std::lround(t * (height - 1)));
        rows[static_cast<std::size_t>(row)][static_cast<std::size_t>(col)] = '*';
    }
    // Through std::cout like the table, so the two stay in order and write errors are seen.
    std::cout << "\n" << title << "\n";
    for (int r = 0; r < height; ++r) {
        const double label = high - (high - low) * r / (height - 1);
        char axis[64];
        std::snprintf(axis, sizeof axis, "%10.4g |", label);  // %10.4g: at most 11 characters
        std::cout << axis << rows[static_cast<std::size_t>(r)] << "\n";
    }
    std::cout << std::string(10, ' ') << " +" << std::string(width, '-') << "\n"
              << std::string(6, ' ') << "step 1" << std::string(width - 6, ' ') << curve.count() << "\n";
}

constexpr const char* kListUsage = R"(marginlab-cli list [losses|miners|generators] [--markdown]

Prints every loss, miner or data generator with its parameters and defaults
(--markdown: as the tables of docs/losses.md).
)";

bool wantsHelp(const std::vector<std::string>& args) {
    for (const auto& a : args)
        if (a == "--help" || a == "-h") return true;
    return false;
}

/// A command-line integer in [low, high], the whole text (no sign games, no trailing text, no
/// wrap-around: "4294967296" is refused, not taken as 0).
std::int64_t parseInteger(const std::string& flag, const std::string& text, std::int64_t low, std::int64_t high) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
        throw Error{"", flag + " needs an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                            ", got '" + text + "'"};
    return value;
}

Json readJsonInput(const std::string& path) {
    const std::string text = path == "-" ? ml::json::readStandardInput() : ml::json::readFile(path);
    try {
        return ml::json::parse(text);
    } catch (const Error& e) {
        throw Error{"", (path == "-" ? std::string("standard input") : path) + ": " + e.what()};
    }
}

/// Standard output must have taken everything: a full disk or a closed stream is an error.
void checkOutput() {
    std::cout.flush();
    if (!std::cout) throw Error{"", "cannot write to standard output"};
}

Json evaluateCase(const Json& item, const std::string& path) {
    const std::string prefix = path.empty() ? "" : path + ".";
    ml::json::checkKeys(item, {"id", "embeddings", "labels", "weights", "loss", "miner", "seed", "ref_embeddings", "ref_labels"},
                        path);
    const ml::Points x = ml::json::readBoundedMatrix(ml::json::member(item, "embeddings", path), prefix + "embeddings");
    const ml::Labels y = ml::json::readLabels(ml::json::member(item, "labels", path), prefix + "labels");
    if (y.size() != static_cast<std::size_t>(x.rows()))
        throw Error{prefix + "labels", "has " + std::to_string(y.size()) + " labels for " + std::to_string(x.rows()) +
                                          " embeddings"};
    const ml::LossConfig lossConfig = ml::json::readLossConfig(ml::json::member(item, "loss", path), prefix + "loss");
    std::string message;
    const auto loss = ml::makeLoss(lossConfig, &message);
    if (!loss) throw Error{prefix + "loss", message};
    const ml::LossInfo& info = *ml::findLoss(lossConfig.name);
    // multiple_losses owns the blocks of its components, stacked in order.
    const int ownedBlocks = ml::ownedBlocksOf(lossConfig);

    std::optional<ml::Points> weights;
    if (const Json* w = ml::json::optionalMember(item, "weights", path)) {
        if (ownedBlocks == 0)
            throw Error{prefix + "weights", "loss " + info.name + " has no class weights or proxies"};
        weights = ml::json::readBoundedMatrix(*w, prefix + "weights");
        if (weights->cols() != x.cols())
            throw Error{prefix + "weights", "has " + std::to_string(weights->cols()) + " columns, the embeddings have " +
                                               std::to_string(x.cols())};
        if (weights->rows() % ownedBlocks != 0)
            throw Error{prefix + "weights", "needs " + std::to_string(ownedBlocks) + "·C rows"};
        const int classes = static_cast<int>(weights->rows()) / ownedBlocks;
        if (!ml::validateClassLabels(y, classes, &message))
            throw Error{prefix + "labels", message + " (weights has a row per class)"};
    } else if (ownedBlocks > 0) {
        throw Error{path,
                    "loss " + info.name + " needs \"weights\" (" + std::to_string(ownedBlocks) + "·C×D)"};
    }

    const std::uint64_t seed = [&]() -> std::uint64_t {
        const Json* s = ml::json::optionalMember(item, "seed", path);
        if (!s) return 0;
        const int value = ml::json::readInteger(*s, prefix + "seed");
        if (value < 0) throw Error{prefix + "seed", "must be ≥ 0"};
        return static_cast<std::uint64_t>(value);
    }();

    // PML's ref_emb / ref_labels: both or neither.
    std::optional<ml::Points> reference;
    std::optional<ml::Labels> referenceLabels;
    const Json* refEmbeddings = ml::json::optionalMember(item, "ref_embeddings", path);
    const Json* refLabels = ml::json::optionalMember(item, "ref_labels", path);
    if ((refEmbeddings != nullptr) != (refLabels != nullptr))
        throw Error{path, "\"ref_embeddings\" and \"ref_labels\" go together"};
    if (refEmbeddings) {
        if (!info.acceptsReference)
            throw Error{prefix + "ref_embeddings", "loss " + info.name + " does not take a reference set (those that do: " +
                                                       ml::lossesAcceptingReference() + ")"};
        reference = ml::json::readBoundedMatrix(*refEmbeddings, prefix + "ref_embeddings");
        referenceLabels = ml::json::readLabels(*refLabels, prefix + "ref_labels");
        if (referenceLabels->size() != static_cast<std::size_t>(reference->rows()))
            throw Error{prefix + "ref_labels", "has " + std::to_string(referenceLabels->size()) + " labels for " +
                                                   std::to_string(reference->rows()) + " reference rows"};
        if (reference->rows() > 0 && reference->cols() != x.cols())
            throw Error{prefix + "ref_embeddings", "has " + std::to_string(reference->cols()) +
                                                       " columns, the embeddings have " + std::to_string(x.cols())};
        if (reference->rows() == 0) reference = ml::Points(0, x.cols());
    }

    std::optional<ml::Tuples> tuples;
    Json minerJson = nullptr;
    if (const Json* m = ml::json::optionalMember(item, "miner", path)) {
        if (!ml::acceptsMinerOf(lossConfig))
            throw Error{prefix + "miner", "loss " + info.name + " does not use a miner"};
        const ml::MinerConfig minerConfig = ml::json::readMinerConfig(*m, prefix + "miner");
        const auto miner = ml::makeMiner(minerConfig, &message);
        if (!miner) throw Error{prefix + "miner", message};
        if (reference) {
            if (!ml::findMiner(minerConfig.name)->acceptsReference)
                throw Error{prefix + "miner", "miner " + minerConfig.name + " does not mine a reference set (those that do: " +
                                                  ml::minersAcceptingReference() + ")"};
            ml::MinerInput minerInput{x, y, seed};
            minerInput.referenceEmbeddings = &*reference;
            minerInput.referenceLabels = &*referenceLabels;
            tuples = miner->mine(minerInput);
            // Counted as lists: a symbolic answer is read against the reference.
            if (tuples->kind == ml::Tuples::Kind::All)
                tuples = ml::Tuples::fromTriplets(ml::materializeReferenceTriplets(*tuples, x, y, *reference, *referenceLabels));
        } else {
            tuples = miner->mine(ml::MinerInput{x, y, seed});
        }
        minerJson = ml::json::toJson(ml::countTuples(*tuples, x, y));
    }

    ml::LossInput lossInput{x, y, weights ? &*weights : nullptr, tuples ? &*tuples : nullptr, seed};
    if (reference) {
        lossInput.referenceEmbeddings = &*reference;
        lossInput.referenceLabels = &*referenceLabels;
    }
    const ml::LossOutput out = loss->evaluate(lossInput, true);
    // Never "null" with exit 0: inputs within the supported range (|x| ≤ 1e150) can still
    // overflow in a loss that squares or exponentiates them.
    if (!std::isfinite(out.value) || (out.gradEmbeddings.size() > 0 && !out.gradEmbeddings.allFinite()) ||
        (weights && out.gradOwned.size() > 0 && !out.gradOwned.allFinite()))
        throw Error{path, "the loss or its gradient overflows for these inputs (not representable as a double); "
                          "scale the embeddings or weights down"};
    Json result = {{"loss", out.value}, {"grad_embeddings", ml::json::toJson(out.gradEmbeddings)}};
    result["grad_weights"] = weights ? ml::json::toJson(out.gradOwned) : Json(nullptr);
    result["miner"] = minerJson;
    result["stats"] = ml::json::toJson(out.stats);
    if (!out.components.empty()) result["components"] = out.components;
    return result;
}

int runLoss(const std::vector<std::string>& args) {
    if (wantsHelp(args)) {
        std::cout << kLossUsage;
        return 0;
    }
    std::string input;
    int indent = 2;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--indent" && i + 1 < args.size())
            indent = static_cast<int>(parseInteger("--indent", args[++i], 0, ml::limits::kMaxIndent));
        else if (args[i] == "--indent") throw Error{"", "--indent needs a number"};
        else if (input.empty() && (args[i] == "-" || args[i].rfind("--", 0) != 0)) input = args[i];
        else throw Error{"", "unexpected argument '" + args[i] + "' (see marginlab-cli loss --help)"};
    }
    if (input.empty()) throw Error{"", "loss needs an input file or '-' (see marginlab-cli loss --help)"};
    const Json document = readJsonInput(input);
    std::vector<std::pair<Json, std::string>> cases;
    if (document.is_object() && document.contains("cases")) {
        try {
            ml::json::checkKeys(document, {"cases"}, "");
        } catch (const Error& e) {
            throw Error{"", (input == "-" ? std::string("standard input") : input) + ": " + e.what()};
        }
        const Json& list = document["cases"];
        if (!list.is_array() || list.empty()) throw Error{"", (input == "-" ? std::string("standard input") : input) + ": cases: expected a non-empty array of cases"};
        for (std::size_t i = 0; i < list.size(); ++i) cases.emplace_back(list[i], "cases[" + std::to_string(i) + "]");
    } else {
        cases.emplace_back(document, "");
    }
    Json results = Json::array();
    for (const auto& [item, path] : cases) {
        Json result;
        std::string id = path.empty() ? "case" : path;
        try {
            if (const Json* value = ml::json::optionalMember(item, "id", path)) {
                id = value->is_string() ? value->get<std::string>() : value->dump();
            }
            result = evaluateCase(item, path);
        } catch (const Error& e) {
            throw Error{"", (input == "-" ? std::string("standard input") : input) + ": case '" + id + "': " + e.what()};
        }
        Json entry = {{"id", id}};
        entry.update(result);
        results.push_back(std::move(entry));
    }
    std::cout << ml::json::format(Json{{"results", results}}, indent) << "\n";
    checkOutput();
    return 0;
}

/// The frames `train --trajectory` collects, written once at the end (atomically).
class TrajectoryLog {
public:
    TrajectoryLog(std::string path, long steps, long every) : m_path(std::move(path)) {
        std::string message;
        if (!ml::trajectoryFormatFor(m_path, &message)) throw Error{"", message};
        const std::filesystem::path parent = std::filesystem::path(m_path).parent_path();
        if (!parent.empty() && !std::filesystem::is_directory(parent))
            throw Error{"", m_path + ": the folder " + parent.string() + " does not exist"};
        m_frames = 1 + steps / every + (steps % every != 0 ? 1 : 0);
        if (m_frames > ml::kMaxTrajectoryFrames)
            throw Error{"", m_path + ": " + std::to_string(m_frames) + " frames exceed the limit of " +
                                std::to_string(ml::kMaxTrajectoryFrames) + "; use a larger --every"};
    }

    void add(const ml::Snapshot& snapshot) {
        if (!m_trajectory.steps.empty() && m_trajectory.steps.back() == snapshot.step) return;
        if (m_trajectory.steps.empty()) {
            m_trajectory.labels = snapshot.labels;
            m_trajectory.numClasses = snapshot.numClasses;
            const std::int64_t values =
                m_frames * (snapshot.positions.rows() + snapshot.owned.rows()) * snapshot.positions.cols();
            if (values > ml::kMaxTrajectoryValues)
                throw Error{"", m_path + ": " + std::to_string(values) + " coordinates exceed the limit of " +
                                    std::to_string(ml::kMaxTrajectoryValues) + "; use a larger --every"};
        }
        m_trajectory.steps.push_back(snapshot.step);
        m_trajectory.positions.push_back(snapshot.positions);
        if (snapshot.owned.size() > 0) m_trajectory.owned.push_back(snapshot.owned);
    }

    void write() const {
        std::string message;
        if (!ml::writeTrajectory(m_trajectory, m_path, &message)) throw Error{"", message};
    }

private:
    std::string m_path;
    long m_frames = 0;
    ml::Trajectory m_trajectory;
};

/// --init / --init-owned: the scene starts from given points and parameters.
void applyInitialState(ml::SceneFile& scene, const std::string& initPath, const std::string& ownedPath) {
    std::string message;
    ml::TrainerConfig& trainer = scene.trainer;
    if (!initPath.empty()) {
        auto data = ml::readInitialPoints(initPath, &message);
        if (!data) throw Error{"", message};
        // The trainer's bound, refused here so that it is not blamed on the learning rate later.
        if (data->points.size() > 0 && data->points.cwiseAbs().maxCoeff() > ml::limits::kMaxMagnitude)
            throw Error{"", initPath + ": a coordinate is beyond the supported range: magnitudes up to 1e150"};
        trainer.points = std::move(data->points);
        trainer.labels = std::move(data->labels);
        // Keep the scene's class count when it is larger: its class weights have a row per class.
        trainer.numClasses = std::max(trainer.numClasses, data->numClasses);
    }
    if (!ownedPath.empty()) {
        auto owned = ml::readInitialOwned(ownedPath, &message);
        if (!owned) throw Error{"", message};
        trainer.owned = std::move(*owned);
    }
    if ((!initPath.empty() || !ownedPath.empty()) && !trainer.isValid(&message)) {
        const std::string& file =
            ownedPath.empty() ? initPath : (initPath.empty() ? ownedPath : initPath + " / " + ownedPath);
        throw Error{"", file + ": does not fit the scene: " + message};
    }
}

int runTrain(const std::vector<std::string>& args) {
    if (wantsHelp(args)) {
        std::cout << kTrainUsage;
        return 0;
    }
    std::string input;
    long steps = -1;
    int metricsEvery = 0;  // 0: the scene's own metrics_every
    bool plot = false;
    auto integer = [](const std::string& flag, const std::string& text, std::int64_t high) {
        return static_cast<long>(parseInteger(flag, text, 1, high));
    };
    std::string trajectoryPath, initPath, initOwnedPath;
    long every = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--steps" && i + 1 < args.size()) steps = integer("--steps", args[++i], ml::limits::kMaxSteps);
        else if (args[i] == "--metrics-every" && i + 1 < args.size())
            metricsEvery = static_cast<int>(integer("--metrics-every", args[++i], INT32_MAX));
        else if (args[i] == "--plot") plot = true;
        else if (args[i] == "--trajectory" && i + 1 < args.size())
            trajectoryPath = args[++i];
        else if (args[i] == "--every" && i + 1 < args.size())
            every = integer("--every", args[++i], ml::limits::kMaxSteps);
        else if (args[i] == "--init" && i + 1 < args.size())
            initPath = args[++i];
        else if (args[i] == "--init-owned" && i + 1 < args.size())
            initOwnedPath = args[++i];
        else if (input.empty() && (args[i] == "-" || args[i].rfind("--", 0) != 0)) input = args[i];
        else throw Error{"", "unexpected argument '" + args[i] + "' (see marginlab-cli train --help)"};
    }
    if (input.empty() || steps < 1)
        throw Error{"", "train needs SCENE.json and --steps K (see marginlab-cli train --help)"};
    std::string message;
    // A comparison (a scene with "panels") trains its panels in lockstep: one table, a panel column.
    const Json document = readJsonInput(input);
    const std::filesystem::path baseDir =
        input == "-" ? std::filesystem::current_path() : std::filesystem::path(input).parent_path();
    if (ml::isComparisonDocument(document)) {
        if (plot || !trajectoryPath.empty() || every > 0 || !initPath.empty() || !initOwnedPath.empty())
            throw Error{"", "a comparison takes only --steps and --metrics-every"};
        auto comparison = ml::parseComparison(document, baseDir, &message);
        if (!comparison) throw Error{"", (input == "-" ? "standard input: " : input + ": ") + message};
        return ml::cli::trainComparison(*comparison, steps, metricsEvery, std::cout, std::cerr);
    }
    std::optional<ml::SceneFile> scene = ml::parseScene(document, baseDir, &message);
    if (!scene) throw Error{"", (input == "-" ? "standard input: " : input + ": ") + message};
    if (metricsEvery > 0) scene->trainer.metricsEvery = metricsEvery;  // else the scene's own
    if (every > 0 && trajectoryPath.empty()) throw Error{"", "--every needs --trajectory OUT"};
    if (every == 0) every = 1;
    std::optional<TrajectoryLog> log;
    if (!trajectoryPath.empty()) log.emplace(trajectoryPath, steps, every);  // checks OUT before training
    applyInitialState(*scene, initPath, initOwnedPath);
    ml::Trainer trainer(scene->trainer);
    if (log) log->add(*trainer.snapshot());
    LossCurve curve;
    bool headerDone = false;
    auto printRow = [&](const ml::Snapshot& snapshot) {
        // The header goes out with the first row: a run refused before it prints nothing.
        if (!headerDone) std::cout << "step,loss,active,precision_at_1,collapse\n";
        headerDone = true;
        std::cout << formatRow(snapshot);
        if (!std::cout) throw Error{"", "cannot write to standard output"};
        curve.add(snapshot.loss);
    };
    // The first row is the starting point: what the first step will evaluate there.
    printRow(*trainer.snapshot());
    for (long s = 0; s < steps; ++s) {
        const auto snapshot = trainer.step(1);
        if (snapshot->status == ml::TrainStatus::Diverged) {
            checkOutput();
            // The trajectory up to the last finite state is still worth having.
            if (log) {
                log->add(*snapshot);
                log->write();
            }
            if (plot) plotCurve(curve, "loss of " + scene->trainer.loss.name + " until it diverged");
            checkOutput();
            std::cerr << "marginlab-cli: training stopped: " << ml::json::printable(snapshot->message) << "\n";
            return 3;
        }
        if (log && (snapshot->step % every == 0 || s + 1 == steps)) log->add(*snapshot);
        printRow(*snapshot);
    }
    if (log) log->write();
    if (plot) plotCurve(curve, "loss of " + scene->trainer.loss.name + (scene->title.empty() ? "" : " — " + scene->title));
    checkOutput();
    return 0;
}

void printParams(const std::vector<ml::ParamInfo>& params) {
    for (const auto& p : params) {
        std::cout << "    " << p.name << " = ";
        if (p.type == ml::ParamType::Choice) {
            std::cout << p.choices.at(static_cast<std::size_t>(p.defaultChoice)) << "  (one of";
            for (const auto& c : p.choices) std::cout << " " << c;
            std::cout << ")";
        } else if (p.type == ml::ParamType::Boolean) {
            std::cout << (p.defaultValue != 0.0 ? "true" : "false");
        } else {
            std::cout << p.defaultValue;
        }
        if (!p.description.empty()) std::cout << "  — " << p.description;
        std::cout << "\n";
    }
}

std::string defaultText(const ml::ParamInfo& p) {
    if (p.type == ml::ParamType::Choice) return p.choices.at(static_cast<std::size_t>(p.defaultChoice));
    if (p.type == ml::ParamType::Boolean) return p.defaultValue != 0.0 ? "true" : "false";
    std::ostringstream text;
    text << p.defaultValue;
    return text.str();
}

void printMarkdownParams(const std::vector<ml::ParamInfo>& params) {
    if (params.empty()) {
        std::cout << "No parameters.\n\n";
        return;
    }
    std::cout << "| parameter | default | meaning |\n|---|---|---|\n";
    for (const auto& p : params) {
        std::string meaning = p.description;
        if (p.type == ml::ParamType::Choice) {
            meaning += meaning.empty() ? "One of:" : " One of:";
            for (const auto& c : p.choices) meaning += " `" + c + "`";
        }
        std::cout << "| `" << p.name << "` | " << defaultText(p) << " | " << meaning << " |\n";
    }
    std::cout << "\n";
}

/// "margin = 0.1, scale = 16": the values a preset sets.
std::string presetValues(const ml::LossPreset& preset) {
    std::ostringstream text;
    const char* separator = "";
    for (const auto& [name, value] : preset.params.numbers) text << separator << name << " = " << value, separator = ", ";
    for (const auto& [name, value] : preset.params.choices) text << separator << name << " = " << value, separator = ", ";
    return text.str();
}

std::string componentRange() {
    return std::to_string(ml::kMinLossComponents) + " to " + std::to_string(ml::kMaxLossComponents);
}

/// "triplet_margin × 1 + contrastive × 1": a wrapper's default components.
std::string defaultComponentsText(const ml::LossInfo& info) {
    std::ostringstream text;
    const char* separator = "";
    for (const ml::LossComponent& c : info.defaultComponents)
        text << separator << c.loss.name << " × " << c.weight, separator = " + ";
    return text.str();
}

void printMarkdownCatalogue() {
    std::cout << "# Losses and miners\n\nGenerated by `marginlab-cli list losses --markdown` from the engine's "
                 "catalogue (do not edit by hand). Names and defaults follow pytorch-metric-learning (PML) where "
                 "it has the loss; `docs/cli.md` shows how to pass them.\n\n";
    ml::LossFamily family = ml::LossFamily::Other;
    bool first = true;
    for (const auto& info : ml::lossCatalog()) {
        if (first || info.family != family) {
            std::cout << "## " << ml::familyName(info.family) << "\n\n";
            family = info.family;
            first = false;
        }
        std::cout << "### `" << info.name << "` — " << info.displayName << "\n\n";
        std::cout << "`" << info.formula << "`\n\n";
        std::cout << "- "
                  << (info.pmlName.empty() ? "Not in PML (from the literature)."
                                           : "PML: `" + info.pmlName + "`.");
        if (info.isWrapper()) {
            std::cout << "\n- Components: " << componentRange()
                      << " catalogue losses, each with its own parameters, "
                      << "distance and weight (default " << defaultComponentsText(info) << "); none may be a "
                      << info.name << " itself. Owns the components' rows, stacked in order. "
                      << "The run's miner reaches every component that accepts one.\n\n";
            continue;
        }
        std::cout << "\n- Distance: " << info.defaultDistance.describe()
                  << (info.distanceConfigurable ? " (configurable)." : " (fixed).") << "\n";
        if (info.acceptsMiner) std::cout << "- Accepts a miner.\n";
        if (info.acceptsReference)
            std::cout << "- Takes a cross-batch memory (PML's `CrossBatchMemory`; scene key `cross_batch_memory`).\n";
        if (info.ownedBlocks) {
            const char* what = info.ownedLayout == marginlab::OwnedLayout::CentersPerClass
                                   ? " (row k·C + c: center k of class c)"
                               : info.ownedLayout == marginlab::OwnedLayout::ClassScalars
                                   ? " (column 0 of row c: one learned number per class)"
                                   : " (class weights, proxies or centers)";
            std::cout << "- Owns " << (info.ownedBlocks == 1 ? "a C×D matrix" : std::to_string(info.ownedBlocks) + "·C×D rows")
                      << what << ", learned with the loss.\n";
        }
        // What the views draw for this loss beyond the common overlays (the catalogue's hooks).
        std::string picture;
        if (info.distanceBand) picture = "the β ring and its margin band around the clicked anchor";
        if (info.ownedLayout == marginlab::OwnedLayout::CentersPerClass)
            picture = "every center of every class as a diamond; the regions are those of the nearest center";
        if (info.picture) {
            using Kind = marginlab::LossPicture::Kind;
            const marginlab::ParamValues defaults =
                *marginlab::completeParams(info.params, {}, info.name, nullptr);
            const marginlab::LossPicture shown = info.picture(defaults, info.defaultDistance);
            switch (shown.kind) {
            case Kind::RankedList: picture = "the clicked anchor's ranked list (positives marked)"; break;
            case Kind::PairHistograms:
                picture = shown.angles                ? "positive / negative histograms of the pair angles"
                          : shown.thresholds.empty() ? "positive / negative pair histograms, their overlap dark"
                                                     : "positive / negative pair histograms with the loss's thresholds";
                break;
            case Kind::SoftNeighbours: picture = "the clicked anchor's soft-neighbour probabilities as rings"; break;
            case Kind::SnrPair: picture = "the SNR distance of the clicked pair beside the Euclidean one"; break;
            case Kind::None: break;
            }
        }
        if (!picture.empty()) std::cout << "- Picture: " << picture << ".\n";
        std::cout << "\n";
        printMarkdownParams(info.params);
        for (const auto& preset : info.presets)
            std::cout << "Preset **" << preset.name << "** (" << presetValues(preset) << "): " << preset.why << "\n\n";
    }
    std::cout << "## Miners\n\n";
    for (const auto& info : ml::minerCatalog()) {
        std::cout << "### `" << info.name << "` — " << info.displayName << "\n\n" << info.description << "\n\n- "
                  << (info.pmlName.empty() ? "Not in PML." : "PML: `" + info.pmlName + "`.")
                  << "\n- Distance: " << info.defaultDistance.describe() << "\n"
                  << (info.acceptsReference ? "- Mines a cross-batch memory (PML's `ref_emb`).\n" : "") << "\n";
        printMarkdownParams(info.params);
    }
    std::cout
        << "## Wrappers\n\n### `cross_batch_memory` — PML's `CrossBatchMemory(loss, memory_size, miner)`\n\n"
           "A scene's `\"cross_batch_memory\": {\"memory_size\": M}` keeps a queue of the last M batch "
           "embeddings and labels (detached copies, a ring written at `queue_idx`). Each step enqueues "
           "its batch first, then the miner (if any) and the loss compare the batch (anchors) with the "
           "queue (positives and negatives, PML's `ref_emb` / `ref_labels`), each anchor's own fresh copy "
           "removed; the gradient reaches the batch only. Needs P×K batches (M ≥ P·K ≥ 2). Losses: "
        << ml::lossesAcceptingReference() << "; miners: " << ml::minersAcceptingReference() << ".\n\n";
    std::cout << "## Not in MarginLab\n\nPML classes the catalogue does not offer, and why.\n\n";
    for (const auto& omitted : ml::omittedPmlClasses())
        std::cout << "- `" << omitted.pmlName << "`: " << omitted.reason << "\n";
}

int runList(const std::vector<std::string>& args) {
    if (wantsHelp(args)) {
        std::cout << kListUsage;
        return 0;
    }
    const std::string what = args.empty() ? "losses" : args[0];
    if (std::find(args.begin(), args.end(), "--markdown") != args.end()) {
        if (what != "losses") throw Error{"", "--markdown is for 'list losses'"};
        printMarkdownCatalogue();
        return 0;
    }
    if (what == "losses") {
        for (const auto& info : ml::lossCatalog()) {
            if (info.isWrapper()) {
                std::cout << info.name << "  [" << ml::familyName(info.family) << "]"
                          << (info.pmlName.empty() ? "" : "  PML " + info.pmlName) << "\n    " << info.formula
                          << "\n    components: " << componentRange()
                          << " weighted catalogue losses (\"losses\": "
                          << "[{\"name\", \"params\", \"distance\", \"weight\"}, ...]), default "
                          << defaultComponentsText(info) << "\n";
                continue;
            }
            std::cout << info.name << "  [" << ml::familyName(info.family) << "]"
                      << (info.pmlName.empty() ? "" : "  PML " + info.pmlName) << "\n    " << info.formula
                      << "\n    distance: " << info.defaultDistance.describe()
                      << (info.distanceConfigurable ? " (configurable)" : " (fixed)")
                      << (info.acceptsMiner ? ", accepts a miner" : "")
                      << (info.acceptsReference ? ", takes a cross-batch memory" : "")
                      << (info.ownedBlocks ? ", owns " + std::to_string(info.ownedBlocks) + "·C×D parameters" : "")
                      << "\n";
            printParams(info.params);
            for (const auto& preset : info.presets)
                std::cout << "    preset \"" << preset.name << "\": " << presetValues(preset) << "\n";
        }
    } else if (what == "miners") {
        for (const auto& info : ml::minerCatalog()) {
            std::cout << info.name << (info.pmlName.empty() ? "" : "  PML " + info.pmlName) << "\n    "
                      << info.description << "\n    distance: " << info.defaultDistance.describe() << "\n";
            printParams(info.params);
        }
    } else if (what == "generators") {
        for (const auto& info : ml::generatorCatalog()) {
            std::cout << info.name << "  (" << info.dimension << "D)\n    " << info.description << "\n";
            printParams(info.params);
        }
    } else {
        throw Error{"", "list takes losses, miners or generators"};
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    marginlab::keepMemoryBetweenSteps();  // training steps reuse their buffers' pages
    std::vector<std::string> args(argv + 1, argv + argc);
    // Messages are one line: control characters from a file or an argument are escaped.
    auto fail = [](const std::string& message) {
        std::cerr << "marginlab-cli: " << ml::json::printable(message) << "\n";
        return 2;
    };
    if (args.empty()) return fail("no command; try marginlab-cli --help");
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kUsage;
        std::cout.flush();
        return std::cout ? 0 : fail("cannot write to standard output");
    }
    const std::string command = args[0];
    args.erase(args.begin());
    try {
        int code = -1;
        if (command == "loss") code = runLoss(args);
        else if (command == "train") code = runTrain(args);
        else if (command == "list") code = runList(args);
        if (code >= 0) {
            checkOutput();
            return code;
        }
        return fail("unknown command '" + command + "'; try marginlab-cli --help");
    } catch (const Error& e) {
        return fail(e.what());
    } catch (const std::bad_alloc&) {
        return fail("out of memory");
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

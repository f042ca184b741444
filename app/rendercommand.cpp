// SPDX-License-Identifier: MIT
#include "rendercommand.h"

#include "comparisonrecording.h"
#include "frameexport.h"
#include "recorder.h"
#include "viewsettings.h"

#include "marginlab/scene/scenefile.h"
#include "marginlab/scene/trajectory.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGuiApplication>

#include <charconv>
#include <functional>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

namespace marginlab {

namespace {

constexpr const char* kUsage =
    "Usage: marginlab render INPUT -o OUTPUT [options]\n"
    "\n"
    "Records a scene (INPUT.json), a comparison (a scene file with \"panels\": side by side, in\n"
    "lockstep) or replays a trajectory (INPUT.csv / .npy, or a JSON trajectory) with no display. The output format follows OUTPUT:\n"
    "  .mp4 (H.264), .webm (VP9), .gif        an animation\n"
    "  a folder (ending in /) or a %04d pattern a PNG sequence\n"
    "  .png, .svg, .pdf                       one frame: the state after the recorded steps\n"
    "\n"
    "Options:\n"
    "  --steps N            training steps to record (default 300; a trajectory: frames, default all)\n"
    "  --steps-per-frame K  training steps between two frames (default 1)\n"
    "  --fps F              frames per second (default 30)\n"
    "  --size WxH           frame size in pixels (default 1280x720; MP4 / WebM need even sizes)\n"
    "  --from-step S        train S steps before the first frame (default 0)\n"
    "  --in-between M       eased frames between two states, for smooth slow motion (default 0)\n"
    "  --until-converged    stop early when the run converged, got stuck or diverged\n"
    "  --chart-strip        loss / retrieval / tuple charts under the view\n"
    "  --captions           the scene's title and seed burned in at the top\n"
    "  --quiet              no progress on stderr\n"
    "\n"
    "Exit status: 0 when the file is complete, 2 for bad input, 1 when writing fails.\n";

int badInput(const std::string& message) {
    std::fprintf(stderr, "marginlab render: %s\n", message.c_str());
    return 2;
}

std::optional<long> parseCount(const char* text, long low, long high) {
    long value = 0;
    const char* end = text + std::strlen(text);
    const auto [stop, status] = std::from_chars(text, end, value);
    if (status != std::errc() || stop != end || value < low || value > high) return std::nullopt;
    return value;
}

std::optional<double> parseNumber(const char* text, double low, double high) {
    char* stop = nullptr;
    const double value = std::strtod(text, &stop);
    if (stop == text || *stop != '\0' || !(value >= low && value <= high)) return std::nullopt;
    return value;
}

std::optional<QSize> parseSize(const char* text) {
    const std::string s(text);
    const auto x = s.find('x');
    if (x == std::string::npos) return std::nullopt;
    const auto width = parseCount(s.substr(0, x).c_str(), 16, 7680), height = parseCount(s.substr(x + 1).c_str(), 16, 4320);
    if (!width || !height) return std::nullopt;
    return QSize(static_cast<int>(*width), static_cast<int>(*height));
}

bool isTrajectoryJson(const std::string& path) {
    std::ifstream in(path);
    std::string head(512, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    return head.find("marginlab-trajectory") != std::string::npos;
}

bool extension_is_json(const std::string& path) {
    return QFileInfo(QString::fromStdString(path)).suffix().toLower() == QLatin1String("json");
}

/// Progress on stderr: a percentage and the time left, at most five times a second.
std::function<bool(const RecordProgress&)> progressPrinter(bool quiet) {
    auto clock = std::make_shared<QElapsedTimer>();
    clock->start();
    auto lastPrint = std::make_shared<qint64>(-1000);
    return [quiet, clock, lastPrint](const RecordProgress& p) {
        if (quiet || (clock->elapsed() - *lastPrint < 200 && p.frame < p.totalFrames)) return true;
        *lastPrint = clock->elapsed();
        const int percent = p.totalFrames ? 100 * p.frame / p.totalFrames : 0;
        if (p.secondsLeft >= 0)
            std::fprintf(stderr, "\rrendering %3d%% (%d/%d frames), %.0f s left   ", percent, p.frame, p.totalFrames,
                         p.secondsLeft);
        else
            std::fprintf(stderr, "\rrendering %3d%% (%d/%d frames)   ", percent, p.frame, p.totalFrames);
        return true;
    };
}

}  // namespace

const char* renderUsage() { return kUsage; }

int runRenderCommand(int argc, char** argv) {
    std::string input, output;
    RecordSettings settings;
    bool stepsGiven = false, quiet = false;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == "-o" || arg == "--output") {
            const char* v = value();
            if (!v) return badInput("-o needs a file name");
            output = v;
        } else if (arg == "--steps") {
            const char* v = value();
            const auto n = v ? parseCount(v, 0, 10'000'000) : std::nullopt;
            if (!n) return badInput("--steps needs a whole number from 0 to 10000000");
            settings.steps = *n;
            stepsGiven = true;
        } else if (arg == "--steps-per-frame") {
            const char* v = value();
            const auto n = v ? parseCount(v, 1, 100'000) : std::nullopt;
            if (!n) return badInput("--steps-per-frame needs a whole number from 1 to 100000");
            settings.stepsPerFrame = static_cast<int>(*n);
        } else if (arg == "--fps") {
            const char* v = value();
            const auto f = v ? parseNumber(v, 1.0, 240.0) : std::nullopt;
            if (!f) return badInput("--fps needs a number from 1 to 240");
            settings.fps = *f;
        } else if (arg == "--size") {
            const char* v = value();
            const auto size = v ? parseSize(v) : std::nullopt;
            if (!size) return badInput("--size needs WIDTHxHEIGHT, e.g. 1280x720 (16 to 7680 by 16 to 4320)");
            settings.size = *size;
        } else if (arg == "--from-step") {
            const char* v = value();
            const auto n = v ? parseCount(v, 0, 10'000'000) : std::nullopt;
            if (!n) return badInput("--from-step needs a whole number from 0 to 10000000");
            settings.fromStep = *n;
        } else if (arg == "--in-between") {
            const char* v = value();
            const auto n = v ? parseCount(v, 0, 60) : std::nullopt;
            if (!n) return badInput("--in-between needs a whole number from 0 to 60");
            settings.inBetween = static_cast<int>(*n);
        } else if (arg == "--until-converged") {
            settings.untilConverged = true;
        } else if (arg == "--chart-strip") {
            settings.chartStrip = true;
        } else if (arg == "--captions") {
            settings.captions = true;
        } else if (arg == "--quiet" || arg == "-q") {
            quiet = true;
        } else if (!arg.empty() && arg[0] == '-') {
            return badInput("unknown option '" + arg + "' (see marginlab render --help)");
        } else if (input.empty()) {
            input = arg;
        } else {
            return badInput("one input file only ('" + input + "' and '" + arg + "')");
        }
    }
    if (input.empty()) return badInput("no input scene or trajectory (see marginlab render --help)");
    if (output.empty()) return badInput("no output file: give one with -o (see marginlab render --help)");

    // Decide the kind of output before any work, so a bad name costs nothing.
    const QString destination = QString::fromStdString(output);
    const QString still = frameFormatOf(destination);
    const bool pattern = destination.contains(QLatin1Char('%'));
    QString error;
    if (still.isEmpty() || pattern) {
        if (!sinkKindFor(destination, &error))
            return badInput("cannot render to '" + output +
                            "': use .mp4, .webm, .gif, a folder or a %04d pattern (a PNG sequence), or .png, .svg, .pdf "
                            "(one frame)");
    }

    // A file with "panels" is a comparison: every panel side by side, in lockstep.
    if (extension_is_json(input)) {
        std::string problem;
        if (auto comparison = readComparisonFile(input, &problem); comparison && comparison->isComparison()) {
            settings.inBetween = 0;
            bool ok;
            if (!still.isEmpty() && !pattern) {
                ok = recordComparisonStill(*comparison, settings, destination, &error);
            } else {
                SinkOptions options;
                options.gifPalette = recordingPalette(32);
                auto sink = makeSink(destination, options, &error);
                if (!sink) return badInput(error.toStdString());
                ok = recordComparison(*comparison, settings, *sink, progressPrinter(quiet), &error);
            }
            if (!quiet) std::fputs("\n", stderr);
            if (!ok) {
                std::fprintf(stderr, "marginlab render: %s\n", error.toStdString().c_str());
                return 1;
            }
            if (!quiet) std::fprintf(stderr, "wrote %s\n", output.c_str());
            return 0;
        } else if (!comparison && !problem.empty() && problem.find("panels") != std::string::npos) {
            return badInput(problem);
        }
    }

    std::unique_ptr<FrameSource> source;
    ViewSettings view;
    QString title;
    std::uint64_t seed = 0;
    std::string message;
    const std::string extension = QFileInfo(QString::fromStdString(input)).suffix().toLower().toStdString();
    if (extension == "csv" || extension == "npy" || (extension == "json" && isTrajectoryJson(input))) {
        auto trajectory = readTrajectory(input, &message);
        if (!trajectory) return badInput(message);
        if (trajectory->dimension() != 2 && trajectory->dimension() != 3)
            return badInput(input + ": trajectories must have 2 or 3 coordinates");
        if (!stepsGiven) settings.steps = 0;  // the whole trajectory
        title = QFileInfo(QString::fromStdString(input)).completeBaseName();
        source = std::make_unique<TrajectorySource>(std::move(*trajectory));
    } else {
        auto scene = readSceneFile(input, &message);
        if (!scene) return badInput(message);
        view = viewSettingsFromJson(scene->view);
        title = QString::fromStdString(scene->title);
        seed = scene->trainer.seed;
        try {
            source = std::make_unique<TrainerSource>(scene->trainer, view.options.showForces && view.options.splitForces);
        } catch (const std::exception& e) {
            return badInput(input + ": " + e.what());
        }
    }
    Recorder recorder(std::move(source), view, settings, title, seed);

    if (!still.isEmpty() && !pattern) {
        if (!recordStill(recorder, destination, &error)) {
            std::fprintf(stderr, "marginlab render: %s\n", error.toStdString().c_str());
            return 1;
        }
        if (!quiet) std::fprintf(stderr, "wrote %s\n", output.c_str());
        return 0;
    }
    SinkOptions options;
    options.gifPalette = recordingPalette(32);
    auto sink = makeSink(destination, options, &error);
    if (!sink) return badInput(error.toStdString());
    const bool ok = recorder.record(*sink, progressPrinter(quiet), &error);
    if (!quiet) std::fputs("\n", stderr);
    if (!ok) {
        std::fprintf(stderr, "marginlab render: %s\n", error.toStdString().c_str());
        return 1;
    }
    if (!quiet) std::fprintf(stderr, "wrote %s (%d frames)\n", output.c_str(), sink->framesWritten());
    return 0;
}

}  // namespace marginlab

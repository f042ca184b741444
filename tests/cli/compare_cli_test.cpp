// SPDX-License-Identifier: MIT
// `marginlab-cli train COMPARISON.json --steps K` end to end: one row per panel per step, each
// panel's numbers equal the same configuration trained alone, panels that differ diverge, and a
// comparison refuses the single-run options.
#include "marginlab/history.h"
#include "marginlab/scene/comparisonfile.h"
#include "marginlab/trainer.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace marginlab {
namespace {

namespace fs = std::filesystem;

struct CliRun {
    int exitCode = -1;
    std::string out, err;
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

CliRun runCli(const std::string& arguments) {
    static int counter = 0;
    const fs::path dir = fs::temp_directory_path() / ("marginlab-compare-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path base = dir / std::to_string(counter++);
    const std::string command = std::string(MARGINLAB_CLI) + " " + arguments + " > " + base.string() + ".out 2> " +
                                base.string() + ".err";
    const int status = std::system(command.c_str());
    CliRun run;
    run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = slurp(base.string() + ".out");
    run.err = slurp(base.string() + ".err");
    return run;
}

struct Row {
    long step = 0;
    int panel = 0;
    double loss = 0, active = 0, precision = 0, map = 0, easy = 0, semiHard = 0, hard = 0, collapse = 0;
    std::string title;
};

std::vector<std::string> splitCsv(const std::string& line) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cell += '"', ++i;
            else if (c == '"') quoted = false;
            else cell += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            cells.push_back(cell);
            cell.clear();
        } else {
            cell += c;
        }
    }
    cells.push_back(cell);
    return cells;
}

std::vector<Row> parseTable(const std::string& text, std::string* header) {
    std::istringstream in(text);
    std::getline(in, *header);
    std::vector<Row> rows;
    std::string line;
    while (std::getline(in, line)) {
        const auto c = splitCsv(line);
        if (c.size() != 11) {
            ADD_FAILURE() << "row with " << c.size() << " cells: " << line;
            continue;
        }
        Row r;
        r.step = std::stol(c[0]);
        r.panel = std::stoi(c[1]);
        r.loss = std::stod(c[2]);
        r.active = std::stod(c[3]);
        r.precision = std::stod(c[4]);
        r.map = std::stod(c[5]);
        r.easy = std::stod(c[6]);
        r.semiHard = std::stod(c[7]);
        r.hard = std::stod(c[8]);
        r.collapse = std::stod(c[9]);
        r.title = c[10];
        rows.push_back(r);
    }
    return rows;
}

const fs::path kMining = fs::path(MARGINLAB_SOURCE_DIR) / "resources/comparisons/mining-strategies.json";

TEST(CompareCli, OneRowPerPanelPerStepMatchingEachPanelAlone) {
    constexpr long kSteps = 12;
    // --metrics-every 1: without it each panel keeps its scene's metrics_every.
    const CliRun run = runCli("train " + kMining.string() + " --steps " + std::to_string(kSteps) + " --metrics-every 1");
    ASSERT_EQ(run.exitCode, 0) << run.err;
    std::string header;
    const std::vector<Row> rows = parseTable(run.out, &header);
    EXPECT_EQ(header, "step,panel,loss,active,precision_at_1,map_at_r,easy,semi_hard,hard,collapse,title");

    std::string error;
    const auto comparison = readComparisonFile(kMining, &error);
    ASSERT_TRUE(comparison) << error;
    const std::size_t panels = comparison->panels.size();
    ASSERT_EQ(panels, 4u);
    ASSERT_EQ(rows.size(), (kSteps + 1) * panels);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].step, static_cast<long>(i / panels));
        EXPECT_EQ(rows[i].panel, static_cast<int>(i % panels));
        EXPECT_EQ(rows[i].title, comparison->panels[i % panels].title);
    }

    // Each panel's rows are what its configuration gives when trained alone (the reference is
    // the plain Trainer, stepped one at a time with metrics every step as asked).
    for (std::size_t p = 0; p < panels; ++p) {
        TrainerConfig config = comparison->panels[p].trainer;
        config.metricsEvery = 1;
        Trainer alone(config);
        for (long s = 0; s <= kSteps; ++s) {
            const auto snapshot = s == 0 ? alone.snapshot() : alone.step(1);
            const Row& row = rows[static_cast<std::size_t>(s) * panels + p];
            EXPECT_NEAR(row.loss, snapshot->loss, 1e-9 * std::max(1.0, std::abs(snapshot->loss))) << "panel " << p << " step " << s;
            EXPECT_EQ(row.active, static_cast<double>(snapshot->stats.active));
            EXPECT_NEAR(row.precision, snapshot->metrics.precisionAt1, 1e-6);
            EXPECT_NEAR(row.map, snapshot->metrics.mapAtR, 1e-6);
            EXPECT_NEAR(row.collapse, snapshot->metrics.collapse, 1e-6);
            const HistoryPoint point = HistoryPoint::of(*snapshot);
            EXPECT_NEAR(row.hard, point.hard, 1e-6);
            EXPECT_NEAR(row.semiHard, point.semiHard, 1e-6);
            EXPECT_NEAR(row.easy, point.easy, 1e-6);
        }
    }

    // Same start: every panel sees the same points at step 0, so the fractions of the loss's
    // own tuples agree there... and the miners make the runs diverge afterwards.
    const auto at = [&](long step, std::size_t panel) { return rows[static_cast<std::size_t>(step) * panels + panel]; };
    for (std::size_t p = 1; p < panels; ++p) {
        EXPECT_NE(at(kSteps, p).loss, at(kSteps, 0).loss) << "panel " << p << " did not diverge from panel 0";
        EXPECT_NE(at(0, p).active, at(0, 0).active) << "the miners keep different tuples from the start";
    }
    EXPECT_NE(at(kSteps, 1).loss, at(kSteps, 2).loss);
}

TEST(CompareCli, SingleScenesStillPrintTheSingleTable) {
    const CliRun run =
        runCli("train " + (fs::path(MARGINLAB_SOURCE_DIR) / "resources/scenes/mining-batch-hard.json").string() + " --steps 3");
    ASSERT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(run.out.substr(0, run.out.find('\n')), "step,loss,active,precision_at_1,collapse");
}

TEST(CompareCli, RefusesSingleRunOptionsAndBadPanels) {
    CliRun run = runCli("train " + kMining.string() + " --steps 3 --plot");
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_NE(run.err.find("only --steps and --metrics-every"), std::string::npos) << run.err;

    const fs::path bad = fs::temp_directory_path() / ("marginlab-compare-bad-" + std::to_string(::getpid()) + ".json");
    std::ofstream(bad) << R"({"version": 1, "data": {"generator": "blobs"}, "loss": {"name": "triplet_margin"},
                              "panels": [{"seed": 4}, {}]})";
    run = runCli("train " + bad.string() + " --steps 3");
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_NE(run.err.find("panels[0]"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("\"seed\" cannot differ"), std::string::npos) << run.err;
    fs::remove(bad);
}


// The output contract of a comparison: a refused file prints nothing on stdout and one line naming
// the panel and the JSON path; write errors end the run with exit 2 and a message.
TEST(CompareCli, OutputContract) {
    const fs::path dir = fs::temp_directory_path() / ("marginlab-compare-contract-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string shared =
        R"("version": 1, "data": {"generator": "blobs", "params": {"points": 40, "classes": 4, "seed": 2}}, "seed": 1)";
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    auto expectRefused = [](const CliRun& run, const std::string& message) {
        EXPECT_EQ(run.exitCode, 2) << run.err;
        EXPECT_TRUE(run.out.empty()) << run.out;
        EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
        EXPECT_NE(run.err.find(message), std::string::npos) << run.err;
    };
    // A typo inside the second panel's own loss: named at its place in that panel.
    expectRefused(runCli("train " +
                         write("typo.json", "{" + shared + R"(, "loss": "contrastive", "panels": [{},
                               {"loss": {"name": "triplet_margin", "params": {"margn": 0.1}}}]})") +
                         " --steps 3"),
                  "panels[1].loss.params.margn: unknown parameter");
    // A typo in the shared loss: the first panel it fails in and the top-level path.
    expectRefused(runCli("train " +
                         write("shared.json", "{" + shared + R"(, "loss": {"name": "contrastive", "params": {"bogus": 1}},
                               "panels": [{}, {}]})") +
                         " --steps 3"),
                  "panels[0]: loss.params.bogus: unknown parameter");
    // Not an object, a bad panel count: no header either.
    expectRefused(runCli("train " + write("count.json", "{" + shared + R"(, "loss": "contrastive", "panels": []})") +
                         " --steps 3"),
                  "panels: a comparison has 1 to");
    expectRefused(runCli("train " + write("kind.json", "{" + shared + R"(, "loss": "contrastive", "panels": [3]})") +
                         " --steps 3"),
                  "panels[0]: expected an object");

    // Write errors: a full device and a closed standard output.
    const std::string good = write("good.json", "{" + shared + R"(, "loss": "contrastive", "panels": [{},
                                   {"optimizer": {"type": "sgd", "learning_rate": 0.1}}]})");
    for (const std::string redirect : {"> /dev/full", ">&-"}) {
        const std::string errPath = (dir / "err").string();
        const int status = std::system((std::string(MARGINLAB_CLI) + " train " + good + " --steps 2000 " + redirect +
                                        " 2> " + errPath)
                                           .c_str());
        ASSERT_TRUE(WIFEXITED(status)) << redirect;
        EXPECT_EQ(WEXITSTATUS(status), 2) << redirect;
        const std::string message = slurp(errPath);
        EXPECT_NE(message.find("cannot write to standard output"), std::string::npos) << redirect << message;
        EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << redirect << message;  // said once
    }
    const CliRun ok = runCli("train " + good + " --steps 2");
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
    EXPECT_EQ(std::count(ok.out.begin(), ok.out.end(), '\n'), 1 + 3 * 2);  // header, 3 steps × 2 panels
    fs::remove_all(dir);
}

TEST(CompareCli, ADivergedPanelStopsWhileTheOthersGoOn) {
    const fs::path file = fs::temp_directory_path() / ("marginlab-compare-diverge-" + std::to_string(::getpid()) + ".json");
    std::ofstream(file) << R"({"version": 1, "data": {"generator": "blobs", "params": {"points": 40, "classes": 4, "seed": 2}},
        "loss": {"name": "softmax"}, "seed": 1,
        "panels": [{"optimizer": {"type": "adam", "learning_rate": 0.02}},
                   {"optimizer": {"type": "sgd", "learning_rate": 1e300}}]})";
    const CliRun run = runCli("train " + file.string() + " --steps 4");
    fs::remove(file);
    EXPECT_EQ(run.exitCode, 3);
    EXPECT_NE(run.err.find("panel 1 (sgd lr 1e+300) stopped at step 0"), std::string::npos) << run.err;
    std::string header;
    const std::vector<Row> rows = parseTable(run.out, &header);
    // Both panels at step 0, then panel 0 alone to step 4.
    ASSERT_EQ(rows.size(), 6u);
    EXPECT_EQ(rows[1].panel, 1);
    for (std::size_t i = 2; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].panel, 0);
        EXPECT_EQ(rows[i].step, static_cast<long>(i) - 1);
    }
}

}  // namespace
}  // namespace marginlab

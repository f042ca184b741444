// SPDX-License-Identifier: MIT
// Hostile inputs (issue 14): each class of crash, hang, unbounded memory, silently wrong output
// and ignored input gives one line on standard error, nothing on standard output and exit 2.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct CliResult {
    int exitCode = -1;
    std::string out, err;
};

class Hardening : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() / ("marginlab-hardening-" + std::to_string(::getpid()));
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string path(const std::string& name) const { return (m_dir / name).string(); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path(name), std::ios::binary) << text;
        return path(name);
    }
    /// Runs the CLI with `arguments` (a shell fragment); stdin from `input`.
    CliResult cli(const std::string& arguments, const std::string& input = "",
                  const std::string& output = "") const {
        const std::string in = write("stdin", input), out = output.empty() ? path("stdout") : output,
                          err = path("stderr");
        const std::string command = std::string("timeout 60 ") + MARGINLAB_CLI + " " + arguments + " < " +
                                    in + " > " + out + " 2> " + err;
        const int status = std::system(command.c_str());
        CliResult run;
        run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        auto slurp = [](const std::string& p) {
            std::ifstream f(p, std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(f), {});
        };
        run.out = output.empty() ? slurp(out) : "";
        run.err = slurp(err);
        return run;
    }
    /// Exit 2, nothing on stdout, one line on stderr containing `message`.
    void expectRefused(const CliResult& run, const std::string& message, const std::string& context) const {
        EXPECT_EQ(run.exitCode, 2) << context << "\n" << run.err;
        EXPECT_TRUE(run.out.empty()) << context << "\n" << run.out.substr(0, 300);
        EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << context << "\n" << run.err;
        EXPECT_NE(run.err.find(message), std::string::npos) << context << "\n" << run.err;
    }

    static std::string scene(
        const std::string& extra = "",
        const std::string& data = R"({"generator": "blobs", "params": {"points": 40, "classes": 4}})") {
        return R"({"version": 1, "data": )" + data + R"(, "loss": "contrastive")" + extra + "}";
    }

    fs::path m_dir;
};

TEST_F(Hardening, IntegerFlagsAreRangeChecked) {
    const std::string s = write("s.json", scene());
    for (const char* value :
         {"4294967296", "2147483648", "4294967297", "-1", "0", "1x", " 1", "99999999999999999999"})
        expectRefused(cli("train " + s + " --steps 2 --metrics-every '" + value + "'"),
                      "--metrics-every needs an integer from 1 to 2147483647, got", value);
    expectRefused(cli("train " + s + " --steps 100000001"), "--steps needs an integer from 1 to 100000000",
                  "steps");
    for (const char* value : {"abc", "2x", "100000000", "-1"})
        expectRefused(cli(std::string("loss - --indent '") + value + "'", "{}"),
                      "--indent needs an integer from 0 to 16", value);
}

TEST_F(Hardening, TheScenesMetricsIntervalIsKept) {
    // The scene says metrics every 1000 steps: the collapse column stays at its step-0 value,
    // while --metrics-every 1 recomputes it (the points move).
    const std::string s = write(
        "s.json", scene(R"(, "metrics_every": 1000, "optimizer": {"type": "sgd", "learning_rate": 0.5})"));
    auto collapse = [&](const std::string& flags) {
        const CliResult run = cli("train " + s + " --steps 4" + flags);
        EXPECT_EQ(run.exitCode, 0) << run.err;
        std::vector<std::string> values;
        std::istringstream lines(run.out);
        std::string line;
        std::getline(lines, line);
        while (std::getline(lines, line)) values.push_back(line.substr(line.rfind(',') + 1));
        return values;
    };
    const auto scenes = collapse(""), everyStep = collapse(" --metrics-every 1");
    ASSERT_EQ(scenes.size(), 5u);
    ASSERT_EQ(everyStep.size(), 5u);
    for (const auto& value : scenes) EXPECT_EQ(value, scenes[0]);
    EXPECT_NE(everyStep.back(), everyStep[0]);
}

TEST_F(Hardening, LongRowsAreNotCut) {
    // Points 1e-140 apart pushed to distance ~1 by one step: a collapse value of ~1e140, printed
    // with %.6f as 141 digits. The rows used to be cut at 160 bytes and lose their newline.
    const CliResult run = cli(
        "train - --steps 2",
        R"({"version": 1, "data": {"points": [[0, 0], [1e-140, 0], [0, 1e-140], [1e-140, 1e-140]], "labels": [0, 0, 1, 1]},
            "loss": {"name": "contrastive", "distance": {"type": "lp", "power": 1, "normalize_embeddings": false}},
            "optimizer": {"type": "sgd", "learning_rate": 1}, "metrics_every": 1})");
    ASSERT_EQ(run.exitCode, 0) << run.err;
    std::istringstream lines(run.out);
    std::string line;
    std::vector<std::string> rows;
    while (std::getline(lines, line)) rows.push_back(line);
    ASSERT_EQ(rows.size(), 4u) << run.out;
    EXPECT_GT(rows[2].size(), 160u);
    EXPECT_EQ(rows[2].rfind("1,", 0), 0u);
    EXPECT_EQ(std::count(rows[2].begin(), rows[2].end(), ','), 4) << rows[2];
    EXPECT_EQ(rows[3].rfind("2,", 0), 0u);
}

TEST_F(Hardening, DeepNestingIsRefusedWhileParsing) {
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    for (const std::string& where : {deep, R"({"id": )" + deep + "}", R"({"whatever": )" + deep + "}"})
        expectRefused(cli("loss -", where), "nested deeper than 64 arrays and objects", where.substr(0, 12));
    expectRefused(cli("train - --steps 1", scene(R"(, "view": )" + deep)), "nested deeper than 64", "view");
    expectRefused(cli("loss -", std::string(10 << 20, '[')), "nested deeper than 64", "10 MB of [");
}

TEST_F(Hardening, OnlyRegularFilesAreRead) {
    const std::string fifo = path("fifo.json");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    expectRefused(cli("train " + fifo + " --steps 1"), fifo + ": cannot open: not a regular file",
                  "scene FIFO");
    expectRefused(cli("loss " + fifo), fifo + ": cannot open: not a regular file", "loss FIFO");
    expectRefused(cli("loss " + m_dir.string()), m_dir.string() + ": cannot open: a folder", "folder");
    expectRefused(cli("loss /dev/zero"), "/dev/zero: cannot open: not a regular file", "device");
    const std::string csv = write("fifo-scene.json", scene("", R"({"csv": "fifo.json"})"));
    expectRefused(cli("train " + csv + " --steps 1"), "data.csv: ", "CSV FIFO");
}

TEST_F(Hardening, LimitsAreCheckedBeforeAllocation) {
    expectRefused(
        cli("train - --steps 1", scene("", R"({"points": [[0, 0], [1, 1]], "labels": [0, 2147483646]})")),
        "data.labels[1]: label 2147483646 is beyond the limit of 100000 classes", "label");
    expectRefused(cli("train - --steps 1",
                      scene("", R"({"points": [[0, 0], [1, 1]], "labels": [0, 1], "classes": 30000000})")),
                  "data.classes: 30000000 is more than the limit of 100000 classes", "classes");
    expectRefused(
        cli("train - --steps 1", scene(R"(, "batch": {"mode": "pk", "classes": 2, "samples": 2147483647})")),
        "is larger than the limit of 100000", "P×K");
    expectRefused(
        cli("loss -", R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 1], "loss": "contrastive", "id": ")" +
                          std::string(2 << 20, 'x') + "\"}"),
        "bytes (the limit is 1048576)", "string");
}

TEST_F(Hardening, StrictKeys) {
    const std::string points = R"("embeddings": [[0, 1], [1, 0], [1, 1]], "labels": [0, 1, 0])";
    expectRefused(cli("loss -", "{" + points + R"(, "loss": "contrastive", "minner": "batch_hard"})"),
                  "minner: unknown key (did you mean \"miner\"?)", "minner");
    expectRefused(cli("loss -", "{" + points + R"(, "loss": {"name": "triplet_margin", "parms": {}}})"),
                  "loss.parms: unknown key (did you mean \"params\"?)", "parms");
    expectRefused(
        cli("loss -", "{" + points + R"(, "loss": {"name": "triplet_margin", "params": {"margn": 0.1}}})"),
        "loss.params.margn: unknown parameter (did you mean \"margin\"?)", "margn");
    expectRefused(
        cli("loss -", "{" + points + R"(, "loss": {"name": "triplet_margin", "params": {"margin": true}}})"),
        "loss.params.margin: expected a number, found a boolean", "margin: true");
    expectRefused(
        cli("loss -", "{" + points +
                          R"(, "loss": {"name": "contrastive", "distance": {"type": "lp", "distanse": 1}}})"),
        "unknown key", "distanse");
    expectRefused(cli("loss -", "{" + points + R"(, "loss": "contrastive", "loss": "triplet_margin"})"),
                  "loss: duplicate key", "duplicate");
    expectRefused(cli("train - --steps 1", scene(R"(, "sed": 3)")),
                  "sed: unknown key (did you mean \"seed\"?)", "sed");
    expectRefused(cli("train - --steps 1", scene(R"(, "optimizer": {"type": "adam", "lr": 0.1})")),
                  "optimizer.lr: unknown key", "lr");
    expectRefused(cli("train - --steps 1", scene(R"(, "batch": {"mode": "pk", "clases": 2, "samples": 2})")),
                  "batch.clases: unknown key (did you mean \"classes\"?)", "clases");
    expectRefused(cli("train - --steps 1", scene("", R"({"generator": "blobs", "csv": "x.csv"})")),
                  "data: has more than one of", "generator + csv");
    expectRefused(cli("train - --steps 1", scene("", R"({"generator": "blobs", "params": {"pionts": 40}})")),
                  "data.params.pionts: unknown parameter (did you mean \"points\"?)", "pionts");
    // The view is the app's and stays lenient.
    EXPECT_EQ(cli("train - --steps 1", scene(R"(, "view": {"anything": 1})")).exitCode, 0);
}

TEST_F(Hardening, NumbersBeyondTheSupportedRangeAreRefused) {
    expectRefused(cli("loss -", R"({"embeddings": [[1e400, 1]], "labels": [0], "loss": "contrastive"})"),
                  "standard input: line 1, column", "1e400");
    for (const char* loss : {"centroid_triplet", "contrastive_hadsell", "contrastive"})
        expectRefused(
            cli("loss -",
                std::string(
                    R"({"embeddings": [[1e155, 0], [0, 1], [1, 1], [2, 0]], "labels": [0, 1, 0, 1], "loss": ")") +
                    loss + "\"}"),
            "embeddings[0][0]: is beyond the supported range: magnitudes up to 1e150", loss);
    expectRefused(
        cli("train - --steps 1", scene("", R"({"points": [[1e200, 0], [1, 1]], "labels": [0, 1]})")),
        "data.points[0][0]: is beyond the supported range", "scene data");
    for (const char* label : {"1e23", "18446744073709551616", "0.0"})
        expectRefused(cli("loss -", std::string(R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, )") +
                                        label + R"(], "loss": "contrastive"})"),
                      "labels[1]: expected an integer", label);
    expectRefused(
        cli("loss -",
            R"({"embeddings": [[0, 1], [1, 0]], "labels": [0, 18446744073709551615], "loss": "contrastive"})"),
        "labels[1]: expected an integer from -2147483648 to 2147483647, found 18446744073709551615",
        "2^64-1");
}

TEST_F(Hardening, OutputContract) {
    // No arguments: a line on stderr, not the usage on stdout.
    CliResult run = cli("");
    expectRefused(run, "no command", "no arguments");
    // A train error gives no usage and no header.
    expectRefused(cli("train - --steps 1 --bogus", scene()), "unexpected argument '--bogus'", "bogus");
    expectRefused(cli("train - --steps 1", scene(R"(, "seed": -1)")), "seed: must be", "bad scene");
    // Write errors are detected.
    const std::string s = write("s.json", scene());
    run = cli("train " + s + " --steps 5", "", "/dev/full");
    EXPECT_EQ(run.exitCode, 2) << run.err;
    EXPECT_NE(run.err.find("cannot write to standard output"), std::string::npos) << run.err;
    run = cli("list losses", "", "/dev/full");
    EXPECT_EQ(run.exitCode, 2) << run.err;
    // Control characters from the input are escaped: one line.
    expectRefused(
        cli("loss -",
            "{\"embeddings\": [[0, 1], [1, 0]], \"labels\": [0, 1], \"loss\": \"a\\nb\\u001b[31m\"}"),
        "a\\nb\\x1b[31m", "escaped");
}

}  // namespace

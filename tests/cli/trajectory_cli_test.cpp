// SPDX-License-Identifier: MIT
// `marginlab-cli train --trajectory / --every / --init / --init-owned` end to end: the frames
// written are the trainer's own positions bit for bit, a run exported and re-imported continues
// where it stopped, the table on standard output is unchanged, and bad files give one line
// naming the file and exit code 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "marginlab/scene/scenefile.h"
#include "marginlab/scene/trajectory.h"
#include "marginlab/trainer.h"

namespace marginlab {
namespace {

namespace fs = std::filesystem;

struct CliResult {
    int exitCode = -1;
    std::string out;
    std::string err;
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class TrajectoryCli : public ::testing::Test {
protected:
    void SetUp() override {
        static int counter = 0;
        m_dir = fs::temp_directory_path() /
                ("marginlab-trajectory-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::create_directories(m_dir);
        // SGD on a full batch with no miner: no optimizer state and no random draw, so a run
        // restarted from its exported state continues exactly as the uninterrupted run.
        std::ofstream(path("arcface.json")) << R"({"format": "marginlab-scene", "version": 1,
            "data": {"generator": "blobs", "params": {"points": 40, "classes": 3, "seed": 2}},
            "loss": {"name": "arcface", "params": {"margin": 28.6, "scale": 16}},
            "miner": null, "optimizer": {"type": "sgd", "learning_rate": 0.05},
            "batch": {"mode": "full"}, "seed": 3, "metrics_every": 10})";
    }
    void TearDown() override { fs::remove_all(m_dir); }

    fs::path path(const std::string& name) const { return m_dir / name; }

    CliResult cli(const std::string& arguments) const {
        const std::string out = path("stdout").string(), err = path("stderr").string();
        const std::string command = "cd " + m_dir.string() + " && " + MARGINLAB_CLI + " " + arguments +
                                    " > " + out + " 2> " + err + " < /dev/null";
        const int status = std::system(command.c_str());
        CliResult run;
        run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        run.out = slurp(out);
        run.err = slurp(err);
        fs::remove(out);
        fs::remove(err);
        return run;
    }

    Trajectory read(const std::string& name) const {
        std::string error;
        auto t = readTrajectory(path(name), &error);
        EXPECT_TRUE(t) << error;
        return t ? *t : Trajectory{};
    }

    fs::path m_dir;
};

bool bitwiseEqual(const Points& a, const Points& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

TEST_F(TrajectoryCli, FramesAreTheTrainersOwnPositions) {
    const CliResult plain = cli("train arcface.json --steps 10");
    ASSERT_EQ(plain.exitCode, 0) << plain.err;
    for (const char* file : {"t.csv", "t.npy", "t.json"}) {
        const CliResult run =
            cli(std::string("train arcface.json --steps 10 --every 3 --trajectory ") + file);
        ASSERT_EQ(run.exitCode, 0) << run.err;
        EXPECT_EQ(run.out, plain.out) << "the table on standard output must not change";
        EXPECT_TRUE(run.err.empty()) << run.err;
        const Trajectory t = read(file);
        // Step 0, every 3 steps, and the last step.
        EXPECT_EQ(t.steps, (std::vector<long>{0, 3, 6, 9, 10})) << file;
        ASSERT_EQ(t.owned.size(), t.steps.size()) << "arcface owns its class weights";

        std::string error;
        auto scene = readSceneFile(path("arcface.json"), &error);
        ASSERT_TRUE(scene) << error;
        Trainer trainer(scene->trainer);
        EXPECT_EQ(t.labels, scene->trainer.labels);
        EXPECT_EQ(t.numClasses, 3);
        std::size_t frame = 0;
        for (long step = 0; step <= 10; ++step) {
            const auto snapshot = step == 0 ? trainer.snapshot() : trainer.step(1);
            if (frame < t.steps.size() && t.steps[frame] == step) {
                EXPECT_TRUE(bitwiseEqual(t.positions[frame], snapshot->positions))
                    << file << " step " << step;
                EXPECT_TRUE(bitwiseEqual(t.owned[frame], snapshot->owned)) << file << " step " << step;
                ++frame;
            }
        }
        EXPECT_EQ(frame, t.steps.size());
        // Points move: the run is not standing still.
        EXPECT_GT((t.positions.back() - t.positions.front()).norm(), 1e-3);
    }
}

TEST_F(TrajectoryCli, ExportedRunContinuesWhereItStopped) {
    ASSERT_EQ(cli("train arcface.json --steps 20 --trajectory whole.npy").exitCode, 0);
    ASSERT_EQ(cli("train arcface.json --steps 10 --every 5 --trajectory first.csv").exitCode, 0);
    const CliResult resumed =
        cli("train arcface.json --steps 10 --init first.csv --init-owned first.csv --trajectory rest.json");
    ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
    const Trajectory whole = read("whole.npy"), rest = read("rest.json");
    ASSERT_EQ(whole.steps.size(), 21u);
    ASSERT_EQ(rest.steps.size(), 11u);
    EXPECT_EQ(rest.labels, whole.labels);
    for (std::size_t k = 0; k <= 10; ++k) {
        EXPECT_TRUE(bitwiseEqual(rest.positions[k], whole.positions[10 + k])) << "step " << 10 + k;
        EXPECT_TRUE(bitwiseEqual(rest.owned[k], whole.owned[10 + k])) << "step " << 10 + k;
    }
    // Without the owned parameters the class weights start afresh, and the run differs.
    ASSERT_EQ(cli("train arcface.json --steps 2 --init first.csv --trajectory fresh.csv").exitCode, 0);
    const Trajectory fresh = read("fresh.csv");
    EXPECT_TRUE(bitwiseEqual(fresh.positions[0], whole.positions[10]));
    EXPECT_FALSE(bitwiseEqual(fresh.owned[0], whole.owned[10]));
    // The NPY pair works as --init too (positions: last frame; owned: the -owned file).
    ASSERT_EQ(cli("train arcface.json --steps 1 --init whole.npy --init-owned whole-owned.npy --trajectory "
                  "last.csv")
                  .exitCode,
              0);
    EXPECT_TRUE(bitwiseEqual(read("last.csv").positions[0], whole.positions[20]));
}

TEST_F(TrajectoryCli, BadArgumentsAndFilesGiveOneLineAndExitCodeTwo) {
    std::ofstream(path("bad.csv")) << "x,y,label\n1,2,0\n3,oops,1\n";
    std::ofstream(path("three.csv")) << "x,y,z,label\n1,2,3,0\n3,4,5,1\n";
    std::ofstream(path("owned.csv")) << "1,0\n0,1\n";  // arcface on 3 classes needs 3 rows
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"--steps 3 --init bad.csv", "bad.csv: line 3, column 2: expected a number, found 'oops'"},
        {"--steps 3 --init missing.npy", "missing.npy: cannot open: no such file"},
        {"--steps 3 --init-owned owned.csv", "owned.csv: does not fit the scene"},
        {"--steps 3 --init three.csv --init-owned owned.csv",
         "three.csv / owned.csv: does not fit the scene"},
        {"--steps 3 --trajectory t.avi", "t.avi: unknown trajectory format; use .csv, .npy or .json"},
        {"--steps 3 --trajectory nowhere/t.csv", "nowhere/t.csv: the folder nowhere does not exist"},
        {"--steps 3 --every 2", "--every needs --trajectory OUT"},
        {"--steps 3 --trajectory t.csv --every 0", "--every needs a positive integer, got '0'"},
        {"--steps 300000 --trajectory t.csv",
         "t.csv: 300001 frames exceed the limit of 100000; use a larger --every"},
    };
    for (const auto& [arguments, message] : cases) {
        const CliResult run = cli("train arcface.json " + arguments);
        EXPECT_EQ(run.exitCode, 2) << arguments;
        EXPECT_TRUE(run.out.empty()) << arguments << ": nothing is trained\n" << run.out.substr(0, 200);
        EXPECT_EQ(run.err.rfind("marginlab-cli: ", 0), 0u) << arguments << ": " << run.err;
        EXPECT_NE(run.err.find(message), std::string::npos) << arguments << ": " << run.err;
        EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << arguments << ": " << run.err;
    }
    for (const auto& entry : fs::directory_iterator(m_dir))
        EXPECT_EQ(entry.path().filename().string().find("t."), std::string::npos) << entry.path();
}

}  // namespace
}  // namespace marginlab

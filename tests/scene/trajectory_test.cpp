// SPDX-License-Identifier: MIT
// Trajectories: every format reads back bit for bit what was written; bad files are refused as
// a whole with a message that says where (line and column for CSV) and what was expected.
#include "marginlab/scene/trajectory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "marginlab/scene/npy.h"
#include "marginlab/scene/scenefile.h"

namespace marginlab {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        static int counter = 0;
        m_path = fs::temp_directory_path() / ("marginlab-trajectory-test-" + std::to_string(::getpid()) +
                                              "-" + std::to_string(counter++));
        fs::create_directories(m_path);
    }
    ~TempDir() { fs::remove_all(m_path); }
    fs::path operator/(const std::string& name) const { return m_path / name; }
    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(m_path))
            names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

private:
    fs::path m_path;
};

void writeText(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

Points randomPoints(Eigen::Index rows, Eigen::Index cols, std::mt19937& rng) {
    std::normal_distribution<double> normal(0.0, 3.0);
    Points p(rows, cols);
    for (Eigen::Index i = 0; i < rows; ++i)
        for (Eigen::Index j = 0; j < cols; ++j) p(i, j) = normal(rng);
    return p;
}

Trajectory makeTrajectory(int dimension, bool withOwned, unsigned seed = 7) {
    std::mt19937 rng(seed);
    Trajectory t;
    t.numClasses = 3;
    for (int i = 0; i < 11; ++i) t.labels.push_back(i % 3);
    for (long step : {0L, 5L, 10L, 12L}) {
        t.steps.push_back(step);
        t.positions.push_back(randomPoints(11, dimension, rng));
        if (withOwned) t.owned.push_back(randomPoints(6, dimension, rng));
    }
    // Values whose shortest decimal form is long or extreme must survive the text formats.
    t.positions[1](0, 0) = 0.1;
    t.positions[1](1, 0) = 1.0 / 3.0;
    t.positions[1](2, 1) = -1e-300;
    t.positions[1](3, 1) = 1.7976931348623157e308;
    t.positions[1](4, 0) = 5e-324;
    return t;
}

void expectSame(const Trajectory& a, const Trajectory& b) {
    EXPECT_EQ(a.steps, b.steps);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_EQ(a.numClasses, b.numClasses);
    ASSERT_EQ(a.positions.size(), b.positions.size());
    ASSERT_EQ(a.owned.size(), b.owned.size());
    for (std::size_t f = 0; f < a.positions.size(); ++f) {
        ASSERT_EQ(a.positions[f].rows(), b.positions[f].rows());
        ASSERT_EQ(a.positions[f].cols(), b.positions[f].cols());
        // Bit for bit.
        EXPECT_EQ(
            std::memcmp(a.positions[f].data(), b.positions[f].data(), sizeof(double) * a.positions[f].size()),
            0)
            << "frame " << f;
        if (!a.owned.empty()) {
            ASSERT_EQ(a.owned[f].rows(), b.owned[f].rows());
            EXPECT_EQ(std::memcmp(a.owned[f].data(), b.owned[f].data(), sizeof(double) * a.owned[f].size()),
                      0)
                << "frame " << f;
        }
    }
}

struct RoundTripCase {
    const char* file;
    int dimension;
    bool owned;
};

class TrajectoryRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(TrajectoryRoundTrip, ReadsBackWhatWasWritten) {
    const auto c = GetParam();
    TempDir dir;
    const Trajectory written = makeTrajectory(c.dimension, c.owned);
    std::string error;
    ASSERT_TRUE(writeTrajectory(written, dir / c.file, &error)) << error;
    const auto read = readTrajectory(dir / c.file, &error);
    ASSERT_TRUE(read) << error;
    expectSame(written, *read);
    for (const auto& name : dir.files()) EXPECT_EQ(name.find(".partial"), std::string::npos) << name;
}

INSTANTIATE_TEST_SUITE_P(Formats, TrajectoryRoundTrip,
                         ::testing::Values(RoundTripCase{"t.csv", 2, false}, RoundTripCase{"t.csv", 3, true},
                                           RoundTripCase{"t.npy", 2, true}, RoundTripCase{"t.npy", 3, false},
                                           RoundTripCase{"t.json", 2, true},
                                           RoundTripCase{"t.json", 3, false},
                                           RoundTripCase{"T.CSV", 2, true}));

TEST(TrajectoryFiles, NpyWritesItsSiblingsAndRemovesAStaleOwnedFile) {
    TempDir dir;
    std::string error;
    ASSERT_TRUE(writeTrajectory(makeTrajectory(2, true), dir / "run.npy", &error)) << error;
    EXPECT_EQ(dir.files(),
              (std::vector<std::string>{"run-labels.npy", "run-owned.npy", "run-steps.npy", "run.npy"}));
    ASSERT_TRUE(writeTrajectory(makeTrajectory(2, false), dir / "run.npy", &error)) << error;
    EXPECT_EQ(dir.files(), (std::vector<std::string>{"run-labels.npy", "run-steps.npy", "run.npy"}));
    // Without the steps file a trajectory is read as steps 0, 1, 2, ...
    fs::remove(dir / "run-steps.npy");
    const auto t = readTrajectory(dir / "run.npy", &error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->steps, (std::vector<long>{0, 1, 2, 3}));
}

TEST(TrajectoryFiles, NpyHeaderIsNumpys) {
    // What np.save writes for np.zeros((2, 3)): version 1.0, the dictionary padded to 64 bytes.
    const std::string bytes = npy::encode({2, 3}, std::vector<double>(6, 0.0));
    const std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    ASSERT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const int length = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    EXPECT_EQ((10 + length) % 64, 0);
    EXPECT_EQ(bytes.substr(10, header.size()), header);
    EXPECT_EQ(bytes[static_cast<std::size_t>(9 + length)], '\n');
    EXPECT_EQ(bytes.size(), static_cast<std::size_t>(10 + length + 48));
    const std::string oneDimensional = npy::encode({5}, std::vector<std::int64_t>(5, 1));
    EXPECT_NE(oneDimensional.find("'shape': (5,), }"), std::string::npos);
}

/// A .npy file built by hand (not by npy::encode), as another writer would.
std::string handMadeNpy(const std::string& descr, const std::string& shape, const std::string& data,
                        bool fortran = false, int version = 1) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
    const std::size_t prefix = version == 1 ? 10 : 12;
    while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
    dict += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(version);
    out += '\0';
    out += static_cast<char>(dict.size() & 0xFF);
    out += static_cast<char>(dict.size() >> 8);
    if (version != 1) out += std::string(2, '\0');
    return out + dict + data;
}

template <typename T>
std::string rawBytes(const std::vector<T>& values) {
    return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

TEST(TrajectoryFiles, ReadsFloat32AndNarrowIntegersAsOtherWritersSaveThem) {
    TempDir dir;
    // float32 positions 2×2×2 (PyTorch's default dtype), int32 labels, version 2.0 header.
    const std::vector<float> positions{0.5f, 1.5f, -2.0f, 3.25f, 0.75f, 1.0f, -1.0f, 2.0f};
    writeText(dir / "p.npy", handMadeNpy("<f4", "(2, 2, 2)", rawBytes(positions), false, 2));
    writeText(dir / "p-labels.npy", handMadeNpy("<i4", "(2,)", rawBytes(std::vector<std::int32_t>{1, 0})));
    std::string error;
    const auto t = readTrajectory(dir / "p.npy", &error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->labels, (Labels{1, 0}));
    EXPECT_EQ(t->numClasses, 2);
    EXPECT_EQ(t->positions[1](0, 1), 1.0);
    EXPECT_EQ(t->positions[0](1, 1), 3.25);
    EXPECT_EQ(t->steps, (std::vector<long>{0, 1}));
}

struct BadNpy {
    const char* name;
    std::string positions;
    std::string labels;
    const char* message;
};

TEST(TrajectoryFiles, BadNpyFilesAreRefused) {
    const std::string four = rawBytes(std::vector<double>{1, 2, 3, 4});
    const std::string labels2 = handMadeNpy("<i8", "(2,)", rawBytes(std::vector<std::int64_t>{0, 1}));
    const std::vector<BadNpy> cases = {
        {"fortran", handMadeNpy("<f8", "(1, 2, 2)", four, true), labels2, "Fortran"},
        {"big-endian", handMadeNpy(">f8", "(1, 2, 2)", four), labels2, "dtype '>f8'"},
        {"complex", handMadeNpy("<c16", "(1, 2, 1)", four), labels2, "dtype '<c16'"},
        {"truncated", handMadeNpy("<f8", "(1, 2, 2)", four.substr(0, 24)), labels2,
         "32 bytes of data, the file has 24"},
        {"too long", handMadeNpy("<f8", "(1, 2, 2)", four + four), labels2,
         "32 bytes of data, the file has 64"},
        {"two-dimensional", handMadeNpy("<f8", "(2, 2)", four), labels2, "F×N×D"},
        {"four coordinates", handMadeNpy("<f8", "(1, 1, 4)", four),
         handMadeNpy("<i8", "(1,)", rawBytes(std::vector<std::int64_t>{0})), "4 coordinates"},
        {"no magic", "hello", labels2, "not a .npy file"},
        {"huge shape", handMadeNpy("<f8", "(100000000, 100000, 2)", four), labels2, "more than"},
        {"float labels", handMadeNpy("<f8", "(1, 2, 2)", four),
         handMadeNpy("<f8", "(2,)", rawBytes(std::vector<double>{0, 1})), "labels must be integers"},
        {"label count", handMadeNpy("<f8", "(1, 2, 2)", four),
         handMadeNpy("<i8", "(3,)", rawBytes(std::vector<std::int64_t>{0, 1, 1})), "expected 2 labels"},
        {"negative label", handMadeNpy("<f8", "(1, 2, 2)", four),
         handMadeNpy("<i8", "(2,)", rawBytes(std::vector<std::int64_t>{0, -1})), "label -1 at index 1"},
        {"no labels", handMadeNpy("<f8", "(1, 2, 2)", four), "", "p-labels.npy"},
        {"nan", handMadeNpy("<f8", "(1, 2, 2)", rawBytes(std::vector<double>{1, NAN, 3, 4})), labels2,
         "non-finite"},
    };
    for (const auto& c : cases) {
        TempDir dir;
        writeText(dir / "p.npy", c.positions);
        if (!c.labels.empty()) writeText(dir / "p-labels.npy", c.labels);
        std::string error;
        EXPECT_FALSE(readTrajectory(dir / "p.npy", &error)) << c.name;
        EXPECT_NE(error.find(c.message), std::string::npos) << c.name << ": " << error;
        EXPECT_NE(error.find("p"), std::string::npos) << c.name << ": " << error;
    }
}

TEST(TrajectoryCsv, ReadsTheShortHeaderOfOtherWriters) {
    std::istringstream in(
        "step,point,label,x,y,z\n0,0,1,0.5,1,2\n0,1,0,3,4,5\n\n7,0,1,1,1,1\r\n7,1,0,2,2,2\n");
    std::string error;
    const auto t = parseTrajectoryCsv(in, &error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->steps, (std::vector<long>{0, 7}));
    EXPECT_EQ(t->labels, (Labels{1, 0}));
    EXPECT_EQ(t->numClasses, 2);
    EXPECT_EQ(t->dimension(), 3);
    EXPECT_TRUE(t->owned.empty());
    EXPECT_EQ(t->positions[1](1, 2), 2.0);
    EXPECT_EQ(t->positions[0](0, 0), 0.5);
}

struct BadCsv {
    const char* text;
    const char* message;
};

TEST(TrajectoryCsv, BadFilesNameLineAndColumn) {
    const std::string header = "step,kind,point,label,x,y\n";
    const std::vector<BadCsv> cases = {
        {"", "the file is empty"},
        {"step,kind,point,label,x,y\n", "has a header but no rows"},
        {"x,y,label\n1,2,0\n", "line 1: expected the header step,kind,point,label,x,y[,z]"},
        {"0,point,0,0,1,2\n", "line 1: expected the header"},
        {"step,kind,point,label,x,y\n0,point,0,0,1\n",
         "line 2, column 6: expected 6 fields like the header, found 5"},
        {"step,kind,point,label,x,y\n0,point,0,0,1,2,3\n", "line 2, column 7: expected 6 fields"},
        {"step,kind,point,label,x,y\n0,point,0,0,abc,2\n",
         "line 2, column 5: expected a finite number, found 'abc'"},
        {"step,kind,point,label,x,y\n0,point,0,0,1,nan\n",
         "line 2, column 6: expected a finite number, found 'nan'"},
        {"step,kind,point,label,x,y\n0,point,0,0,1,1e999\n", "line 2, column 6"},
        {"step,kind,point,label,x,y\n-1,point,0,0,1,2\n",
         "line 2, column 1: expected a step (an integer ≥ 0), found '-1'"},
        {"step,kind,point,label,x,y\n0,dot,0,0,1,2\n",
         "line 2, column 2: expected point or owned, found 'dot'"},
        {"step,kind,point,label,x,y\n0,point,1,0,1,2\n",
         "line 2, column 3: expected point 0 of step 0, found 1"},
        {"step,kind,point,label,x,y\n0,point,0,0.5,1,2\n", "line 2, column 4: expected a label"},
        {"step,kind,point,label,x,y\n0,point,0,-2,1,2\n", "line 2, column 4: expected a label"},
        {"step,kind,point,label,x,y\n0,point,0,0,1,2\n0,point,1,1,1,2\n1,point,0,1,1,2\n",
         "line 4, column 4: point 0 has label 1 here but 0 at step 0"},
        {"step,kind,point,label,x,y\n5,point,0,0,1,2\n5,point,1,1,1,2\n3,point,0,0,1,2\n",
         "line 4, column 1: step 3 comes after step 5"},
        {"step,kind,point,label,x,y\n0,point,0,0,1,2\n0,point,1,1,1,2\n1,point,0,0,1,2\n2,point,0,0,1,2\n",
         "line 4: step 1 has 1 points and 0 owned rows, step 0 had 2 and 0"},
        {"step,kind,point,label,x,y\n0,point,0,0,1,2\n1,point,0,0,1,2\n1,point,1,1,1,2\n",
         "line 4, column 3: step 1 has more than the 1 points of step 0"},
        {"step,kind,point,label,x,y\n0,point,0,0,1,2\n0,owned,0,0,1,2\n1,point,0,0,1,2\n",
         "line 4: step 1 has 1 points and 0 owned rows, step 0 had 1 and 1"},
        {"step,kind,point,label,x,y\n0,owned,0,0,1,2\n", "line 2: step 0 has no point rows"},
    };
    for (const auto& c : cases) {
        std::istringstream in(c.text);
        std::string error;
        EXPECT_FALSE(parseTrajectoryCsv(in, &error)) << c.text;
        EXPECT_NE(error.find(c.message), std::string::npos) << c.text << "\n  got: " << error;
    }
}

TEST(TrajectoryCsv, LimitsAreEnforced) {
    std::string error;
    std::istringstream longLine("step,kind,point,label,x,y\n0,point,0,0,1," + std::string(5000, '1') + "\n");
    EXPECT_FALSE(parseTrajectoryCsv(longLine, &error));
    EXPECT_NE(error.find("line 2: longer than 4096 characters"), std::string::npos) << error;

    std::string many = "step,point,label,x,y\n";
    for (long step = 0; step <= kMaxTrajectoryFrames; ++step) many += std::to_string(step) + ",0,0,1,2\n";
    std::istringstream tooMany(many);
    EXPECT_FALSE(parseTrajectoryCsv(tooMany, &error));
    EXPECT_NE(error.find("more than 100000 frames"), std::string::npos) << error;
    EXPECT_NE(error.find("line 100002"), std::string::npos) << error;
}

TEST(TrajectoryFiles, ReaderMessagesNameTheFile) {
    TempDir dir;
    std::string error;
    writeText(dir / "bad.csv", "step,kind,point,label,x,y\n0,point,0,0,1,oops\n");
    EXPECT_FALSE(readTrajectory(dir / "bad.csv", &error));
    EXPECT_EQ(error,
              (dir / "bad.csv").string() + ": line 2, column 6: expected a finite number, found 'oops'");
    EXPECT_FALSE(readTrajectory(dir / "missing.csv", &error));
    EXPECT_EQ(error, (dir / "missing.csv").string() + ": cannot open: no such file");
    EXPECT_FALSE(readTrajectory(dir / "t.txt", &error));
    EXPECT_NE(error.find("use .csv, .npy or .json"), std::string::npos) << error;
    writeText(dir / "bad.json", R"({"format": "marginlab-trajectory", "version": 1, "labels": [0, 1],
        "frames": [{"step": 0, "positions": [[0, 1], [2]]}]})");
    EXPECT_FALSE(readTrajectory(dir / "bad.json", &error));
    EXPECT_NE(error.find("bad.json: frames[0].positions[1]"), std::string::npos) << error;
    writeText(dir / "other.json", R"({"format": "marginlab-scene", "version": 1})");
    EXPECT_FALSE(readTrajectory(dir / "other.json", &error));
    EXPECT_NE(error.find("not a MarginLab trajectory"), std::string::npos) << error;
}

TEST(TrajectoryFiles, WritingAnInvalidTrajectoryOrIntoAMissingFolderLeavesNothing) {
    TempDir dir;
    std::string error;
    Trajectory t = makeTrajectory(2, false);
    t.steps[2] = t.steps[1];
    EXPECT_FALSE(writeTrajectory(t, dir / "t.csv", &error));
    EXPECT_NE(error.find("increasing"), std::string::npos) << error;
    t = makeTrajectory(2, false);
    t.labels[3] = 3;
    EXPECT_FALSE(writeTrajectory(t, dir / "t.csv", &error));
    EXPECT_NE(error.find("label 3 of point 3"), std::string::npos) << error;
    for (const char* name : {"t.csv", "t.npy", "t.json"}) {
        EXPECT_FALSE(writeTrajectory(makeTrajectory(2, true), dir / "missing" / name, &error));
        // The message names the file that could not be written (for NPY, possibly a sibling).
        EXPECT_NE(error.find((dir / "missing").string() + "/t"), std::string::npos) << error;
    }
    EXPECT_TRUE(dir.files().empty());
}

TEST(InitialState, PointsFromEveryKindOfFile) {
    TempDir dir;
    std::string error;
    const Trajectory t = makeTrajectory(2, true);
    ASSERT_TRUE(writeTrajectory(t, dir / "t.csv", &error)) << error;
    ASSERT_TRUE(writeTrajectory(t, dir / "t.npy", &error)) << error;
    ASSERT_TRUE(writeTrajectory(t, dir / "t.json", &error)) << error;
    for (const char* name : {"t.csv", "t.npy", "t.json"}) {
        const auto data = readInitialPoints(dir / name, &error);
        ASSERT_TRUE(data) << name << ": " << error;
        EXPECT_EQ(data->points, t.positions.back()) << name;
        EXPECT_EQ(data->labels, t.labels) << name;
        // NPY keeps the owned parameters in their own file, which is the one to pass.
        const fs::path ownedFile = std::string(name) == "t.npy" ? dir / "t-owned.npy" : dir / name;
        const auto owned = readInitialOwned(ownedFile, &error);
        ASSERT_TRUE(owned) << name << ": " << error;
        EXPECT_EQ(*owned, t.owned.back()) << name;
    }
    // A points CSV (x,y,label) and an N×D array with its labels.
    writeText(dir / "points.csv", "x,y,label\n1,2,0\n3,4,1\n5,6,1\n");
    auto data = readInitialPoints(dir / "points.csv", &error);
    ASSERT_TRUE(data) << error;
    EXPECT_EQ(data->points.rows(), 3);
    EXPECT_EQ(data->labels, (Labels{0, 1, 1}));
    writeText(dir / "flat.npy", npy::encode({3, 2}, std::vector<double>{1, 2, 3, 4, 5, 6}));
    writeText(dir / "flat-labels.npy", npy::encode({3}, std::vector<std::int64_t>{2, 0, 1}));
    data = readInitialPoints(dir / "flat.npy", &error);
    ASSERT_TRUE(data) << error;
    EXPECT_EQ(data->points(2, 1), 6.0);
    EXPECT_EQ(data->labels, (Labels{2, 0, 1}));
    EXPECT_EQ(data->numClasses, 3);
    // Owned rows: CSV with a header, JSON array, NPY R×D.
    writeText(dir / "owned.csv", "x,y\n1,0\n0,1\n-1,0\n");
    auto owned = readInitialOwned(dir / "owned.csv", &error);
    ASSERT_TRUE(owned) << error;
    EXPECT_EQ(owned->rows(), 3);
    EXPECT_EQ((*owned)(2, 0), -1.0);
    writeText(dir / "owned.json", "[[1, 0], [0, 1]]");
    owned = readInitialOwned(dir / "owned.json", &error);
    ASSERT_TRUE(owned) << error;
    EXPECT_EQ(owned->rows(), 2);
    writeText(dir / "owned.npy", npy::encode({2, 3}, std::vector<double>{1, 2, 3, 4, 5, 6}));
    owned = readInitialOwned(dir / "owned.npy", &error);
    ASSERT_TRUE(owned) << error;
    EXPECT_EQ((*owned)(1, 2), 6.0);
}

TEST(InitialState, BadFilesAreRefusedWithTheFileName) {
    TempDir dir;
    std::string error;
    writeText(dir / "points.csv", "x,y,label\n1,2,0\n3,x,1\n");
    EXPECT_FALSE(readInitialPoints(dir / "points.csv", &error));
    EXPECT_EQ(error, (dir / "points.csv").string() + ": line 3, column 2: expected a number, found 'x'");
    writeText(dir / "flat.npy", npy::encode({3, 2}, std::vector<double>{1, 2, 3, 4, 5, 6}));
    EXPECT_FALSE(readInitialPoints(dir / "flat.npy", &error));
    EXPECT_NE(error.find("flat-labels.npy"), std::string::npos) << error;
    writeText(dir / "owned.csv", "1,0\n0,1,2\n");
    EXPECT_FALSE(readInitialOwned(dir / "owned.csv", &error));
    EXPECT_EQ(error, (dir / "owned.csv").string() +
                         ": line 2, column 3: expected 2 fields like the first row, found 3");
    ASSERT_TRUE(writeTrajectory(makeTrajectory(2, false), dir / "t.csv", &error)) << error;
    EXPECT_FALSE(readInitialOwned(dir / "t.csv", &error));
    EXPECT_NE(error.find("has no owned parameters"), std::string::npos) << error;
    EXPECT_FALSE(readInitialPoints(dir / "none.npy", &error));
    EXPECT_EQ(error, (dir / "none.npy").string() + ": cannot open: no such file");
}

TEST(SceneData, AnNpyArrayWithItsLabelsIsTheSceneData) {
    // A scene's "data": {"npy": ...} reads NumPy's N×D array (here 3D) and NAME-labels.npy,
    // relative to the scene's folder; the scene then trains in D = 3.
    TempDir dir;
    writeText(dir / "emb.npy", npy::encode({4, 3}, std::vector<double>{1, 0, 0, 0.9, 0.1, 0, 0, 1, 0, 0, 0.8, 0.2}));
    writeText(dir / "emb-labels.npy", npy::encode({4}, std::vector<std::int64_t>{0, 0, 1, 1}));
    const std::string scene = R"({"format": "marginlab-scene", "version": 1, "data": {"npy": "emb.npy"},
                                  "loss": {"name": "triplet_margin"}})";
    writeText(dir / "scene.json", scene);
    std::string error;
    const auto file = readSceneFile(dir / "scene.json", &error);
    ASSERT_TRUE(file) << error;
    EXPECT_EQ(file->trainer.points.cols(), 3);
    EXPECT_EQ(file->trainer.points(3, 2), 0.2);
    EXPECT_EQ(file->trainer.labels, (Labels{0, 0, 1, 1}));
    EXPECT_EQ(file->trainer.numClasses, 2);
    // Saved, the data stays a reference to the array.
    EXPECT_EQ(sceneToJson(*file)["data"], json::Json({{"npy", "emb.npy"}}));
    // Missing labels, another extension, a second source, an unknown key: refused, naming why.
    fs::remove(dir / "emb-labels.npy");
    EXPECT_FALSE(readSceneFile(dir / "scene.json", &error));
    EXPECT_NE(error.find("emb-labels.npy"), std::string::npos) << error;
    for (const char* data : {R"({"npy": "emb.csv"})", R"({"npy": "emb.npy", "csv": "x.csv"})", R"({"npy": "emb.npy", "labels": 1})"}) {
        writeText(dir / "bad.json", std::string(R"({"format": "marginlab-scene", "version": 1, "data": )") + data +
                                        R"(, "loss": {"name": "triplet_margin"}})");
        EXPECT_FALSE(readSceneFile(dir / "bad.json", &error)) << data;
        EXPECT_NE(error.find("data"), std::string::npos) << error;
    }
}

}  // namespace
}  // namespace marginlab

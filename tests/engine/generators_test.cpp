// SPDX-License-Identifier: MIT
#include "marginlab/generators.h"
#include "marginlab/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numbers>
#include <set>

namespace marginlab {
namespace {

ParamValues numbers(std::initializer_list<std::pair<const std::string, double>> values) {
    ParamValues p;
    for (const auto& [name, value] : values) p.numbers[name] = value;
    return p;
}

Dataset generateOrFail(const std::string& name, const ParamValues& params = {}) {
    std::string error;
    auto data = generate({name, params}, &error);
    EXPECT_TRUE(data.has_value()) << name << ": " << error;
    return data ? *data : Dataset{};
}

std::vector<int> classSizes(const Dataset& d) {
    std::vector<int> sizes(static_cast<std::size_t>(d.numClasses), 0);
    for (int label : d.labels) {
        EXPECT_GE(label, 0);
        EXPECT_LT(label, d.numClasses);
        if (label >= 0 && label < d.numClasses) ++sizes[static_cast<std::size_t>(label)];
    }
    return sizes;
}

bool bitIdentical(const Dataset& a, const Dataset& b) {
    if (a.points.rows() != b.points.rows() || a.points.cols() != b.points.cols()) return false;
    if (a.labels != b.labels || a.numClasses != b.numClasses) return false;
    for (Eigen::Index i = 0; i < a.points.size(); ++i)
        if (std::memcmp(a.points.data() + i, b.points.data() + i, sizeof(Real)) != 0) return false;
    return true;
}

TEST(DataRng, UniformIsInUnitIntervalOnA53BitGrid) {
    Rng rng(7);
    for (int i = 0; i < 10000; ++i) {
        const double u = rng.uniform();
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        ASSERT_EQ(u * 0x1.0p53, std::floor(u * 0x1.0p53));
    }
}

TEST(DataRng, MatchesTheRawEngineBits) {
    // uniform() is the top 53 bits of mt19937_64's output, which the standard pins down
    // (its 10000th output for the default seed 5489 is 9981545732273789042).
    Rng rng(5489);
    for (int i = 0; i < 9999; ++i) rng.next();
    EXPECT_EQ(rng.next(), 9981545732273789042ull);
    Rng a(3);
    std::mt19937_64 raw(3);
    EXPECT_EQ(a.uniform(), static_cast<double>(raw() >> 11) / 9007199254740992.0);
}

TEST(DataRng, NormalHasUnitMomentsAndCachesPairs) {
    Rng rng(11);
    double sum = 0, sumSq = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const double z = rng.normal();
        sum += z;
        sumSq += z * z;
    }
    EXPECT_NEAR(sum / n, 0.0, 0.01);
    EXPECT_NEAR(sumSq / n, 1.0, 0.015);
    // Two normals consume exactly two engine outputs (one Box–Muller pair).
    Rng a(5), b(5);
    a.normal();
    a.normal();
    b.next();
    b.next();
    EXPECT_EQ(a.next(), b.next());
}

TEST(DataRng, UniformIntIsInRangeAndUnbiased) {
    Rng rng(13);
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70000; ++i) {
        const auto k = rng.uniformInt(7);
        ASSERT_LT(k, 7u);
        ++counts[k];
    }
    for (int c : counts) EXPECT_NEAR(c, 10000, 400);
    EXPECT_EQ(rng.uniformInt(1), 0u);
    // n = 2^63 + 1 rejects almost half of the outputs; still in range.
    const std::uint64_t big = (1ull << 63) + 1;
    for (int i = 0; i < 100; ++i) ASSERT_LT(rng.uniformInt(big), big);
}

TEST(DataRng, ShuffleIsADeterministicPermutation) {
    std::vector<int> a(50), b;
    for (int i = 0; i < 50; ++i) a[static_cast<std::size_t>(i)] = i;
    b = a;
    Rng r1(17), r2(17);
    r1.shuffle(a);
    r2.shuffle(b);
    EXPECT_EQ(a, b);
    std::vector<int> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[static_cast<std::size_t>(i)], i);
    int fixed = 0;
    for (int i = 0; i < 50; ++i) fixed += a[static_cast<std::size_t>(i)] == i;
    EXPECT_LT(fixed, 10);
}

TEST(DataGenerators, CatalogueEntriesAreComplete) {
    const std::set<std::string> expected{"blobs",
                                         "rings",
                                         "moons",
                                         "spirals",
                                         "xor",
                                         "uniform",
                                         "imbalanced_blobs",
                                         "noisy_blobs",
                                         "sphere_caps",
                                         "blobs3d",
                                         "sphere_rings",
                                         "uniform_sphere",
                                         "noisy_blobs3d",
                                         "multimodal_blobs",
                                         "multimodal_blobs3d"};
    std::set<std::string> names;
    for (const GeneratorInfo& info : generatorCatalog()) {
        names.insert(info.name);
        EXPECT_FALSE(info.displayName.empty());
        EXPECT_FALSE(info.description.empty());
        EXPECT_TRUE(info.dimension == 2 || info.dimension == 3);
        std::set<std::string> params;
        for (const ParamInfo& p : info.params) params.insert(p.name);
        EXPECT_TRUE(params.count("points") && params.count("seed") && params.count("label_noise")) << info.name;
        EXPECT_EQ(findGenerator(info.name), &info);
    }
    EXPECT_EQ(names, expected);
    EXPECT_EQ(findGenerator("nope"), nullptr);
}

TEST(DataGenerators, EveryGeneratorHasTheRightShapeBalanceAndDeterminism) {
    for (const GeneratorInfo& info : generatorCatalog()) {
        for (int n : {9, 200, 1001}) {
            ParamValues p = numbers({{"points", n}, {"seed", 42}});
            const Dataset a = generateOrFail(info.name, p);
            const Dataset b = generateOrFail(info.name, p);
            ASSERT_EQ(a.points.rows(), n) << info.name;
            ASSERT_EQ(a.points.cols(), info.dimension) << info.name;
            ASSERT_EQ(a.labels.size(), static_cast<std::size_t>(n));
            EXPECT_TRUE(a.points.allFinite());
            EXPECT_TRUE(bitIdentical(a, b)) << info.name << " is not deterministic";
            p.numbers["seed"] = 43;
            EXPECT_FALSE(bitIdentical(a, generateOrFail(info.name, p))) << info.name << " ignores its seed";
            if (info.name == "imbalanced_blobs" || info.name == "noisy_blobs" || info.name == "noisy_blobs3d")
                continue;
            const auto sizes = classSizes(a);
            const auto [smallest, largest] = std::minmax_element(sizes.begin(), sizes.end());
            EXPECT_LE(*largest - *smallest, 1) << info.name << " n=" << n;
        }
    }
}

TEST(DataGenerators, DefaultClassCounts) {
    EXPECT_EQ(generateOrFail("blobs").numClasses, 3);
    EXPECT_EQ(generateOrFail("moons").numClasses, 2);
    EXPECT_EQ(generateOrFail("xor").numClasses, 2);
    EXPECT_EQ(generateOrFail("sphere_caps").numClasses, 4);
    EXPECT_EQ(generateOrFail("blobs").points.rows(), 200);
    const Dataset d = generateOrFail("spirals", numbers({{"classes", 5}, {"points", 52}}));
    EXPECT_EQ(d.numClasses, 5);
    EXPECT_EQ(classSizes(d), (std::vector<int>{11, 11, 10, 10, 10}));
}

TEST(DataGenerators, RowsAreShuffled) {
    const Dataset d = generateOrFail("blobs", numbers({{"points", 300}}));
    int changes = 0;
    for (std::size_t i = 1; i < d.labels.size(); ++i) changes += d.labels[i] != d.labels[i - 1];
    EXPECT_GT(changes, 50);  // grouped rows would change label only twice
}

TEST(DataGenerators, LabelNoiseFlipsExactlyRoundedFractionToOtherClasses) {
    for (const std::string name : {"blobs", "spirals", "sphere_caps", "moons"}) {
        for (double f : {0.1, 0.25, 0.333, 0.9}) {
            for (int n : {50, 201}) {
                ParamValues p = numbers({{"points", n}, {"seed", 5}, {"classes", 4}});
                if (name == "moons") p.numbers.erase("classes");
                const Dataset clean = generateOrFail(name, p);
                p.numbers["label_noise"] = f;
                const Dataset noisy = generateOrFail(name, p);
                // Positions and row order do not depend on the label noise.
                ASSERT_TRUE(clean.points == noisy.points) << name;
                int flipped = 0;
                for (std::size_t i = 0; i < clean.labels.size(); ++i) {
                    if (clean.labels[i] == noisy.labels[i]) continue;
                    ++flipped;
                    EXPECT_GE(noisy.labels[i], 0);
                    EXPECT_LT(noisy.labels[i], clean.numClasses);
                }
                EXPECT_EQ(flipped, std::llround(f * n)) << name << " f=" << f << " n=" << n;
            }
        }
    }
}

TEST(DataGenerators, NoisyBlobsAreBlobsWithTwentyPercentFlipped) {
    const Dataset noisy = generateOrFail("noisy_blobs", numbers({{"points", 150}}));
    const Dataset clean = generateOrFail("blobs", numbers({{"points", 150}}));
    ASSERT_TRUE(noisy.points == clean.points);
    int flipped = 0;
    for (std::size_t i = 0; i < clean.labels.size(); ++i) flipped += clean.labels[i] != noisy.labels[i];
    EXPECT_EQ(flipped, 30);
    // And label_noise = 0 turns it back into plain blobs.
    EXPECT_TRUE(generateOrFail("noisy_blobs", numbers({{"points", 150}, {"label_noise", 0}})).labels == clean.labels);
}

TEST(DataGenerators, BlobCentresLieOnTheSpreadCircle) {
    const Dataset d = generateOrFail("blobs", numbers({{"points", 3000}, {"spread", 5}, {"noise", 0.1}}));
    std::vector<Eigen::RowVector2d> mean(3, Eigen::RowVector2d::Zero());
    const auto sizes = classSizes(d);
    for (Eigen::Index i = 0; i < d.points.rows(); ++i)
        mean[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(i)])] += d.points.row(i);
    for (int c = 0; c < 3; ++c) {
        const Eigen::RowVector2d m = mean[static_cast<std::size_t>(c)] / sizes[static_cast<std::size_t>(c)];
        const double angle = 2 * std::numbers::pi * c / 3;
        EXPECT_NEAR(m.x(), 5 * std::cos(angle), 0.02);
        EXPECT_NEAR(m.y(), 5 * std::sin(angle), 0.02);
    }
}

TEST(DataGenerators, RingsHaveRadiusClassPlusOne) {
    const Dataset exact = generateOrFail("rings", numbers({{"classes", 4}, {"noise", 0}}));
    for (Eigen::Index i = 0; i < exact.points.rows(); ++i)
        EXPECT_NEAR(exact.points.row(i).norm(), exact.labels[static_cast<std::size_t>(i)] + 1.0, 1e-12);
    const Dataset noisy = generateOrFail("rings", numbers({{"classes", 3}, {"points", 3000}, {"noise", 0.1}}));
    std::vector<double> meanRadius(3, 0);
    for (Eigen::Index i = 0; i < noisy.points.rows(); ++i)
        meanRadius[static_cast<std::size_t>(noisy.labels[static_cast<std::size_t>(i)])] += noisy.points.row(i).norm();
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(meanRadius[static_cast<std::size_t>(c)] / 1000, c + 1.0, 0.02);
}

TEST(DataGenerators, MoonsGeometry) {
    const Dataset d = generateOrFail("moons", numbers({{"noise", 0}, {"points", 400}}));
    for (Eigen::Index i = 0; i < d.points.rows(); ++i) {
        const double x = d.points(i, 0), y = d.points(i, 1);
        if (d.labels[static_cast<std::size_t>(i)] == 0) {
            EXPECT_NEAR(std::hypot(x, y), 1.0, 1e-12);  // upper half circle around (0, 0)
            EXPECT_GE(y, 0.0);
        } else {
            EXPECT_NEAR(std::hypot(x - 1.0, y - 0.5), 1.0, 1e-12);  // lower half circle around (1, 0.5)
            EXPECT_LE(y, 0.5);
        }
    }
}

TEST(DataGenerators, XorClassIsTheSignOfTheProduct) {
    const Dataset d = generateOrFail("xor", numbers({{"noise", 0.2}, {"points", 400}, {"spread", 1}}));
    int quadrant[4] = {0, 0, 0, 0};
    for (Eigen::Index i = 0; i < d.points.rows(); ++i) {
        const double x = d.points(i, 0), y = d.points(i, 1);
        // 5 standard deviations: no point crosses an axis with this seed and size.
        EXPECT_EQ(d.labels[static_cast<std::size_t>(i)], x * y > 0 ? 0 : 1) << x << "," << y;
        ++quadrant[(x > 0 ? 0 : 1) + (y > 0 ? 0 : 2)];
    }
    for (int q : quadrant) EXPECT_EQ(q, 100);
}

TEST(DataGenerators, UniformStaysInItsSquare) {
    const Dataset d = generateOrFail("uniform", numbers({{"spread", 1.5}, {"points", 1000}}));
    EXPECT_LE(d.points.cwiseAbs().maxCoeff(), 1.5);
    EXPECT_GT(d.points.cwiseAbs().maxCoeff(), 1.4);
}

TEST(DataGenerators, ImbalancedSizesDecayGeometrically) {
    const Dataset d = generateOrFail("imbalanced_blobs", numbers({{"points", 150}, {"classes", 4}}));
    // 150·(8, 4, 2, 1)/15 = 80, 40, 20, 10 exactly.
    EXPECT_EQ(classSizes(d), (std::vector<int>{80, 40, 20, 10}));
    const Dataset tiny = generateOrFail("imbalanced_blobs", numbers({{"points", 20}, {"classes", 6}, {"ratio", 0.3}}));
    const auto sizes = classSizes(tiny);
    int total = 0;
    for (std::size_t c = 0; c < sizes.size(); ++c) {
        EXPECT_GE(sizes[c], 2);
        if (c > 0) {
            EXPECT_LE(sizes[c], sizes[c - 1]);
        }
        total += sizes[c];
    }
    EXPECT_EQ(total, 20);
    const Dataset flat = generateOrFail("imbalanced_blobs", numbers({{"points", 40}, {"ratio", 1}}));
    EXPECT_EQ(classSizes(flat), (std::vector<int>{10, 10, 10, 10}));
}

TEST(DataGenerators, SphereCapsLieOnTheSphereWithinTheirCap) {
    for (int classes : {2, 4, 6, 9}) {
        const double capDegrees = 20;
        const Dataset d = generateOrFail("sphere_caps", numbers({{"classes", classes}, {"points", 900},
                                                                {"cap_angle", capDegrees}}));
        ASSERT_EQ(d.points.cols(), 3);
        // Recover each cap's centre as the normalized class mean, then check the angles.
        std::vector<Eigen::RowVector3d> centre(static_cast<std::size_t>(classes), Eigen::RowVector3d::Zero());
        for (Eigen::Index i = 0; i < d.points.rows(); ++i) {
            EXPECT_NEAR(d.points.row(i).norm(), 1.0, 1e-14);
            centre[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(i)])] += d.points.row(i);
        }
        for (auto& c : centre) c.normalize();
        // The estimated centre is off by about a degree; two points of one cap are never more
        // than the cap's diameter apart, which needs no centre at all.
        const double cosLoose = std::cos((capDegrees + 3) * std::numbers::pi / 180);
        const double cosDiameter = std::cos(2 * capDegrees * std::numbers::pi / 180);
        for (Eigen::Index i = 0; i < d.points.rows(); ++i) {
            const int label = d.labels[static_cast<std::size_t>(i)];
            EXPECT_GE(d.points.row(i).dot(centre[static_cast<std::size_t>(label)]), cosLoose);
            for (Eigen::Index j = 0; j < d.points.rows(); ++j)
                if (d.labels[static_cast<std::size_t>(j)] == label) {
                    ASSERT_GE(d.points.row(i).dot(d.points.row(j)), cosDiameter - 1e-12);
                }
        }
        // Well separated: the smallest angle between directions is close to the best packing.
        const double best = classes == 2 ? 180.0 : classes == 4 ? 109.47 : classes == 6 ? 90.0 : 66.0;
        double smallest = 180;
        for (int a = 0; a < classes; ++a)
            for (int b = a + 1; b < classes; ++b)
                smallest = std::min(smallest, std::acos(std::clamp(centre[static_cast<std::size_t>(a)].dot(
                                                                       centre[static_cast<std::size_t>(b)]),
                                                                   -1.0, 1.0)) *
                                                  180 / std::numbers::pi);
        EXPECT_GT(smallest, 0.93 * best) << classes << " classes";
    }
}

TEST(DataGenerators, SphereCapsWithZeroAngleAreSinglePoints) {
    const Dataset d = generateOrFail("sphere_caps", numbers({{"cap_angle", 0}, {"points", 40}}));
    for (Eigen::Index i = 0; i < d.points.rows(); ++i)
        for (Eigen::Index j = 0; j < d.points.rows(); ++j)
            if (d.labels[static_cast<std::size_t>(i)] == d.labels[static_cast<std::size_t>(j)]) {
                EXPECT_NEAR((d.points.row(i) - d.points.row(j)).norm(), 0.0, 1e-12);
            }
}

TEST(DataGenerators, Blobs3dAreThreeDimensional) {
    const Dataset d = generateOrFail("blobs3d", numbers({{"points", 2000}, {"noise", 0.1}, {"spread", 3}}));
    ASSERT_EQ(d.points.cols(), 3);
    std::vector<Eigen::RowVector3d> mean(4, Eigen::RowVector3d::Zero());
    for (Eigen::Index i = 0; i < d.points.rows(); ++i)
        mean[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(i)])] += d.points.row(i) / 500.0;
    for (const auto& m : mean) EXPECT_NEAR(m.norm(), 3.0, 0.03);
    EXPECT_GT((mean[0] - mean[1]).norm(), 4.0);
}

TEST(DataGenerators, BadConfigurationsAreRejectedWithMessages) {
    auto errorOf = [](const std::string& name, const ParamValues& p) {
        std::string error;
        EXPECT_FALSE(generate({name, p}, &error).has_value()) << name;
        return error;
    };
    EXPECT_EQ(errorOf("bloobs", {}), "unknown data generator 'bloobs'");
    EXPECT_NE(errorOf("blobs", numbers({{"points", 1}})).find("'points'"), std::string::npos);
    EXPECT_NE(errorOf("blobs", numbers({{"points", 100001}})).find("'points'"), std::string::npos);
    EXPECT_NE(errorOf("blobs", numbers({{"points", 10.5}})).find("must be an integer"), std::string::npos);
    EXPECT_NE(errorOf("blobs", numbers({{"classes", 1}})).find("'classes'"), std::string::npos);
    EXPECT_NE(errorOf("blobs", numbers({{"noise", -1}})).find("'noise'"), std::string::npos);
    EXPECT_NE(errorOf("blobs", numbers({{"label_noise", 1}})).find("'label_noise' must be below 1"),
              std::string::npos);
    EXPECT_NE(errorOf("blobs", numbers({{"label_noise", -0.1}})).find("'label_noise'"), std::string::npos);
    EXPECT_NE(errorOf("blobs", numbers({{"seed", -1}})).find("'seed'"), std::string::npos);
    EXPECT_NE(errorOf("moons", numbers({{"classes", 3}})).find("unknown parameter 'classes'"), std::string::npos);
    EXPECT_NE(errorOf("sphere_caps", numbers({{"cap_angle", 91}})).find("'cap_angle'"), std::string::npos);
    EXPECT_NE(errorOf("imbalanced_blobs", numbers({{"ratio", 0}})).find("'ratio'"), std::string::npos);
    const std::string tooFew = errorOf("blobs", numbers({{"points", 9}, {"classes", 5}}));
    EXPECT_EQ(tooFew, "generator blobs: parameter 'points' = 9 is too small for 5 classes (at least 2 points per "
                      "class, so at least 10)");
    std::string error;
    EXPECT_TRUE(generate({"blobs", numbers({{"points", 10}, {"classes", 5}})}, &error).has_value()) << error;
}

}  // namespace
}  // namespace marginlab

namespace marginlab {
namespace {

TEST(Generators, CounterpartsSwitchTheDimensionAndComeBack) {
    int paired = 0;
    for (const GeneratorInfo& info : generatorCatalog()) {
        const GeneratorInfo* other = counterpartGenerator(info.name);
        if (!other) continue;
        ++paired;
        EXPECT_NE(other->dimension, info.dimension) << info.name;
        EXPECT_EQ(other->dimension, 5 - info.dimension) << info.name;
        // Going there and back lands on a generator of the first dimension (itself, for the pairs).
        const GeneratorInfo* back = counterpartGenerator(other->name);
        ASSERT_NE(back, nullptr) << other->name;
        EXPECT_EQ(back->dimension, info.dimension);
    }
    EXPECT_GE(paired, 8);
    EXPECT_EQ(counterpartGenerator("blobs")->name, "blobs3d");
    EXPECT_EQ(counterpartGenerator("spirals"), nullptr);  // no natural 3D form
    EXPECT_EQ(counterpartGenerator("multimodal_blobs")->name, "multimodal_blobs3d");
    EXPECT_EQ(counterpartGenerator("multimodal_blobs3d")->name, "multimodal_blobs");
}

/// Each point of a multimodal data set is assigned to its nearest blob centre (given by the test,
/// not read from the generator); returns the count per centre and checks that the nearest centre
/// belongs to the point's class (the blobs are tight enough that no point crosses over).
std::vector<int> countPerCentre(const Dataset& d, const std::vector<Eigen::VectorXd>& centres, int classes) {
    std::vector<int> counts(centres.size(), 0);
    for (Eigen::Index i = 0; i < d.points.rows(); ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < centres.size(); ++k)
            if ((d.points.row(i).transpose() - centres[k]).norm() <
                (d.points.row(i).transpose() - centres[best]).norm())
                best = k;
        EXPECT_EQ(static_cast<int>(best) % classes, d.labels[static_cast<std::size_t>(i)]) << "row " << i;
        EXPECT_LT((d.points.row(i).transpose() - centres[best]).norm(), 1.0) << "row " << i;
        ++counts[best];
    }
    return counts;
}

TEST(Generators, MultimodalBlobsGiveEachClassSeparateModes) {
    const int classes = 3, modes = 2, n = 301;
    const Dataset d = generateOrFail("multimodal_blobs",
                                     numbers({{"points", n}, {"classes", classes}, {"noise", 0.1}, {"spread", 4}}));
    ASSERT_EQ(d.points.cols(), 2);
    EXPECT_EQ(d.numClasses, classes);
    std::vector<Eigen::VectorXd> centres;
    for (int k = 0; k < modes * classes; ++k) {
        const double angle = 2 * std::numbers::pi * k / (modes * classes);
        centres.push_back(Eigen::Vector2d(4 * std::cos(angle), 4 * std::sin(angle)));
    }
    const auto counts = countPerCentre(d, centres, classes);
    // 301 = 101 + 100 + 100 by class, each class split evenly over its two blobs.
    EXPECT_EQ(counts, (std::vector<int>{51, 50, 50, 50, 50, 50}));
    // The two modes of a class are opposite: the class mean is near the origin, far from both.
    for (int c = 0; c < classes; ++c) {
        Eigen::RowVector2d mean = Eigen::RowVector2d::Zero();
        int count = 0;
        for (Eigen::Index i = 0; i < d.points.rows(); ++i)
            if (d.labels[static_cast<std::size_t>(i)] == c) mean += d.points.row(i), ++count;
        EXPECT_LT((mean / count).norm(), 0.5) << "class " << c;
    }
    // modes = 1 is plain blobs on the same circle.
    const Dataset single = generateOrFail(
        "multimodal_blobs", numbers({{"points", 90}, {"modes", 1}, {"noise", 0.1}, {"spread", 4}}));
    std::vector<Eigen::VectorXd> three;
    for (int k = 0; k < 3; ++k)
        three.push_back(Eigen::Vector2d(4 * std::cos(2 * std::numbers::pi * k / 3),
                                        4 * std::sin(2 * std::numbers::pi * k / 3)));
    EXPECT_EQ(countPerCentre(single, three, 3), (std::vector<int>{30, 30, 30}));
}

TEST(Generators, MultimodalBlobs3dUseWellSeparatedDirections) {
    const int classes = 2, modes = 3;
    const Dataset d = generateOrFail(
        "multimodal_blobs3d",
        numbers({{"points", 120}, {"classes", classes}, {"modes", modes}, {"noise", 0.05}, {"spread", 3}}));
    ASSERT_EQ(d.points.cols(), 3);
    // Recover the six blob centres as the means of tight clusters, then check that they are far
    // apart, on the sphere of radius `spread`, and that each class owns exactly `modes` of them.
    std::vector<Eigen::VectorXd> centres;
    std::vector<int> owner;
    for (Eigen::Index i = 0; i < d.points.rows(); ++i) {
        const Eigen::VectorXd p = d.points.row(i).transpose();
        bool known = false;
        for (const auto& c : centres) known = known || (p - c).norm() < 0.5;
        if (!known) {
            centres.push_back(p);
            owner.push_back(d.labels[static_cast<std::size_t>(i)]);
        }
    }
    ASSERT_EQ(centres.size(), static_cast<std::size_t>(modes * classes));
    for (std::size_t a = 0; a < centres.size(); ++a) {
        EXPECT_NEAR(centres[a].norm(), 3.0, 0.25);
        for (std::size_t b = a + 1; b < centres.size(); ++b) EXPECT_GT((centres[a] - centres[b]).norm(), 2.0);
    }
    EXPECT_EQ(std::count(owner.begin(), owner.end(), 0), modes);
    EXPECT_EQ(std::count(owner.begin(), owner.end(), 1), modes);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/regions.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <random>

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;

// The rules of regions.h written out plainly on the full matrix.
Region classify(Real gap, Real margin, SemiHardRule rule) {
    if (gap <= 0) return Region::Hard;
    if (rule == SemiHardRule::Pml ? gap <= margin : gap < margin) return Region::SemiHard;
    return Region::Easy;
}

std::vector<DistanceSpec> specs() {
    return {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false), DistanceSpec::lp(2, false), DistanceSpec::cosine()};
}

Points gridPoints(int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> coordinate(0, 3);
    Points x(n, 2);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < 2; ++j) x(i, j) = coordinate(rng);
    return x;
}

TEST(Regions, QueryMatchesBruteForceForEveryRule) {
    std::uint64_t seed = 1;
    for (const DistanceSpec& spec : specs())
        for (SemiHardRule rule : {SemiHardRule::Pml, SemiHardRule::FaceNet, SemiHardRule::TfAddons})
            for (int trial = 0; trial < 4; ++trial, ++seed) {
                const bool grid = trial % 2 == 1 && !spec.isSimilarity();
                const Points x = grid ? gridPoints(16, seed) : randomPoints(16, 2, seed);
                const Labels y = randomLabels(16, 3, seed + 9);
                const Real margin = grid ? Real(1 + trial % 3) : 0.3;
                const Matrix m = SelfDistance(spec, x).matrix();
                const Real sign = spec.isSimilarity() ? -1.0 : 1.0;
                for (int a = 0; a < 16; ++a)
                    for (int p = 0; p < 16; ++p) {
                        if (p == a || y[a] != y[p]) continue;
                        const RegionQuery q = queryRegions(x, y, a, p, margin, spec, rule);
                        ASSERT_EQ(q.regions.size(), 16u);
                        EXPECT_EQ(q.apValue, m(a, p));
                        EXPECT_EQ(q.margin, margin);
                        Count easy = 0, semi = 0, hard = 0;
                        int bestSemi = -1, bestOutside = -1, farthest = -1;
                        for (int j = 0; j < 16; ++j) {
                            if (y[j] == y[a]) {
                                EXPECT_EQ(q.regions[j], Region::NotNegative);
                                continue;
                            }
                            const Real an = sign * m(a, j), ap = sign * m(a, p);
                            const Region r = classify(an - ap, margin, rule);
                            EXPECT_EQ(q.regions[j], r) << spec.describe() << " a=" << a << " p=" << p << " j=" << j;
                            easy += r == Region::Easy;
                            semi += r == Region::SemiHard;
                            hard += r == Region::Hard;
                            if (r == Region::SemiHard && (bestSemi < 0 || an < sign * m(a, bestSemi))) bestSemi = j;
                            if (an > ap && (bestOutside < 0 || an < sign * m(a, bestOutside))) bestOutside = j;
                            if (farthest < 0 || an > sign * m(a, farthest)) farthest = j;
                        }
                        EXPECT_EQ(q.easy, easy);
                        EXPECT_EQ(q.semiHard, semi);
                        EXPECT_EQ(q.hard, hard);
                        const int expected = rule == SemiHardRule::Pml       ? -1
                                             : rule == SemiHardRule::FaceNet ? bestSemi
                                                                             : (bestOutside >= 0 ? bestOutside : farthest);
                        EXPECT_EQ(q.chosenNegative, expected);
                    }
            }
}

TEST(Regions, CountsMatchBruteForceForEveryRule) {
    std::uint64_t seed = 40;
    for (const DistanceSpec& spec : specs())
        for (SemiHardRule rule : {SemiHardRule::Pml, SemiHardRule::FaceNet, SemiHardRule::TfAddons})
            for (int trial = 0; trial < 4; ++trial, ++seed) {
                const bool grid = trial % 2 == 1 && !spec.isSimilarity();
                const int n = grid ? 44 : 40;  // ≥ 16 positives per anchor use the bucket table
                const Points x = grid ? gridPoints(n, seed) : randomPoints(n, 3, seed);
                const Labels y = randomLabels(n, trial < 2 ? 2 : 3, seed + 9);
                const Real margin = grid ? Real(trial % 3) : 0.25;
                const Matrix m = SelfDistance(spec, x).matrix();
                const Real sign = spec.isSimilarity() ? -1.0 : 1.0;
                RegionCounts expected;
                for (int a = 0; a < n; ++a)
                    for (int p = 0; p < n; ++p)
                        for (int q = 0; q < n; ++q) {
                            if (p == a || y[a] != y[p] || y[q] == y[a]) continue;
                            switch (classify(sign * m(a, q) - sign * m(a, p), margin, rule)) {
                            case Region::Easy: ++expected.easy; break;
                            case Region::SemiHard: ++expected.semiHard; break;
                            case Region::Hard: ++expected.hard; break;
                            case Region::NotNegative: break;
                            }
                        }
                const RegionCounts counts = countRegions(x, y, margin, spec, rule);
                EXPECT_EQ(counts.easy, expected.easy) << spec.describe() << " trial " << trial;
                EXPECT_EQ(counts.semiHard, expected.semiHard) << spec.describe() << " trial " << trial;
                EXPECT_EQ(counts.hard, expected.hard) << spec.describe() << " trial " << trial;
            }
}

// Anchor 0 at the origin, positive 1 at distance 1, margin 1, un-normalized Euclidean:
// negatives at 0.5 (gap −0.5, hard), 1 (gap 0, hard), 1.5 (gap 0.5, semi-hard), 2 (gap 1 = m:
// semi-hard for PML, easy for FaceNet) and 3 (gap 2, easy).
TEST(Regions, HandComputedLine) {
    Points x(7, 2);
    x << 0, 0, 1, 0, 0.5, 0, 0, 1, -1.5, 0, 0, -2, 3, 0;
    const Labels y{0, 0, 1, 1, 1, 1, 1};
    const DistanceSpec spec = DistanceSpec::lp(1, false);
    const RegionQuery pml = queryRegions(x, y, 0, 1, 1.0, spec, SemiHardRule::Pml);
    const std::vector<Region> expectedPml{Region::NotNegative, Region::NotNegative, Region::Hard, Region::Hard,
                                          Region::SemiHard,    Region::SemiHard,    Region::Easy};
    EXPECT_EQ(pml.regions, expectedPml);
    EXPECT_EQ(pml.chosenNegative, -1);
    EXPECT_EQ(pml.apValue, 1.0);
    EXPECT_EQ(pml.hard, 2);
    EXPECT_EQ(pml.semiHard, 2);
    EXPECT_EQ(pml.easy, 1);
    const RegionQuery facenet = queryRegions(x, y, 0, 1, 1.0, spec, SemiHardRule::FaceNet);
    EXPECT_EQ(facenet.regions[5], Region::Easy);
    EXPECT_EQ(facenet.semiHard, 1);
    EXPECT_EQ(facenet.chosenNegative, 4);  // the only semi-hard negative
    const RegionQuery tf = queryRegions(x, y, 0, 1, 1.0, spec, SemiHardRule::TfAddons);
    EXPECT_EQ(tf.chosenNegative, 4);  // nearest negative farther than the positive
    // A smaller margin does not change TF-Addons' choice: still the nearest negative beyond 1.
    const RegionQuery far = queryRegions(x, y, 0, 1, 0.2, spec, SemiHardRule::TfAddons);
    EXPECT_EQ(far.chosenNegative, 4);
    Points x2 = x;
    x2(1, 0) = 5.0;  // positive beyond every negative: TF-Addons falls back to the farthest
    EXPECT_EQ(queryRegions(x2, y, 0, 1, 1.0, spec, SemiHardRule::TfAddons).chosenNegative, 6);
    EXPECT_EQ(queryRegions(x2, y, 0, 1, 1.0, spec, SemiHardRule::FaceNet).chosenNegative, -1);
    EXPECT_EQ(hardestPositive(x2, y, 0, spec), 1);
    EXPECT_EQ(hardestPositive(x, y, 2, spec), 6);
}

TEST(Regions, HardestPositiveMatchesBruteForce) {
    const Points x = randomPoints(15, 2, 8);
    const Labels y = randomLabels(15, 4, 9);
    for (const DistanceSpec& spec : specs()) {
        const Matrix m = SelfDistance(spec, x).matrix();
        const Real sign = spec.isSimilarity() ? -1.0 : 1.0;
        for (int a = 0; a < 15; ++a) {
            int best = -1;
            for (int p = 0; p < 15; ++p)
                if (p != a && y[p] == y[a] && (best < 0 || sign * m(a, p) > sign * m(a, best))) best = p;
            EXPECT_EQ(hardestPositive(x, y, a, spec), best);
        }
    }
    EXPECT_EQ(hardestPositive(x, Labels{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, 3, specs()[0]), -1);
}

TEST(Regions, InvalidQueriesMarkNothing) {
    const Points x = randomPoints(5, 2, 1);
    const Labels y{0, 0, 1, 1, 1};
    for (auto [a, p] : {std::pair{-1, 0}, std::pair{0, 0}, std::pair{0, 7}}) {
        const RegionQuery q = queryRegions(x, y, a, p, 0.1, DistanceSpec::lp(1, true), SemiHardRule::FaceNet);
        ASSERT_EQ(q.regions.size(), 5u);
        for (Region r : q.regions) EXPECT_EQ(r, Region::NotNegative);
        EXPECT_EQ(q.chosenNegative, -1);
    }
    EXPECT_EQ(hardestPositive(x, y, 9, DistanceSpec::lp(1, true)), -1);
}

}  // namespace
}  // namespace marginlab

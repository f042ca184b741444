// SPDX-License-Identifier: MIT
// The angular, HDC and uniform-histogram miners (PML's AngularMiner, HDCMiner,
// UniformHistogramMiner) against brute-force enumerations written here from PML's definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "marginlab/miner.h"
#include "test_support.h"

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;
using Row = Eigen::RowVectorXd;

std::unique_ptr<Miner> make(const std::string& name, std::map<std::string, double, std::less<>> numbers = {},
                            std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    ParamValues values;
    values.numbers = std::move(numbers);
    auto miner = makeMiner(MinerConfig{name, values, distance}, &error);
    EXPECT_TRUE(miner) << name << ": " << error;
    return miner;
}

Real entry(const DistanceSpec& spec, const Points& x, int i, int j) {
    Row a = x.row(i), b = x.row(j);
    if (spec.normalizes()) {
        a /= a.norm();
        b /= b.norm();
    }
    if (spec.isSimilarity()) return a.dot(b);
    const Real d = (a - b).norm();
    return spec.power == 2 ? d * d : d;
}

/// torch.nn.functional.pairwise_distance: ‖u − v + 1e-6‖.
Real torchPairwiseDistance(const Row& u, const Row& v) {
    Real sum = 0.0;
    for (Eigen::Index k = 0; k < u.size(); ++k) sum += std::pow(u(k) - v(k) + 1e-6, 2);
    return std::sqrt(sum);
}

// ---------------------------------------------------------------------------------------------
// Angular.

TEST(AngularMiner, KeepsExactlyTheTripletsAboveTheAngle) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed)
        for (Real angle : {20.0, 35.0, 5.0}) {
            const int n = 9 + static_cast<int>(seed), d = 2 + static_cast<int>(seed % 2);
            const Points x = randomPoints(n, d, seed + 10, 1.5);
            const Labels y = randomLabels(n, 3, seed + 11);
            std::vector<Triplet> expected;
            for (int a = 0; a < n; ++a)
                for (int p = 0; p < n; ++p)
                    for (int q = 0; q < n; ++q) {
                        if (p == a || y[a] != y[p] || y[q] == y[a]) continue;
                        const Row centre = (x.row(a) + x.row(p)) / 2;
                        const Real value = std::atan(torchPairwiseDistance(x.row(a), x.row(p)) /
                                                     (2 * torchPairwiseDistance(x.row(q), centre)));
                        if (value > angle * std::acos(-1.0) / 180.0) expected.push_back({a, p, q});
                    }
            const Tuples tuples = make("angular", {{"angle", angle}})->mine(MinerInput{x, y, 0});
            ASSERT_EQ(tuples.kind, Tuples::Kind::Triplets);
            EXPECT_EQ(tuples.triplets, expected) << "seed " << seed << " angle " << angle;
            if (angle == 20.0) {
                EXPECT_FALSE(expected.empty());
            }
        }
}

TEST(AngularMiner, HandGeometryOnRawEmbeddings) {
    // a = (−1, 0), p = (1, 0): a negative at (0, h) sees the segment under 2·atan(1/h); kept iff
    // atan(1/h) > 20°, i.e. h < cot 20° ≈ 2.747. Raw embeddings: h = 2 is kept though (0, 2)
    // normalizes onto the unit circle.
    Points x(4, 2);
    x << -1, 0, 1, 0, 0, 2, 0, 3;
    const Labels y{0, 0, 1, 1};
    const Tuples tuples = make("angular")->mine(MinerInput{x, y, 0});
    const std::vector<Triplet> expected{{0, 1, 2}, {1, 0, 2}};
    EXPECT_EQ(tuples.triplets, expected);
}

// ---------------------------------------------------------------------------------------------
// HDC.

TEST(HdcMiner, KeepsTheHardestFractionOfEachKind) {
    for (const DistanceSpec& spec :
         {DistanceSpec::lp(1, true), DistanceSpec::lp(2, false), DistanceSpec::cosine()})
        for (Real fraction : {0.5, 0.3, 1.0, 0.0})
            for (std::uint64_t seed = 1; seed <= 3; ++seed) {
                const int n = 12, d = 2 + static_cast<int>(seed % 2);
                const Points x = randomPoints(n, d, seed + 20);
                const Labels y = randomLabels(n, 3, seed + 21);
                // Hardness: distance of a positive (similarity: its negation), and the reverse
                // for negatives; sort all pairs of a kind, hardest first, take ⌈f·count⌉.
                auto hardest = [&](bool positive) {
                    std::vector<std::pair<Real, Pair>> ranked;
                    for (int a = 0; a < n; ++a)
                        for (int b = 0; b < n; ++b) {
                            if (a == b || (y[a] == y[b]) != positive) continue;
                            const Real m = entry(spec, x, a, b);
                            const Real hardness = (spec.isSimilarity() ? -m : m) * (positive ? 1.0 : -1.0);
                            ranked.push_back({-hardness, {a, b}});
                        }
                    std::sort(ranked.begin(), ranked.end());
                    const auto k =
                        static_cast<std::size_t>(std::ceil(fraction * static_cast<Real>(ranked.size())));
                    std::set<Pair> kept;
                    for (std::size_t i = 0; i < k; ++i) kept.insert(ranked[i].second);
                    return std::make_pair(kept, k);
                };
                const Tuples tuples =
                    make("hdc", {{"filter_percentage", fraction}}, spec)->mine(MinerInput{x, y, 0});
                ASSERT_EQ(tuples.kind, Tuples::Kind::Pairs);
                const auto [positives, positiveCount] = hardest(true);
                const auto [negatives, negativeCount] = hardest(false);
                EXPECT_EQ(tuples.positivePairs.size(), positiveCount);
                EXPECT_EQ(tuples.negativePairs.size(), negativeCount);
                EXPECT_EQ(std::set<Pair>(tuples.positivePairs.begin(), tuples.positivePairs.end()), positives)
                    << spec.describe() << " f " << fraction;
                EXPECT_EQ(std::set<Pair>(tuples.negativePairs.begin(), tuples.negativePairs.end()), negatives)
                    << spec.describe() << " f " << fraction;
            }
}

// ---------------------------------------------------------------------------------------------
// Uniform histogram.

struct Bins {
    std::vector<std::vector<Pair>> members;  // per bin
};

/// Bins of one kind of pair: [min, max] cut into `count` equal parts, the last one closed.
Bins binPairs(const DistanceSpec& spec, const Points& x, const Labels& y, bool positive, int count) {
    const int n = static_cast<int>(y.size());
    std::vector<std::pair<Real, Pair>> values;
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b)
            if (a != b && (y[a] == y[b]) == positive) values.push_back({entry(spec, x, a, b), {a, b}});
    Bins bins;
    bins.members.resize(static_cast<std::size_t>(count));
    if (values.empty()) return bins;
    Real low = values[0].first, high = values[0].first;
    for (const auto& v : values) {
        low = std::min(low, v.first);
        high = std::max(high, v.first);
    }
    for (const auto& [value, pair] : values) {
        int bin = static_cast<int>(std::floor((value - low) / (high - low) * count));
        bin = std::min(bin, count - 1);
        bins.members[static_cast<std::size_t>(bin)].push_back(pair);
    }
    return bins;
}

TEST(UniformHistogramMiner, DrawsTheGivenNumberFromEveryNonEmptyBin) {
    for (const DistanceSpec& spec : {DistanceSpec::lp(1, true), DistanceSpec::cosine()})
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            const int n = 14, bins = 7, perPositive = 3, perNegative = 5;
            const Points x = randomPoints(n, 2 + static_cast<int>(seed % 2), seed + 30);
            const Labels y = randomLabels(n, 3, seed + 31);
            const auto miner =
                make("uniform_histogram",
                     {{"num_bins", bins}, {"pos_per_bin", perPositive}, {"neg_per_bin", perNegative}}, spec);
            const Tuples tuples = miner->mine(MinerInput{x, y, seed});
            ASSERT_EQ(tuples.kind, Tuples::Kind::Pairs);
            for (bool positive : {true, false}) {
                const Bins expected = binPairs(spec, x, y, positive, bins);
                const auto& kept = positive ? tuples.positivePairs : tuples.negativePairs;
                const int per = positive ? perPositive : perNegative;
                // Bin by bin, in order: `per` draws, each a member of that bin.
                std::size_t next = 0;
                int nonEmpty = 0;
                for (const auto& members : expected.members) {
                    if (members.empty()) continue;
                    ++nonEmpty;
                    for (int k = 0; k < per; ++k, ++next) {
                        ASSERT_LT(next, kept.size());
                        EXPECT_NE(std::find(members.begin(), members.end(), kept[next]), members.end())
                            << spec.describe() << " seed " << seed << " draw " << next;
                    }
                }
                EXPECT_GE(nonEmpty, 2);
                EXPECT_EQ(kept.size(), static_cast<std::size_t>(nonEmpty * per));
            }
            // Same seed, same pairs; another seed, other draws.
            const Tuples again = miner->mine(MinerInput{x, y, seed});
            EXPECT_EQ(again.positivePairs, tuples.positivePairs);
            EXPECT_EQ(again.negativePairs, tuples.negativePairs);
            EXPECT_NE(miner->mine(MinerInput{x, y, seed + 100}).negativePairs, tuples.negativePairs);
        }
}

TEST(UniformHistogramMiner, DrawsUniformlyWithinABin) {
    // One bin: every negative pair equally likely. 22 ordered negative pairs (3·3·2 + 2·1·2),
    // 20000 draws over seeds: each count ~ Binomial(20000, 1/22) (mean 909, sd 29); a bias of
    // 1/4 would be 230 away.
    const Points x = randomPoints(6, 2, 40);
    const Labels y{0, 0, 0, 1, 1, 2};
    const auto miner = make("uniform_histogram", {{"num_bins", 1}, {"pos_per_bin", 0}, {"neg_per_bin", 20}});
    std::map<Pair, int> counts;
    for (std::uint64_t seed = 0; seed < 1000; ++seed)
        for (const Pair& p : miner->mine(MinerInput{x, y, seed}).negativePairs) ++counts[p];
    ASSERT_EQ(counts.size(), 22u);
    for (const auto& [pair, count] : counts) EXPECT_NEAR(count, 20000.0 / 22.0, 150.0);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Miners against brute-force enumerations written here from the rules in loss-conventions.md §1.1
// and the miners' headers.
//
// Output order checked throughout: triplet lists by anchor ascending, then positive ascending
// (one triplet per anchor for batch_hard / batch_easy_hard); pair lists by (anchor, other)
// ascending. Ties in a distance go to the lowest index.
#include "marginlab/miner.h"
#include "marginlab/miners/distance_weighted.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;

struct Case {
    Points x;
    Labels labels;
    DistanceSpec spec;
    std::string what;
};

// Integer coordinates in [-2, 2]: with un-normalized squared L2 every distance and every gap is
// an exact integer, so ties and values exactly on a margin occur often.
Points integerPoints(int n, int d, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Points x(n, d);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < d; ++j) x(i, j) = static_cast<Real>(static_cast<int>(rng() % 5) - 2);
    return x;
}

std::vector<Case> cases() {
    std::vector<Case> out;
    const std::vector<DistanceSpec> specs = {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false),
                                             DistanceSpec::lp(2, false), DistanceSpec::cosine()};
    for (int s = 0; s < 5; ++s) {
        const int n = 12 + 2 * s, d = 2 + s % 2, classes = 3 + s % 2;
        const Points x = randomPoints(n, d, 100 + s);
        Labels labels = randomLabels(n, classes, 200 + s);
        if (s % 2 == 1) labels[0] = 99;  // a singleton class: an anchor without positives
        for (const DistanceSpec& spec : specs)
            out.push_back({x, labels, spec, "random s=" + std::to_string(s) + " " + spec.describe()});
    }
    for (int s = 0; s < 4; ++s) {
        const Points x = integerPoints(16, 2, 300 + s);
        const Labels labels = randomLabels(16, 3, 400 + s);
        out.push_back({x, labels, DistanceSpec::lp(2, false), "integer ties s=" + std::to_string(s)});
        out.push_back({x, labels, DistanceSpec::lp(1, false), "integer ties L2 s=" + std::to_string(s)});
        out.push_back({x, labels, DistanceSpec::cosine(), "integer ties cosine s=" + std::to_string(s)});
    }
    const Points x = randomPoints(8, 2, 500);
    out.push_back({x, Labels(8, 3), DistanceSpec::lp(1, true), "one class only"});
    out.push_back({x, Labels{0, 1, 2, 3, 4, 5, 6, 7}, DistanceSpec::lp(1, true), "all labels distinct"});
    out.push_back({x, Labels{5, 5, 5, 5, 5, 5, 5, 9}, DistanceSpec::lp(1, true), "one negative for most anchors"});
    return out;
}

Matrix matrixOf(const Case& c) { return SelfDistance(c.spec, c.x).matrix(); }
Matrix deltaOf(const Case& c) { return c.spec.orderSign() * matrixOf(c); }

std::unique_ptr<Miner> make(const std::string& name, const DistanceSpec& distance, ParamValues params = {}) {
    std::string error;
    auto miner = makeMiner(MinerConfig{name, std::move(params), distance}, &error);
    EXPECT_TRUE(miner) << name << ": " << error;
    return miner;
}

Tuples mineCase(const Miner& miner, const Case& c, std::uint64_t seed = 0) {
    return miner.mine(MinerInput{c.x, c.labels, seed});
}

// Brute force "lowest index among the extreme values" of a set: first the value, then the index.
int extremeIndex(const std::vector<int>& candidates, const std::vector<Real>& values, bool smallest) {
    if (candidates.empty()) return -1;
    Real best = values[0];
    for (Real v : values) best = smallest ? std::min(best, v) : std::max(best, v);
    for (std::size_t k = 0; k < candidates.size(); ++k)
        if (values[k] == best) return candidates[k];
    return -1;
}

std::vector<Pair> positivePairsOf(const Labels& labels) {
    std::vector<Pair> out;
    const int n = static_cast<int>(labels.size());
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p)
            if (a != p && labels[a] == labels[p]) out.push_back({a, p});
    return out;
}

// ---------------------------------------------------------------------------------------------
// Catalogue

TEST(MinerCatalogue, ListsEveryMinerWithDefaults) {
    const std::vector<std::string> names = {"triplet_margin", "batch_hard",      "batch_easy_hard",
                                            "multi_similarity", "pair_margin",   "distance_weighted",
                                            "facenet_semihard", "tfa_semihard",  "random_negative",
                                            "angular",          "hdc",           "uniform_histogram"};
    ASSERT_EQ(minerCatalog().size(), names.size());
    for (const std::string& name : names) {
        const MinerInfo* info = findMiner(name);
        ASSERT_NE(info, nullptr) << name;
        EXPECT_FALSE(info->description.empty()) << name;
        EXPECT_FALSE(info->displayName.empty()) << name;
        std::string error;
        auto miner = makeMiner(MinerConfig{name, {}, std::nullopt}, &error);
        ASSERT_TRUE(miner) << error;
        EXPECT_EQ(miner->name(), name);
    }
    EXPECT_EQ(findMiner("multi_similarity")->defaultDistance, DistanceSpec::cosine());
    EXPECT_EQ(findMiner("batch_hard")->defaultDistance, DistanceSpec::lp(1, true));
    EXPECT_EQ(findMiner("triplet_margin")->pmlName, "TripletMarginMiner");
}

TEST(MinerCatalogue, PmlDefaultsAndBadChoicesAreReported) {
    auto defaultOf = [](const std::string& miner, const std::string& param) {
        for (const ParamInfo& p : findMiner(miner)->params)
            if (p.name == param) return p.type == ParamType::Choice ? -1.0 : p.defaultValue;
        ADD_FAILURE() << miner << " has no " << param;
        return 0.0;
    };
    EXPECT_EQ(defaultOf("triplet_margin", "margin"), 0.2);
    EXPECT_EQ(defaultOf("multi_similarity", "epsilon"), 0.1);
    EXPECT_EQ(defaultOf("pair_margin", "pos_margin"), 0.2);
    EXPECT_EQ(defaultOf("pair_margin", "neg_margin"), 0.8);
    EXPECT_EQ(defaultOf("distance_weighted", "cutoff"), 0.5);
    EXPECT_EQ(defaultOf("distance_weighted", "nonzero_loss_cutoff"), 1.4);
    EXPECT_EQ(defaultOf("facenet_semihard", "margin"), 0.2);

    ParamValues bad;
    bad.choices["type_of_triplets"] = "medium";
    std::string error;
    EXPECT_FALSE(makeMiner(MinerConfig{"triplet_margin", bad, std::nullopt}, &error));
    EXPECT_NE(error.find("type_of_triplets"), std::string::npos);
    EXPECT_FALSE(makeMiner(MinerConfig{"no_such_miner", {}, std::nullopt}, &error));
}

// ---------------------------------------------------------------------------------------------
// triplet_margin and countTuples

// PML's rule on M directly: gap = d_an − d_ap (distance) or s_ap − s_an (similarity).
bool tripletMarginKeeps(const std::string& type, Real gap, Real margin) {
    if (type == "easy") return gap > margin;
    if (type == "hard") return gap <= margin && gap <= 0;
    if (type == "semihard") return gap <= margin && gap > 0;
    return gap <= margin;
}

std::vector<Triplet> bruteTripletMargin(const Case& c, const std::string& type, Real margin) {
    const Matrix m = matrixOf(c);
    const int n = static_cast<int>(c.labels.size());
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p)
            for (int q = 0; q < n; ++q) {
                if (a == p || c.labels[a] != c.labels[p] || c.labels[q] == c.labels[a]) continue;
                const Real gap = c.spec.isSimilarity() ? m(a, p) - m(a, q) : m(a, q) - m(a, p);
                if (tripletMarginKeeps(type, gap, margin)) out.push_back({a, p, q});
            }
    return out;
}

TEST(MinerTripletMargin, FilterKeepsExactlyPmlsTriplets) {
    // Integer margins hit exact integer gaps of the tie cases (boundaries ≤ / < matter there).
    for (const Case& c : cases())
        for (const std::string type : {"all", "hard", "semihard", "easy"})
            for (Real margin : {0.2, 1.0, 2.0, -1.0, 0.0}) {
                ParamValues params;
                params.numbers["margin"] = margin;
                params.choices["type_of_triplets"] = type;
                const auto miner = make("triplet_margin", c.spec, params);
                const Tuples tuples = mineCase(*miner, c);
                ASSERT_EQ(tuples.kind, Tuples::Kind::All);
                ASSERT_TRUE(tuples.filter.has_value());
                EXPECT_EQ(tuples.filter->distance, c.spec);
                const std::vector<Triplet> expected = bruteTripletMargin(c, type, margin);
                EXPECT_EQ(materializeTriplets(tuples, c.x, c.labels), expected)
                    << c.what << " " << type << " m=" << margin;
                const MinerCounts counts = countTuples(tuples, c.x, c.labels);
                EXPECT_EQ(counts.triplets, static_cast<Count>(expected.size())) << c.what << " " << type << " m=" << margin;
                EXPECT_EQ(counts.positivePairs, counts.triplets);
                EXPECT_EQ(counts.negativePairs, counts.triplets);
            }
}

TEST(MinerCountTuples, ArbitraryFiltersMatchBruteForceIncludingBoundaries) {
    // Every combination of open/closed ends on integer gaps of squared distances: a value exactly
    // on a boundary is counted iff that end is closed.
    for (const Case& c : cases()) {
        const Matrix delta = deltaOf(c);
        const int n = static_cast<int>(c.labels.size());
        for (Real low : {-std::numeric_limits<Real>::infinity(), -2.0, 0.0, 1.0})
            for (Real high : {std::numeric_limits<Real>::infinity(), 0.0, 1.0, 3.0})
                for (bool includeLow : {false, true})
                    for (bool includeHigh : {false, true}) {
                        Tuples tuples = Tuples::all();
                        tuples.filter = TripletGapFilter{low, high, includeLow, includeHigh, c.spec};
                        Count expected = 0;
                        for (int a = 0; a < n; ++a)
                            for (int p = 0; p < n; ++p)
                                for (int q = 0; q < n; ++q) {
                                    if (a == p || c.labels[a] != c.labels[p] || c.labels[q] == c.labels[a]) continue;
                                    const Real gap = delta(a, q) - delta(a, p);
                                    const bool lowOk = includeLow ? gap >= low : gap > low;
                                    const bool highOk = includeHigh ? gap <= high : gap < high;
                                    if (lowOk && highOk) ++expected;
                                }
                        EXPECT_EQ(countTuples(tuples, c.x, c.labels).triplets, expected)
                            << c.what << " (" << low << "," << high << ") " << includeLow << includeHigh;
                    }
    }
}

TEST(MinerCountTuples, UnfilteredTripletAndPairForms) {
    for (const Case& c : cases()) {
        const int n = static_cast<int>(c.labels.size());
        Count triplets = 0, positives = 0, negatives = 0;
        for (int a = 0; a < n; ++a)
            for (int b = 0; b < n; ++b) {
                if (a != b && c.labels[a] == c.labels[b]) ++positives;
                if (c.labels[a] != c.labels[b]) ++negatives;
                for (int q = 0; q < n; ++q)
                    if (a != b && c.labels[a] == c.labels[b] && c.labels[q] != c.labels[a]) ++triplets;
            }
        const MinerCounts all = countTuples(Tuples::all(), c.x, c.labels);
        EXPECT_EQ(all.triplets, triplets) << c.what;
        EXPECT_EQ(all.positivePairs, positives) << c.what;
        EXPECT_EQ(all.negativePairs, negatives) << c.what;

        // Explicit lists: sizes, and for pairs the triplets convert_to_triplets would form.
        const std::vector<Triplet> list = materializeTriplets(Tuples::all(), c.x, c.labels);
        const MinerCounts fromList = countTuples(Tuples::fromTriplets(list), c.x, c.labels);
        EXPECT_EQ(fromList.triplets, triplets);
        EXPECT_EQ(fromList.positivePairs, triplets);
        EXPECT_EQ(fromList.negativePairs, triplets);

        std::vector<Pair> pos, neg;
        materializePairs(Tuples::all(), c.x, c.labels, &pos, &neg);
        // Drop every third pair so that the per-anchor products are not the full ones.
        std::vector<Pair> somePos, someNeg;
        for (std::size_t k = 0; k < pos.size(); ++k)
            if (k % 3 != 0) somePos.push_back(pos[k]);
        for (std::size_t k = 0; k < neg.size(); ++k)
            if (k % 3 != 1) someNeg.push_back(neg[k]);
        const Tuples pairs = Tuples::fromPairs(somePos, someNeg);
        const MinerCounts pairCounts = countTuples(pairs, c.x, c.labels);
        EXPECT_EQ(pairCounts.positivePairs, static_cast<Count>(somePos.size()));
        EXPECT_EQ(pairCounts.negativePairs, static_cast<Count>(someNeg.size()));
        EXPECT_EQ(pairCounts.triplets, static_cast<Count>(materializeTriplets(pairs, c.x, c.labels).size())) << c.what;
    }
}

// ---------------------------------------------------------------------------------------------
// batch_hard, batch_easy_hard, tfa_semihard (deterministic triplet miners)

std::vector<Triplet> bruteBatchEasyHard(const Case& c, const std::string& positiveStrategy,
                                        const std::string& negativeStrategy) {
    const Matrix delta = deltaOf(c);
    const int n = static_cast<int>(c.labels.size());
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a) {
        std::vector<int> pos;
        std::vector<Real> posValues;
        for (int j = 0; j < n; ++j)
            if (j != a && c.labels[j] == c.labels[a]) {
                pos.push_back(j);
                posValues.push_back(delta(a, j));
            }
        const int p = extremeIndex(pos, posValues, positiveStrategy == "easy");
        if (p < 0) continue;
        std::vector<int> neg;
        std::vector<Real> negValues;
        for (int j = 0; j < n; ++j)
            if (c.labels[j] != c.labels[a] && (negativeStrategy != "semihard" || delta(a, j) > delta(a, p))) {
                neg.push_back(j);
                negValues.push_back(delta(a, j));
            }
        const int q = extremeIndex(neg, negValues, negativeStrategy != "easy");
        if (q >= 0) out.push_back({a, p, q});
    }
    return out;
}

TEST(MinerBatchHard, FarthestPositiveNearestNegativePerAnchor) {
    for (const Case& c : cases()) {
        const Tuples tuples = mineCase(*make("batch_hard", c.spec), c);
        ASSERT_EQ(tuples.kind, Tuples::Kind::Triplets);
        EXPECT_EQ(tuples.triplets, bruteBatchEasyHard(c, "hard", "hard")) << c.what;
    }
}

TEST(MinerBatchEasyHard, EveryStrategyPairMatchesBruteForce) {
    for (const Case& c : cases())
        for (const std::string positive : {"easy", "hard"})
            for (const std::string negative : {"semihard", "hard", "easy"}) {
                ParamValues params;
                params.choices["pos_strategy"] = positive;
                params.choices["neg_strategy"] = negative;
                const Tuples tuples = mineCase(*make("batch_easy_hard", c.spec, params), c);
                ASSERT_EQ(tuples.kind, Tuples::Kind::Triplets);
                EXPECT_EQ(tuples.triplets, bruteBatchEasyHard(c, positive, negative))
                    << c.what << " " << positive << "/" << negative;
            }
}

TEST(MinerBatchEasyHard, DefaultIsEasyPositiveSemiHardNegative) {
    for (const Case& c : cases())
        EXPECT_EQ(mineCase(*make("batch_easy_hard", c.spec), c).triplets, bruteBatchEasyHard(c, "easy", "semihard"));
}

TEST(MinerTfaSemiHard, NearestFartherNegativeElseFarthest) {
    for (const Case& c : cases()) {
        const Matrix delta = deltaOf(c);
        const int n = static_cast<int>(c.labels.size());
        std::vector<Triplet> expected;
        for (const Pair& ap : positivePairsOf(c.labels)) {
            const int a = ap[0], p = ap[1];
            std::vector<int> farther, all;
            std::vector<Real> fartherValues, allValues;
            for (int j = 0; j < n; ++j) {
                if (c.labels[j] == c.labels[a]) continue;
                all.push_back(j);
                allValues.push_back(delta(a, j));
                if (delta(a, j) > delta(a, p)) {
                    farther.push_back(j);
                    fartherValues.push_back(delta(a, j));
                }
            }
            if (all.empty()) continue;
            const int q = farther.empty() ? extremeIndex(all, allValues, false) : extremeIndex(farther, fartherValues, true);
            expected.push_back({a, p, q});
        }
        const Tuples tuples = mineCase(*make("tfa_semihard", c.spec), c);
        ASSERT_EQ(tuples.kind, Tuples::Kind::Triplets);
        EXPECT_EQ(tuples.triplets, expected) << c.what;
    }
}

// A diverged (NaN) point: its distances are NaN. δ_an = NaN ranks as +∞ (an infinitely far
// negative), and a pair whose δ_ap is NaN has no negative beyond it: the farthest one. Every
// other negative is finite here, so the NaN ones are the farthest of every anchor and also sit
// above every positive: the fallback must be found even when every positive has a candidate.
TEST(MinerTfaSemiHard, DivergedPointsAreInfinitelyFar) {
    std::mt19937_64 rng(77);
    std::normal_distribution<Real> normal(0.0, 1.0);
    const int n = 150;
    Case c{Points(n, 2), Labels(static_cast<std::size_t>(n)), DistanceSpec::lp(1, true), "one NaN point"};
    for (int i = 0; i < n; ++i) {
        c.labels[static_cast<std::size_t>(i)] = i % 3;
        c.x(i, 0) = normal(rng);
        c.x(i, 1) = normal(rng);
    }
    c.x(7, 0) = std::numeric_limits<Real>::quiet_NaN();
    const Matrix delta = deltaOf(c);
    auto valueOf = [&](int a, int j) {
        return std::isnan(delta(a, j)) ? std::numeric_limits<Real>::infinity() : delta(a, j);
    };
    std::vector<Triplet> expected;
    int diverged = 0;
    for (const Pair& ap : positivePairsOf(c.labels)) {
        const int a = ap[0], p = ap[1];
        std::vector<int> farther, all;
        std::vector<Real> fartherValues, allValues;
        for (int j = 0; j < n; ++j) {
            if (c.labels[static_cast<std::size_t>(j)] == c.labels[static_cast<std::size_t>(a)]) continue;
            all.push_back(j);
            allValues.push_back(valueOf(a, j));
            if (!std::isnan(delta(a, p)) && valueOf(a, j) > delta(a, p)) {
                farther.push_back(j);
                fartherValues.push_back(valueOf(a, j));
            }
        }
        diverged += std::isnan(delta(a, p));
        const int q = farther.empty() ? extremeIndex(all, allValues, false)
                                      : extremeIndex(farther, fartherValues, true);
        expected.push_back({a, p, q});
    }
    ASSERT_GT(diverged, 0);
    const Tuples tuples = mineCase(*make("tfa_semihard", c.spec), c);
    ASSERT_EQ(tuples.kind, Tuples::Kind::Triplets);
    EXPECT_EQ(tuples.triplets, expected);
}

// ---------------------------------------------------------------------------------------------
// Pair miners

TEST(MinerMultiSimilarity, PairsFollowSection11) {
    for (const Case& c : cases())
        for (Real epsilon : {0.1, 0.0, 1.0}) {
            // Written on M as §1.1 states it (similarity) and with every comparison reversed for a
            // distance, deliberately not via δ as the implementation does.
            const Matrix m = matrixOf(c);
            const bool similarity = c.spec.isSimilarity();
            const int n = static_cast<int>(c.labels.size());
            std::vector<Pair> positives, negatives;
            for (int a = 0; a < n; ++a) {
                std::vector<Real> pos, neg;
                for (int j = 0; j < n; ++j) {
                    if (j == a) continue;
                    (c.labels[j] == c.labels[a] ? pos : neg).push_back(m(a, j));
                }
                if (pos.empty() || neg.empty()) continue;
                const Real closestNegative = similarity ? *std::max_element(neg.begin(), neg.end())
                                                        : *std::min_element(neg.begin(), neg.end());
                const Real farthestPositive = similarity ? *std::min_element(pos.begin(), pos.end())
                                                         : *std::max_element(pos.begin(), pos.end());
                for (int j = 0; j < n; ++j) {
                    if (j == a) continue;
                    if (c.labels[j] == c.labels[a]) {
                        if (similarity ? m(a, j) - epsilon < closestNegative : m(a, j) + epsilon > closestNegative)
                            positives.push_back({a, j});
                    } else if (similarity ? m(a, j) + epsilon > farthestPositive : m(a, j) - epsilon < farthestPositive) {
                        negatives.push_back({a, j});
                    }
                }
            }
            ParamValues params;
            params.numbers["epsilon"] = epsilon;
            const Tuples tuples = mineCase(*make("multi_similarity", c.spec, params), c);
            ASSERT_EQ(tuples.kind, Tuples::Kind::Pairs);
            EXPECT_EQ(tuples.positivePairs, positives) << c.what << " eps=" << epsilon;
            EXPECT_EQ(tuples.negativePairs, negatives) << c.what << " eps=" << epsilon;
        }
}

TEST(MinerMultiSimilarity, DefaultDistanceIsCosine) {
    const Case c{randomPoints(14, 3, 7), randomLabels(14, 3, 8), DistanceSpec::cosine(), "cosine"};
    const auto viaDefault = makeMiner(MinerConfig{"multi_similarity", {}, std::nullopt}, nullptr);
    const auto viaCosine = make("multi_similarity", DistanceSpec::cosine());
    const Tuples a = mineCase(*viaDefault, c), b = mineCase(*viaCosine, c);
    EXPECT_EQ(a.positivePairs, b.positivePairs);
    EXPECT_EQ(a.negativePairs, b.negativePairs);
    EXPECT_FALSE(a.positivePairs.empty());
}

TEST(MinerPairMargin, StrictMarginsOnTheMatrix) {
    for (const Case& c : cases())
        for (const auto& [posMargin, negMargin] : std::vector<std::pair<Real, Real>>{{0.2, 0.8}, {1.0, 2.0}, {0.5, -0.2}}) {
            const Matrix m = matrixOf(c);
            const int n = static_cast<int>(c.labels.size());
            std::vector<Pair> positives, negatives;
            for (int a = 0; a < n; ++a)
                for (int j = 0; j < n; ++j) {
                    if (j == a) continue;
                    const bool same = c.labels[j] == c.labels[a];
                    if (c.spec.isSimilarity()) {
                        if (same && m(a, j) < posMargin) positives.push_back({a, j});
                        if (!same && m(a, j) > negMargin) negatives.push_back({a, j});
                    } else {
                        if (same && m(a, j) > posMargin) positives.push_back({a, j});
                        if (!same && m(a, j) < negMargin) negatives.push_back({a, j});
                    }
                }
            ParamValues params;
            params.numbers["pos_margin"] = posMargin;
            params.numbers["neg_margin"] = negMargin;
            const Tuples tuples = mineCase(*make("pair_margin", c.spec, params), c);
            ASSERT_EQ(tuples.kind, Tuples::Kind::Pairs);
            EXPECT_EQ(tuples.positivePairs, positives) << c.what;
            EXPECT_EQ(tuples.negativePairs, negatives) << c.what;
        }
}

// ---------------------------------------------------------------------------------------------
// Random miners: validity, coverage, allowed sets, determinism

// For each ordered positive pair (in output order) the set a random miner may choose from; an
// empty set means the pair must not appear.
using AllowedSets = std::vector<std::pair<Pair, std::set<int>>>;

void expectRespects(const Tuples& tuples, const AllowedSets& allowed, const std::string& what) {
    ASSERT_EQ(tuples.kind, Tuples::Kind::Triplets) << what;
    std::size_t k = 0;
    for (const auto& [pair, set] : allowed) {
        if (set.empty()) continue;
        ASSERT_LT(k, tuples.triplets.size()) << what << ": missing pair " << pair[0] << "," << pair[1];
        const Triplet& t = tuples.triplets[k++];
        EXPECT_EQ(t[0], pair[0]) << what;
        EXPECT_EQ(t[1], pair[1]) << what;
        EXPECT_TRUE(set.count(t[2])) << what << ": negative " << t[2] << " not allowed for " << t[0] << "," << t[1];
    }
    EXPECT_EQ(k, tuples.triplets.size()) << what << ": extra triplets";
}

AllowedSets facenetAllowed(const Case& c, Real margin) {
    const Matrix delta = deltaOf(c);
    AllowedSets out;
    for (const Pair& ap : positivePairsOf(c.labels)) {
        std::set<int> set;
        for (int j = 0; j < static_cast<int>(c.labels.size()); ++j)
            if (c.labels[j] != c.labels[ap[0]] && delta(ap[0], ap[1]) < delta(ap[0], j) &&
                delta(ap[0], j) < delta(ap[0], ap[1]) + margin)
                set.insert(j);
        out.push_back({ap, set});
    }
    return out;
}

AllowedSets randomNegativeAllowed(const Case& c) {
    AllowedSets out;
    for (const Pair& ap : positivePairsOf(c.labels)) {
        std::set<int> set;
        for (int j = 0; j < static_cast<int>(c.labels.size()); ++j)
            if (c.labels[j] != c.labels[ap[0]]) set.insert(j);
        out.push_back({ap, set});
    }
    return out;
}

// Reference distance-weighted sampling weights, straight from the formula (unnormalised).
Matrix referenceWeights(const Points& x, const Labels& labels, Real cutoff, Real nonzeroCutoff) {
    const int n = static_cast<int>(labels.size());
    const Real dim = static_cast<Real>(x.cols());
    Matrix w = Matrix::Zero(n, n);
    for (int a = 0; a < n; ++a)
        for (int j = 0; j < n; ++j) {
            if (labels[j] == labels[a]) continue;
            const Eigen::RowVectorXd xa = x.row(a) / x.row(a).norm(), xj = x.row(j) / x.row(j).norm();
            const Real d = std::max((xa - xj).norm(), cutoff);
            // Zero weight where PML's log-weight is not finite: d = 0 (possible with cutoff 0 and
            // coincident points; 0·log 0 = NaN for D = 2, +∞ above) and d = 2 (antipodes).
            if (d >= nonzeroCutoff || d >= 2.0 || d == 0.0) continue;
            // q(d) ∝ d^(D−2) (1 − d²/4)^((D−3)/2); the weight is 1/q.
            w(a, j) = std::pow(d, 2.0 - dim) * std::pow(1.0 - d * d / 4.0, -(dim - 3.0) / 2.0);
        }
    return w;
}

AllowedSets distanceWeightedAllowed(const Case& c, Real cutoff, Real nonzeroCutoff) {
    const Matrix w = referenceWeights(c.x, c.labels, cutoff, nonzeroCutoff);
    AllowedSets out;
    for (const Pair& ap : positivePairsOf(c.labels)) {
        std::set<int> set;
        for (int j = 0; j < static_cast<int>(c.labels.size()); ++j)
            if (w(ap[0], j) > 0) set.insert(j);
        out.push_back({ap, set});
    }
    return out;
}

std::vector<Case> randomMinerCases() {
    std::vector<Case> out;
    for (const Case& c : cases())
        if (c.spec == DistanceSpec::lp(1, true) || c.spec == DistanceSpec::cosine() || c.what.starts_with("integer"))
            out.push_back(c);
    return out;
}

TEST(MinerFaceNetSemiHard, NegativesComeFromTheSemiHardBand) {
    for (const Case& c : randomMinerCases())
        for (Real margin : {0.2, 0.5, 2.0}) {
            ParamValues params;
            params.numbers["margin"] = margin;
            const auto miner = make("facenet_semihard", c.spec, params);
            const AllowedSets allowed = facenetAllowed(c, margin);
            for (std::uint64_t seed : {1u, 2u, 3u})
                expectRespects(mineCase(*miner, c, seed), allowed, c.what + " m=" + std::to_string(margin));
        }
}

TEST(MinerRandomNegative, OneNegativePerPositivePair) {
    for (const Case& c : randomMinerCases()) {
        const auto miner = make("random_negative", c.spec);
        for (std::uint64_t seed : {1u, 2u, 3u}) expectRespects(mineCase(*miner, c, seed), randomNegativeAllowed(c), c.what);
    }
}

TEST(MinerDistanceWeighted, WeightsFollowTheFormula) {
    for (const Case& c : randomMinerCases())
        for (const auto& [cutoff, nonzero] : std::vector<std::pair<Real, Real>>{{0.5, 1.4}, {0.2, 1.9}, {0.0, 2.0}}) {
            if ((c.x.rowwise().norm().array() == 0.0).any()) continue;  // the reference divides by norms
            const Matrix reference = referenceWeights(c.x, c.labels, cutoff, nonzero);
            const Matrix actual = DistanceWeightedMiner(cutoff, nonzero).weights(c.x, c.labels);
            for (int a = 0; a < reference.rows(); ++a) {
                const Real total = reference.row(a).sum();
                for (int j = 0; j < reference.cols(); ++j) {
                    const Real expected = total > 0 ? reference(a, j) / total : 0.0;
                    EXPECT_NEAR(actual(a, j), expected, 1e-12 * std::max(1.0, expected)) << c.what << " " << a << "," << j;
                }
            }
            const auto miner = DistanceWeightedMiner(cutoff, nonzero);
            for (std::uint64_t seed : {1u, 2u})
                expectRespects(miner.mine(MinerInput{c.x, c.labels, seed}), distanceWeightedAllowed(c, cutoff, nonzero),
                               c.what);
        }
}

TEST(MinerDistanceWeighted, IgnoresAnyOtherDistanceAndHandlesAntipodes) {
    // Antipodal points (d = 2) must get weight 0 without NaNs; a different distance changes nothing.
    Points x(4, 3);
    x << 1, 0, 0, 0.9, 0.1, 0, -1, 0, 0, 0, 1, 0;
    const Labels labels = {0, 0, 1, 1};
    const Matrix w = DistanceWeightedMiner(0.5, 2.5).weights(x, labels);
    EXPECT_TRUE(w.allFinite());
    EXPECT_EQ(w(0, 2), 0.0);
    EXPECT_GT(w(0, 3), 0.0);
    const Case euclidean{x, labels, DistanceSpec::lp(1, true), ""};
    const Case squared{x, labels, DistanceSpec::lp(2, false), ""};
    EXPECT_EQ(mineCase(*make("distance_weighted", euclidean.spec), euclidean, 5).triplets,
              mineCase(*make("distance_weighted", squared.spec), squared, 5).triplets);
}

TEST(MinerRandom, SameSeedSameTuplesDistinctSeedsDiffer) {
    const Case c{randomPoints(24, 3, 11), randomLabels(24, 3, 12), DistanceSpec::lp(1, true), "random"};
    ParamValues wide;
    wide.numbers["margin"] = 1.0;  // wide band: most pairs have several semi-hard negatives
    const std::vector<std::pair<std::string, ParamValues>> miners = {
        {"facenet_semihard", wide}, {"random_negative", {}}, {"distance_weighted", {}}};
    for (const auto& [name, params] : miners) {
        const auto first = make(name, c.spec, params);
        const auto second = make(name, c.spec, params);
        const Tuples a = mineCase(*first, c, 42), b = mineCase(*second, c, 42), again = mineCase(*first, c, 42);
        const Tuples other = mineCase(*first, c, 43);
        EXPECT_FALSE(a.triplets.empty()) << name;
        EXPECT_EQ(a.triplets, b.triplets) << name;
        EXPECT_EQ(a.triplets, again.triplets) << name;
        EXPECT_NE(a.triplets, other.triplets) << name;
    }
}

// Over many seeds, the chosen negative of each anchor should follow the target distribution.
// Tolerance 0.04 absolute against a standard error of about 0.005 (4000+ draws per anchor).
void expectFrequencies(const std::string& name, const Case& c, const ParamValues& params,
                       const std::function<std::vector<Real>(int anchor)>& target) {
    const auto miner = make(name, c.spec, params);
    const int n = static_cast<int>(c.labels.size());
    std::vector<std::vector<Real>> counts(static_cast<std::size_t>(n), std::vector<Real>(static_cast<std::size_t>(n), 0.0));
    std::vector<Real> draws(static_cast<std::size_t>(n), 0.0);
    for (std::uint64_t seed = 0; seed < 2000; ++seed)
        for (const Triplet& t : mineCase(*miner, c, seed).triplets) {
            counts[static_cast<std::size_t>(t[0])][static_cast<std::size_t>(t[2])] += 1;
            draws[static_cast<std::size_t>(t[0])] += 1;
        }
    for (int a = 0; a < n; ++a) {
        const std::vector<Real> expected = target(a);
        for (int j = 0; j < n; ++j) {
            const Real frequency = draws[a] > 0 ? counts[a][j] / draws[a] : 0.0;
            EXPECT_NEAR(frequency, expected[static_cast<std::size_t>(j)], 0.04) << name << " anchor " << a << " negative " << j;
        }
    }
}

TEST(MinerDistanceWeighted, FrequenciesFollowTheWeights) {
    // D = 4 makes the weights d^−2 (1 − d²/4)^−½ clearly non-uniform; 3 per class, 2 classes.
    const Case c{randomPoints(6, 4, 21), Labels{0, 0, 0, 1, 1, 1}, DistanceSpec::lp(1, true), "tiny"};
    ParamValues params;
    params.numbers["cutoff"] = 0.3;
    params.numbers["nonzero_loss_cutoff"] = 1.9;
    const Matrix w = referenceWeights(c.x, c.labels, 0.3, 1.9);
    int nonUniform = 0;
    for (int a = 0; a < 6; ++a)
        if (w.row(a).maxCoeff() > 1.5 * w.row(a).minCoeff()) ++nonUniform;  // row contains zeros for positives
    EXPECT_GT(nonUniform, 0);
    expectFrequencies("distance_weighted", c, params, [&](int a) {
        std::vector<Real> out(6, 0.0);
        const Real total = w.row(a).sum();
        for (int j = 0; j < 6; ++j) out[static_cast<std::size_t>(j)] = total > 0 ? w(a, j) / total : 0.0;
        return out;
    });
}

TEST(MinerRandomNegative, FrequenciesAreUniform) {
    const Case c{randomPoints(7, 2, 22), Labels{0, 0, 0, 1, 1, 2, 2}, DistanceSpec::lp(1, true), "tiny"};
    expectFrequencies("random_negative", c, {}, [&](int a) {
        std::vector<Real> out(7, 0.0);
        Real negatives = 0;
        for (int j = 0; j < 7; ++j) negatives += c.labels[j] != c.labels[a];
        for (int j = 0; j < 7; ++j) out[static_cast<std::size_t>(j)] = c.labels[j] != c.labels[a] ? 1.0 / negatives : 0.0;
        return out;
    });
}

TEST(MinerFaceNetSemiHard, FrequenciesAreUniformOverTheBand) {
    // Integer points, squared L2: anchor 0 at the origin, positive at distance 1, negatives at
    // squared distances 2, 4, 4, 9 with margin 4 → band (1, 5): negatives 2, 3, 4 with 1/3 each.
    Points x(6, 2);
    x << 0, 0, 1, 0, 1, 1, 2, 0, 0, -2, 3, 0;
    const Case c{x, Labels{0, 0, 1, 1, 1, 1}, DistanceSpec::lp(2, false), "band"};
    ParamValues params;
    params.numbers["margin"] = 4.0;
    const AllowedSets allowed = facenetAllowed(c, 4.0);
    ASSERT_EQ(allowed[0].second, (std::set<int>{2, 3, 4}));
    const auto miner = make("facenet_semihard", c.spec, params);
    std::map<int, int> counts;
    int draws = 0;
    for (std::uint64_t seed = 0; seed < 3000; ++seed)
        for (const Triplet& t : mineCase(*miner, c, seed).triplets)
            if (t[0] == 0) {
                ++counts[t[2]];
                ++draws;
            }
    ASSERT_EQ(draws, 3000);
    for (int j : {2, 3, 4}) EXPECT_NEAR(counts[j] / 3000.0, 1.0 / 3.0, 0.04) << j;
    EXPECT_EQ(counts[5], 0);
}

// ---------------------------------------------------------------------------------------------
// A hand-computed configuration

TEST(MinerHandComputed, FourPointsUnnormalizedEuclidean) {
    // x0 = (0,0), x1 = (1,0) class 0; x2 = (3,0), x3 = (0,2) class 1; d = ‖x_i − x_j‖:
    //   d01 = 1, d02 = 3, d03 = 2, d12 = 2, d13 = √5 ≈ 2.236, d23 = √13 ≈ 3.606.
    Points x(4, 2);
    x << 0, 0, 1, 0, 3, 0, 0, 2;
    const Case c{x, Labels{0, 0, 1, 1}, DistanceSpec::lp(1, false), "hand"};

    // batch_hard: a0 → p1, nearest of {d02 = 3, d03 = 2} = 3; a1 → p0, {d12 = 2, d13 = 2.24} → 2;
    // a2 → p3, {d20 = 3, d21 = 2} → 1; a3 → p2, {d30 = 2, d31 = 2.24} → 0.
    EXPECT_EQ(mineCase(*make("batch_hard", c.spec), c).triplets,
              (std::vector<Triplet>{{0, 1, 3}, {1, 0, 2}, {2, 3, 1}, {3, 2, 0}}));

    // tfa_semihard: a0 (d_ap = 1): nearest negative beyond 1 is 3 (d = 2); a1 (1): 2 (d = 2);
    // a2 (3.606): none beyond → farthest 0 (d = 3); a3 (3.606): none → farthest 1 (d = 2.24).
    EXPECT_EQ(mineCase(*make("tfa_semihard", c.spec), c).triplets,
              (std::vector<Triplet>{{0, 1, 3}, {1, 0, 2}, {2, 3, 0}, {3, 2, 1}}));

    // batch_easy_hard default: a0 → (1, 3), a1 → (0, 2); a2, a3 have no negative beyond 3.606.
    EXPECT_EQ(mineCase(*make("batch_easy_hard", c.spec), c).triplets, (std::vector<Triplet>{{0, 1, 3}, {1, 0, 2}}));

    // triplet_margin, m = 1.5: gaps d_an − d_ap = a0p1: 2 (n2), 1 (n3); a1p0: 1 (n2), 1.236 (n3);
    // a2p3: −0.606, −1.606; a3p2: −1.606, −1.370 → all 7, semihard 3, hard 4, easy 1.
    for (const auto& [type, expected] : std::vector<std::pair<std::string, Count>>{
             {"all", 7}, {"semihard", 3}, {"hard", 4}, {"easy", 1}}) {
        ParamValues params;
        params.numbers["margin"] = 1.5;
        params.choices["type_of_triplets"] = type;
        EXPECT_EQ(countTuples(mineCase(*make("triplet_margin", c.spec, params), c), x, c.labels).triplets, expected) << type;
    }

    // multi_similarity (distance form), ε = 0.1: a0: 1.1 > min(3, 2)? no; negatives 2.9, 1.9 < 1? no.
    // a1 likewise. a2: 3.706 > 2 keeps (2,3); 2.9 and 1.9 < 3.606 keep (2,0), (2,1). a3 alike.
    ParamValues epsilon;
    epsilon.numbers["epsilon"] = 0.1;
    const Tuples ms = mineCase(*make("multi_similarity", c.spec, epsilon), c);
    EXPECT_EQ(ms.positivePairs, (std::vector<Pair>{{2, 3}, {3, 2}}));
    EXPECT_EQ(ms.negativePairs, (std::vector<Pair>{{2, 0}, {2, 1}, {3, 0}, {3, 1}}));
    const MinerCounts msCounts = countTuples(ms, x, c.labels);
    EXPECT_EQ(msCounts.triplets, 4);  // anchors 2 and 3: 1 positive × 2 negatives each
    EXPECT_EQ(msCounts.positivePairs, 2);
    EXPECT_EQ(msCounts.negativePairs, 4);

    // pair_margin (1.5, 2.1): positives beyond 1.5: (2,3), (3,2); negatives below 2.1: d03 = d12 = 2.
    ParamValues margins;
    margins.numbers["pos_margin"] = 1.5;
    margins.numbers["neg_margin"] = 2.1;
    const Tuples pm = mineCase(*make("pair_margin", c.spec, margins), c);
    EXPECT_EQ(pm.positivePairs, (std::vector<Pair>{{2, 3}, {3, 2}}));
    EXPECT_EQ(pm.negativePairs, (std::vector<Pair>{{0, 3}, {1, 2}, {2, 1}, {3, 0}}));

    // All tuples: 4 anchors × 1 positive × 2 negatives.
    const MinerCounts all = countTuples(Tuples::all(), x, c.labels);
    EXPECT_EQ(all.triplets, 8);
    EXPECT_EQ(all.positivePairs, 4);
    EXPECT_EQ(all.negativePairs, 8);
}

TEST(MinerEmpty, DegenerateLabelsGiveNoTuples) {
    const Points x = randomPoints(6, 2, 31);
    for (const Labels& labels : {Labels(6, 1), Labels{0, 1, 2, 3, 4, 5}}) {
        for (const MinerInfo& info : minerCatalog()) {
            const auto miner = make(info.name, info.defaultDistance);
            const Tuples tuples = miner->mine(MinerInput{x, labels, 3});
            const MinerCounts counts = countTuples(tuples, x, labels);
            EXPECT_EQ(counts.triplets, 0) << info.name;
            // Pair margin, HDC and the uniform histogram judge each kind of pair on its own, so they
            // may keep pairs of one kind; every other miner needs both a positive and a negative
            // for an anchor.
            if (info.name != "pair_margin" && info.name != "hdc" && info.name != "uniform_histogram") {
                EXPECT_EQ(counts.positivePairs, 0) << info.name;
                EXPECT_EQ(counts.negativePairs, 0) << info.name;
            }
        }
    }
    const Points none(0, 2);
    for (const MinerInfo& info : minerCatalog())
        EXPECT_EQ(countTuples(make(info.name, info.defaultDistance)->mine(MinerInput{none, Labels{}, 0}), none, Labels{}).triplets, 0);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// The PML miners against a reference set (CrossBatchMemory's queue, PML's ref_emb / ref_labels):
// pair margin, batch easy-hard, HDC, angular, uniform histogram and distance weighted, each
// against a brute-force loop over batch × reference written here from PML's definition (anchors
// from the batch, every other member from the reference, nothing skipped as the anchor itself),
// the random ones for their bins / weights and determinism given the seed; then each trains
// through the trainer's memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include "marginlab/miner.h"
#include "marginlab/trainer.h"
#include "reference_set_support.h"

namespace marginlab {
namespace {

using Case = testing::ReferenceCase;

// A batch and a reference holding, as a memory does, copies of some batch rows (so the anchor's
// own copy is among the candidates).
Case makeCase(int n, int m, int d, std::uint64_t seed) {
    return testing::makeReferenceCase(n, m, d, seed);
}

// PML's default miner distance: normalized L2.
Real distance(const Case& c, int a, int j) {
    return testing::unitDistance(c.x, a, c.r, j);
}

Tuples mine(const std::string& name, ParamValues params, const Case& c, std::uint64_t seed = 0) {
    std::string error;
    auto miner = makeMiner(MinerConfig{name, std::move(params), std::nullopt}, &error);
    EXPECT_TRUE(miner) << error;
    MinerInput input{c.x, c.y, seed};
    input.referenceEmbeddings = &c.r;
    input.referenceLabels = &c.ry;
    return miner->mine(input);
}

int rows(const Points& p) {
    return static_cast<int>(p.rows());
}

// Does (a, j) pair an anchor with its own copy in the reference? (At least one must be mined,
// or the test would not show that such pairs are kept.)
bool ownCopy(const Case& c, int a, int j) {
    return c.x.row(a) == c.r.row(j);
}

TEST(ReferenceMiners, PairMarginKeepsBatchReferencePairsAcrossTheMargins) {
    for (int d : {2, 3}) {
        const Case c = makeCase(9, 14, d, 40 + d);
        ParamValues margins;
        margins.numbers["pos_margin"] = 0.1;
        margins.numbers["neg_margin"] = 1.2;
        const Tuples mined = mine("pair_margin", margins, c);
        std::vector<Pair> positives, negatives;
        bool ownCopyKept = false;
        for (int a = 0; a < rows(c.x); ++a)
            for (int j = 0; j < rows(c.r); ++j) {
                const Real dist = distance(c, a, j);
                if (c.ry[j] == c.y[a] && dist > 0.1) positives.push_back({a, j});
                if (c.ry[j] != c.y[a] && dist < 1.2) negatives.push_back({a, j});
                ownCopyKept |= c.ry[j] == c.y[a] && ownCopy(c, a, j);
            }
        ASSERT_EQ(mined.kind, Tuples::Kind::Pairs);
        EXPECT_EQ(mined.positivePairs, positives);
        EXPECT_EQ(mined.negativePairs, negatives);
        EXPECT_FALSE(positives.empty());
        EXPECT_FALSE(negatives.empty());
        EXPECT_TRUE(ownCopyKept);  // the copy is a candidate (distance 0 fails pos_margin: not kept)
    }
    // A margin of −1 on positives keeps every positive pair, the anchor's own copy included.
    const Case c = makeCase(6, 10, 2, 7);
    ParamValues all;
    all.numbers["pos_margin"] = -1.0;
    const Tuples mined = mine("pair_margin", all, c);
    std::vector<Pair> positives, negatives;
    allReferencePairs(c.y, c.ry, &positives, &negatives);
    EXPECT_EQ(mined.positivePairs, positives);
    EXPECT_TRUE(std::any_of(positives.begin(), positives.end(),
                            [&](const Pair& p) { return ownCopy(c, p[0], p[1]); }));
}

TEST(ReferenceMiners, BatchEasyHardChoosesAmongTheReferenceRows) {
    struct Strategy {
        const char* positive;
        const char* negative;
    };
    for (const Strategy s : {Strategy{"easy", "semihard"}, Strategy{"hard", "hard"}, Strategy{"easy", "easy"},
                             Strategy{"hard", "semihard"}})
        for (int d : {2, 3}) {
            const Case c = makeCase(10, 17, d, 70 + d);
            ParamValues params;
            params.choices["pos_strategy"] = s.positive;
            params.choices["neg_strategy"] = s.negative;
            const Tuples mined = mine("batch_easy_hard", params, c);
            std::vector<Triplet> expected;
            const bool nearestPositive = std::string(s.positive) == "easy";
            for (int a = 0; a < rows(c.x); ++a) {
                int p = -1;
                for (int j = 0; j < rows(c.r); ++j) {
                    if (c.ry[j] != c.y[a]) continue;
                    const Real dist = distance(c, a, j);
                    if (p < 0 || (nearestPositive ? dist < distance(c, a, p) : dist > distance(c, a, p)))
                        p = j;
                }
                if (p < 0) continue;
                int n = -1;
                for (int j = 0; j < rows(c.r); ++j) {
                    if (c.ry[j] == c.y[a]) continue;
                    const Real dist = distance(c, a, j);
                    const std::string rule = s.negative;
                    if (rule == "semihard" && !(dist > distance(c, a, p))) continue;
                    const bool nearest = rule != "easy";
                    if (n < 0 || (nearest ? dist < distance(c, a, n) : dist > distance(c, a, n))) n = j;
                }
                if (n >= 0) expected.push_back({a, p, n});
            }
            ASSERT_EQ(mined.kind, Tuples::Kind::Triplets);
            EXPECT_EQ(mined.triplets, expected) << s.positive << "/" << s.negative << " D=" << d;
            EXPECT_FALSE(expected.empty());
        }
    // Easy positives: an anchor whose copy is in the reference takes it (distance 0).
    const Case c = makeCase(6, 12, 2, 3);
    const Tuples easy = mine("batch_easy_hard", {}, c);
    int copies = 0;
    for (const Triplet& t : easy.triplets) copies += ownCopy(c, t[0], t[1]);
    EXPECT_GT(copies, 0);
}

TEST(ReferenceMiners, HdcKeepsTheHardestShareOfTheBatchReferencePairs) {
    for (int d : {2, 3})
        for (Real share : {0.5, 0.3, 1.0}) {
            const Case c = makeCase(9, 15, d, 90 + d);
            ParamValues params;
            params.numbers["filter_percentage"] = share;
            const Tuples mined = mine("hdc", params, c);
            std::vector<Pair> positives, negatives;
            allReferencePairs(c.y, c.ry, &positives, &negatives);
            // Hardest first (farthest positives, nearest negatives), ties to the lower pair.
            auto keep = [&](std::vector<Pair> pairs, bool largest) {
                std::stable_sort(pairs.begin(), pairs.end(), [&](const Pair& u, const Pair& v) {
                    const Real du = distance(c, u[0], u[1]), dv = distance(c, v[0], v[1]);
                    return largest ? du > dv : du < dv;
                });
                pairs.resize(static_cast<std::size_t>(std::ceil(share * static_cast<Real>(pairs.size()))));
                return pairs;
            };
            ASSERT_EQ(mined.kind, Tuples::Kind::Pairs);
            EXPECT_EQ(mined.positivePairs, keep(positives, true));
            EXPECT_EQ(mined.negativePairs, keep(negatives, false));
        }
}

TEST(ReferenceMiners, AngularKeepsTheTripletsBeyondTheAngle) {
    for (int d : {2, 3}) {
        const Case c = makeCase(7, 11, d, 110 + d);
        ParamValues params;
        params.numbers["angle"] = 25.0;
        const Tuples mined = mine("angular", params, c);
        const Real threshold = 25.0 * std::acos(-1.0) / 180.0;
        auto norm = [](const Eigen::RowVectorXd& v) { return (v.array() + 1e-6).matrix().norm(); };
        std::vector<Triplet> expected;
        for (int a = 0; a < rows(c.x); ++a)
            for (int p = 0; p < rows(c.r); ++p)
                for (int n = 0; n < rows(c.r); ++n) {
                    if (c.ry[p] != c.y[a] || c.ry[n] == c.y[a]) continue;
                    const Eigen::RowVectorXd centre = (c.x.row(a) + c.r.row(p)) / 2.0;
                    const Real angle =
                        std::atan(norm(c.x.row(a) - c.r.row(p)) / (2.0 * norm(c.r.row(n) - centre)));
                    if (angle > threshold) expected.push_back({a, p, n});
                }
        ASSERT_EQ(mined.kind, Tuples::Kind::Triplets);
        EXPECT_EQ(mined.triplets, expected);
        EXPECT_FALSE(expected.empty());
    }
}

TEST(ReferenceMiners, UniformHistogramDrawsEveryNonEmptyBinOfTheBatchReferencePairs) {
    const Case c = makeCase(12, 20, 2, 130);
    ParamValues params;
    params.numbers["num_bins"] = 5;
    params.numbers["pos_per_bin"] = 3;
    params.numbers["neg_per_bin"] = 2;
    const Tuples first = mine("uniform_histogram", params, c, 17);
    EXPECT_EQ(mine("uniform_histogram", params, c, 17).positivePairs,
              first.positivePairs);  // same seed, same draws
    EXPECT_NE(mine("uniform_histogram", params, c, 18).negativePairs, first.negativePairs);
    std::vector<Pair> positives, negatives;
    allReferencePairs(c.y, c.ry, &positives, &negatives);
    // Per kind: the bins of [min, max] over that kind's batch × reference distances; every drawn
    // pair is one of them and every non-empty bin got exactly its number of draws.
    auto check = [&](const std::vector<Pair>& pairs, const std::vector<Pair>& drawn, int perBin) {
        std::vector<Real> values;
        for (const Pair& p : pairs) values.push_back(distance(c, p[0], p[1]));
        const Real low = *std::min_element(values.begin(), values.end());
        const Real high = *std::max_element(values.begin(), values.end());
        auto binOf = [&](Real v) { return std::min(4, static_cast<int>((v - low) / (high - low) * 5.0)); };
        std::map<int, int> expected, got;
        for (Real v : values) expected[binOf(v)] = perBin;
        for (const Pair& p : drawn) {
            ASSERT_NE(std::find(pairs.begin(), pairs.end(), p), pairs.end());
            ++got[binOf(distance(c, p[0], p[1]))];
        }
        EXPECT_EQ(got, expected);
    };
    check(positives, first.positivePairs, 3);
    check(negatives, first.negativePairs, 2);
}

TEST(ReferenceMiners, DistanceWeightedGivesEveryReferencePositiveANegativeDrawnByItsWeight) {
    const Case c = makeCase(8, 16, 3, 150);
    const Tuples first = mine("distance_weighted", {}, c, 5);
    EXPECT_EQ(mine("distance_weighted", {}, c, 5).triplets, first.triplets);
    // One triplet per (anchor, reference positive) in order, the anchor's own copy included; the
    // negative always has a non-zero weight (different label, cut-off distance below 1.4).
    std::vector<Pair> positives, negatives;
    allReferencePairs(c.y, c.ry, &positives, &negatives);
    ASSERT_EQ(first.triplets.size(), positives.size());
    for (std::size_t k = 0; k < positives.size(); ++k) {
        const Triplet& t = first.triplets[k];
        EXPECT_EQ((Pair{t[0], t[1]}), positives[k]);
        EXPECT_NE(c.ry[t[2]], c.y[t[0]]);
        EXPECT_LT(std::max(distance(c, t[0], t[2]), 0.5), 1.4);
    }
    // The draws follow w_an ∝ d̃^(2−D)·(1 − d̃²/4)^(−(D−3)/2), d̃ = max(d, 0.5), over the
    // reference's negatives of anchor 0 (D = 3: w = 1/d̃): frequencies over many seeds.
    const int anchor = 0;
    std::map<int, Real> weight;
    Real total = 0.0;
    for (int j = 0; j < rows(c.r); ++j) {
        if (c.ry[j] == c.y[anchor]) continue;
        const Real d = std::max(distance(c, anchor, j), 0.5);
        if (!(d < 1.4)) continue;
        weight[j] = 1.0 / d;
        total += weight[j];
    }
    ASSERT_GE(weight.size(), 2u);
    std::map<int, int> drawn;
    int draws = 0;
    for (std::uint64_t seed = 0; seed < 3000; ++seed)
        for (const Triplet& t : mine("distance_weighted", {}, c, seed).triplets)
            if (t[0] == anchor) {
                ++drawn[t[2]];
                ++draws;
            }
    ASSERT_GT(draws, 3000);
    for (const auto& [j, w] : weight)
        EXPECT_NEAR(static_cast<Real>(drawn[j]) / draws, w / total, 0.02) << "negative " << j;
}

TEST(ReferenceMiners, EachTrainsThroughTheTrainersMemory) {
    for (const char* name :
         {"pair_margin", "batch_easy_hard", "hdc", "angular", "uniform_histogram", "distance_weighted"}) {
        TrainerConfig config = testing::blobsRun(90, 3, 3);
        config.loss.name = "contrastive";
        config.miner = MinerConfig{name, {}, std::nullopt};
        // The blobs are far apart: few triplets see a segment under the default 20°.
        if (std::string(name) == "angular") config.miner->params.numbers["angle"] = 5.0;
        config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
        config.batch.classesPerBatch = 3;
        config.batch.samplesPerClass = 4;
        config.crossBatchMemory = CrossBatchMemoryConfig{48};
        config.seed = 9;
        std::string error;
        ASSERT_TRUE(config.isValid(&error)) << name << ": " << error;
        Trainer trainer(config);
        trainer.step(12);
        const auto snapshot = trainer.snapshot();
        EXPECT_EQ(snapshot->step, 12) << name;
        EXPECT_TRUE(snapshot->positions.allFinite()) << name;
        EXPECT_EQ(snapshot->memoryPositions.rows(), 48) << name;
        EXPECT_GT(snapshot->stats.tuples, 0) << name;
    }
}

}  // namespace
}  // namespace marginlab

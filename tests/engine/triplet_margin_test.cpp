// SPDX-License-Identifier: MIT
#include "marginlab/loss.h"
#include "marginlab/losses/triplet_margin.h"
#include "marginlab/parallel.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

enum class MinerType { None, All, Hard, SemiHard, Easy };

struct Reference {
    Real value = 0.0;
    Points grad;
    Count tuples = 0, active = 0, easy = 0, semiHard = 0, hard = 0;
};

struct TripletSetup {
    Real margin = 0.05;
    DistanceSpec distance = DistanceSpec::lp(1, true);
    bool mean = false;
    bool swap = false;
    bool smooth = false;
    MinerType miner = MinerType::None;
    Real minerMargin = 0.2;
    DistanceSpec minerDistance = DistanceSpec::lp(1, true);
};

// Straight from loss-conventions.md §1 / §1.1: every triplet in a plain loop. The gradient is
// ∂L/∂M accumulated per triplet and pushed through SelfDistance::backward (tested on its own).
Reference bruteForce(const Points& x, const Labels& y, const TripletSetup& s) {
    const int n = static_cast<int>(x.rows());
    const SelfDistance distance(s.distance, x);
    const SelfDistance minerDistance(s.minerDistance, x);
    const Matrix& m = distance.matrix();
    const Matrix& mm = minerDistance.matrix();
    const bool similarity = s.distance.isSimilarity();
    Matrix g = Matrix::Zero(n, n);
    Reference r;
    Real sum = 0.0;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p)
            for (int q = 0; q < n; ++q) {
                if (a == p || y[a] != y[p] || y[q] == y[a]) continue;
                if (s.miner != MinerType::None) {
                    const Real gap = s.minerDistance.isSimilarity() ? mm(a, p) - mm(a, q) : mm(a, q) - mm(a, p);
                    const Real mt = s.minerMargin;
                    bool keep = false;
                    switch (s.miner) {
                    case MinerType::All: keep = gap <= mt; break;
                    case MinerType::Hard: keep = gap <= mt && gap <= 0; break;
                    case MinerType::SemiHard: keep = gap > 0 && gap <= mt; break;
                    case MinerType::Easy: keep = gap > mt; break;
                    case MinerType::None: break;
                    }
                    if (!keep) continue;
                }
                const Real ap = m(a, p), an = m(a, q);
                const Real gap = similarity ? ap - an : an - ap;
                ++r.tuples;
                if (gap <= 0) ++r.hard;
                else if (gap <= s.margin) ++r.semiHard;
                else ++r.easy;
                Real neg = an;
                Real anchorShare = 1.0;
                if (s.swap) {
                    const Real pn = m(p, q);
                    const bool closer = similarity ? pn > an : pn < an;
                    if (closer) {
                        neg = pn;
                        anchorShare = 0.0;
                    } else if (pn == an) {
                        anchorShare = 0.5;
                    }
                }
                const Real v = similarity ? (neg - ap) + s.margin : (ap - neg) + s.margin;
                const Real t = s.smooth ? std::log1p(std::exp(v)) : std::max(v, 0.0);
                if (t > 0) {
                    ++r.active;
                    sum += t;
                }
                const Real slope = s.smooth ? 1.0 / (1.0 + std::exp(-v)) : (v > 0 ? 1.0 : 0.0);
                const Real dAp = similarity ? -1.0 : 1.0;  // ∂v/∂M_ap; ∂v/∂M_neg = −dAp
                g(a, p) += slope * dAp;
                g(a, q) -= slope * dAp * anchorShare;
                g(p, q) -= slope * dAp * (1.0 - anchorShare);
            }
    const Count divisor = s.mean ? r.tuples : r.active;
    if (r.active == 0 || divisor == 0) {
        r.grad = Points::Zero(n, x.cols());
        return r;
    }
    r.value = sum / Real(divisor);
    r.grad = distance.backward(g / Real(divisor));
    return r;
}

std::unique_ptr<Loss> makeTriplet(const TripletSetup& s) {
    LossConfig config{"triplet_margin", {}, s.distance};
    config.params.numbers["margin"] = s.margin;
    config.params.numbers["swap"] = s.swap ? 1.0 : 0.0;
    config.params.numbers["smooth_loss"] = s.smooth ? 1.0 : 0.0;
    config.params.choices["reducer"] = s.mean ? "mean" : "avg_non_zero";
    std::string error;
    auto loss = makeLoss(config, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

std::optional<Tuples> minerTuples(const TripletSetup& s) {
    if (s.miner == MinerType::None) return std::nullopt;
    TripletGapFilter f;
    f.distance = s.minerDistance;
    const Real inf = std::numeric_limits<Real>::infinity();
    switch (s.miner) {
    case MinerType::All: f = {-inf, s.minerMargin, false, true, s.minerDistance}; break;
    case MinerType::Hard: f = {-inf, std::min(s.minerMargin, 0.0), false, true, s.minerDistance}; break;
    case MinerType::SemiHard: f = {0.0, s.minerMargin, false, true, s.minerDistance}; break;
    case MinerType::Easy: f = {s.minerMargin, inf, false, true, s.minerDistance}; break;
    case MinerType::None: break;
    }
    Tuples t = Tuples::all();
    t.filter = f;
    return t;
}

void expectMatches(const Points& x, const Labels& y, const TripletSetup& s, const std::string& what) {
    const Reference r = bruteForce(x, y, s);
    const auto loss = makeTriplet(s);
    const auto tuples = minerTuples(s);
    const LossInput input{x, y, nullptr, tuples ? &*tuples : nullptr};
    const LossOutput out = loss->evaluate(input, true);
    EXPECT_NEAR(out.value, r.value, 1e-9 * std::max(1.0, std::abs(r.value))) << what;
    ASSERT_EQ(out.gradEmbeddings.rows(), x.rows()) << what;
    const Real scale = std::max(1.0, r.grad.cwiseAbs().maxCoeff());
    EXPECT_LE((out.gradEmbeddings - r.grad).cwiseAbs().maxCoeff(), 1e-9 * scale) << what;
    EXPECT_EQ(out.stats.tupleKind, "triplets");
    EXPECT_TRUE(out.stats.hasRegions);
    EXPECT_EQ(out.stats.tuples, r.tuples) << what;
    EXPECT_EQ(out.stats.active, r.active) << what;
    EXPECT_EQ(out.stats.easy, r.easy) << what;
    EXPECT_EQ(out.stats.semiHard, r.semiHard) << what;
    EXPECT_EQ(out.stats.hard, r.hard) << what;
    EXPECT_EQ(loss->evaluate(input, false).value, out.value) << what;
}

std::vector<DistanceSpec> distances() {
    return {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false), DistanceSpec::lp(2, false), DistanceSpec::lp(2, true),
            DistanceSpec::cosine(), DistanceSpec::dot(false)};
}

TEST(TripletMargin, BatchAllMatchesBruteForce) {
    std::uint64_t seed = 10;
    for (const DistanceSpec& d : distances())
        for (bool mean : {false, true})
            for (Real margin : {0.0, 0.05, 0.4, 2.0}) {
                const int n = 12 + static_cast<int>(seed % 9);
                const int dims = 2 + static_cast<int>(seed % 3);  // 4: the generic-dimension path
                const Points x = randomPoints(n, dims, seed);
                const Labels y = randomLabels(n, 3 + static_cast<int>(seed % 2), seed + 1);
                TripletSetup s;
                s.distance = d;
                s.mean = mean;
                s.margin = margin;
                expectMatches(x, y, s, d.describe() + (mean ? " mean" : " avg") + " m=" + std::to_string(margin));
                ++seed;
            }
}

TEST(TripletMargin, EveryMinerFilterMatchesBruteForce) {
    std::uint64_t seed = 100;
    for (MinerType miner : {MinerType::All, MinerType::Hard, MinerType::SemiHard, MinerType::Easy})
        for (bool sameDistance : {true, false})
            for (bool mean : {false, true})
                for (const DistanceSpec& d : {DistanceSpec::lp(1, true), DistanceSpec::cosine()}) {
                    const Points x = randomPoints(16, 2 + static_cast<int>(seed % 2), seed);
                    const Labels y = randomLabels(16, 3, seed + 7);
                    TripletSetup s;
                    s.distance = d;
                    s.mean = mean;
                    s.margin = 0.1;
                    s.miner = miner;
                    s.minerMargin = 0.3;
                    // "different" uses another distance so that the general loop runs
                    s.minerDistance = sameDistance ? d : DistanceSpec::lp(2, false);
                    expectMatches(x, y, s,
                                  "miner " + std::to_string(static_cast<int>(miner)) + (sameDistance ? " same" : " other") +
                                      (mean ? " mean " : " avg ") + d.describe());
                    ++seed;
                }
}

// Integer coordinates and squared distances: many δ_an == δ_ap + m and gap == mt exactly, so
// every strict/non-strict boundary of the sweep is exercised against the plain comparisons.
TEST(TripletMargin, ExactTiesMatchBruteForce) {
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int> coordinate(0, 3);
    for (int trial = 0; trial < 12; ++trial) {
        Points x(18, 2);
        for (int i = 0; i < 18; ++i)
            for (int j = 0; j < 2; ++j) x(i, j) = coordinate(rng);
        const Labels y = randomLabels(18, 3, 50 + trial);
        for (const DistanceSpec& d : {DistanceSpec::lp(2, false), DistanceSpec::lp(1, false)})
            for (MinerType miner : {MinerType::None, MinerType::All, MinerType::Hard, MinerType::SemiHard, MinerType::Easy})
                for (bool mean : {false, true}) {
                    TripletSetup s;
                    s.distance = d;
                    s.margin = Real(1 + trial % 3);
                    s.mean = mean;
                    s.miner = miner;
                    s.minerMargin = Real(trial % 4);
                    s.minerDistance = d;
                    expectMatches(x, y, s, "trial " + std::to_string(trial) + " " + d.describe());
                }
    }
}

// With ≥ 16 positives per anchor the sweep locates boundaries through its bucket table; random
// values, integer ties, duplicated points (crowded cells) and filters must all agree.
TEST(TripletMargin, LargeBatchesMatchBruteForce) {
    std::mt19937_64 rng(17);
    std::uniform_int_distribution<int> coordinate(0, 5);
    for (int trial = 0; trial < 6; ++trial) {
        const int n = 48;
        Points x = randomPoints(n, 2, 900 + trial);
        if (trial % 2 == 1)
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < 2; ++j) x(i, j) = coordinate(rng);
        if (trial == 4)
            for (int i = 0; i < n; i += 3) x.row(i) = x.row(0);  // many equal distances
        const Labels y = randomLabels(n, 2, 950 + trial);
        // Grid points stay un-normalized: distinct collinear grid points would normalize to
        // vectors a rounding error apart, whose gradient direction is rounding noise.
        const DistanceSpec first = trial % 2 == 1 ? DistanceSpec::lp(1, false) : DistanceSpec::lp(1, true);
        for (const DistanceSpec& d : {first, DistanceSpec::lp(2, false)})
            for (MinerType miner : {MinerType::None, MinerType::SemiHard, MinerType::Hard, MinerType::Easy}) {
                TripletSetup s;
                s.distance = d;
                s.margin = trial % 2 == 1 ? 2.0 : 0.1;
                s.mean = trial % 3 == 0;
                s.miner = miner;
                s.minerMargin = trial % 2 == 1 ? 3.0 : 0.2;
                s.minerDistance = d;
                expectMatches(x, y, s, "large trial " + std::to_string(trial) + " " + d.describe());
            }
    }
}

// Past 256 anchors the batch-all sweep splits them into chunks run on the engine's threads: every
// thread count must give the brute-force numbers and the same bits (chunks are fixed by N).
TEST(TripletMargin, ChunkedAnchorsMatchBruteForceOnAnyThreadCount) {
    const int n = 600;  // three chunks
    const Points x = randomPoints(n, 2, 4242);
    const Labels y = randomLabels(n, 10, 4243);
    const int threadsBefore = engineThreads();
    for (MinerType miner : {MinerType::None, MinerType::SemiHard}) {
        TripletSetup s;
        s.margin = 0.1;
        s.miner = miner;
        const auto loss = makeTriplet(s);
        const auto tuples = minerTuples(s);
        LossInput input{x, y, nullptr, tuples ? &*tuples : nullptr};
        input.splitForces = true;
        setEngineThreads(1);
        expectMatches(x, y, s, "chunked, one thread");
        const LossOutput single = loss->evaluate(input, true);
        for (int threads : {2, 3, 7}) {
            setEngineThreads(threads);
            const LossOutput many = loss->evaluate(input, true);
            EXPECT_EQ(many.value, single.value) << threads << " threads";
            EXPECT_TRUE(many.gradEmbeddings == single.gradEmbeddings) << threads << " threads";
            EXPECT_TRUE(many.gradFromPositives == single.gradFromPositives) << threads << " threads";
            EXPECT_EQ(many.stats.active, single.stats.active);
            EXPECT_EQ(many.stats.semiHard, single.stats.semiHard);
        }
        setEngineThreads(threadsBefore);
    }
}

TEST(TripletMargin, SwapAndSmoothMatchBruteForce) {
    std::uint64_t seed = 300;
    for (bool swap : {false, true})
        for (bool smooth : {false, true})
            for (bool mean : {false, true})
                for (const DistanceSpec& d : {DistanceSpec::lp(1, true), DistanceSpec::lp(2, false), DistanceSpec::cosine()}) {
                    if (!swap && !smooth) continue;
                    const Points x = randomPoints(14, 3, seed);
                    const Labels y = randomLabels(14, 3, seed + 1);
                    TripletSetup s;
                    s.distance = d;
                    s.swap = swap;
                    s.smooth = smooth;
                    s.mean = mean;
                    s.margin = 0.3;
                    expectMatches(x, y, s, "swap/smooth " + d.describe());
                    s.miner = MinerType::SemiHard;
                    s.minerDistance = d;
                    expectMatches(x, y, s, "swap/smooth + semihard filter " + d.describe());
                    ++seed;
                }
}

TEST(TripletMargin, ExplicitTripletListsCountDuplicates) {
    const Points x = randomPoints(10, 2, 9);
    const Labels y = randomLabels(10, 3, 10);
    TripletSetup s;
    s.margin = 0.5;
    // Reference over the explicit list, straight from §1: mean of the non-zero relu terms.
    std::vector<Triplet> list;
    for (int a = 0; a < 10; ++a)
        for (int p = 0; p < 10; ++p)
            for (int q = 0; q < 10; ++q)
                if (a != p && y[a] == y[p] && y[q] != y[a] && (a + p + q) % 3 == 0) list.push_back({a, p, q});
    ASSERT_GT(list.size(), 2u);
    list.push_back(list.front());  // a duplicate counts twice
    const SelfDistance d(s.distance, x);
    Real sum = 0;
    Count active = 0;
    for (const Triplet& t : list) {
        const Real v = d.matrix()(t[0], t[1]) - d.matrix()(t[0], t[2]) + s.margin;
        if (v > 0) {
            sum += v;
            ++active;
        }
    }
    ASSERT_GT(active, 0);
    const Tuples tuples = Tuples::fromTriplets(list);
    const auto loss = makeTriplet(s);
    const LossInput input{x, y, nullptr, &tuples};
    const LossOutput out = loss->evaluate(input, true);
    EXPECT_NEAR(out.value, sum / Real(active), 1e-12);
    EXPECT_EQ(out.stats.tuples, static_cast<Count>(list.size()));
    EXPECT_EQ(out.stats.active, active);
    EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6);

    // Pairs are joined (a1[i], p[i], n[j]) for a1[i] == a2[j]: the same as listing those triplets.
    const std::vector<Pair> positives{{0, 0}, {1, 1}}, negatives{{0, 0}, {0, 0}, {1, 1}};
    std::vector<Pair> pos, neg;
    for (int a = 0; a < 10; ++a)
        for (int b = 0; b < 10; ++b) {
            if (a == b) continue;
            if (y[a] == y[b] && (a + b) % 2 == 0) pos.push_back({a, b});
            if (y[a] != y[b] && (a * b) % 3 != 1) neg.push_back({a, b});
        }
    std::vector<Triplet> joined;
    for (const Pair& p : pos)
        for (const Pair& q : neg)
            if (p[0] == q[0]) joined.push_back({p[0], p[1], q[1]});
    const Tuples pairTuples = Tuples::fromPairs(pos, neg);
    const Tuples joinedTuples = Tuples::fromTriplets(joined);
    const LossOutput fromPairs = loss->evaluate({x, y, nullptr, &pairTuples}, true);
    const LossOutput fromJoined = loss->evaluate({x, y, nullptr, &joinedTuples}, true);
    EXPECT_DOUBLE_EQ(fromPairs.value, fromJoined.value);
    EXPECT_EQ(fromPairs.stats.tuples, static_cast<Count>(joined.size()));
    EXPECT_LE((fromPairs.gradEmbeddings - fromJoined.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(TripletMargin, GradientMatchesFiniteDifferences) {
    std::uint64_t seed = 500;
    for (const DistanceSpec& d : distances())
        for (int variant = 0; variant < 3; ++variant) {
            const Points x = randomPoints(12, 2 + variant % 2, seed);
            const Labels y = randomLabels(12, 3, seed + 1);
            TripletSetup s;
            s.distance = d;
            s.margin = 0.3;
            s.swap = variant == 1;
            s.smooth = variant == 2;
            s.mean = variant == 2;
            const auto loss = makeTriplet(s);
            const LossInput input{x, y};
            EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6) << d.describe() << " variant " << variant;
            ++seed;
        }
}

// Four points on a line, un-normalized Euclidean, margin 1:
//   x0 = 0 (class 0), x1 = 1 (class 0), x2 = 1.5 (class 1), x3 = 3 (class 1).
//   (a,p,n)   d_ap  d_an  v = d_ap − d_an + 1   gap = d_an − d_ap  region
//   (0,1,2)   1     1.5    0.5                   0.5               semi-hard
//   (0,1,3)   1     3     −1                     2                 easy
//   (1,0,2)   1     0.5    1.5                  −0.5               hard
//   (1,0,3)   1     2      0    (inactive)       1 (= m)           semi-hard
//   (2,3,0)   1.5   1.5    1                     0                 hard
//   (2,3,1)   1.5   0.5    2                    −1                 hard
//   (3,2,0)   1.5   3     −0.5                   1.5               easy
//   (3,2,1)   1.5   2      0.5                   0.5               semi-hard
// Σ relu = 5.5 over 5 active terms: avg_non_zero 1.1, mean 5.5/8 = 0.6875.
// Σ_active v = 2d01 − 2d02 − 2d12 + 3d23 − d13 + 5, so ∂/∂x = (0, 5, −7, 2)/5 along the line.
TEST(TripletMargin, HandComputedFourPoints) {
    Points x(4, 2);
    x << 0, 0, 1, 0, 1.5, 0, 3, 0;
    const Labels y{0, 0, 1, 1};
    TripletSetup s;
    s.distance = DistanceSpec::lp(1, false);
    s.margin = 1.0;
    const LossOutput out = makeTriplet(s)->evaluate({x, y}, true);
    EXPECT_NEAR(out.value, 1.1, 1e-15);
    EXPECT_EQ(out.stats.tuples, 8);
    EXPECT_EQ(out.stats.active, 5);
    EXPECT_EQ(out.stats.hard, 3);
    EXPECT_EQ(out.stats.semiHard, 3);
    EXPECT_EQ(out.stats.easy, 2);
    Points expected(4, 2);
    expected << 0, 0, 1, 0, -1.4, 0, 0.4, 0;
    EXPECT_LE((out.gradEmbeddings - expected).cwiseAbs().maxCoeff(), 1e-15);
    s.mean = true;
    EXPECT_NEAR(makeTriplet(s)->evaluate({x, y}, false).value, 0.6875, 1e-15);
}

TEST(TripletMargin, EmptyCasesGiveZero) {
    const Points x = randomPoints(8, 2, 3);
    for (const Labels& y : {Labels(8, 2), Labels{0, 1, 2, 3, 4, 5, 6, 7}}) {
        for (bool swap : {false, true}) {
            TripletSetup s;
            s.swap = swap;
            const LossOutput out = makeTriplet(s)->evaluate({x, y}, true);
            EXPECT_EQ(out.value, 0.0);
            EXPECT_EQ(out.stats.tuples, 0);
            ASSERT_EQ(out.gradEmbeddings.rows(), 8);
            EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
        }
    }
    // Classes far apart and margin 0: triplets exist but none is active.
    Points far(4, 2);
    far << 0, 0, 0.1, 0, 10, 0, 10.1, 0;
    for (bool mean : {false, true}) {
        TripletSetup s;
        s.distance = DistanceSpec::lp(1, false);
        s.margin = 0.0;
        s.mean = mean;
        const LossOutput out = makeTriplet(s)->evaluate({far, Labels{0, 0, 1, 1}}, true);
        EXPECT_EQ(out.value, 0.0);
        EXPECT_EQ(out.stats.tuples, 8);
        EXPECT_EQ(out.stats.active, 0);
        EXPECT_EQ(out.stats.easy, 8);
        EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
    }
}

TEST(TripletMargin, TranslationAndRotationInvariance) {
    const Points x = randomPoints(15, 2, 77);
    const Labels y = randomLabels(15, 3, 78);
    const Real angle = 0.7;
    Eigen::Matrix2d rotation;
    rotation << std::cos(angle), -std::sin(angle), std::sin(angle), std::cos(angle);
    const Points rotated = x * rotation.transpose();
    Points shifted = x;
    shifted.rowwise() += Eigen::RowVector2d(3.0, -2.0);
    TripletSetup s;
    s.margin = 0.5;
    for (const DistanceSpec& d : distances()) {
        s.distance = d;
        const auto loss = makeTriplet(s);
        const LossOutput base = loss->evaluate({x, y}, true);
        const LossOutput turned = loss->evaluate({rotated, y}, true);
        EXPECT_NEAR(turned.value, base.value, 1e-12) << d.describe();
        EXPECT_LE((turned.gradEmbeddings - base.gradEmbeddings * rotation.transpose()).cwiseAbs().maxCoeff(), 1e-10)
            << d.describe();
    }
    s.distance = DistanceSpec::lp(1, false);
    const auto loss = makeTriplet(s);
    const LossOutput base = loss->evaluate({x, y}, true);
    const LossOutput moved = loss->evaluate({shifted, y}, true);
    EXPECT_NEAR(moved.value, base.value, 1e-12);
    EXPECT_LE((moved.gradEmbeddings - base.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(TripletMargin, CatalogueEntry) {
    const LossInfo* info = findLoss("triplet_margin");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->pmlName, "TripletMarginLoss");
    EXPECT_TRUE(info->acceptsMiner);
    EXPECT_TRUE(info->distanceConfigurable);
    EXPECT_EQ(info->defaultDistance, DistanceSpec::lp(1, true));
    std::string error;
    auto loss = makeLoss(LossConfig{"triplet_margin", {}, std::nullopt}, &error);
    ASSERT_TRUE(loss) << error;
    EXPECT_EQ(loss->name(), "triplet_margin");
    // Defaults: margin 0.05, relu, avg_non_zero.
    Points x(4, 2);
    x << 1, 0, 0, 1, -1, 0, 0, -1;
    const Labels y{0, 0, 1, 1};
    TripletSetup s;
    const Reference r = bruteForce(x, y, s);
    EXPECT_NEAR(loss->evaluate({x, y}, false).value, r.value, 1e-12);
    ParamValues bad;
    bad.choices["reducer"] = "sum";
    EXPECT_FALSE(makeLoss(LossConfig{"triplet_margin", bad, std::nullopt}, &error));
    EXPECT_NE(error.find("reducer"), std::string::npos);
}

}  // namespace
}  // namespace marginlab

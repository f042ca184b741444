// SPDX-License-Identifier: MIT
// Issue 13, target 3: the per-step triplet miners run row by row on the engine's threads (no N×N
// matrix, FaceNet and TF-Addons without sorting every negative list by comparisons), the triplet
// loss evaluates explicit lists triplet by triplet, and the mining statistics of TripletMarginMiner
// come from the batch-all sweep. Each is checked here against the plain matrix-based definition
// (the former implementations, written out below): the same triplets in the same order, the same
// draws for FaceNet, the same counts, the loss of the listed triplets, on random cases with ties,
// D = 2 and 3, several chunks of anchors, and bit for bit on 1, 2, 3 and 7 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "marginlab/parallel.h"
#include "marginlab/random.h"
#include "miners/miner_common.h"
#include "test_support.h"

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;

class ThreadCount {
public:
    explicit ThreadCount(int count) : m_before(engineThreads()) { setEngineThreads(count); }
    ~ThreadCount() { setEngineThreads(m_before); }
    ThreadCount(const ThreadCount&) = delete;
    ThreadCount& operator=(const ThreadCount&) = delete;

private:
    int m_before;
};

struct Case {
    Points x;
    Labels y;
    DistanceSpec spec;
    std::string what;
};

// Coordinates on a coarse grid (many exact ties in δ and in gaps) with a few duplicated points.
Points gridPoints(int n, int d, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Points x(n, d);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < d; ++j) x(i, j) = static_cast<Real>(static_cast<int>(rng() % 7) - 3);
    for (int i = 1; i < n; i += 37) x.row(i) = x.row(i - 1);
    return x;
}

// N = 600 runs in three anchor chunks (AnchorChunks: at least 256 rows each).
std::vector<Case> cases(int n) {
    std::vector<Case> out;
    for (int d : {2, 3}) {
        const Labels y = randomLabels(n, 7, 50 + static_cast<std::uint64_t>(d));
        for (const DistanceSpec& spec :
             {DistanceSpec::lp(1, true), DistanceSpec::lp(2, false), DistanceSpec::cosine()})
            out.push_back({randomPoints(n, d, 10 + static_cast<std::uint64_t>(d)), y, spec,
                           "random D=" + std::to_string(d) + " " + spec.describe()});
        for (const DistanceSpec& spec :
             {DistanceSpec::lp(2, false), DistanceSpec::lp(1, false), DistanceSpec::lp(1, true)})
            out.push_back({gridPoints(n, d, 20 + static_cast<std::uint64_t>(d)), y, spec,
                           "grid ties D=" + std::to_string(d) + " " + spec.describe()});
    }
    // A singleton class (an anchor without positives) and a class holding most points.
    Labels skewed = randomLabels(n, 3, 77);
    skewed[5] = 1000;
    for (std::size_t i = 0; i < skewed.size(); i += 2) skewed[i] = 0;
    skewed[5] = 1000;
    out.push_back({gridPoints(n, 2, 31), skewed, DistanceSpec::lp(2, false), "skewed classes"});
    return out;
}

// ---- the matrix-based definitions (the miners as they were written before issue 13) ----

std::vector<Triplet> referenceBatchHard(const Case& c) {
    const detail::OrderingDistances delta(c.spec, c.x);
    const int n = static_cast<int>(c.y.size());
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a) {
        int positive = -1, negative = -1;
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            if (c.y[j] == c.y[a]) {
                if (positive < 0 || delta(a, j) > delta(a, positive)) positive = j;
            } else if (negative < 0 || delta(a, j) < delta(a, negative)) {
                negative = j;
            }
        }
        if (positive >= 0 && negative >= 0) out.push_back({a, positive, negative});
    }
    return out;
}

// positive: nearest (easy) or farthest; negative: 0 semihard, 1 hard (nearest), 2 easy (farthest).
std::vector<Triplet> referenceBatchEasyHard(const Case& c, bool nearestPositive, int negativeRule) {
    const detail::OrderingDistances delta(c.spec, c.x);
    const int n = static_cast<int>(c.y.size());
    auto better = [](Real candidate, Real best, bool smallest) {
        return smallest ? candidate < best : candidate > best;
    };
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a) {
        int positive = -1;
        for (int j = 0; j < n; ++j)
            if (j != a && c.y[j] == c.y[a] &&
                (positive < 0 || better(delta(a, j), delta(a, positive), nearestPositive)))
                positive = j;
        if (positive < 0) continue;
        int negative = -1;
        for (int j = 0; j < n; ++j) {
            if (c.y[j] == c.y[a]) continue;
            if (negativeRule == 0 && !(delta(a, j) > delta(a, positive))) continue;
            if (negative < 0 || better(delta(a, j), delta(a, negative), negativeRule != 2)) negative = j;
        }
        if (negative >= 0) out.push_back({a, positive, negative});
    }
    return out;
}

std::vector<Triplet> referenceTfa(const Case& c) {
    const detail::OrderingDistances delta(c.spec, c.x);
    const int n = static_cast<int>(c.y.size());
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a) {
        int farthest = -1;
        for (int j = 0; j < n; ++j)
            if (c.y[j] != c.y[a] && (farthest < 0 || delta(a, j) > delta(a, farthest))) farthest = j;
        if (farthest < 0) continue;
        for (int p = 0; p < n; ++p) {
            if (p == a || c.y[p] != c.y[a]) continue;
            int chosen = -1;
            for (int j = 0; j < n; ++j)
                if (c.y[j] != c.y[a] && delta(a, j) > delta(a, p) &&
                    (chosen < 0 || delta(a, j) < delta(a, chosen)))
                    chosen = j;
            out.push_back({a, p, chosen >= 0 ? chosen : farthest});
        }
    }
    return out;
}

// FaceNet: the band S(a,p) in (δ, index) order and one draw per non-empty band, each anchor from
// its own stream, its positives in order.
std::vector<Triplet> referenceFaceNet(const Case& c, Real margin, std::uint64_t seed) {
    const detail::OrderingDistances delta(c.spec, c.x);
    const int n = static_cast<int>(c.y.size());
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a) {
        Rng random(Rng::deriveSeed(seed, static_cast<std::uint64_t>(a)));
        std::vector<std::pair<Real, int>> negatives;
        for (int j = 0; j < n; ++j)
            if (c.y[j] != c.y[a]) negatives.emplace_back(delta(a, j), j);
        std::sort(negatives.begin(), negatives.end());
        for (int p = 0; p < n; ++p) {
            if (p == a || c.y[p] != c.y[a]) continue;
            std::vector<int> band;
            for (const auto& [value, j] : negatives)
                if (delta(a, p) < value && value < delta(a, p) + margin) band.push_back(j);
            if (band.empty()) continue;
            out.push_back({a, p, band[static_cast<std::size_t>(random.uniformInt(band.size()))]});
        }
    }
    return out;
}

std::vector<Triplet> mined(const std::string& name, const ParamValues& params, const Case& c,
                           std::uint64_t seed = 9) {
    std::string error;
    const auto miner = makeMiner(MinerConfig{name, params, c.spec}, &error);
    EXPECT_TRUE(miner) << error;
    const Tuples tuples = miner->mine(MinerInput{c.x, c.y, seed});
    EXPECT_EQ(tuples.kind, Tuples::Kind::Triplets);
    return tuples.triplets;
}

void expectSameTriplets(const std::vector<Triplet>& got, const std::vector<Triplet>& expected,
                        const std::string& what) {
    ASSERT_EQ(got.size(), expected.size()) << what;
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << what << " triplet " << i;
}

// FaceNet's order and band counts: every rank's item as std::sort orders them and the counts of a plain scan,
// for spread values, integer ties (in crowded cells and in small ones), a crowded cluster with one outlier
// (cells of hundreds of items), infinities (no cells), a single value, and queries at, between and beyond the
// values.
TEST(BucketSorter, SortsAndCountsLikeThePlainDefinitions) {
    std::mt19937_64 random(5);
    std::vector<std::vector<detail::RankedNegative>> lists;
    auto list = [&](int n, auto value) {
        std::vector<detail::RankedNegative> items;
        for (int i = 0; i < n; ++i) items.emplace_back(value(i), (i * 7919) % n);
        lists.push_back(items);
    };
    std::uniform_real_distribution<Real> uniform(-3.0, 5.0);
    std::normal_distribution<Real> normal(0.0, 1.0);
    list(1000, [&](int) { return uniform(random); });
    list(1000, [&](int) { return normal(random); });
    list(700, [&](int) { return Real(static_cast<int>(random() % 9)); });
    // Tied values in cells of a few and of about twenty items, ordered by index.
    list(600, [&](int) { return Real(static_cast<int>(random() % 100)) / 4.0; });
    list(2000, [&](int) { return Real(static_cast<int>(random() % 100)); });
    list(500, [&](int i) { return i == 0 ? 1e6 : 1.0 + 1e-9 * normal(random); });
    list(300, [&](int i) { return i % 50 == 0 ? std::numeric_limits<Real>::infinity() : uniform(random); });
    list(40, [&](int) { return 2.5; });
    list(10, [&](int) { return uniform(random); });
    list(0, [&](int) { return 0.0; });
    detail::BucketSorter sorter;
    for (std::vector<detail::RankedNegative> items : lists) {
        std::vector<detail::RankedNegative> expected = items;
        std::sort(expected.begin(), expected.end());
        sorter.arrange(&items);
        for (std::size_t k = 0; k < expected.size(); ++k)
            ASSERT_EQ(sorter.at(static_cast<int>(k)), expected[k]) << expected.size() << " items, rank " << k;
        std::vector<Real> queries = {-std::numeric_limits<Real>::infinity(), -1e300, 0.0, 2.5, 1e300,
                                     std::numeric_limits<Real>::infinity()};
        for (std::size_t k = 0; k < items.size(); k += 3) {
            queries.push_back(items[k].first);
            queries.push_back(std::nextafter(items[k].first, 0.0));
            queries.push_back(items[k].first + 0.01);
        }
        for (Real z : queries)
            for (bool inclusive : {false, true}) {
                int plain = 0;
                for (const auto& item : items) plain += inclusive ? item.first <= z : item.first < z;
                ASSERT_EQ(sorter.count(z, inclusive), plain)
                    << expected.size() << " items, z = " << z << (inclusive ? " (≤)" : " (<)");
            }
    }
}

// arrangeRow: a row's items but the excluded ones (an anchor's class), arranged straight from the row,
// answer as the sorted list of those items does, on the rows the miner sees and on the awkward ones
// (ties, a crowded cluster, the excluded holding the row's extremes); rows it must decline (a NaN, one
// value, too few items) are declined.
TEST(BucketSorter, ArrangesARowButItsExcludedItems) {
    std::mt19937_64 random(17);
    std::uniform_real_distribution<Real> uniform(0.0, 2.0);
    std::normal_distribution<Real> normal(0.0, 1.0);
    struct Row {
        std::vector<Real> values;
        std::vector<int> excluded;  // ascending
        bool arranged;
    };
    std::vector<Row> rows;
    auto addRow = [&](int n, int every, bool arranged, auto value) {
        Row r;
        for (int j = 0; j < n; ++j) {
            r.values.push_back(value(j));
            if (j % every == 3 % every) r.excluded.push_back(j);
        }
        r.arranged = arranged;
        rows.push_back(r);
    };
    addRow(4096, 10, true, [&](int) { return uniform(random); });
    addRow(1000, 3, true, [&](int) { return normal(random); });
    addRow(800, 7, true, [&](int) { return Real(static_cast<int>(random() % 9)); });  // crowded ties
    addRow(600, 5, true, [&](int j) { return j == 0 ? 1e6 : 1.0 + 1e-9 * normal(random); });
    // The excluded hold the extremes: the items fill only the middle of the row's range.
    addRow(500, 4, true, [&](int j) { return j % 4 == 3 ? (j % 8 == 3 ? -50.0 : 50.0) : uniform(random); });
    const Real nan = std::numeric_limits<Real>::quiet_NaN();
    addRow(300, 6, false, [&](int j) { return j == 123 ? nan : uniform(random); });
    addRow(300, 6, false, [&](int) { return 0.75; });
    // Around the least row it takes: 16 items (the odd j excluded, then 0 too: 19 items, arranged)
    // and 15 items (declined).
    addRow(40, 2, true, [&](int) { return uniform(random); });
    rows.back().excluded.insert(rows.back().excluded.begin(), 0);
    addRow(30, 2, false, [&](int) { return uniform(random); });
    detail::BucketSorter sorter;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const Row& row = rows[r];
        const int n = static_cast<int>(row.values.size());
        const bool arranged = sorter.arrangeRow(row.values.data(), n, row.excluded.data(),
                                                static_cast<int>(row.excluded.size()));
        ASSERT_EQ(arranged, row.arranged) << "row " << r;
        if (!arranged) continue;
        std::vector<detail::RankedNegative> expected;
        for (int j = 0; j < n; ++j)
            if (!std::binary_search(row.excluded.begin(), row.excluded.end(), j))
                expected.emplace_back(row.values[static_cast<std::size_t>(j)], j);
        std::sort(expected.begin(), expected.end());
        for (std::size_t k = 0; k < expected.size(); ++k)
            ASSERT_EQ(sorter.at(static_cast<int>(k)), expected[k]) << "row " << r << ", rank " << k;
        std::vector<Real> queries = {-std::numeric_limits<Real>::infinity(), -60.0, 0.0, 2.0, 60.0,
                                     std::numeric_limits<Real>::infinity()};
        for (std::size_t j = 0; j < row.values.size(); j += 3) {
            queries.push_back(row.values[j]);
            queries.push_back(std::nextafter(row.values[j], 0.0));
            queries.push_back(row.values[j] + 0.01);
        }
        for (Real z : queries)
            for (bool inclusive : {false, true}) {
                int plain = 0;
                for (const auto& item : expected) plain += inclusive ? item.first <= z : item.first < z;
                ASSERT_EQ(sorter.count(z, inclusive), plain)
                    << "row " << r << ", z = " << z << (inclusive ? " (≤)" : " (<)");
            }
    }
}

TEST(MinedTriplets, OrderingRowsAreTheMatrixRowsBitForBit) {
    for (const Case& c : cases(300)) {
        const detail::OrderingDistances matrix(c.spec, c.x);
        const detail::OrderingRows rows(c.spec, c.x);
        std::vector<Real> row(static_cast<std::size_t>(c.x.rows()));
        for (Eigen::Index a = 0; a < c.x.rows(); a += 7) {
            rows.row(a, row.data());
            for (Eigen::Index j = 0; j < c.x.rows(); ++j)
                ASSERT_EQ(row[static_cast<std::size_t>(j)], matrix(a, j))
                    << c.what << " a=" << a << " j=" << j;
        }
    }
}

TEST(MinedTriplets, RowWiseMinersChooseTheMatrixMinersTripletsOnAnyThreadCount) {
    for (const Case& c : cases(600)) {
        struct Expected {
            std::string miner;
            ParamValues params;
            std::uint64_t seed;
            std::vector<Triplet> triplets;
        };
        std::vector<Expected> expected;
        expected.push_back({"batch_hard", {}, 9, referenceBatchHard(c)});
        expected.push_back({"tfa_semihard", {}, 9, referenceTfa(c)});
        const Real unit = c.spec.kind == DistanceKind::Lp && !c.spec.normalize ? 2.0 : 1.0;
        for (Real margin : {0.2 * unit, 1.0 * unit}) {
            ParamValues params;
            params.numbers["margin"] = margin;
            expected.push_back({"facenet_semihard", params, 1234, referenceFaceNet(c, margin, 1234)});
        }
        for (bool nearestPositive : {true, false})
            for (int rule : {0, 1, 2}) {
                ParamValues params;
                params.choices["pos_strategy"] = nearestPositive ? "easy" : "hard";
                params.choices["neg_strategy"] = rule == 0 ? "semihard" : rule == 1 ? "hard" : "easy";
                expected.push_back(
                    {"batch_easy_hard", params, 9, referenceBatchEasyHard(c, nearestPositive, rule)});
            }
        for (int threads : {1, 2, 3, 7}) {
            const ThreadCount scope(threads);
            for (const Expected& e : expected)
                expectSameTriplets(mined(e.miner, e.params, c, e.seed), e.triplets,
                                   e.miner + " " + c.what + ", " + std::to_string(threads) + " threads");
        }
    }
}

// The non-trivial shapes the comparisons above rely on: bands with several members, TF-Addons
// falling back to the farthest negative, and semi-hard anchors dropped.
TEST(MinedTriplets, CasesExerciseTheRules) {
    const Case c = cases(600)[0];
    const std::vector<Triplet> tfa = referenceTfa(c);
    const detail::OrderingDistances delta(c.spec, c.x);
    int fallback = 0;
    for (const Triplet& t : tfa) fallback += delta(t[0], t[2]) <= delta(t[0], t[1]);
    EXPECT_GT(fallback, 0);
    EXPECT_LT(fallback, static_cast<int>(tfa.size()));
    const std::vector<Triplet> facenet = referenceFaceNet(c, 0.2, 1);
    EXPECT_GT(facenet.size(), 1000u);
    EXPECT_LT(facenet.size(), tfa.size());
}

// The listing path: the loss of an explicit list, term by term from the distance matrix.
struct Listed {
    Real value = 0.0;
    Points grad;
    Count tuples = 0, active = 0, easy = 0, semiHard = 0, hard = 0;
};

Listed listedLoss(const std::vector<Triplet>& list, const Points& x, const DistanceSpec& spec, Real margin) {
    const SelfDistance distance(spec, x);
    const Matrix& m = distance.matrix();
    const Real sign = spec.orderSign();
    Matrix g = Matrix::Zero(x.rows(), x.rows());
    Listed out;
    Real sum = 0.0;
    for (const Triplet& t : list) {
        const Real ap = sign * m(t[0], t[1]), an = sign * m(t[0], t[2]);
        const Real gap = an - ap;
        ++out.tuples;
        if (gap <= 0.0)
            ++out.hard;
        else if (gap <= margin)
            ++out.semiHard;
        else
            ++out.easy;
        const Real v = ap - an + margin;
        if (v <= 0.0) continue;
        ++out.active;
        sum += v;
        g(t[0], t[1]) += sign;
        g(t[0], t[2]) -= sign;
    }
    if (out.active == 0) {
        out.grad = Points::Zero(x.rows(), x.cols());
        return out;
    }
    out.value = sum / Real(out.active);
    out.grad = distance.backward(g / Real(out.active));
    return out;
}

TEST(MinedTriplets, LossOfMinedListsMatchesTheListingPathAndIsThreadIndependent) {
    const std::vector<Case> all = cases(600);
    std::string error;
    for (const Case& c : all) {
        for (const std::string miner :
             {"facenet_semihard", "tfa_semihard", "batch_easy_hard", "batch_hard"}) {
            const auto loss = makeLoss(LossConfig{"triplet_margin", {}, c.spec}, &error);
            ASSERT_TRUE(loss) << error;
            ParamValues params;
            if (miner == "facenet_semihard") params.numbers["margin"] = 1.0;
            const std::vector<Triplet> list = mined(miner, params, c);
            const Tuples tuples = Tuples::fromTriplets(list);
            const Listed expected = listedLoss(list, c.x, c.spec, 0.05);
            LossOutput first;
            for (int threads : {1, 2, 3, 7}) {
                const ThreadCount scope(threads);
                LossInput input{c.x, c.y, nullptr, &tuples};
                input.splitForces = true;
                const LossOutput out = loss->evaluate(input, true);
                const std::string what = miner + " " + c.what + ", " + std::to_string(threads) + " threads";
                if (threads == 1) {
                    first = out;
                    EXPECT_NEAR(out.value, expected.value, 1e-9 * std::max(1.0, std::abs(expected.value)))
                        << what;
                    const Real scale = std::max(1.0, expected.grad.cwiseAbs().maxCoeff());
                    EXPECT_LE((out.gradEmbeddings - expected.grad).cwiseAbs().maxCoeff(), 1e-9 * scale)
                        << what;
                    EXPECT_EQ(out.stats.tuples, expected.tuples) << what;
                    EXPECT_EQ(out.stats.active, expected.active) << what;
                    EXPECT_EQ(out.stats.easy, expected.easy) << what;
                    EXPECT_EQ(out.stats.semiHard, expected.semiHard) << what;
                    EXPECT_EQ(out.stats.hard, expected.hard) << what;
                    EXPECT_EQ(loss->evaluate(LossInput{c.x, c.y, nullptr, &tuples}, false).value, out.value)
                        << what;
                    continue;
                }
                EXPECT_EQ(out.value, first.value) << what;
                EXPECT_TRUE(out.gradEmbeddings == first.gradEmbeddings) << what;
                EXPECT_TRUE(out.gradFromPositives == first.gradFromPositives) << what;
                EXPECT_EQ(out.stats.active, first.stats.active) << what;
                EXPECT_EQ(out.stats.semiHard, first.stats.semiHard) << what;
            }
            if (c.what.rfind("random D=2", 0) == 0 && miner == "batch_hard") {
                EXPECT_GT(expected.active, 0);
            }
        }
    }
}

// Several runs of the list (≥ 2¹⁴ triplets each) with swap and the smooth loss: the triplet-by-triplet
// path against the matrix loop, which still handles every-triplet swap / smooth.
TEST(MinedTriplets, LongListsWithSwapAndSmoothLossMatchTheMatrixLoop) {
    const Points x = randomPoints(200, 3, 5);
    const Labels y = randomLabels(200, 4, 6);
    std::vector<Triplet> list;
    for (int a = 0; a < 200; ++a)
        for (int p = 0; p < 200; ++p)
            for (int q = 1; q < 200; q += 13)
                if (a != p && y[a] == y[p] && y[q] != y[a]) list.push_back({a, p, q});
    ASSERT_GT(list.size(), 40000u);
    const Tuples tuples = Tuples::fromTriplets(list);
    for (const DistanceSpec& spec : {DistanceSpec::lp(1, true), DistanceSpec::cosine()})
        for (bool swap : {false, true})
            for (bool smooth : {false, true}) {
                ParamValues params;
                params.numbers["margin"] = 0.3;
                params.numbers["swap"] = swap;
                params.numbers["smooth_loss"] = smooth;
                std::string error;
                const auto loss = makeLoss(LossConfig{"triplet_margin", params, spec}, &error);
                ASSERT_TRUE(loss) << error;
                LossInput input{x, y, nullptr, &tuples};
                input.splitForces = true;
                const LossOutput out = loss->evaluate(input, true);
                // The same triplets as "every triplet" filtered to the list would be, through the
                // matrix path: materialize nothing, compare against the plain loop of the test.
                const SelfDistance distance(spec, x);
                const Matrix& m = distance.matrix();
                const Real sign = spec.orderSign();
                Matrix g = Matrix::Zero(200, 200);
                Real sum = 0.0;
                Count active = 0;
                for (const Triplet& t : list) {
                    const Real ap = sign * m(t[0], t[1]), an = sign * m(t[0], t[2]),
                               pn = sign * m(t[1], t[2]);
                    const Real negative = swap ? std::min(an, pn) : an;
                    const Real v = ap - negative + 0.3;
                    const Real term = smooth ? std::log1p(std::exp(v)) : std::max(v, 0.0);
                    if (term > 0.0) {
                        ++active;
                        sum += term;
                    }
                    const Real slope = smooth ? 1.0 / (1.0 + std::exp(-v)) : (v > 0.0 ? 1.0 : 0.0);
                    g(t[0], t[1]) += sign * slope;
                    const Real share = !swap ? 1.0 : pn < an ? 0.0 : pn == an ? 0.5 : 1.0;
                    g(t[0], t[2]) -= sign * slope * share;
                    g(t[1], t[2]) -= sign * slope * (1.0 - share);
                }
                const std::string what = spec.describe() + (swap ? " swap" : "") + (smooth ? " smooth" : "");
                ASSERT_GT(active, 0) << what;
                EXPECT_NEAR(out.value, sum / Real(active), 1e-9 * std::max(1.0, std::abs(out.value))) << what;
                const Points grad = distance.backward(g / Real(active));
                const Points attraction = distance.backwardSameLabel(g / Real(active), y);
                const Real scale = std::max(1.0, grad.cwiseAbs().maxCoeff());
                EXPECT_LE((out.gradEmbeddings - grad).cwiseAbs().maxCoeff(), 1e-9 * scale) << what;
                EXPECT_LE((out.gradFromPositives - attraction).cwiseAbs().maxCoeff(), 1e-9 * scale) << what;
                EXPECT_EQ(out.stats.active, active) << what;
                for (int threads : {2, 7}) {
                    const ThreadCount scope(threads);
                    const LossOutput again = loss->evaluate(input, true);
                    EXPECT_EQ(again.value, out.value) << what;
                    EXPECT_TRUE(again.gradEmbeddings == out.gradEmbeddings) << what;
                    EXPECT_TRUE(again.gradFromPositives == out.gradFromPositives) << what;
                }
            }
}

// The mining statistics of TripletMarginMiner (countTuples of its symbolic output) from the sweep:
// exactly the size of the listed triplets, on any thread count.
TEST(MinedTriplets, TripletMarginMinerCountsAreTheListedCounts) {
    for (const Case& c : cases(260)) {
        for (const char* type : {"all", "hard", "semihard", "easy"})
            for (Real margin : {0.2, 1.0, -0.5}) {
                ParamValues params;
                params.choices["type_of_triplets"] = type;
                params.numbers["margin"] = margin;
                std::string error;
                const auto miner = makeMiner(MinerConfig{"triplet_margin", params, c.spec}, &error);
                ASSERT_TRUE(miner) << error;
                const Tuples tuples = miner->mine(MinerInput{c.x, c.y, 1});
                const auto listed = static_cast<Count>(materializeTriplets(tuples, c.x, c.y).size());
                for (int threads : {1, 2, 3, 7}) {
                    const ThreadCount scope(threads);
                    const MinerCounts counts = countTuples(tuples, c.x, c.y);
                    const std::string what = std::string(type) + " margin " + std::to_string(margin) + " " +
                                             c.what + ", " + std::to_string(threads) + " threads";
                    EXPECT_EQ(counts.triplets, listed) << what;
                    EXPECT_EQ(counts.positivePairs, listed) << what;
                    EXPECT_EQ(counts.negativePairs, listed) << what;
                }
            }
    }
}

// TripletMarginMiner + triplet loss through the sweep (kept ranges located per negative, the
// boundaries that cannot fall inside a kept range skipped, a bound at 0 or at the loss margin
// sharing that lookup) against the loss of the listed triplets; bit for bit on any thread count.
TEST(MinedTriplets, TripletMarginMinerLossMatchesTheListedTriplets) {
    std::string error;
    const std::vector<Case> all = cases(260);
    for (std::size_t i = 0; i < all.size(); i += 2) {
        const Case& c = all[i];
        for (const char* type : {"all", "hard", "semihard", "easy"})
            for (Real minerMargin : {0.2, 0.05, 0.0, -0.1}) {
                ParamValues params;
                params.choices["type_of_triplets"] = type;
                params.numbers["margin"] = minerMargin;
                const auto miner = makeMiner(MinerConfig{"triplet_margin", params, c.spec}, &error);
                ASSERT_TRUE(miner) << error;
                const auto loss = makeLoss(LossConfig{"triplet_margin", {}, c.spec}, &error);
                ASSERT_TRUE(loss) << error;
                const Tuples tuples = miner->mine(MinerInput{c.x, c.y, 1});
                const std::vector<Triplet> list = materializeTriplets(tuples, c.x, c.y);
                const Listed expected = listedLoss(list, c.x, c.spec, 0.05);
                const std::string what =
                    std::string(type) + " miner margin " + std::to_string(minerMargin) + " " + c.what;
                LossOutput first;
                for (int threads : {1, 2, 3, 7}) {
                    const ThreadCount scope(threads);
                    const LossOutput out = loss->evaluate(LossInput{c.x, c.y, nullptr, &tuples}, true);
                    if (threads == 1) {
                        first = out;
                        EXPECT_NEAR(out.value, expected.value, 1e-9 * std::max(1.0, std::abs(expected.value)))
                            << what;
                        const Real scale = std::max(1.0, expected.grad.cwiseAbs().maxCoeff());
                        EXPECT_LE((out.gradEmbeddings - expected.grad).cwiseAbs().maxCoeff(), 1e-9 * scale)
                            << what;
                        EXPECT_EQ(out.stats.tuples, expected.tuples) << what;
                        EXPECT_EQ(out.stats.active, expected.active) << what;
                        EXPECT_EQ(out.stats.easy, expected.easy) << what;
                        EXPECT_EQ(out.stats.semiHard, expected.semiHard) << what;
                        EXPECT_EQ(out.stats.hard, expected.hard) << what;
                        continue;
                    }
                    EXPECT_EQ(out.value, first.value) << what << ", " << threads << " threads";
                    EXPECT_TRUE(out.gradEmbeddings == first.gradEmbeddings)
                        << what << ", " << threads << " threads";
                }
            }
    }
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/loss.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cmath>

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

struct ContrastiveSetup {
    Real positiveMargin = 0.0;
    Real negativeMargin = 1.0;
    bool mean = false;
    DistanceSpec distance = DistanceSpec::lp(1, true);
};

std::unique_ptr<Loss> makeContrastive(const ContrastiveSetup& s) {
    LossConfig config{"contrastive", {}, s.distance};
    config.params.numbers["pos_margin"] = s.positiveMargin;
    config.params.numbers["neg_margin"] = s.negativeMargin;
    config.params.choices["reducer"] = s.mean ? "mean" : "avg_non_zero";
    std::string error;
    auto loss = makeLoss(config, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

struct PairReference {
    Real value = 0.0;
    Points grad;
    Count pairs = 0, active = 0;
};

// loss-conventions.md §2 over explicit ordered pair lists; gradient through SelfDistance::backward.
PairReference bruteForce(const Points& x, const std::vector<Pair>& positives, const std::vector<Pair>& negatives,
                         const ContrastiveSetup& s) {
    const SelfDistance distance(s.distance, x);
    const Matrix& m = distance.matrix();
    const bool similarity = s.distance.isSimilarity();
    const int n = static_cast<int>(x.rows());
    PairReference r;
    r.grad = Points::Zero(n, x.cols());
    r.pairs = static_cast<Count>(positives.size() + negatives.size());
    if (positives.size() <= 1 && negatives.size() <= 1) return r;
    Matrix gp = Matrix::Zero(n, n), gn = Matrix::Zero(n, n);
    Real sp = 0, sn = 0;
    Count ap = 0, an = 0;
    for (const Pair& pr : positives) {
        const Real v = similarity ? s.positiveMargin - m(pr[0], pr[1]) : m(pr[0], pr[1]) - s.positiveMargin;
        if (v > 0) {
            sp += v;
            ++ap;
            gp(pr[0], pr[1]) += similarity ? -1.0 : 1.0;
        }
    }
    for (const Pair& pr : negatives) {
        const Real v = similarity ? m(pr[0], pr[1]) - s.negativeMargin : s.negativeMargin - m(pr[0], pr[1]);
        if (v > 0) {
            sn += v;
            ++an;
            gn(pr[0], pr[1]) += similarity ? 1.0 : -1.0;
        }
    }
    r.active = ap + an;
    const Real dp = s.mean ? Real(positives.size()) : Real(ap);
    const Real dn = s.mean ? Real(negatives.size()) : Real(an);
    const Real wp = dp > 0 ? 1.0 / dp : 0.0, wn = dn > 0 ? 1.0 / dn : 0.0;
    r.value = sp * wp + sn * wn;
    r.grad = distance.backward(gp * wp + gn * wn);
    return r;
}

void expectMatches(const Points& x, const Labels& y, const ContrastiveSetup& s, const Tuples* tuples,
                   const std::vector<Pair>& positives, const std::vector<Pair>& negatives, const std::string& what) {
    const PairReference r = bruteForce(x, positives, negatives, s);
    const auto loss = makeContrastive(s);
    const LossOutput out = loss->evaluate({x, y, nullptr, tuples}, true);
    EXPECT_NEAR(out.value, r.value, 1e-9 * std::max(1.0, std::abs(r.value))) << what;
    ASSERT_EQ(out.gradEmbeddings.rows(), x.rows());
    EXPECT_LE((out.gradEmbeddings - r.grad).cwiseAbs().maxCoeff(), 1e-9 * std::max(1.0, r.grad.cwiseAbs().maxCoeff()))
        << what;
    EXPECT_EQ(out.stats.tupleKind, "pairs");
    EXPECT_EQ(out.stats.tuples, r.pairs) << what;
    EXPECT_EQ(out.stats.active, r.active) << what;
}

std::vector<ContrastiveSetup> setups() {
    std::vector<ContrastiveSetup> out;
    for (bool mean : {false, true}) {
        out.push_back({0.0, 1.0, mean, DistanceSpec::lp(1, true)});
        out.push_back({0.2, 0.9, mean, DistanceSpec::lp(1, true)});
        out.push_back({0.5, 2.0, mean, DistanceSpec::lp(1, false)});
        out.push_back({0.1, 1.5, mean, DistanceSpec::lp(2, false)});
        out.push_back({0.8, 0.2, mean, DistanceSpec::cosine()});  // similarity: the margins flip meaning
        out.push_back({0.9, 0.0, mean, DistanceSpec::dot(false)});
    }
    return out;
}

TEST(Contrastive, AllPairsMatchBruteForce) {
    std::uint64_t seed = 1;
    for (const ContrastiveSetup& s : setups())
        for (int trial = 0; trial < 2; ++trial, ++seed) {
            const int n = 12 + static_cast<int>(seed % 8);
            const Points x = randomPoints(n, 2 + trial, seed);
            const Labels y = randomLabels(n, 3 + trial, seed + 3);
            expectMatches(x, y, s, nullptr, allPositivePairs(y), allNegativePairs(y), s.distance.describe());
            const Tuples all = Tuples::all();
            expectMatches(x, y, s, &all, allPositivePairs(y), allNegativePairs(y), "Tuples::all");
        }
}

TEST(Contrastive, MinedPairsAndTripletsMatchBruteForce) {
    const Points x = randomPoints(12, 2, 21);
    const Labels y = randomLabels(12, 3, 22);
    std::vector<Pair> positives, negatives;
    for (const Pair& p : allPositivePairs(y))
        if ((p[0] + 2 * p[1]) % 3 == 0) positives.push_back(p);
    for (const Pair& p : allNegativePairs(y))
        if ((p[0] * p[1]) % 4 == 1) negatives.push_back(p);
    positives.push_back(positives.front());  // duplicates count
    for (const ContrastiveSetup& s : setups()) {
        const Tuples pairs = Tuples::fromPairs(positives, negatives);
        expectMatches(x, y, s, &pairs, positives, negatives, "pairs " + s.distance.describe());
        // Triplets become (a,p) and (a,n) per triplet, duplicates kept (PML's convert_to_pairs).
        std::vector<Triplet> triplets{{0, 0, 0}};
        triplets.clear();
        for (int a = 0; a < 12; ++a)
            for (int p = 0; p < 12; ++p)
                for (int q = 0; q < 12; ++q)
                    if (a != p && y[a] == y[p] && y[q] != y[a] && (a + p + q) % 5 == 0) triplets.push_back({a, p, q});
        std::vector<Pair> tp, tn;
        for (const Triplet& t : triplets) {
            tp.push_back({t[0], t[1]});
            tn.push_back({t[0], t[2]});
        }
        const Tuples mined = Tuples::fromTriplets(triplets);
        expectMatches(x, y, s, &mined, tp, tn, "triplets " + s.distance.describe());
    }
}

TEST(Contrastive, GradientMatchesFiniteDifferences) {
    std::uint64_t seed = 40;
    for (const ContrastiveSetup& s : setups()) {
        const Points x = randomPoints(10, 2 + static_cast<int>(seed % 2), seed);
        const Labels y = randomLabels(10, 3, seed + 1);
        EXPECT_LE(finiteDifferenceError(*makeContrastive(s), {x, y}).embeddings, 1e-6) << s.distance.describe();
        ++seed;
    }
}

// Three points on a line, un-normalized Euclidean, pos_margin 0.5, neg_margin 2:
//   x0 = 0, x1 = 1 (class 0), x2 = 1.5 (class 1).
//   positive ordered pairs (0,1),(1,0): relu(1 − 0.5) = 0.5 each → AvgNonZero 0.5
//   negative pairs (0,2),(2,0): relu(2 − 1.5) = 0.5; (1,2),(2,1): relu(2 − 0.5) = 1.5 → (2·0.5 + 2·1.5)/4 = 1
//   loss = 0.5 + 1 = 1.5 (mean gives the same here: every term is non-zero).
TEST(Contrastive, HandComputedThreePoints) {
    Points x(3, 2);
    x << 0, 0, 1, 0, 1.5, 0;
    const Labels y{0, 0, 1};
    ContrastiveSetup s{0.5, 2.0, false, DistanceSpec::lp(1, false)};
    const LossOutput out = makeContrastive(s)->evaluate({x, y}, true);
    EXPECT_NEAR(out.value, 1.5, 1e-15);
    EXPECT_EQ(out.stats.tuples, 6);
    EXPECT_EQ(out.stats.active, 6);
    // ∂/∂x0 = 2·0.5·(−1) [pos] + 2·(−1/4)·(−1) [neg 0-2] = −1 + 0.5 = −0.5
    EXPECT_NEAR(out.gradEmbeddings(0, 0), -0.5, 1e-15);
    // ∂/∂x2 = 2·(−1/4)·(+1) + 2·(−1/4)·(+1) = −1
    EXPECT_NEAR(out.gradEmbeddings(2, 0), -1.0, 1e-15);
    // Only one negative term non-zero (neg_margin 1): AvgNonZero divides by 2, mean by 4.
    s.negativeMargin = 1.0;
    EXPECT_NEAR(makeContrastive(s)->evaluate({x, y}, false).value, 0.5 + 0.5, 1e-15);
    s.mean = true;
    EXPECT_NEAR(makeContrastive(s)->evaluate({x, y}, false).value, 0.5 + 0.25, 1e-15);
}

TEST(Contrastive, EmptyAndOneSidedCases) {
    const Points x = randomPoints(6, 2, 5);
    const ContrastiveSetup s;
    // One class: only the positive half remains (PML: the negative sub-loss is 0, not the whole loss).
    const Labels one(6, 4);
    const LossOutput same = makeContrastive(s)->evaluate({x, one}, true);
    EXPECT_NEAR(same.value, bruteForce(x, allPositivePairs(one), {}, s).value, 1e-12);
    EXPECT_GT(same.value, 0.0);
    // All labels distinct: only negatives.
    const Labels distinct{0, 1, 2, 3, 4, 5};
    EXPECT_NEAR(makeContrastive(s)->evaluate({x, distinct}, false).value,
                bruteForce(x, {}, allNegativePairs(distinct), s).value, 1e-12);
    // At most one pair in each list: GenericPairLoss returns 0.
    const Tuples single = Tuples::fromPairs({{0, 1}}, {{0, 2}});
    const LossOutput zero = makeContrastive(s)->evaluate({x, Labels{0, 0, 1, 1, 2, 2}, nullptr, &single}, true);
    EXPECT_EQ(zero.value, 0.0);
    EXPECT_EQ(zero.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
    // Nothing active: far-apart classes and tight positives.
    Points far(4, 2);
    far << 0, 0, 0, 0, 10, 0, 10, 0;
    const ContrastiveSetup raw{0.0, 1.0, false, DistanceSpec::lp(1, false)};
    const LossOutput none = makeContrastive(raw)->evaluate({far, Labels{0, 0, 1, 1}}, true);
    EXPECT_EQ(none.value, 0.0);
    EXPECT_EQ(none.stats.active, 0);
    EXPECT_EQ(none.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
}

TEST(Contrastive, RotationAndTranslationInvariance) {
    const Points x = randomPoints(12, 2, 61);
    const Labels y = randomLabels(12, 3, 62);
    Eigen::Matrix2d rotation;
    rotation << std::cos(1.1), -std::sin(1.1), std::sin(1.1), std::cos(1.1);
    for (const ContrastiveSetup& s : setups()) {
        const auto loss = makeContrastive(s);
        const LossOutput base = loss->evaluate({x, y}, true);
        const LossOutput turned = loss->evaluate({Points(x * rotation.transpose()), y}, true);
        EXPECT_NEAR(turned.value, base.value, 1e-12);
        EXPECT_LE((turned.gradEmbeddings - base.gradEmbeddings * rotation.transpose()).cwiseAbs().maxCoeff(), 1e-10);
    }
    Points shifted = x;
    shifted.rowwise() += Eigen::RowVector2d(-4.0, 2.5);
    const auto loss = makeContrastive({0.3, 1.5, false, DistanceSpec::lp(1, false)});
    EXPECT_NEAR(loss->evaluate({shifted, y}, false).value, loss->evaluate({x, y}, false).value, 1e-12);
}

// ---- Hadsell, Chopra, LeCun 2006 -------------------------------------------------------------

std::unique_ptr<Loss> makeHadsell(Real margin, bool normalize) {
    LossConfig config{"contrastive_hadsell", {}, std::nullopt};
    config.params.numbers["margin"] = margin;
    config.params.numbers["normalize"] = normalize ? 1.0 : 0.0;
    std::string error;
    auto loss = makeLoss(config, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

Real hadsellReference(const Points& x, const Labels& y, Real margin, bool normalize) {
    const int n = static_cast<int>(x.rows());
    Real sum = 0;
    int pairs = 0;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            Eigen::RowVectorXd a = x.row(i), b = x.row(j);
            if (normalize) {
                a /= a.norm();
                b /= b.norm();
            }
            const Real d = (a - b).norm();
            sum += y[i] == y[j] ? 0.5 * d * d : 0.5 * std::pow(std::max(0.0, margin - d), 2);
            ++pairs;
        }
    return sum / pairs;
}

TEST(Hadsell, MatchesBruteForceAndFiniteDifferences) {
    std::uint64_t seed = 7;
    for (bool normalize : {false, true})
        for (Real margin : {0.5, 1.0, 2.5})
            for (int dims : {2, 3}) {
                const Points x = randomPoints(14, dims, seed);
                const Labels y = randomLabels(14, 3, seed + 1);
                const auto loss = makeHadsell(margin, normalize);
                const LossOutput out = loss->evaluate({x, y}, true);
                const Real expected = hadsellReference(x, y, margin, normalize);
                EXPECT_NEAR(out.value, expected, 1e-12 * std::max(1.0, expected));
                EXPECT_EQ(out.stats.tuples, 14 * 13 / 2);
                EXPECT_LE(finiteDifferenceError(*loss, {x, y}).embeddings, 1e-6);
                ++seed;
            }
}

// Three points x0 = (0,0), x1 = (1,0) (class 0), x2 = (0,0.5) (class 1), margin 1:
// pair (0,1) positive: ½·1² = 0.5; (0,2) negative d = 0.5: ½·0.5² = 0.125;
// (1,2) negative d = √1.25 > 1: 0. Loss = (0.5 + 0.125 + 0)/3 = 0.208333…
TEST(Hadsell, HandComputedThreePoints) {
    Points x(3, 2);
    x << 0, 0, 1, 0, 0, 0.5;
    const LossOutput out = makeHadsell(1.0, false)->evaluate({x, Labels{0, 0, 1}}, true);
    EXPECT_NEAR(out.value, 0.625 / 3.0, 1e-15);
    EXPECT_EQ(out.stats.active, 2);
    // ∂/∂x2 = (1/3)·(−(1 − 0.5))·(x2 − x0)/0.5 = (1/3)·(−0.5)·(0,1) = (0, −1/6)
    EXPECT_NEAR(out.gradEmbeddings(2, 0), 0.0, 1e-15);
    EXPECT_NEAR(out.gradEmbeddings(2, 1), -1.0 / 6.0, 1e-15);
}

TEST(Hadsell, InvariancesAndEmptyCases) {
    const Points x = randomPoints(10, 2, 31);
    const Labels y = randomLabels(10, 2, 32);
    const auto loss = makeHadsell(1.0, false);
    Points shifted = x;
    shifted.rowwise() += Eigen::RowVector2d(1.5, -3.0);
    Eigen::Matrix2d rotation;
    rotation << std::cos(0.4), -std::sin(0.4), std::sin(0.4), std::cos(0.4);
    const LossOutput base = loss->evaluate({x, y}, true);
    EXPECT_NEAR(loss->evaluate({shifted, y}, false).value, base.value, 1e-12);
    const LossOutput turned = loss->evaluate({Points(x * rotation.transpose()), y}, true);
    EXPECT_NEAR(turned.value, base.value, 1e-12);
    EXPECT_LE((turned.gradEmbeddings - base.gradEmbeddings * rotation.transpose()).cwiseAbs().maxCoeff(), 1e-12);
    const Points single = randomPoints(1, 2, 3);
    const LossOutput one = loss->evaluate({single, Labels{0}}, true);
    EXPECT_EQ(one.value, 0.0);
    EXPECT_EQ(one.gradEmbeddings.rows(), 1);
    EXPECT_EQ(one.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
    // Negatives beyond the margin and coincident positives: nothing to pull or push.
    Points calm(4, 2);
    calm << 0, 0, 0, 0, 5, 0, 5, 0;
    const LossOutput zero = loss->evaluate({calm, Labels{0, 0, 1, 1}}, true);
    EXPECT_EQ(zero.value, 0.0);
    EXPECT_EQ(zero.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
    const LossInfo* info = findLoss("contrastive_hadsell");
    ASSERT_NE(info, nullptr);
    EXPECT_TRUE(info->pmlName.empty());
    EXPECT_FALSE(info->acceptsMiner);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Tests of the contrastive-family losses: angular, npairs, ntxent, supcon, decoupled_contrastive.
// Every reference below is a plain loop written from loss-conventions.md (§3, §6.1–6.3) or, for
// DCL, from Yeh et al. 2022 — none of them calls the engine's loss code.
#include "marginlab/losses/angular.h"
#include "marginlab/tuples.h"
#include "test_support.h"

#include <Eigen/QR>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <random>

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

using Row = Eigen::RowVectorXd;

std::unique_ptr<Loss> make(const std::string& name, ParamValues params = {},
                           std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    auto loss = makeLoss(LossConfig{name, std::move(params), distance}, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

ParamValues temperature(Real t) {
    ParamValues p;
    p.numbers["temperature"] = t;
    return p;
}

Row unit(const Points& x, int i) {
    const Row r = x.row(i);
    return r / std::max(r.norm(), 1e-12);
}

// s_ij as the pair losses see it: cosine for similarities, −distance for Lp distances.
Real similarity(const DistanceSpec& spec, const Points& x, int i, int j) {
    if (spec.isSimilarity()) return unit(x, i).dot(unit(x, j));
    const Row a = spec.normalize ? unit(x, i) : Row(x.row(i));
    const Row b = spec.normalize ? unit(x, j) : Row(x.row(j));
    const Real squared = (a - b).squaredNorm();
    return -(spec.power == 2 ? squared : std::sqrt(squared));
}

void expectRelativeNear(Real actual, Real expected, Real tolerance = 1e-9) {
    EXPECT_NEAR(actual, expected, tolerance * std::max(1.0, std::abs(expected)));
}

void expectZero(const Loss& loss, const Points& x, const Labels& y, const Tuples* tuples = nullptr) {
    const LossOutput out = loss.evaluate(LossInput{x, y, nullptr, tuples}, true);
    EXPECT_EQ(out.value, 0.0);
    ASSERT_EQ(out.gradEmbeddings.rows(), x.rows());
    ASSERT_EQ(out.gradEmbeddings.cols(), x.cols());
    EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
}

Points randomRotation(int d, std::uint64_t seed) {
    const Points random = randomPoints(d, d, seed);
    Eigen::HouseholderQR<Matrix> qr(random);
    return Matrix(qr.householderQ());
}

// Value unchanged and gradient rotated when every point is rotated (rows: x' = x Rᵀ).
void expectRotationInvariant(const Loss& loss, const Points& x, const Labels& y, std::uint64_t seed) {
    const Points r = randomRotation(static_cast<int>(x.cols()), seed);
    const Points rotated = x * r.transpose();
    const LossOutput before = loss.evaluate(LossInput{x, y}, true);
    const LossOutput after = loss.evaluate(LossInput{rotated, y}, true);
    expectRelativeNear(after.value, before.value, 1e-12);
    const Points expected = before.gradEmbeddings * r.transpose();
    EXPECT_LE((after.gradEmbeddings - expected).cwiseAbs().maxCoeff(),
              1e-10 * std::max(1.0, expected.cwiseAbs().maxCoeff()));
}

struct Config {
    int n, d, classes;
    std::uint64_t seed;
};
const Config kConfigs[] = {{12, 2, 3, 11}, {15, 3, 4, 12}, {18, 2, 4, 13}, {20, 3, 3, 14}, {13, 2, 3, 15}};

// ---------------------------------------------------------------- angular (§3)

Real referenceAngular(const Points& x, const Labels& y, Real alphaDegrees) {
    const Real t = std::pow(std::tan(alphaDegrees * std::numbers::pi / 180.0), 2);
    const int n = static_cast<int>(x.rows());
    Real sum = 0.0;
    int pairs = 0;
    bool anyNegative = false;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (a == p || y[a] != y[p]) continue;
            ++pairs;
            const Row anchor = unit(x, a), positive = unit(x, p);
            Real inner = 0.0;
            for (int m = 0; m < n; ++m) {
                if (y[m] == y[a]) continue;
                anyNegative = true;
                // x_n raw: PML's quirk.
                inner += std::exp(4 * t * (anchor + positive).dot(x.row(m)) - 2 * (1 + t) * anchor.dot(positive));
            }
            sum += std::log(1 + inner);
        }
    return pairs == 0 || !anyNegative ? 0.0 : sum / pairs;
}

TEST(AngularLoss, MatchesReferenceLoop) {
    for (const Config& c : kConfigs)
        for (Real alpha : {40.0, 25.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed, 1.5);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 100);
            ParamValues p;
            p.numbers["alpha"] = alpha;
            const auto loss = make("angular", p);
            const Real expected = referenceAngular(x, y, alpha);
            expectRelativeNear(loss->evaluate(LossInput{x, y}, false).value, expected);
            // The explicit per-pair path must agree with the factorized one.
            expectRelativeNear(AngularLoss(alpha, false).evaluate(LossInput{x, y}, false).value, expected);
        }
}

TEST(AngularLoss, LargeRawNormsUseTheSafePath) {
    // ‖x‖ ≈ 60 puts 16·t·‖x‖ above 600: exponents of hundreds must not overflow.
    const Points x = randomPoints(10, 2, 21, 40.0);
    const Labels y = randomLabels(10, 3, 22);
    const auto loss = make("angular");
    const LossOutput out = loss->evaluate(LossInput{x, y}, true);
    ASSERT_TRUE(std::isfinite(out.value));
    EXPECT_GT(out.value, 10.0);
    EXPECT_TRUE(out.gradEmbeddings.allFinite());
    // Reference in log space for these magnitudes: log(1+Σe^f) = LSE over {0} ∪ {f}.
    const Real t = std::pow(std::tan(40.0 * std::numbers::pi / 180.0), 2);
    Real sum = 0.0;
    int pairs = 0;
    for (int a = 0; a < 10; ++a)
        for (int p = 0; p < 10; ++p) {
            if (a == p || y[a] != y[p]) continue;
            ++pairs;
            std::vector<Real> f{0.0};
            for (int m = 0; m < 10; ++m)
                if (y[m] != y[a])
                    f.push_back(4 * t * (unit(x, a) + unit(x, p)).dot(x.row(m)) - 2 * (1 + t) * unit(x, a).dot(unit(x, p)));
            const Real top = *std::max_element(f.begin(), f.end());
            Real s = 0.0;
            for (Real v : f) s += std::exp(v - top);
            sum += top + std::log(s);
        }
    expectRelativeNear(out.value, sum / pairs);
}

TEST(AngularLoss, GradientMatchesFiniteDifferences) {
    for (const Config& c : kConfigs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 7, 1.0);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 8);
        for (bool factorized : {true, false}) {
            const AngularLoss loss(40.0, factorized);
            EXPECT_LE(finiteDifferenceError(loss, LossInput{x, y}).embeddings, 1e-6) << "factorized " << factorized;
        }
    }
}

TEST(AngularLoss, BlockedFactorizedPathMatchesExplicitPath) {
    // Classes of 200 against 400 negatives: E' is built in blocks of negatives (157 for a class
    // of 200), so three blocks, the last one ragged (angular_test.cpp varies this further).
    const int n = 600;
    const Points x = randomPoints(n, 3, 61, 0.8);
    const Labels y = randomLabels(n, 3, 62);
    ASSERT_GE((n - 200 + AngularLoss::negativesPerBlock(200) - 1) / AngularLoss::negativesPerBlock(200), 3);
    const LossInput input{x, y};
    const LossOutput fast = AngularLoss(40.0, true).evaluate(input, true);
    const LossOutput slow = AngularLoss(40.0, false).evaluate(input, true);
    // The same positive terms summed in other orders (K over n in one chain, then one log per pair,
    // against a log-sum-exp per pair): measured 0 for the value and 4e-15 of the largest gradient
    // entry; the tolerances leave a margin of 10⁴ (angular_test.cpp holds tighter ones).
    expectRelativeNear(fast.value, slow.value, 1e-11);
    expectRelativeNear(fast.value, referenceAngular(x, y, 40.0));
    EXPECT_LE((fast.gradEmbeddings - slow.gradEmbeddings).cwiseAbs().maxCoeff(),
              1e-10 * slow.gradEmbeddings.cwiseAbs().maxCoeff());
    EXPECT_EQ(fast.stats.tuples, slow.stats.tuples);
    EXPECT_EQ(fast.stats.active, slow.stats.active);
}

TEST(AngularLoss, NegativesEnterRaw) {
    // Scaling a negative changes the loss (it would not if x_n were normalized); scaling an
    // anchor/positive does not.
    const Points x = randomPoints(8, 2, 31);
    const Labels y = {0, 0, 1, 1, 0, 1, 2, 2};
    const auto loss = make("angular");
    const Real base = loss->evaluate(LossInput{x, y}, false).value;
    Points scaled = x;
    scaled.row(0) *= 3.0;
    const Real scaledAll = loss->evaluate(LossInput{scaled, y}, false).value;
    expectRelativeNear(scaledAll, referenceAngular(scaled, y, 40.0));
    EXPECT_GT(std::abs(scaledAll - base), 1e-3);  // x_0 is a negative for classes 1 and 2
    // With one positive class only, every x_n is a negative of a class of size ≥ 2...
    const Labels single = {0, 0, 1, 2, 3, 4, 5, 6};
    const Real a = loss->evaluate(LossInput{x, single}, false).value;
    const Real b = loss->evaluate(LossInput{scaled, single}, false).value;
    EXPECT_NEAR(a, b, 1e-12);  // ...and x_0 is only anchor/positive: enters normalized
}

TEST(AngularLoss, RotationInvariant) {
    const Points x = randomPoints(14, 3, 41);
    expectRotationInvariant(*make("angular"), x, randomLabels(14, 3, 42), 43);
    const Points x2 = randomPoints(12, 2, 44);
    expectRotationInvariant(*make("angular"), x2, randomLabels(12, 4, 45), 46);
}

TEST(AngularLoss, EmptyCasesAreZero) {
    const Points x = randomPoints(6, 2, 51);
    expectZero(*make("angular"), x, Labels{0, 0, 0, 0, 0, 0});  // no negatives
    expectZero(*make("angular"), x, Labels{0, 1, 2, 3, 4, 5});  // no positives
}

TEST(AngularLoss, HandComputedTinyValue) {
    // α = 45° → t = 1. x0 = (1,0), x1 = (2,0) (class 0, both normalize to (1,0)); x2 = (0.5,0)
    // (class 1, used raw). Pairs (0,1) and (1,0): s_ap = 1,
    // f = 4·((1,0)+(1,0))·(0.5,0) − 2·2·1 = 4 − 4 = 0 → ℓ = log(1 + e⁰) = log 2 = 0.6931471805599453.
    // (Had x2 been normalized: f = 8 − 4 = 4.)
    Points x(3, 2);
    x << 1, 0, 2, 0, 0.5, 0;
    ParamValues p;
    p.numbers["alpha"] = 45.0;
    EXPECT_NEAR(make("angular", p)->evaluate(LossInput{x, Labels{0, 0, 1}}, false).value, 0.6931471805599453, 1e-12);
}

// ---------------------------------------------------------------- npairs (§6.1)

Real referenceNPairs(const Points& x, const Labels& y) {
    std::map<int, std::vector<int>> members;
    for (int i = 0; i < static_cast<int>(y.size()); ++i) members[y[i]].push_back(i);
    std::vector<int> anchors, positives;
    for (const auto& [label, list] : members)
        if (list.size() >= 2) {
            anchors.push_back(list[0]);
            positives.push_back(list[1]);
        }
    const int k = static_cast<int>(anchors.size());
    if (k == 0) return 0.0;
    Real sum = 0.0;
    for (int r = 0; r < k; ++r) {
        Real denominator = 0.0;
        for (int c = 0; c < k; ++c) denominator += std::exp(unit(x, anchors[r]).dot(unit(x, positives[c])));
        sum += -unit(x, anchors[r]).dot(unit(x, positives[r])) + std::log(denominator);
    }
    return sum / k;
}

TEST(NPairsLoss, MatchesReferenceLoop) {
    for (const Config& c : kConfigs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 200);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 201);
        expectRelativeNear(make("npairs")->evaluate(LossInput{x, y}, false).value, referenceNPairs(x, y));
    }
}

TEST(NPairsLoss, GradientMatchesFiniteDifferences) {
    for (const Config& c : kConfigs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 210);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 211);
        EXPECT_LE(finiteDifferenceError(*make("npairs"), LossInput{x, y}).embeddings, 1e-6);
    }
}

TEST(NPairsLoss, OnlyFirstTwoOfEachClassMatter) {
    const Points x = randomPoints(9, 2, 221);
    const Labels y = {2, 0, 2, 0, 1, 1, 0, 2, 1};
    const auto loss = make("npairs");
    const LossOutput out = loss->evaluate(LossInput{x, y}, true);
    // Indices 6, 7, 8 are third members: no gradient, and moving them changes nothing.
    for (int i : {6, 7, 8}) EXPECT_EQ(out.gradEmbeddings.row(i).cwiseAbs().maxCoeff(), 0.0);
    Points moved = x;
    moved.row(7) << 5.0, -3.0;
    EXPECT_EQ(loss->evaluate(LossInput{moved, y}, false).value, out.value);
}

TEST(NPairsLoss, RotationInvariant) {
    expectRotationInvariant(*make("npairs"), randomPoints(15, 3, 231), randomLabels(15, 4, 232), 233);
}

TEST(NPairsLoss, EmptyCasesAreZero) {
    const Points x = randomPoints(5, 2, 241);
    expectZero(*make("npairs"), x, Labels{0, 1, 2, 3, 4});  // no class of size ≥ 2
    expectZero(*make("npairs"), x, Labels{0, 0, 0, 0, 0});  // K = 1: CE of one logit
}

TEST(NPairsLoss, HandComputedTinyValue) {
    // Class 0: x0 = (1,0) (anchor), x1 = (1,0) (positive), x4 = (−1,0) ignored;
    // class 1: x2 = (0,1), x3 = (0,3). S = [[1,0],[0,1]] → ℓ_k = −1 + log(e + 1) = log(1 + e⁻¹)
    // = 0.31326168751822286 for both rows.
    Points x(5, 2);
    x << 1, 0, 1, 0, 0, 1, 0, 3, -1, 0;
    EXPECT_NEAR(make("npairs")->evaluate(LossInput{x, Labels{0, 0, 1, 1, 0}}, false).value, 0.31326168751822286, 1e-12);
}

// ---------------------------------------------------------------- ntxent (§6.2)

Real referenceNTXent(const Points& x, const Labels& y, Real tau, const DistanceSpec& spec) {
    const int n = static_cast<int>(x.rows());
    Real sum = 0.0;
    int pairs = 0, negatives = 0;
    for (int a = 0; a < n; ++a)
        for (int j = 0; j < n; ++j) negatives += y[a] != y[j];
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (a == p || y[a] != y[p]) continue;
            ++pairs;
            const Real numerator = std::exp(similarity(spec, x, a, p) / tau);
            Real denominator = numerator;
            for (int m = 0; m < n; ++m)
                if (y[m] != y[a]) denominator += std::exp(similarity(spec, x, a, m) / tau);
            sum += -std::log(numerator / denominator);
        }
    return pairs == 0 || negatives == 0 ? 0.0 : sum / pairs;
}

// PML with indices_tuple: positives = the mined list, negatives of (a,p) = mined (a,n) with the same a.
Real referenceNTXentMined(const Points& x, const std::vector<Pair>& positives, const std::vector<Pair>& negatives,
                          Real tau) {
    if (positives.empty() || negatives.empty()) return 0.0;
    if (positives.size() <= 1 && negatives.size() <= 1) return 0.0;
    const DistanceSpec cosine = DistanceSpec::cosine();
    Real sum = 0.0;
    for (const Pair& pp : positives) {
        const Real numerator = std::exp(similarity(cosine, x, pp[0], pp[1]) / tau);
        Real denominator = numerator;
        for (const Pair& np : negatives)
            if (np[0] == pp[0]) denominator += std::exp(similarity(cosine, x, np[0], np[1]) / tau);
        sum += -std::log(numerator / denominator);
    }
    return sum / static_cast<Real>(positives.size());
}

std::vector<DistanceSpec> pairDistances() {
    return {DistanceSpec::cosine(), DistanceSpec::lp(1, true), DistanceSpec::lp(2, false)};
}

TEST(NTXentLoss, MatchesReferenceLoop) {
    for (const Config& c : kConfigs)
        for (const DistanceSpec& spec : pairDistances())
            for (Real tau : {0.07, 0.5}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 300);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 301);
                expectRelativeNear(make("ntxent", temperature(tau), spec)->evaluate(LossInput{x, y}, false).value,
                                   referenceNTXent(x, y, tau, spec));
            }
}

TEST(NTXentLoss, DefaultTemperatureIsPmls) {
    const Points x = randomPoints(12, 2, 305);
    const Labels y = randomLabels(12, 3, 306);
    expectRelativeNear(make("ntxent")->evaluate(LossInput{x, y}, false).value,
                       referenceNTXent(x, y, 0.07, DistanceSpec::cosine()));
}

TEST(NTXentLoss, GradientMatchesFiniteDifferences) {
    for (const Config& c : kConfigs)
        for (const DistanceSpec& spec : pairDistances()) {
            const Points x = randomPoints(c.n, c.d, c.seed + 310);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 311);
            EXPECT_LE(finiteDifferenceError(*make("ntxent", temperature(0.3), spec), LossInput{x, y}).embeddings, 1e-6)
                << spec.describe();
        }
}

TEST(NTXentLoss, TwoSamplesPerClassIsSimCLR) {
    // SimCLR (Chen et al. 2020): 2B views, view i's partner j(i); ℓ_i = −log(e^{s_ij/τ} / Σ_{k≠i} e^{s_ik/τ}),
    // loss = mean over the 2B views.
    const int n = 10;
    const Points x = randomPoints(n, 3, 321);
    const Labels y = {0, 1, 2, 3, 4, 4, 3, 2, 1, 0};
    const Real tau = 0.2;
    Real sum = 0.0;
    for (int i = 0; i < n; ++i) {
        const int partner = n - 1 - i;
        Real denominator = 0.0;
        for (int k = 0; k < n; ++k)
            if (k != i) denominator += std::exp(unit(x, i).dot(unit(x, k)) / tau);
        sum += -std::log(std::exp(unit(x, i).dot(unit(x, partner)) / tau) / denominator);
    }
    expectRelativeNear(make("ntxent", temperature(tau))->evaluate(LossInput{x, y}, false).value, sum / n);
}

std::vector<Pair> randomSubset(const std::vector<Pair>& all, double keep, std::mt19937_64& rng) {
    std::bernoulli_distribution coin(keep);
    std::vector<Pair> out;
    for (const Pair& p : all)
        if (coin(rng)) {
            out.push_back(p);
            if (coin(rng)) out.push_back(p);  // duplicates count, as in PML's lists
        }
    return out;
}

TEST(NTXentLoss, MinedPairsMatchReferenceLoop) {
    for (const Config& c : kConfigs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 330);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 331);
        std::mt19937_64 rng(c.seed);
        const auto positives = randomSubset(allPositivePairs(y), 0.5, rng);
        const auto negatives = randomSubset(allNegativePairs(y), 0.3, rng);
        const Tuples tuples = Tuples::fromPairs(positives, negatives);
        const auto loss = make("ntxent", temperature(0.25));
        const LossInput input{x, y, nullptr, &tuples};
        const Real expected = referenceNTXentMined(x, positives, negatives, 0.25);
        EXPECT_GT(expected, 0.0);
        expectRelativeNear(loss->evaluate(input, false).value, expected);
        // Mined pairs must differ from the all-pairs value (the miner is really used).
        EXPECT_GT(std::abs(expected - referenceNTXent(x, y, 0.25, DistanceSpec::cosine())), 1e-6);
        EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6);
    }
}

TEST(NTXentLoss, MinedTripletsBecomePairs) {
    const Points x = randomPoints(12, 2, 341);
    const Labels y = randomLabels(12, 3, 342);
    std::vector<Triplet> triplets = {{0, 0, 0}};
    triplets.clear();
    for (int a = 0; a < 12; ++a)
        for (int p = 0; p < 12; ++p)
            for (int m = 0; m < 12; ++m)
                if (a != p && y[a] == y[p] && y[m] != y[a] && (a + 2 * p + 3 * m) % 7 == 0) triplets.push_back({a, p, m});
    std::vector<Pair> positives, negatives;
    for (const Triplet& t : triplets) {
        positives.push_back({t[0], t[1]});
        negatives.push_back({t[0], t[2]});
    }
    const Tuples tuples = Tuples::fromTriplets(triplets);
    const auto loss = make("ntxent", temperature(0.3));
    const LossInput input{x, y, nullptr, &tuples};
    expectRelativeNear(loss->evaluate(input, false).value, referenceNTXentMined(x, positives, negatives, 0.3));
    EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6);
}

std::vector<TripletGapFilter> gapFilters() {
    const Real inf = std::numeric_limits<Real>::infinity();
    // PML TripletMarginMiner(margin 0.2): "all", "semihard", "easy", "hard"; then with cosine.
    return {TripletGapFilter{-inf, 0.2, false, true, DistanceSpec::lp(1, true)},
            TripletGapFilter{0.0, 0.2, false, true, DistanceSpec::lp(1, true)},
            TripletGapFilter{0.2, inf, false, false, DistanceSpec::lp(1, true)},
            TripletGapFilter{-inf, 0.0, false, true, DistanceSpec::lp(1, true)},
            TripletGapFilter{0.0, 0.3, false, true, DistanceSpec::cosine()}};
}

TEST(NTXentLoss, GapFilteredTripletsMatchMaterializedLists) {
    // Kind::All with a filter is counted per anchor instead of listing triplets; the result must
    // equal the loss over the explicit lists that materializeTriplets gives.
    int nonTrivial = 0;
    for (const Config& c : kConfigs)
        for (const TripletGapFilter& filter : gapFilters()) {
            const Points x = randomPoints(c.n, c.d, c.seed + 380);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 381);
            Tuples tuples = Tuples::all();
            tuples.filter = filter;
            std::vector<Pair> positives, negatives;
            for (const Triplet& t : materializeTriplets(tuples, x, y)) {
                positives.push_back({t[0], t[1]});
                negatives.push_back({t[0], t[2]});
            }
            const auto loss = make("ntxent", temperature(0.3));
            const LossInput input{x, y, nullptr, &tuples};
            const LossOutput out = loss->evaluate(input, false);
            expectRelativeNear(out.value, referenceNTXentMined(x, positives, negatives, 0.3));
            EXPECT_EQ(out.stats.tuples, static_cast<Count>(positives.size()));
            nonTrivial += out.value > 0.0;
        }
    EXPECT_GE(nonTrivial, 20);  // of 25 configurations
    const Points x = randomPoints(14, 2, 391);
    const Labels y = randomLabels(14, 3, 392);
    Tuples tuples = Tuples::all();
    tuples.filter = gapFilters()[1];
    EXPECT_LE(finiteDifferenceError(*make("ntxent", temperature(0.3)), LossInput{x, y, nullptr, &tuples}).embeddings, 1e-6);
}

TEST(NTXentLoss, MinedPairsEdgeCases) {
    const Points x = randomPoints(6, 2, 351);
    const Labels y = {0, 0, 1, 1, 2, 2};
    const auto loss = make("ntxent");
    // PML's GenericPairLoss: one positive and one negative pair only → 0.
    const Tuples single = Tuples::fromPairs({{0, 1}}, {{0, 2}});
    expectZero(*loss, x, y, &single);
    const Tuples noNegatives = Tuples::fromPairs({{0, 1}, {2, 3}}, {});
    expectZero(*loss, x, y, &noNegatives);
    // A positive pair whose anchor has no mined negative adds 0 but counts in the mean.
    const Tuples partial = Tuples::fromPairs({{0, 1}, {2, 3}}, {{0, 4}, {0, 5}});
    const Real expected = referenceNTXentMined(x, {{0, 1}, {2, 3}}, {{0, 4}, {0, 5}}, 0.07);
    const Real onlyFirst = referenceNTXentMined(x, {{0, 1}, {0, 1}}, {{0, 4}, {0, 5}}, 0.07);
    expectRelativeNear(loss->evaluate(LossInput{x, y, nullptr, &partial}, false).value, expected);
    expectRelativeNear(expected, onlyFirst / 2);
}

TEST(NTXentLoss, RotationInvariant) {
    expectRotationInvariant(*make("ntxent", temperature(0.2)), randomPoints(15, 3, 361), randomLabels(15, 4, 362), 363);
    expectRotationInvariant(*make("ntxent", temperature(0.2), DistanceSpec::lp(2, false)), randomPoints(12, 2, 364),
                            randomLabels(12, 3, 365), 366);
}

TEST(NTXentLoss, EmptyCasesAreZero) {
    const Points x = randomPoints(5, 2, 371);
    expectZero(*make("ntxent"), x, Labels{3, 3, 3, 3, 3});
    expectZero(*make("ntxent"), x, Labels{0, 1, 2, 3, 4});
}

TEST(NTXentLoss, HandComputedTinyValue) {
    // τ = 1, x0 = (1,0), x1 = (0,1), x2 = (−1,0) in class 0; x3 = (0,−1) in class 1.
    // (0,1): s=0, negative s_03=0 → log 2;     (0,2): s=−1, s_03=0 → log(1+e)
    // (1,0): s=0, s_13=−1 → log(1+e⁻¹);       (1,2): s=0, s_13=−1 → log(1+e⁻¹)
    // (2,0): s=−1, s_23=0 → log(1+e);         (2,1): s=0, s_23=0 → log 2
    // mean = (log 2 + log(1+e) + log(1+e⁻¹)) / 3 = 0.7732235185321303 (other positives not in the denominator).
    Points x(4, 2);
    x << 1, 0, 0, 1, -1, 0, 0, -1;
    EXPECT_NEAR(make("ntxent", temperature(1.0))->evaluate(LossInput{x, Labels{0, 0, 0, 1}}, false).value,
                0.7732235185321303, 1e-12);
}

// ---------------------------------------------------------------- supcon (§6.3)

Real referenceSupCon(const Points& x, const Labels& y, Real tau, const DistanceSpec& spec) {
    const int n = static_cast<int>(x.rows());
    int positivePairs = 0, negativePairs = 0;
    for (int a = 0; a < n; ++a)
        for (int j = 0; j < n; ++j)
            if (a != j) (y[a] == y[j] ? positivePairs : negativePairs)++;
    if (positivePairs == 0 || negativePairs == 0) return 0.0;
    Real sum = 0.0;
    int nonZero = 0;
    for (int i = 0; i < n; ++i) {
        Real denominator = 0.0;
        for (int k = 0; k < n; ++k)
            if (k != i) denominator += std::exp(similarity(spec, x, i, k) / tau);
        Real logProbSum = 0.0;
        int positives = 0;
        for (int p = 0; p < n; ++p)
            if (p != i && y[p] == y[i]) {
                logProbSum += similarity(spec, x, i, p) / tau - std::log(denominator);
                ++positives;
            }
        if (positives == 0) continue;
        const Real term = -logProbSum / positives;
        if (term > 0) {
            sum += term;
            ++nonZero;
        }
    }
    return nonZero == 0 ? 0.0 : sum / nonZero;
}

TEST(SupConLoss, MatchesReferenceLoop) {
    for (const Config& c : kConfigs)
        for (const DistanceSpec& spec : pairDistances())
            for (Real tau : {0.1, 0.7}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 400);
                Labels y = randomLabels(c.n, c.classes, c.seed + 401);
                y[0] = 99;  // a singleton: no positives, ℓ_0 = 0 is left out of the average
                expectRelativeNear(make("supcon", temperature(tau), spec)->evaluate(LossInput{x, y}, false).value,
                                   referenceSupCon(x, y, tau, spec));
            }
}

TEST(SupConLoss, GradientMatchesFiniteDifferences) {
    for (const Config& c : kConfigs)
        for (const DistanceSpec& spec : pairDistances()) {
            const Points x = randomPoints(c.n, c.d, c.seed + 410);
            Labels y = randomLabels(c.n, c.classes, c.seed + 411);
            y[1] = 98;
            EXPECT_LE(finiteDifferenceError(*make("supcon", temperature(0.3), spec), LossInput{x, y}).embeddings, 1e-6)
                << spec.describe();
        }
}

TEST(SupConLoss, MinedPairsUseMasks) {
    // Reference with PML's mat-based masks: mask[a,j] = 1 per listed pair (duplicates collapse);
    // denominator over the kept entries of row i, ℓ_i over its kept positives.
    const Points x = randomPoints(14, 3, 421);
    const Labels y = randomLabels(14, 3, 422);
    std::mt19937_64 rng(423);
    const auto positives = randomSubset(allPositivePairs(y), 0.6, rng);
    const auto negatives = randomSubset(allNegativePairs(y), 0.4, rng);
    const Real tau = 0.4;
    std::vector<std::vector<int>> pos(14, std::vector<int>(14, 0)), neg = pos;
    for (const Pair& p : positives) pos[p[0]][p[1]] = 1;
    for (const Pair& p : negatives) neg[p[0]][p[1]] = 1;
    const DistanceSpec cosine = DistanceSpec::cosine();
    Real sum = 0.0;
    int nonZero = 0;
    for (int i = 0; i < 14; ++i) {
        Real denominator = 0.0;
        for (int k = 0; k < 14; ++k)
            if (pos[i][k] || neg[i][k]) denominator += std::exp(similarity(cosine, x, i, k) / tau);
        Real logProbSum = 0.0;
        int count = 0;
        for (int k = 0; k < 14; ++k)
            if (pos[i][k]) {
                logProbSum += similarity(cosine, x, i, k) / tau - std::log(denominator);
                ++count;
            }
        if (count == 0) continue;
        const Real term = -logProbSum / count;
        if (term > 0) {
            sum += term;
            ++nonZero;
        }
    }
    ASSERT_GT(nonZero, 0);
    const Tuples tuples = Tuples::fromPairs(positives, negatives);
    const auto loss = make("supcon", temperature(tau));
    const LossInput input{x, y, nullptr, &tuples};
    expectRelativeNear(loss->evaluate(input, false).value, sum / nonZero);
    EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6);
}

TEST(SupConLoss, GapFilteredTripletsGiveTheMasksOfTheirPairs) {
    // With a filtered Kind::All the masks are those of the materialized lists; a loss built from
    // explicit pair lists must give the same value.
    for (const TripletGapFilter& filter : gapFilters()) {
        const Points x = randomPoints(15, 3, 451);
        const Labels y = randomLabels(15, 3, 452);
        Tuples tuples = Tuples::all();
        tuples.filter = filter;
        std::vector<Pair> positives, negatives;
        materializePairs(tuples, x, y, &positives, &negatives);
        const Tuples explicitPairs = Tuples::fromPairs(positives, negatives);
        const auto loss = make("supcon", temperature(0.3));
        expectRelativeNear(loss->evaluate(LossInput{x, y, nullptr, &tuples}, false).value,
                           loss->evaluate(LossInput{x, y, nullptr, &explicitPairs}, false).value, 1e-12);
    }
}

TEST(SupConLoss, RotationInvariant) {
    expectRotationInvariant(*make("supcon"), randomPoints(16, 3, 431), randomLabels(16, 4, 432), 433);
}

TEST(SupConLoss, EmptyCasesAreZero) {
    const Points x = randomPoints(5, 3, 441);
    expectZero(*make("supcon"), x, Labels{1, 1, 1, 1, 1});
    expectZero(*make("supcon"), x, Labels{0, 1, 2, 3, 4});
}

TEST(SupConLoss, HandComputedTinyValue) {
    // τ = 1, same points as the NT-Xent case: x0=(1,0), x1=(0,1), x2=(−1,0) class 0; x3=(0,−1) class 1.
    // Anchor 0: others s = 0 (x1, +), −1 (x2, +), 0 (x3, −): D = log(2+e⁻¹), ℓ_0 = D − (0 − 1)/2 = D + ½
    // Anchor 1: s = 0 (+), 0 (+), −1 (−): ℓ_1 = D − 0 = D.  Anchor 2: like anchor 0: D + ½.
    // Anchor 3: no positive → 0, left out. Loss = (3D + 1)/3 = log(2+e⁻¹) + 1/3 = 1.1953281373915845.
    Points x(4, 2);
    x << 1, 0, 0, 1, -1, 0, 0, -1;
    EXPECT_NEAR(make("supcon", temperature(1.0))->evaluate(LossInput{x, Labels{0, 0, 0, 1}}, false).value,
                1.1953281373915845, 1e-12);
}

// ---------------------------------------------------------------- decoupled contrastive (Yeh et al. 2022)

Real referenceDecoupled(const Points& x, const Labels& y, Real tau, const DistanceSpec& spec) {
    const int n = static_cast<int>(x.rows());
    Real sum = 0.0;
    int pairs = 0;
    bool anyNegative = false;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (a == p || y[a] != y[p]) continue;
            ++pairs;
            Real negatives = 0.0;
            for (int m = 0; m < n; ++m)
                if (y[m] != y[a]) {
                    negatives += std::exp(similarity(spec, x, a, m) / tau);
                    anyNegative = true;
                }
            sum += -similarity(spec, x, a, p) / tau + std::log(negatives);
        }
    return pairs == 0 || !anyNegative ? 0.0 : sum / pairs;
}

TEST(DecoupledContrastiveLoss, MatchesReferenceLoop) {
    for (const Config& c : kConfigs)
        for (const DistanceSpec& spec : pairDistances())
            for (Real tau : {0.1, 0.6}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 500);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 501);
                expectRelativeNear(
                    make("decoupled_contrastive", temperature(tau), spec)->evaluate(LossInput{x, y}, false).value,
                    referenceDecoupled(x, y, tau, spec));
            }
}

TEST(NegativeLogSumExp, ShiftByTheBoundKeepsTheFarEndOfItsRange) {
    // With normalized points NT-Xent and decoupled contrastive shift the negatives' log-sum-exp by
    // 1/τ instead of their maximum while 2/τ ≤ 600 (τ ≥ 1/300). Anchor (1, 0) has its positive at
    // (−1, 0) and every negative near (−1, 0) too: all its exps sit near e^{−2/τ}, the far end of
    // that range, where a term lost to underflow would change the loss. τ = 0.0034 takes the bound
    // (2/τ ≈ 588), 0.0033 and 0.002 the maximum; 2D and 3D take different kernels.
    for (int dims : {2, 3})
        for (Real tau : {0.0034, 0.0033, 0.002, 0.07}) {
            Points x = Points::Zero(7, dims);
            x.row(0)(0) = 1.0;
            x.row(1)(0) = -1.0;
            for (int k = 1; k <= 5; ++k) {
                x(k + 1, 0) = -std::cos(0.002 * k);
                x(k + 1, 1) = -std::sin(0.002 * k);
                if (dims == 3) x(k + 1, 2) = 0.001 * k;
            }
            const Labels y{0, 0, 1, 1, 1, 1, 1};
            const DistanceSpec cosine = DistanceSpec::cosine();
            expectRelativeNear(make("ntxent", temperature(tau))->evaluate(LossInput{x, y}, false).value,
                               referenceNTXent(x, y, tau, cosine), 1e-12);
            expectRelativeNear(make("decoupled_contrastive", temperature(tau))->evaluate(LossInput{x, y}, false).value,
                               referenceDecoupled(x, y, tau, cosine), 1e-12);
        }
}

TEST(DecoupledContrastiveLoss, GradientMatchesFiniteDifferences) {
    for (const Config& c : kConfigs)
        for (const DistanceSpec& spec : pairDistances()) {
            const Points x = randomPoints(c.n, c.d, c.seed + 510);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 511);
            EXPECT_LE(
                finiteDifferenceError(*make("decoupled_contrastive", temperature(0.3), spec), LossInput{x, y}).embeddings,
                1e-6)
                << spec.describe();
        }
}

TEST(DecoupledContrastiveLoss, DiffersFromNTXentByThePositiveInTheDenominator) {
    // ℓ^NTXent_ap = softplus(ℓ^DCL_ap), pair by pair: check on a batch with one positive pair per class.
    const Points x = randomPoints(6, 2, 521);
    const Labels y = {0, 0, 1, 1, 2, 2};
    const Real dcl = make("decoupled_contrastive", temperature(0.5))->evaluate(LossInput{x, y}, false).value;
    const Real nt = make("ntxent", temperature(0.5))->evaluate(LossInput{x, y}, false).value;
    EXPECT_GT(nt, dcl);
    EXPECT_GT(std::abs(nt - dcl), 1e-3);
}

TEST(DecoupledContrastiveLoss, RotationInvariant) {
    expectRotationInvariant(*make("decoupled_contrastive"), randomPoints(14, 3, 531), randomLabels(14, 3, 532), 533);
}

TEST(DecoupledContrastiveLoss, EmptyCasesAreZero) {
    const Points x = randomPoints(5, 2, 541);
    expectZero(*make("decoupled_contrastive"), x, Labels{2, 2, 2, 2, 2});
    expectZero(*make("decoupled_contrastive"), x, Labels{0, 1, 2, 3, 4});
}

TEST(DecoupledContrastiveLoss, HandComputedTinyValue) {
    // τ = 1; x0=(1,0), x1=(0,1), x2=(−1,0) class 0; x3=(1,1)/√2·2 class 1 (cosine ignores the 2).
    // s_03 = s_13 = 1/√2, s_23 = −1/√2; ℓ_ap = −s_ap + s_a3:
    // (0,1): 0+1/√2  (0,2): 1+1/√2  (1,0): 1/√2  (1,2): 1/√2  (2,0): 1−1/√2  (2,1): −1/√2
    // sum = 2 + 2/√2 = 2 + √2; mean = (2+√2)/6 = 0.5690355937288492. Note ℓ_21 < 0: no floor.
    Points x(4, 2);
    x << 1, 0, 0, 1, -1, 0, 2, 2;
    EXPECT_NEAR(make("decoupled_contrastive", temperature(1.0))->evaluate(LossInput{x, Labels{0, 0, 0, 1}}, false).value,
                0.5690355937288492, 1e-12);
}

TEST(AngularAndContrastiveCatalog, EntriesAreComplete) {
    for (const char* name : {"angular", "npairs", "ntxent", "supcon", "decoupled_contrastive"}) {
        const LossInfo* info = findLoss(name);
        ASSERT_NE(info, nullptr) << name;
        EXPECT_FALSE(info->formula.empty());
        EXPECT_TRUE(info->create);
    }
    EXPECT_EQ(findLoss("ntxent")->family, LossFamily::Contrastive);
    EXPECT_TRUE(findLoss("ntxent")->acceptsMiner);
    EXPECT_EQ(findLoss("ntxent")->params.at(0).defaultValue, 0.07);
    EXPECT_EQ(findLoss("supcon")->params.at(0).defaultValue, 0.1);
    EXPECT_EQ(findLoss("angular")->params.at(0).defaultValue, 40.0);
    EXPECT_EQ(findLoss("npairs")->params.size(), 0u);
    std::string error;
    EXPECT_EQ(makeLoss(LossConfig{"angular", {}, DistanceSpec::cosine()}, &error), nullptr);
}

}  // namespace
}  // namespace marginlab

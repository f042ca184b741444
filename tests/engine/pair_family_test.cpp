// SPDX-License-Identifier: MIT
// Tests of the pair-family losses: lifted structure, generalized lifted structure, circle,
// multi-similarity, soft nearest neighbor and NCE. The references below are plain loops written
// straight from loss-conventions.md §6.4–6.7 and from the papers' formulas (see the headers);
// they deliberately share no code with the implementations.
#include "marginlab/loss.h"
#include "marginlab/losses/nce.h"
#include "parallel.h"
#include "test_support.h"

#include <Eigen/QR>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

struct Config {
    int n;
    int d;
    int classes;
    std::uint64_t seed;
};

// N = 12..20, D = 2 and 3, 3–4 classes.
const std::vector<Config> configs = {{12, 2, 3, 11}, {16, 3, 4, 12}, {20, 2, 4, 13}, {14, 3, 3, 14}};

std::unique_ptr<Loss> make(const std::string& name, std::map<std::string, double, std::less<>> numbers = {},
                           std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    ParamValues values;
    values.numbers = std::move(numbers);
    auto loss = makeLoss(LossConfig{name, values, distance}, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

LossOutput run(const Loss& loss, const Points& x, const Labels& y, const Tuples* tuples = nullptr,
               std::uint64_t seed = 0) {
    return loss.evaluate(LossInput{x, y, nullptr, tuples, seed}, true);
}

void expectRelative(Real actual, Real expected, Real tolerance = 1e-9) {
    EXPECT_NEAR(actual, expected, tolerance * std::max(1.0, std::abs(expected)));
}

void expectZero(const LossOutput& out) {
    EXPECT_EQ(out.value, 0.0);
    EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
}

// --- reference building blocks -----------------------------------------------------------------

/// M_ij straight from the definitions (independent of SelfDistance).
Matrix referenceMatrix(const Points& x, const DistanceSpec& spec) {
    Points e = x;
    if (spec.normalizes())
        for (int i = 0; i < x.rows(); ++i) e.row(i) /= std::max(x.row(i).norm(), 1e-12);
    const int n = static_cast<int>(x.rows());
    Matrix m(n, n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            Real dot = 0, squared = 0;
            for (int k = 0; k < x.cols(); ++k) {
                dot += e(i, k) * e(j, k);
                squared += (e(i, k) - e(j, k)) * (e(i, k) - e(j, k));
            }
            if (spec.isSimilarity()) m(i, j) = dot;
            else m(i, j) = spec.power == 1 ? std::sqrt(squared) : squared;
        }
    return m;
}

/// log Σ exp, 0 for an empty list (PML's helper).
Real naiveLogSumExp(const std::vector<Real>& z) {
    if (z.empty()) return 0.0;
    Real sum = 0;
    for (Real v : z) sum += std::exp(v);
    return std::log(sum);
}

Real torchSoftplus(Real v) { return v > 20 ? v : std::log(1 + std::exp(v)); }

/// A random orthogonal D×D matrix.
Matrix randomRotation(int d, std::uint64_t seed) {
    const Matrix a = randomPoints(d, d, seed);
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
    return qr.householderQ();
}

/// Central differences of an arbitrary function of the embeddings.
Points numericGradient(const std::function<Real(const Points&)>& f, Points x, Real step = 1e-6) {
    Points g(x.rows(), x.cols());
    for (int i = 0; i < x.rows(); ++i)
        for (int j = 0; j < x.cols(); ++j) {
            const Real saved = x(i, j);
            x(i, j) = saved + step;
            const Real up = f(x);
            x(i, j) = saved - step;
            const Real down = f(x);
            x(i, j) = saved;
            g(i, j) = (up - down) / (2 * step);
        }
    return g;
}

Real relativeError(const Points& analytic, const Points& numeric) {
    return (analytic - numeric).cwiseAbs().maxCoeff() / std::max(numeric.cwiseAbs().maxCoeff(), 1e-6);
}

const std::vector<DistanceSpec> liftedDistances = {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false),
                                                   DistanceSpec::lp(2, false), DistanceSpec::lp(2, true),
                                                   DistanceSpec::cosine()};

void expectRotationEquivariant(const Loss& loss, const Points& x, const Labels& y, std::uint64_t seed,
                               const Tuples* tuples = nullptr) {
    const Matrix r = randomRotation(static_cast<int>(x.cols()), seed);
    const Points rotated = x * r;
    const LossOutput a = run(loss, x, y, tuples, 5), b = run(loss, rotated, y, tuples, 5);
    expectRelative(b.value, a.value, 1e-10);
    const Points expected = a.gradEmbeddings * r;
    EXPECT_LT((b.gradEmbeddings - expected).cwiseAbs().maxCoeff(), 1e-10 * std::max(1.0, expected.cwiseAbs().maxCoeff()));
}

// Three points on the unit circle used by the hand-computed values: x0 = (1,0), x1 = (0,1) of
// class 0 and x2 = (−1,0) of class 1. Normalized Euclidean: d01 = √2, d02 = 2, d12 = √2.
// Cosine: s01 = 0, s02 = −1, s12 = 0.
Points tinyPoints() {
    Points x(3, 2);
    x << 1, 0, 0, 1, -1, 0;
    return x;
}
const Labels tinyLabels = {0, 0, 1};

// --- lifted structure (§6.4) -------------------------------------------------------------------

Real referenceLifted(const Points& x, const Labels& y, Real mn, Real mp, const DistanceSpec& spec) {
    const Matrix m = referenceMatrix(x, spec);
    const bool similarity = spec.isSimilarity();
    const int n = static_cast<int>(y.size());
    Real sum = 0;
    int pairs = 0;
    bool anyNegative = false;
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) anyNegative = anyNegative || y[a] != y[b];
    if (!anyNegative) return 0;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (a == p || y[a] != y[p]) continue;
            Real inner = 0;
            for (int k = 0; k < n; ++k) {
                if (y[k] != y[a]) inner += std::exp(similarity ? m(a, k) - mn : mn - m(a, k));
                if (y[k] != y[p]) inner += std::exp(similarity ? m(p, k) - mn : mn - m(p, k));
            }
            const Real j = std::log(inner) + (similarity ? mp - m(a, p) : m(a, p) - mp);
            sum += std::pow(std::max(j, 0.0), 2) / 2;
            ++pairs;
        }
    return pairs ? sum / pairs : 0.0;
}

TEST(LiftedStructure, MatchesReferenceLoop) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : liftedDistances)
            for (auto [mn, mp] : {std::pair{1.0, 0.0}, std::pair{0.5, 0.2}}) {
                const Points x = randomPoints(c.n, c.d, c.seed);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 100);
                const auto loss = make("lifted_structure", {{"neg_margin", mn}, {"pos_margin", mp}}, spec);
                const Real expected = referenceLifted(x, y, mn, mp, spec);
                EXPECT_GT(expected, 0.0);
                expectRelative(run(*loss, x, y).value, expected);
            }
}

TEST(LiftedStructure, FarApartClassesTakeTheExactShift) {
    // Un-normalized, classes 1000 units apart: e^{mn − M} underflows for every negative, so the
    // one-pass shift by mn gives a zero sum and the row must be redone with the exact maximum.
    Points x(6, 2);
    x << 0.0, 0.0, 0.3, 0.1, -0.2, 0.4, 1000.0, 0.0, 1000.5, 0.2, 999.7, -0.3;
    const Labels y = {0, 0, 0, 1, 1, 1};
    const DistanceSpec spec = DistanceSpec::lp(1, false);
    const auto loss = make("lifted_structure", {{"neg_margin", 1.0}, {"pos_margin", 0.0}}, spec);
    const LossOutput out = run(*loss, x, y);
    ASSERT_TRUE(std::isfinite(out.value));
    expectRelative(out.value, referenceLifted(x, y, 1.0, 0.0, spec));  // all pairs inactive: 0 …
    Points close = x;
    close.bottomRows(3).col(0).array() -= 999.0;  // … and 1 unit apart, active again
    expectRelative(run(*loss, close, y).value, referenceLifted(close, y, 1.0, 0.0, spec));
    EXPECT_GT(run(*loss, close, y).value, 0.0);
}

TEST(LiftedStructure, GradientMatchesFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : liftedDistances) {
            const Points x = randomPoints(c.n, c.d, c.seed + 1);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 101);
            const auto loss = make("lifted_structure", {}, spec);
            EXPECT_LT(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << spec.describe();
        }
}

TEST(LiftedStructure, RotationAndTranslationInvariance) {
    const Points x = randomPoints(15, 3, 21);
    const Labels y = randomLabels(15, 3, 22);
    expectRotationEquivariant(*make("lifted_structure"), x, y, 23);
    // Un-normalized Euclidean: a shift changes nothing.
    const auto loss = make("lifted_structure", {}, DistanceSpec::lp(1, false));
    Points shifted = x;
    shifted.rowwise() += Eigen::RowVector3d(0.7, -1.3, 2.1);
    const LossOutput a = run(*loss, x, y), b = run(*loss, shifted, y);
    expectRelative(b.value, a.value, 1e-10);
    EXPECT_LT((a.gradEmbeddings - b.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(LiftedStructure, EmptyCases) {
    const auto loss = make("lifted_structure");
    const Points x = randomPoints(6, 2, 31);
    expectZero(run(*loss, x, Labels{4, 4, 4, 4, 4, 4}));  // no negative pair
    expectZero(run(*loss, x, Labels{0, 1, 2, 3, 4, 5}));  // no positive pair
    // Every J < 0: with mn = −10 the LSE is ≤ −10 + log 6 and d_ap ≤ 2.
    expectZero(run(*make("lifted_structure", {{"neg_margin", -10.0}}), x, Labels{0, 0, 0, 1, 1, 1}));
}

TEST(LiftedStructure, HandComputedTinyValue) {
    // Pairs (0,1) and (1,0), both with
    //   J = log(e^{1−d02} + e^{1−d12}) + d01 = log(e^{−1} + e^{1−√2}) + √2
    //     = log(0.3678794 + 0.6608598) + 1.4142136 = 0.0283340 + 1.4142136 = 1.4425476
    //   ℓ = J²/2 = 1.0404718; the mean over the two pairs is the same.
    const Real j = std::log(std::exp(-1.0) + std::exp(1.0 - std::sqrt(2.0))) + std::sqrt(2.0);
    EXPECT_NEAR(j * j / 2, 1.0404718, 1e-6);
    const LossOutput out = run(*make("lifted_structure"), tinyPoints(), tinyLabels);
    EXPECT_NEAR(out.value, j * j / 2, 1e-12);
    EXPECT_EQ(out.stats.tuples, 2);
    EXPECT_EQ(out.stats.active, 2);
}

// --- generalized lifted structure (§6.5) ---------------------------------------------------------

Real referenceGeneralizedLifted(const Points& x, const Labels& y, Real mn, Real mp, const DistanceSpec& spec) {
    const int n = static_cast<int>(y.size());
    if (n <= 1) return 0;
    const Matrix m = referenceMatrix(x, spec);
    const bool similarity = spec.isSimilarity();
    Real sum = 0;
    for (int i = 0; i < n; ++i) {
        std::vector<Real> positives, negatives;
        for (int j = 0; j < n; ++j) {
            if (j != i && y[j] == y[i]) positives.push_back(similarity ? mp - m(i, j) : m(i, j) - mp);
            if (y[j] != y[i]) negatives.push_back(similarity ? m(i, j) - mn : mn - m(i, j));
        }
        sum += std::max(naiveLogSumExp(positives) + naiveLogSumExp(negatives), 0.0);
    }
    return sum / n;
}

TEST(GeneralizedLifted, MatchesReferenceLoop) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : liftedDistances)
            for (auto [mn, mp] : {std::pair{1.0, 0.0}, std::pair{0.3, 0.6}}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 2);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 102);
                const auto loss = make("generalized_lifted_structure", {{"neg_margin", mn}, {"pos_margin", mp}}, spec);
                const Real expected = referenceGeneralizedLifted(x, y, mn, mp, spec);
                EXPECT_GT(expected, 0.0);
                expectRelative(run(*loss, x, y).value, expected);
            }
}

TEST(GeneralizedLifted, GradientMatchesFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : liftedDistances) {
            const Points x = randomPoints(c.n, c.d, c.seed + 3);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 103);
            const auto loss = make("generalized_lifted_structure", {{"pos_margin", 0.4}}, spec);
            EXPECT_LT(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << spec.describe();
        }
}

TEST(GeneralizedLifted, RotationInvariance) {
    expectRotationEquivariant(*make("generalized_lifted_structure"), randomPoints(13, 3, 41), randomLabels(13, 4, 42), 43);
    expectRotationEquivariant(*make("generalized_lifted_structure", {}, DistanceSpec::lp(2, false)),
                              randomPoints(13, 2, 44), randomLabels(13, 3, 45), 46);
}

TEST(GeneralizedLifted, EmptyCases) {
    const auto loss = make("generalized_lifted_structure");
    // One sample: no pair at all.
    expectZero(run(*loss, randomPoints(1, 2, 51), Labels{3}));
    // Nothing active: every LSE sum is negative.
    expectZero(run(*make("generalized_lifted_structure", {{"neg_margin", -10.0}, {"pos_margin", 10.0}}),
                   randomPoints(8, 3, 52), randomLabels(8, 2, 53)));
    // PML quirk: LSE(∅) = 0, so one class only (no negatives) or all labels distinct (no
    // positives) still give a positive loss, equal to the reference.
    const Points x = randomPoints(6, 2, 54);
    for (const Labels& y : {Labels{1, 1, 1, 1, 1, 1}, Labels{0, 1, 2, 3, 4, 5}}) {
        const Real value = run(*loss, x, y).value;
        EXPECT_GT(value, 0.0);
        expectRelative(value, referenceGeneralizedLifted(x, y, 1.0, 0.0, DistanceSpec::lp(1, true)));
    }
}

TEST(GeneralizedLifted, HandComputedTinyValue) {
    // anchor 0: relu(d01 + (1 − d02)) = relu(√2 − 1)            = 0.4142136
    // anchor 1: relu(d01 + (1 − d12)) = relu(√2 + 1 − √2)       = 1
    // anchor 2: no positive (LSE = 0): relu(log(e^{1−2} + e^{1−√2})) = 0.0283340
    // mean = 1.4425476 / 3 = 0.4808492
    const Real expected =
        (std::sqrt(2.0) - 1 + 1 + std::log(std::exp(-1.0) + std::exp(1 - std::sqrt(2.0)))) / 3;
    EXPECT_NEAR(expected, 0.4808492, 1e-6);
    EXPECT_NEAR(run(*make("generalized_lifted_structure"), tinyPoints(), tinyLabels).value, expected, 1e-12);
}

// --- the triangle paths across row chunks ---------------------------------------------------------

// Lifted and generalized lifted structure take normalized distances over the triangle j > i, rows
// reordered class by class, in row chunks whose sums cross into each other's rows: at N = 300
// (two chunks) with shuffled labels, the value matches the reference loops and the gradient the
// finite differences.
TEST(LiftedFamily, TrianglesAcrossRowChunksMatchTheReferences) {
    const int n = 300;
    ASSERT_GE(marginlab::detail::AnchorChunks(n).count(), 2);
    const Points x = randomPoints(n, 2, 61);
    const Labels y = randomLabels(n, 6, 62);
    for (const DistanceSpec& spec : {DistanceSpec::lp(1, true), DistanceSpec::lp(2, true), DistanceSpec::cosine()}) {
        const auto lifted = make("lifted_structure", {{"neg_margin", 1.0}, {"pos_margin", 0.2}}, spec);
        const auto generalized = make("generalized_lifted_structure", {{"neg_margin", 1.0}, {"pos_margin", 0.2}}, spec);
        expectRelative(run(*lifted, x, y).value, referenceLifted(x, y, 1.0, 0.2, spec));
        expectRelative(run(*generalized, x, y).value, referenceGeneralizedLifted(x, y, 1.0, 0.2, spec));
        // N = 300 sums many terms into each value: a wider step keeps their rounding out of the
        // differences (a wrong share of a pair would be off by far more than 1e-5)
        EXPECT_LT(finiteDifferenceError(*lifted, LossInput{x, y}, 1e-5).embeddings, 1e-5) << spec.describe();
        EXPECT_LT(finiteDifferenceError(*generalized, LossInput{x, y}, 1e-5).embeddings, 1e-5) << spec.describe();
    }
}

// --- circle (§6.6) -------------------------------------------------------------------------------

/**
 * Circle loss with the weights α supplied from outside. With α computed at the same point this is
 * the loss value; with α frozen at x0 its derivative at x0 is PML's (detached) gradient.
 * `rows` gets the anchors with ℓ_i > 0 (the AvgNonZero set) if given; `fixedRows` replaces them.
 */
Real circleWithWeights(const Points& x, const Labels& y, Real m, Real gamma, const Matrix& alpha,
                       std::vector<int>* rows = nullptr, const std::vector<int>* fixedRows = nullptr) {
    const Matrix s = referenceMatrix(x, DistanceSpec::cosine());
    const int n = static_cast<int>(y.size());
    std::vector<Real> terms(static_cast<std::size_t>(n), 0.0);
    for (int i = 0; i < n; ++i) {
        std::vector<Real> positives, negatives;
        for (int j = 0; j < n; ++j) {
            if (j != i && y[j] == y[i]) positives.push_back(-gamma * alpha(i, j) * (s(i, j) - (1 - m)));
            if (y[j] != y[i]) negatives.push_back(gamma * alpha(i, j) * (s(i, j) - m));
        }
        if (positives.empty() || negatives.empty()) continue;
        terms[static_cast<std::size_t>(i)] = torchSoftplus(naiveLogSumExp(positives) + naiveLogSumExp(negatives));
    }
    std::vector<int> active;
    if (fixedRows) active = *fixedRows;
    else
        for (int i = 0; i < n; ++i)
            if (terms[static_cast<std::size_t>(i)] > 0) active.push_back(i);
    if (rows) *rows = active;
    Real sum = 0;
    for (int i : active) sum += terms[static_cast<std::size_t>(i)];
    return active.empty() ? 0.0 : sum / static_cast<Real>(active.size());
}

Matrix circleWeights(const Points& x, const Labels& y, Real m) {
    const Matrix s = referenceMatrix(x, DistanceSpec::cosine());
    const int n = static_cast<int>(y.size());
    Matrix alpha = Matrix::Zero(n, n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            if (j != i && y[j] == y[i]) alpha(i, j) = std::max(1 + m - s(i, j), 0.0);
            if (y[j] != y[i]) alpha(i, j) = std::max(s(i, j) + m, 0.0);
        }
    return alpha;
}

Real referenceCircle(const Points& x, const Labels& y, Real m, Real gamma) {
    return circleWithWeights(x, y, m, gamma, circleWeights(x, y, m));
}

TEST(Circle, MatchesReferenceLoop) {
    for (const Config& c : configs)
        for (auto [m, gamma] : {std::pair{0.4, 80.0}, std::pair{0.25, 8.0}}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 4);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 104);
            const Real expected = referenceCircle(x, y, m, gamma);
            EXPECT_GT(expected, 0.0);
            expectRelative(run(*make("circle", {{"m", m}, {"gamma", gamma}}), x, y).value, expected);
        }
}

TEST(Circle, GradientIsTheDetachedOne) {
    for (const Config& c : configs)
        for (auto [m, gamma] : {std::pair{0.4, 80.0}, std::pair{0.25, 8.0}}) {
            const Points x0 = randomPoints(c.n, c.d, c.seed + 5);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 105);
            const auto loss = make("circle", {{"m", m}, {"gamma", gamma}});
            const LossOutput out = run(*loss, x0, y);
            // Surrogate: α frozen at x0 and the AvgNonZero set frozen (PML's count is a constant).
            const Matrix alpha = circleWeights(x0, y, m);
            std::vector<int> rows;
            circleWithWeights(x0, y, m, gamma, alpha, &rows);
            const Points surrogate = numericGradient(
                [&](const Points& x) { return circleWithWeights(x, y, m, gamma, alpha, nullptr, &rows); }, x0);
            EXPECT_LT(relativeError(out.gradEmbeddings, surrogate), 1e-6) << "gamma " << gamma;
            // α = relu(1 + m − s_ip) > 0 varies with x here, so the true derivative of the value is
            // different: this fails if the implementation differentiated through α.
            EXPECT_GT(finiteDifferenceError(*loss, LossInput{x0, y}).embeddings, 1e-3) << "gamma " << gamma;
        }
}

TEST(Circle, RotationInvariance) {
    expectRotationEquivariant(*make("circle"), randomPoints(14, 3, 61), randomLabels(14, 3, 62), 63);
    expectRotationEquivariant(*make("circle", {{"gamma", 8.0}}), randomPoints(14, 2, 64), randomLabels(14, 4, 65), 66);
}

TEST(Circle, EmptyCases) {
    const auto loss = make("circle");
    const Points x = randomPoints(6, 3, 71);
    expectZero(run(*loss, x, Labels{2, 2, 2, 2, 2, 2}));
    expectZero(run(*loss, x, Labels{0, 1, 2, 3, 4, 5}));
    // Nothing active: positives at s = 1 (z_p = −γ·m·m) and negatives at s = −1 (α_n = 0) give
    // softplus(−γm² + 0) which underflows to exactly 0 for γ = 10⁴, m = 0.4 (−1600).
    Points y(4, 2);
    y << 1, 0, 2, 0, -1, 0, -3, 0;
    expectZero(run(*make("circle", {{"gamma", 1e4}}), y, Labels{0, 0, 1, 1}));
}

TEST(Circle, HandComputedTinyValue) {
    // m = 0.4, γ = 1: O_p = 1.4, Δ_p = 0.6, O_n = −0.4, Δ_n = 0.4.
    // anchor 0: z_01 = −1·1.4·(0 − 0.6) = 0.84; z_02: α = relu(−1 + 0.4) = 0 → 0;
    //           ℓ_0 = softplus(0.84 + 0) = log(1 + e^0.84) = 1.1988699
    // anchor 1: z_10 = 0.84; z_12 = 1·0.4·(0 − 0.4) = −0.16; ℓ_1 = softplus(0.68) = 1.0898667
    // anchor 2: no positive → 0 (not counted by AvgNonZero). Loss = 2.2887366 / 2 = 1.1443683
    const Real expected = (std::log1p(std::exp(0.84)) + std::log1p(std::exp(0.68))) / 2;
    EXPECT_NEAR(expected, 1.1443683, 1e-6);
    const LossOutput out = run(*make("circle", {{"gamma", 1.0}}), tinyPoints(), tinyLabels);
    EXPECT_NEAR(out.value, expected, 1e-12);
    EXPECT_EQ(out.stats.active, 2);
}

// --- multi-similarity (§6.7) ---------------------------------------------------------------------

Real referenceMultiSimilarity(const Points& x, const Labels& y, Real alpha, Real beta, Real base,
                              const std::set<std::pair<int, int>>* positives = nullptr,
                              const std::set<std::pair<int, int>>* negatives = nullptr) {
    const Matrix s = referenceMatrix(x, DistanceSpec::cosine());
    const int n = static_cast<int>(y.size());
    Real sum = 0;
    for (int i = 0; i < n; ++i) {
        Real positiveSum = 0, negativeSum = 0;
        bool anyPositive = false, anyNegative = false;
        for (int j = 0; j < n; ++j) {
            const bool isPositive = positives ? positives->count({i, j}) > 0 : (j != i && y[j] == y[i]);
            const bool isNegative = negatives ? negatives->count({i, j}) > 0 : y[j] != y[i];
            if (isPositive) {
                positiveSum += std::exp(-alpha * (s(i, j) - base));
                anyPositive = true;
            }
            if (isNegative) {
                negativeSum += std::exp(beta * (s(i, j) - base));
                anyNegative = true;
            }
        }
        if (anyPositive) sum += std::log(1 + positiveSum) / alpha;
        if (anyNegative) sum += std::log(1 + negativeSum) / beta;
    }
    return sum / n;
}

TEST(MultiSimilarity, MatchesReferenceLoop) {
    for (const Config& c : configs)
        // β = 400 spans more than 600 (2β) in z: its negatives keep the maximum's shift
        for (auto [alpha, beta, base] :
             {std::tuple{2.0, 50.0, 0.5}, std::tuple{1.0, 5.0, 0.2}, std::tuple{2.0, 400.0, 0.5}}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 6);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 106);
            const auto loss = make("multi_similarity", {{"alpha", alpha}, {"beta", beta}, {"base", base}});
            expectRelative(run(*loss, x, y).value, referenceMultiSimilarity(x, y, alpha, beta, base));
        }
}

/// A deterministic "mined" subset of the pairs, with duplicates: every third positive pair and
/// every second negative pair, the first of each listed twice.
Tuples somePairs(const Labels& y, std::set<std::pair<int, int>>* positives, std::set<std::pair<int, int>>* negatives) {
    std::vector<Pair> pos, neg;
    const int n = static_cast<int>(y.size());
    int counter = 0;
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) {
            ++counter;
            if (a != b && y[a] == y[b] && counter % 3 == 0) pos.push_back({a, b});
            if (y[a] != y[b] && counter % 2 == 0) neg.push_back({a, b});
        }
    pos.push_back(pos.front());
    neg.push_back(neg.front());
    for (const Pair& p : pos) positives->insert({p[0], p[1]});
    for (const Pair& p : neg) negatives->insert({p[0], p[1]});
    return Tuples::fromPairs(pos, neg);
}

TEST(MultiSimilarity, MinedPairsMatchReferenceLoop) {
    for (const Config& c : configs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 7);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 107);
        std::set<std::pair<int, int>> positives, negatives;
        const Tuples tuples = somePairs(y, &positives, &negatives);
        const auto loss = make("multi_similarity", {{"beta", 10.0}});
        const Real expected = referenceMultiSimilarity(x, y, 2.0, 10.0, 0.5, &positives, &negatives);
        expectRelative(run(*loss, x, y, &tuples).value, expected);
        // It really is restricted: all pairs give another value.
        EXPECT_GT(std::abs(run(*loss, x, y).value - expected), 1e-6);
        EXPECT_LT(finiteDifferenceError(*loss, LossInput{x, y, nullptr, &tuples}).embeddings, 1e-6);
    }
}

TEST(MultiSimilarity, MinedTripletsBecomePairSets) {
    const Points x = randomPoints(12, 3, 81);
    const Labels y = randomLabels(12, 3, 82);
    std::vector<Triplet> triplets;
    std::set<std::pair<int, int>> positives, negatives;
    for (int a = 0; a < 12; a += 2)
        for (int p = 0; p < 12; ++p)
            for (int n = 0; n < 12; n += 3)
                if (a != p && y[a] == y[p] && y[n] != y[a]) {
                    triplets.push_back({a, p, n});  // (a,p) repeats for every n: duplicates
                    positives.insert({a, p});
                    negatives.insert({a, n});
                }
    const Tuples tuples = Tuples::fromTriplets(triplets);
    const auto loss = make("multi_similarity");
    expectRelative(run(*loss, x, y, &tuples).value, referenceMultiSimilarity(x, y, 2, 50, 0.5, &positives, &negatives));
}

TEST(MultiSimilarity, GradientMatchesFiniteDifferences) {
    for (const Config& c : configs)
        for (Real beta : {50.0, 5.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 8);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 108);
            const auto loss = make("multi_similarity", {{"beta", beta}});
            EXPECT_LT(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6);
        }
}

TEST(MultiSimilarity, RotationInvariance) {
    expectRotationEquivariant(*make("multi_similarity"), randomPoints(15, 3, 91), randomLabels(15, 4, 92), 93);
}

TEST(MultiSimilarity, EmptyCases) {
    const auto loss = make("multi_similarity");
    expectZero(run(*loss, randomPoints(1, 2, 94), Labels{0}));
    // PML: every mined list of length ≤ 1 → 0, even though the one pair would cost something.
    const Points x = randomPoints(4, 2, 95);
    const Tuples single = Tuples::fromPairs({{0, 1}}, {{0, 2}});
    expectZero(run(*loss, x, Labels{0, 0, 1, 1}, &single));
    const Tuples none = Tuples::fromPairs({}, {});
    expectZero(run(*loss, x, Labels{0, 0, 1, 1}, &none));
}

TEST(MultiSimilarity, HandComputedTinyValue) {
    // α = 2, β = 2, λ = 0.5 on the three circle points:
    // anchor 0: ½log(1 + e^{−2(0 − 0.5)}) + ½log(1 + e^{2(−1 − 0.5)}) = ½log(1+e) + ½log(1+e^{−3})
    //         = 0.6566308 + 0.0242937 = 0.6809245
    // anchor 1: ½log(1+e) + ½log(1 + e^{2(0 − 0.5)}) = 0.6566308 + 0.1566308 = 0.8132617
    // anchor 2: no positive; ½log(1 + e^{−3} + e^{−1}) = 0.1745061
    // mean = 1.6686923 / 3 = 0.5562308
    const Real expected = (std::log1p(std::exp(1.0)) + 0.5 * std::log1p(std::exp(-3.0)) + 0.5 * std::log1p(std::exp(-1.0)) +
                           0.5 * std::log(1 + std::exp(-3.0) + std::exp(-1.0))) /
                          3;
    EXPECT_NEAR(expected, 0.5562308, 1e-6);
    EXPECT_NEAR(run(*make("multi_similarity", {{"beta", 2.0}}), tinyPoints(), tinyLabels).value, expected, 1e-12);
}

// --- soft nearest neighbor (Frosst et al. 2019) ----------------------------------------------------

Real referenceSoftNearestNeighbor(const Points& x, const Labels& y, Real temperature, const DistanceSpec& spec) {
    const Matrix m = referenceMatrix(x, spec);
    const Real sign = spec.isSimilarity() ? -1.0 : 1.0;  // similarity: −d ↦ +s
    const int n = static_cast<int>(y.size());
    Real sum = 0;
    int anchors = 0;
    for (int i = 0; i < n; ++i) {
        Real numerator = 0, denominator = 0;
        bool anyPositive = false;
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            const Real e = std::exp(-sign * m(i, j) / temperature);
            denominator += e;
            if (y[j] == y[i]) {
                numerator += e;
                anyPositive = true;
            }
        }
        if (!anyPositive) continue;
        sum += -std::log(numerator / denominator);
        ++anchors;
    }
    return anchors ? sum / anchors : 0.0;
}

const std::vector<DistanceSpec> neighborDistances = {DistanceSpec::lp(2, false), DistanceSpec::lp(1, false),
                                                     DistanceSpec::lp(2, true), DistanceSpec::cosine()};

TEST(SoftNearestNeighbor, MatchesReferenceLoop) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : neighborDistances)
            for (Real temperature : {1.0, 0.3}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 9);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 109);
                const auto loss = make("soft_nearest_neighbor", {{"temperature", temperature}}, spec);
                const Real expected = referenceSoftNearestNeighbor(x, y, temperature, spec);
                EXPECT_GT(expected, 0.0);
                expectRelative(run(*loss, x, y).value, expected);
            }
}

TEST(SoftNearestNeighbor, GradientMatchesFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : neighborDistances) {
            const Points x = randomPoints(c.n, c.d, c.seed + 10);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 110);
            const auto loss = make("soft_nearest_neighbor", {{"temperature", 0.5}}, spec);
            EXPECT_LT(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << spec.describe();
        }
}

TEST(SoftNearestNeighbor, RotationAndTranslationInvariance) {
    const Points x = randomPoints(13, 3, 121);
    const Labels y = randomLabels(13, 3, 122);
    const auto loss = make("soft_nearest_neighbor");
    expectRotationEquivariant(*loss, x, y, 123);
    Points shifted = x;
    shifted.rowwise() += Eigen::RowVector3d(-2.0, 0.5, 1.5);
    const LossOutput a = run(*loss, x, y), b = run(*loss, shifted, y);
    expectRelative(b.value, a.value, 1e-10);
    EXPECT_LT((a.gradEmbeddings - b.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(SoftNearestNeighbor, EmptyCases) {
    const auto loss = make("soft_nearest_neighbor");
    const Points x = randomPoints(5, 2, 124);
    expectZero(run(*loss, x, Labels{0, 1, 2, 3, 4}));  // no anchor has a positive
    expectZero(run(*loss, x, Labels{7, 7, 7, 7, 7}));  // numerator = denominator for everyone
    // An anchor without positives is not counted: labels {0,0,1} average over anchors 0 and 1 only
    // (checked by the hand-computed value below).
}

TEST(SoftNearestNeighbor, HandComputedTinyValue) {
    // x0 = (0,0), x1 = (1,0) of class 0, x2 = (0,2) of class 1; squared Euclidean, T = 1:
    // d01 = 1, d02 = 4, d12 = 5.
    // anchor 0: −log(e^{−1} / (e^{−1} + e^{−4})) = log(1 + e^{−3}) = 0.0485874
    // anchor 1: −log(e^{−1} / (e^{−1} + e^{−5})) = log(1 + e^{−4}) = 0.0181499
    // anchor 2: no positive, not counted. Loss = 0.0667373 / 2 = 0.0333687
    Points x(3, 2);
    x << 0, 0, 1, 0, 0, 2;
    const Real expected = (std::log1p(std::exp(-3.0)) + std::log1p(std::exp(-4.0))) / 2;
    EXPECT_NEAR(expected, 0.0333687, 1e-6);
    const LossOutput out = run(*make("soft_nearest_neighbor"), x, tinyLabels);
    EXPECT_NEAR(out.value, expected, 1e-12);
    EXPECT_EQ(out.stats.tuples, 2);
}

TEST(SoftNearestNeighbor, CosineAtSmallTemperaturesOnBothSidesOfTheBoundedRange) {
    // z = s/T spans 2/T: 500 at T = 0.004 (shifted by the bound 1/T, one pass) and 1,000 at
    // T = 0.002 (beyond kBoundedShiftRange: the maxima). Both against the plain loop, whose exps
    // stay within e^{±500}.
    for (const Config& c : configs)
        for (Real temperature : {0.004, 0.002}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 11);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 111);
            const auto loss = make("soft_nearest_neighbor", {{"temperature", temperature}}, DistanceSpec::cosine());
            expectRelative(run(*loss, x, y).value,
                           referenceSoftNearestNeighbor(x, y, temperature, DistanceSpec::cosine()), 1e-9);
        }
}

TEST(SoftNearestNeighbor, ClassesHundredsOfTemperaturesApartKeepTheirTerms) {
    // Squared Euclidean, T = 1: classmates 40 apart (z = −1600, far below e^{−700}) and a point of
    // the other class at distance 1 (z = −1). Shifted by the bound 0, the positives' sum underflows
    // to 0; those rows must be redone with the maxima: ℓ = LSE_all − LSE_positives = −1 − (−1600)
    // to double precision, for each of the four. The pair at 100 keeps the bounded pass: its term
    // is log(1 + Σ e^{−d²}) over the others, below 1e-300, so the mean is 4·1599/6.
    Points x(6, 2);
    x << 0, 0, 40, 0, 1, 0, 41, 0, 100, 0, 100.5, 0;
    const Labels y = {0, 0, 1, 1, 2, 2};
    const auto loss = make("soft_nearest_neighbor");
    const LossOutput out = run(*loss, x, y);
    EXPECT_NEAR(out.value, 4.0 * 1599.0 / 6.0, 1e-9);
    EXPECT_EQ(out.stats.tuples, 6);
    EXPECT_EQ(out.stats.active, 4);
    EXPECT_LT(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6);
}

// --- NCE -------------------------------------------------------------------------------------------

/// The loss from the sampled indices handed out by noiseContrastiveNegatives (the public helper).
Real referenceNce(const Points& x, const Labels& y, Real temperature, const std::vector<std::vector<int>>& samples) {
    const Matrix s = referenceMatrix(x, DistanceSpec::cosine());
    const int n = static_cast<int>(y.size());
    Real sum = 0;
    std::size_t pair = 0;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (a == p || y[a] != y[p]) continue;
            // −log σ(v) = log(1 + e^{−v});  −log σ(−v) = log(1 + e^{v})
            sum += std::log(1 + std::exp(-s(a, p) / temperature));
            for (int negative : samples.at(pair)) sum += std::log(1 + std::exp(s(a, negative) / temperature));
            ++pair;
        }
    EXPECT_EQ(pair, samples.size());
    return pair ? sum / static_cast<Real>(pair) : 0.0;
}

TEST(Nce, SamplesAreNegativesOfTheAnchorAndDeterministic) {
    const Labels y = randomLabels(15, 3, 131);
    const auto samples = noiseContrastiveNegatives(y, 42, 4);
    std::size_t pair = 0;
    for (int a = 0; a < 15; ++a)
        for (int p = 0; p < 15; ++p) {
            if (a == p || y[a] != y[p]) continue;
            ASSERT_EQ(samples.at(pair).size(), 4u);
            for (int negative : samples[pair]) EXPECT_NE(y[negative], y[a]);
            ++pair;
        }
    EXPECT_EQ(pair, samples.size());
    EXPECT_EQ(noiseContrastiveNegatives(y, 42, 4), samples);
    EXPECT_NE(noiseContrastiveNegatives(y, 43, 4), samples);
}

TEST(Nce, SamplerIsUniform) {
    // 70000 draws over 7 values: each frequency within 5 standard deviations of 1/7.
    NoiseContrastiveSampler sampler(9, 3);
    std::vector<int> hits(7, 0);
    for (int k = 0; k < 70000; ++k) ++hits[static_cast<std::size_t>(sampler.drawIndex(7))];
    for (int h : hits) EXPECT_NEAR(h, 10000, 5 * std::sqrt(70000 * (1.0 / 7) * (6.0 / 7)));
}

TEST(Nce, MatchesReferenceWithTheSampledNegatives) {
    for (const Config& c : configs)
        for (auto [temperature, negatives] : {std::pair{0.1, 5}, std::pair{0.7, 2}}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 11);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 111);
            const auto loss = make("nce", {{"temperature", temperature}, {"num_negatives", negatives}});
            const std::uint64_t seed = c.seed * 7 + 1;
            const auto samples = noiseContrastiveNegatives(y, seed, negatives);
            expectRelative(run(*loss, x, y, nullptr, seed).value, referenceNce(x, y, temperature, samples));
        }
}

TEST(Nce, SameSeedSameValueDifferentSeedDifferentValue) {
    const Points x = randomPoints(16, 2, 141);
    const Labels y = randomLabels(16, 4, 142);
    const auto loss = make("nce");
    const LossOutput a = run(*loss, x, y, nullptr, 1), b = run(*loss, x, y, nullptr, 1);
    const LossOutput c = run(*loss, x, y, nullptr, 2);
    EXPECT_EQ(a.value, b.value);
    EXPECT_EQ((a.gradEmbeddings - b.gradEmbeddings).cwiseAbs().maxCoeff(), 0.0);
    EXPECT_GT(std::abs(a.value - c.value), 1e-6);
}

TEST(Nce, GradientMatchesFiniteDifferences) {
    for (const Config& c : configs)
        for (Real temperature : {0.1, 0.5}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 12);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 112);
            const auto loss = make("nce", {{"temperature", temperature}});
            EXPECT_LT(finiteDifferenceError(*loss, LossInput{x, y, nullptr, nullptr, 77}).embeddings, 1e-6);
        }
}

TEST(Nce, RotationInvariance) {
    expectRotationEquivariant(*make("nce"), randomPoints(14, 3, 151), randomLabels(14, 3, 152), 153);
}

TEST(Nce, EmptyCases) {
    const auto loss = make("nce");
    const Points x = randomPoints(5, 3, 154);
    expectZero(run(*loss, x, Labels{1, 1, 1, 1, 1}, nullptr, 3));
    expectZero(run(*loss, x, Labels{0, 1, 2, 3, 4}, nullptr, 3));
}

TEST(Nce, HandComputedTinyValue) {
    // The circle points: anchors 0 and 1 have the single negative 2, so every sample is 2 and the
    // value does not depend on the seed. τ = 1, K = 2:
    // pair (0,1): −log σ(0) − 2·log σ(−s02) = log 2 + 2·log(1 + e^{−1}) = 0.6931472 + 0.6265234
    // pair (1,0): −log σ(0) − 2·log σ(−s12) = log 2 + 2·log 2           = 2.0794415
    // mean = (1.3196706 + 2.0794415) / 2 = 1.6995561
    const Real expected = (std::log(2.0) + 2 * std::log1p(std::exp(-1.0)) + 3 * std::log(2.0)) / 2;
    EXPECT_NEAR(expected, 1.6995561, 1e-6);
    const auto loss = make("nce", {{"temperature", 1.0}, {"num_negatives", 2}});
    for (std::uint64_t seed : {0u, 5u, 99u}) EXPECT_NEAR(run(*loss, tinyPoints(), tinyLabels, nullptr, seed).value, expected, 1e-12);
}

TEST(PairFamilyCatalog, EntriesAndDefaults) {
    struct Expected {
        const char* name;
        LossFamily family;
        const char* pml;
        bool miner;
    };
    for (const Expected& e : {Expected{"lifted_structure", LossFamily::PairBased, "LiftedStructureLoss", false},
                              Expected{"generalized_lifted_structure", LossFamily::PairBased, "GeneralizedLiftedStructureLoss", false},
                              Expected{"circle", LossFamily::PairBased, "CircleLoss", false},
                              Expected{"multi_similarity", LossFamily::PairBased, "MultiSimilarityLoss", true},
                              Expected{"soft_nearest_neighbor", LossFamily::Contrastive, "", false},
                              Expected{"nce", LossFamily::Contrastive, "", false}}) {
        const LossInfo* info = findLoss(e.name);
        ASSERT_TRUE(info) << e.name;
        EXPECT_EQ(info->family, e.family);
        EXPECT_EQ(info->pmlName, e.pml);
        EXPECT_EQ(info->acceptsMiner, e.miner);
    }
    EXPECT_EQ(findLoss("lifted_structure")->defaultDistance, DistanceSpec::lp(1, true));
    EXPECT_EQ(findLoss("soft_nearest_neighbor")->defaultDistance, DistanceSpec::lp(2, false));
    EXPECT_EQ(findLoss("circle")->defaultDistance, DistanceSpec::cosine());
    std::string error;
    ParamValues bad;
    bad.numbers["num_negatives"] = 0;
    EXPECT_FALSE(makeLoss(LossConfig{"nce", bad, std::nullopt}, &error));
}

}  // namespace
}  // namespace marginlab

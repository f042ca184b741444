// SPDX-License-Identifier: MIT
// The margin-softmax family (owned class-weight matrix W, C×D): normalized softmax, CosFace,
// ArcFace, L-Softmax, SphereFace, plain softmax and the combined margin.
#include "marginlab/loss.h"
#include "marginlab/losses/class_labels.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <Eigen/Geometry>

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <set>

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

constexpr Real kPi = std::numbers::pi;

std::unique_ptr<Loss> make(const std::string& name, std::map<std::string, double, std::less<>> numbers = {}) {
    ParamValues values;
    values.numbers = std::move(numbers);
    std::string error;
    auto loss = makeLoss(LossConfig{name, values, std::nullopt}, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

// ---------------------------------------------------------------------------------------------
// The slow reference: logits straight from loss-conventions.md §4, one (sample, class) at a time,
// then CE averaged over samples. Nothing here calls the engine's helpers.

/// Logit of sample x (label y) for class c with class vector w; isTarget = (c == y).
using ReferenceLogit = std::function<Real(const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& w, bool isTarget)>;

Real referenceCosine(const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& w) {
    return x.dot(w) / (std::max(x.norm(), 1e-12) * std::max(w.norm(), 1e-12));
}

Real referenceAngle(Real cosine) { return std::acos(std::max(-1.0, std::min(1.0, cosine))); }

Real referenceLoss(const Points& x, const Labels& y, const Points& w, const ReferenceLogit& logit) {
    Real total = 0.0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        std::vector<Real> l;
        for (Eigen::Index c = 0; c < w.rows(); ++c) l.push_back(logit(x.row(i), w.row(c), c == y[i]));
        const Real top = *std::max_element(l.begin(), l.end());
        Real sum = 0.0;
        for (Real v : l) sum += std::exp(v - top);
        total += top + std::log(sum) - l[static_cast<std::size_t>(y[i])];
    }
    return total / static_cast<Real>(x.rows());
}

ReferenceLogit normalizedSoftmaxLogit(Real temperature) {
    return [=](const auto& x, const auto& w, bool) { return referenceCosine(x, w) / temperature; };
}

ReferenceLogit cosFaceLogit(Real margin, Real scale) {
    return [=](const auto& x, const auto& w, bool target) {
        return scale * (referenceCosine(x, w) - (target ? margin : 0.0));
    };
}

ReferenceLogit arcFaceLogit(Real marginDegrees, Real scale) {
    const Real m = marginDegrees * kPi / 180.0;
    return [=](const auto& x, const auto& w, bool target) {
        const Real c = referenceCosine(x, w);
        if (!target) return scale * c;
        const Real theta = referenceAngle(c);
        return scale * (theta <= kPi - m ? std::cos(theta + m) : std::cos(theta) - m * std::sin(m));
    };
}

// The reference takes cos(mθ) directly (not the polynomial the engine uses): an independent check.
ReferenceLogit largeMarginLogit(int m, Real scale, bool weightNorm) {
    return [=](const auto& x, const auto& w, bool target) {
        const Real c = referenceCosine(x, w);
        const Real factor = scale * x.norm() * (weightNorm ? w.norm() : 1.0);
        if (!target) return factor * c;
        const Real theta = referenceAngle(c);
        const Real k = std::floor(theta * m / kPi);
        return factor * (std::pow(-1.0, k) * std::cos(m * theta) - 2.0 * k);
    };
}

ReferenceLogit softmaxLogit() {
    return [](const auto& x, const auto& w, bool) { return x.dot(w); };
}

ReferenceLogit combinedLogit(Real m1, Real m2, Real m3, Real scale) {
    return [=](const auto& x, const auto& w, bool target) {
        const Real c = referenceCosine(x, w);
        if (!target) return scale * c;
        const Real theta = referenceAngle(c);
        if (m1 * theta + m2 <= kPi) return scale * (std::cos(m1 * theta + m2) - m3);
        const Real thetaStar = (kPi - m2) / m1;  // where cos(m1θ + m2) reaches −1
        return scale * (std::cos(theta) - std::cos(thetaStar) - 1.0 - m3);
    };
}

struct Case {
    std::string name;
    std::map<std::string, double, std::less<>> params;
    ReferenceLogit reference;
};

// PML defaults (for values) and moderate settings (for the gradient checks, see below).
std::vector<Case> valueCases(const std::string& loss) {
    if (loss == "normalized_softmax")
        return {{loss, {}, normalizedSoftmaxLogit(0.05)}, {loss, {{"temperature", 0.3}}, normalizedSoftmaxLogit(0.3)}};
    if (loss == "cosface")
        return {{loss, {}, cosFaceLogit(0.35, 64)}, {loss, {{"margin", 0.1}, {"scale", 5}}, cosFaceLogit(0.1, 5)}};
    if (loss == "arcface")
        return {{loss, {}, arcFaceLogit(28.6, 64)}, {loss, {{"margin", 50}, {"scale", 3}}, arcFaceLogit(50, 3)}};
    if (loss == "large_margin_softmax")
        return {{loss, {}, largeMarginLogit(4, 1, true)},
                {loss, {{"margin", 3}, {"scale", 2}}, largeMarginLogit(3, 2, true)},
                {loss, {{"margin", 1}}, largeMarginLogit(1, 1, true)}};
    if (loss == "sphereface")
        return {{loss, {}, largeMarginLogit(4, 1, false)},
                {loss, {{"margin", 2}, {"scale", 1.5}}, largeMarginLogit(2, 1.5, false)}};
    if (loss == "softmax") return {{loss, {}, softmaxLogit()}};
    if (loss == "combined_margin")
        return {{loss, {}, combinedLogit(1.0, 0.3, 0.2, 64)},
                {loss, {{"margin1", 1.5}, {"margin2", 0.4}, {"margin3", 0.1}, {"scale", 6}},
                 combinedLogit(1.5, 0.4, 0.1, 6)},
                {loss, {{"margin1", 0.9}, {"margin2", 0.4}, {"margin3", 0.15}, {"scale", 10}},
                 combinedLogit(0.9, 0.4, 0.15, 10)}};
    ADD_FAILURE() << "no cases for " << loss;
    return {};
}

// Gradient checks use moderate scales (s = 4..16): with s = 64 the softmax is nearly a hard max,
// most per-sample gradients are ~e^-64 (below the FD noise floor) and the few others vary on an
// angular scale of 1/64, so central differences measure rounding and curvature, not the gradient.
std::map<std::string, double, std::less<>> gradientParams(const std::string& loss) {
    if (loss == "normalized_softmax") return {{"temperature", 0.1}};
    if (loss == "cosface") return {{"scale", 8}};
    if (loss == "arcface") return {{"scale", 8}};
    if (loss == "combined_margin") return {{"scale", 8}, {"margin1", 1.2}};
    return {};  // L-Softmax / SphereFace / softmax: PML's scale 1 is already moderate
}

void expectMatchesReference(const std::string& loss) {
    int checked = 0;
    for (const Case& c : valueCases(loss)) {
        const auto engine = make(c.name, c.params);
        ASSERT_TRUE(engine);
        for (int d : {2, 3})
            for (int classes : {3, 4})
                for (std::uint64_t seed : {1u, 2u}) {
                    const int n = 12 + static_cast<int>(seed) * 3 + classes;
                    const Points x = randomPoints(n, d, 100 * seed + d + classes, 1.5);
                    const Points w = randomPoints(classes, d, 200 * seed + d + classes);
                    const Labels y = randomLabels(n, classes, seed + 7);
                    const LossInput input{x, y, &w};
                    const LossOutput out = engine->evaluate(input, true);
                    const Real expected = referenceLoss(x, y, w, c.reference);
                    EXPECT_NEAR(out.value, expected, 1e-9 * std::max(1.0, std::abs(expected)))
                        << c.name << " d=" << d << " C=" << classes << " seed=" << seed;
                    // Value without gradient is the same number.
                    EXPECT_EQ(engine->evaluate(input, false).value, out.value);
                    EXPECT_EQ(out.stats.tuples, n);
                    EXPECT_EQ(out.gradOwned.rows(), classes);
                    ++checked;
                }
    }
    EXPECT_GT(checked, 0);
}

void expectGradientsMatch(const std::string& loss, const Points& x, const Labels& y, const Points& w,
                          const std::string& what) {
    const auto engine = make(loss, gradientParams(loss));
    ASSERT_TRUE(engine);
    const LossInput input{x, y, &w};
    const auto error = finiteDifferenceError(*engine, input, 1e-6);
    EXPECT_LT(error.embeddings, 1e-6) << loss << " " << what << " (X)";
    EXPECT_LT(error.owned, 1e-6) << loss << " " << what << " (W)";
    const LossOutput out = engine->evaluate(input, true);
    EXPECT_GT(out.gradEmbeddings.cwiseAbs().maxCoeff(), 1e-6) << "a vanishing gradient would test nothing";
}

void expectGradientsMatchAtRandomConfigurations(const std::string& loss) {
    for (int d : {2, 3})
        for (std::uint64_t seed : {3u, 4u, 5u}) {
            const int classes = 3 + static_cast<int>(seed % 2);
            const int n = 10 + static_cast<int>(seed);
            const Points x = randomPoints(n, d, 300 * seed + d, 1.3);
            const Points w = randomPoints(classes, d, 400 * seed + d);
            const Labels y = randomLabels(n, classes, seed);
            expectGradientsMatch(loss, x, y, w, "d=" + std::to_string(d) + " seed=" + std::to_string(seed));
        }
}

Eigen::MatrixXd rotation(int d, Real angle) {
    if (d == 2) return Eigen::Rotation2Dd(angle).toRotationMatrix();
    return Eigen::AngleAxisd(angle, Eigen::Vector3d(1.0, -2.0, 0.5).normalized()).toRotationMatrix();
}

// Rows transform as x ↦ R x, i.e. X ↦ X Rᵀ; the value is unchanged and both gradients rotate.
void expectRotationInvariant(const std::string& loss) {
    const auto engine = make(loss, gradientParams(loss));
    ASSERT_TRUE(engine);
    for (int d : {2, 3}) {
        const Points x = randomPoints(15, d, 50 + d, 1.2);
        const Points w = randomPoints(4, d, 60 + d);
        const Labels y = randomLabels(15, 4, 70);
        const Eigen::MatrixXd r = rotation(d, 0.7);
        const Points xr = x * r.transpose();
        const Points wr = w * r.transpose();
        const LossOutput a = engine->evaluate({x, y, &w}, true);
        const LossOutput b = engine->evaluate({xr, y, &wr}, true);
        EXPECT_NEAR(a.value, b.value, 1e-11 * std::max(1.0, std::abs(a.value))) << loss << " d=" << d;
        const Points gx = a.gradEmbeddings * r.transpose();
        const Points gw = a.gradOwned * r.transpose();
        EXPECT_LT((gx - b.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-10 * std::max(1.0, gx.cwiseAbs().maxCoeff()));
        EXPECT_LT((gw - b.gradOwned).cwiseAbs().maxCoeff(), 1e-10 * std::max(1.0, gw.cwiseAbs().maxCoeff()));
    }
}

// One class only: every row has a single logit, CE = 0 exactly, and so is the gradient. N = 0: 0.
void expectEmptyCasesGiveZero(const std::string& loss) {
    const auto engine = make(loss);
    ASSERT_TRUE(engine);
    const Points x = randomPoints(6, 2, 9);
    const Points w = randomPoints(1, 2, 10);
    const Labels y(6, 0);
    const LossOutput one = engine->evaluate({x, y, &w}, true);
    EXPECT_EQ(one.value, 0.0);
    EXPECT_TRUE(one.gradEmbeddings.isZero(0.0));
    EXPECT_TRUE(one.gradOwned.isZero(0.0));
    EXPECT_EQ(one.stats.active, 0);

    const Points none(0, 2);
    const Labels noLabels;
    const Points w3 = randomPoints(3, 2, 11);
    const LossOutput empty = engine->evaluate({none, noLabels, &w3}, true);
    EXPECT_EQ(empty.value, 0.0);
    EXPECT_EQ(empty.gradEmbeddings.rows(), 0);
    ASSERT_EQ(empty.gradOwned.rows(), 3);
    EXPECT_TRUE(empty.gradOwned.isZero(0.0));
}

// A tiny configuration: 2 classes, 2 points, the value written out by hand in each test.
Real tinyValue(const std::string& loss, std::map<std::string, double, std::less<>> params, const Points& x,
               const Labels& y, const Points& w) {
    const auto engine = make(loss, std::move(params));
    return engine ? engine->evaluate({x, y, &w}, true).value : std::numeric_limits<Real>::quiet_NaN();
}

Points rows2(std::initializer_list<std::pair<Real, Real>> values) {
    Points p(static_cast<Eigen::Index>(values.size()), 2);
    Eigen::Index i = 0;
    for (const auto& [a, b] : values) {
        p(i, 0) = a;
        p(i, 1) = b;
        ++i;
    }
    return p;
}

// ---------------------------------------------------------------------------------------------
// Normalized softmax

TEST(NormalizedSoftmax, MatchesReference) { expectMatchesReference("normalized_softmax"); }
TEST(NormalizedSoftmax, GradientsMatchFiniteDifferences) {
    expectGradientsMatchAtRandomConfigurations("normalized_softmax");
}
TEST(NormalizedSoftmax, RotationInvariant) { expectRotationInvariant("normalized_softmax"); }
TEST(NormalizedSoftmax, OneClassOrNoSampleGivesZero) { expectEmptyCasesGiveZero("normalized_softmax"); }

TEST(NormalizedSoftmax, HandComputedTinyValue) {
    // T = 0.5 (logits = 2·cos). W = [(1,0), (0,1)].
    // x0 = (3,0), y=0: cos = (1, 0) → logits (2, 0) → CE = log(1 + e^-2).
    // x1 = (1,1), y=1: cos = (1/√2, 1/√2) → equal logits → CE = log 2.
    const Real expected = (std::log1p(std::exp(-2.0)) + std::log(2.0)) / 2.0;
    EXPECT_NEAR(tinyValue("normalized_softmax", {{"temperature", 0.5}}, rows2({{3, 0}, {1, 1}}), {0, 1},
                          rows2({{1, 0}, {0, 1}})),
                expected, 1e-14);
}

// ---------------------------------------------------------------------------------------------
// CosFace

TEST(CosFace, MatchesReference) { expectMatchesReference("cosface"); }
TEST(CosFace, GradientsMatchFiniteDifferences) { expectGradientsMatchAtRandomConfigurations("cosface"); }
TEST(CosFace, RotationInvariant) { expectRotationInvariant("cosface"); }
TEST(CosFace, OneClassOrNoSampleGivesZero) { expectEmptyCasesGiveZero("cosface"); }

TEST(CosFace, HandComputedTinyValue) {
    // m = 0.5, s = 2, W = [(1,0), (0,1)].
    // x0 = (3,0), y=0: cos = (1, 0) → logits (2·0.5, 0) = (1, 0) → CE = log(1 + e^-1).
    // x1 = (0,-2), y=1: cos = (0, -1) → logits (0, 2·(-1.5)) = (0, -3) → CE = 3 + log(1 + e^-3) = log(1 + e^3).
    const Real expected = (std::log1p(std::exp(-1.0)) + std::log1p(std::exp(3.0))) / 2.0;
    EXPECT_NEAR(tinyValue("cosface", {{"margin", 0.5}, {"scale", 2}}, rows2({{3, 0}, {0, -2}}), {0, 1},
                          rows2({{1, 0}, {0, 1}})),
                expected, 1e-14);
}

TEST(CosFace, StatisticsSortSamplesIntoMarginRegions) {
    // m = 0.5, W = [(1,0), (0,1)], all labels 0; cos to class 0 vs class 1:
    //   (1, 0) easy: 1 − 0.5 > 0;  (cos 40°, sin 40°) ≈ (0.77, 0.64): semi-hard (0.77 > 0.64 > 0.27);
    //   (0, 1): hard (0 < 1).
    const Points x = rows2({{1, 0}, {std::cos(0.7), std::sin(0.7)}, {0, 1}});
    const Points w = rows2({{1, 0}, {0, 1}});
    const Labels y = {0, 0, 0};
    const LossOutput out = make("cosface", {{"margin", 0.5}})->evaluate({x, y, &w}, false);
    EXPECT_TRUE(out.stats.hasRegions);
    EXPECT_EQ(out.stats.tupleKind, "samples");
    EXPECT_EQ(out.stats.tuples, 3);
    EXPECT_EQ(out.stats.easy, 1);
    EXPECT_EQ(out.stats.semiHard, 1);
    EXPECT_EQ(out.stats.hard, 1);
    EXPECT_EQ(out.stats.active, 3);
}

// ---------------------------------------------------------------------------------------------
// ArcFace

TEST(ArcFace, MatchesReference) { expectMatchesReference("arcface"); }
TEST(ArcFace, GradientsMatchFiniteDifferences) { expectGradientsMatchAtRandomConfigurations("arcface"); }
TEST(ArcFace, RotationInvariant) { expectRotationInvariant("arcface"); }
TEST(ArcFace, OneClassOrNoSampleGivesZero) { expectEmptyCasesGiveZero("arcface"); }

// Points placed around −w_y (θ > π − m, the fallback) and around +w_y (the cos(θ+m) branch).
TEST(ArcFace, GradientsMatchFiniteDifferencesInTheFallbackRegion) {
    const Real m = 28.6 * kPi / 180.0;
    for (int d : {2, 3}) {
        const int classes = 3, n = 14;
        const Points w = randomPoints(classes, d, 500 + d);
        const Labels y = randomLabels(n, classes, 501);
        const Points noise = randomPoints(n, d, 502 + d, 0.2);
        Points x(n, d);
        for (int i = 0; i < n; ++i) x.row(i) = (i % 2 == 0 ? -1.0 : 1.0) * w.row(y[i]).normalized() + noise.row(i);
        int fallback = 0, regular = 0;
        for (int i = 0; i < n; ++i) {
            const Real theta = referenceAngle(referenceCosine(x.row(i), w.row(y[i])));
            ASSERT_GT(std::abs(theta - (kPi - m)), 1e-3) << "too close to the (discontinuous) switch";
            (theta > kPi - m ? fallback : regular)++;
        }
        ASSERT_GE(fallback, 3);
        ASSERT_GE(regular, 3);
        expectGradientsMatch("arcface", x, y, w, "fallback d=" + std::to_string(d));
        const auto engine = make("arcface");
        EXPECT_NEAR(engine->evaluate({x, y, &w}, false).value, referenceLoss(x, y, w, arcFaceLogit(28.6, 64)),
                    1e-9 * referenceLoss(x, y, w, arcFaceLogit(28.6, 64)));
    }
}

TEST(ArcFace, HandComputedTinyValue) {
    // m = 30° = π/6, s = 2, W = [(1,0), (0,1)].
    // x0 = (-1,0), y=0: c = -1, θ = π > π − π/6 → fallback φ = cos π − (π/6)·sin(π/6) = -1 − π/12;
    //   other logit 2·0 = 0 → CE = log(1 + e^{2(1 + π/12)}).
    // x1 = (1,0), y=1: c = 0, θ = π/2 → φ = cos(π/2 + π/6) = -1/2 → target logit -1; other 2·1 = 2
    //   → CE = 1 + log(e^2 + e^-1) = log(1 + e^3).
    const Real expected = (std::log1p(std::exp(2.0 * (1.0 + kPi / 12.0))) + std::log1p(std::exp(3.0))) / 2.0;
    EXPECT_NEAR(tinyValue("arcface", {{"margin", 30}, {"scale", 2}}, rows2({{-1, 0}, {1, 0}}), {0, 1},
                          rows2({{1, 0}, {0, 1}})),
                expected, 1e-13);
}

// |c| = 1 exactly (x on ±w_y) is where arccos' derivative is infinite: no NaN/inf may come out,
// and an in-range cosine a hair from 1 must still give a finite, bounded gradient (cone tip).
TEST(ArcFace, GradientIsFiniteWhenPointsSitOnTheirClassDirection) {
    const Points w = rows2({{2, 0}, {0, 1}, {-1, -1}});
    const Points x = rows2({{3, 0}, {-0.5, 0}, {0, 1e-9 + 1}, {1, 1e-9}, {-1, -1}, {1, -1e-12}});
    const Labels y = {0, 0, 1, 0, 2, 0};
    for (const auto& params : {std::map<std::string, double, std::less<>>{}, {{"scale", 8}}}) {
        const LossOutput out = make("arcface", params)->evaluate({x, y, &w}, true);
        EXPECT_TRUE(std::isfinite(out.value));
        EXPECT_TRUE(out.gradEmbeddings.allFinite());
        EXPECT_TRUE(out.gradOwned.allFinite());
        // Bounded: |∂L/∂x| ≤ s·(1 + 1)/‖x‖ per sample / N — far below anything 1/θ-sized.
        EXPECT_LT(out.gradEmbeddings.cwiseAbs().maxCoeff(), 1e3);
    }
}

// φ must make the loss monotone in θ: one sample rotating away from w0 in the plane ⟂ w1 (so its
// other logit is constant) must see a strictly increasing loss, also across θ = π − m.
TEST(ArcFace, LossIncreasesMonotonicallyWithTheTargetAngle) {
    Points w(2, 3);
    w << 1, 0, 0, 0, 0, 1;
    const Labels y = {0};
    const auto engine = make("arcface", {{"scale", 4}});
    Real previous = -1.0;
    for (int step = 1; step < 400; ++step) {
        const Real theta = kPi * step / 400.0;
        Points x(1, 3);
        x << std::cos(theta), std::sin(theta), 0;
        const Real value = engine->evaluate({x, y, &w}, false).value;
        EXPECT_GT(value, previous) << "θ = " << theta;
        previous = value;
    }
}

// ---------------------------------------------------------------------------------------------
// L-Softmax and SphereFace

int distinctSectors(const Points& x, const Labels& y, const Points& w, int m) {
    std::set<int> sectors;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        sectors.insert(static_cast<int>(std::floor(referenceAngle(referenceCosine(x.row(i), w.row(y[i]))) * m / kPi)));
    return static_cast<int>(sectors.size());
}

void expectGradientsAcrossSectors(const std::string& loss) {
    for (int d : {2, 3}) {
        const int n = 16, classes = 3;
        const Points x = randomPoints(n, d, 600 + d, 1.1);
        const Points w = randomPoints(classes, d, 610 + d);
        const Labels y = randomLabels(n, classes, 620);
        ASSERT_GE(distinctSectors(x, y, w, 4), 3) << "the configuration should visit several k sectors";
        expectGradientsMatch(loss, x, y, w, "sectors d=" + std::to_string(d));
    }
}

TEST(LargeMarginSoftmax, MatchesReference) { expectMatchesReference("large_margin_softmax"); }
TEST(LargeMarginSoftmax, GradientsMatchFiniteDifferences) {
    expectGradientsMatchAtRandomConfigurations("large_margin_softmax");
}
TEST(LargeMarginSoftmax, GradientsMatchFiniteDifferencesAcrossSectors) {
    expectGradientsAcrossSectors("large_margin_softmax");
}
TEST(LargeMarginSoftmax, RotationInvariant) { expectRotationInvariant("large_margin_softmax"); }
TEST(LargeMarginSoftmax, OneClassOrNoSampleGivesZero) { expectEmptyCasesGiveZero("large_margin_softmax"); }

TEST(LargeMarginSoftmax, HandComputedTinyValue) {
    // m = 4, s = 1, W = [(1,0), (0,2)] (‖w0‖ = 1, ‖w1‖ = 2).
    // x0 = (0,3), y=0: c = 0, θ = π/2, k = ⌊2⌋ = 2, ψ = cos 2π − 4 = -3 (k = 1 gives -cos 2π − 2 = -3
    //   too: ψ is continuous); ℓ00 = 3·1·(-3) = -9, ℓ01 = 3·2·1 = 6 → CE = 9 + log(e^-9 + e^6)... = log(1 + e^15).
    // x1 = (1,√3), y=1: ‖x‖ = 2, c11 = √3/2, θ = π/6, k = ⌊2/3⌋ = 0, ψ = cos(2π/3) = -1/2;
    //   ℓ11 = 2·2·(-1/2) = -2, ℓ10 = 2·1·(1/2) = 1 → CE = 2 + log(e + e^-2) = log(1 + e^3).
    const Real expected = (std::log1p(std::exp(15.0)) + std::log1p(std::exp(3.0))) / 2.0;
    EXPECT_NEAR(tinyValue("large_margin_softmax", {}, rows2({{0, 3}, {1, std::sqrt(3.0)}}), {0, 1},
                          rows2({{1, 0}, {0, 2}})),
                expected, 1e-12);
}

TEST(SphereFace, MatchesReference) { expectMatchesReference("sphereface"); }
TEST(SphereFace, GradientsMatchFiniteDifferences) { expectGradientsMatchAtRandomConfigurations("sphereface"); }
TEST(SphereFace, GradientsMatchFiniteDifferencesAcrossSectors) { expectGradientsAcrossSectors("sphereface"); }
TEST(SphereFace, RotationInvariant) { expectRotationInvariant("sphereface"); }
TEST(SphereFace, OneClassOrNoSampleGivesZero) { expectEmptyCasesGiveZero("sphereface"); }

TEST(SphereFace, HandComputedTinyValue) {
    // m = 2 (cos 2θ = 2c² − 1), s = 1, W = [(1,0), (0,5)]: ‖w1‖ = 5 must not matter.
    // x0 = (2,0), y=1: c01 = 0, θ = π/2, k = 1, ψ = -cos π − 2 = -1 → ℓ01 = 2·(-1) = -2, ℓ00 = 2·1 = 2
    //   → CE = 2 + log(e^2 + e^-2) = log(1 + e^4).
    // x1 = (√3,1), y=0: ‖x‖ = 2, c10 = √3/2, θ = π/6, k = 0, ψ = cos(π/3) = 1/2 → ℓ10 = 1; c11 = 1/2 → ℓ11 = 1
    //   → CE = log 2.
    const Real expected = (std::log1p(std::exp(4.0)) + std::log(2.0)) / 2.0;
    EXPECT_NEAR(tinyValue("sphereface", {{"margin", 2}}, rows2({{2, 0}, {std::sqrt(3.0), 1}}), {1, 0},
                          rows2({{1, 0}, {0, 5}})),
                expected, 1e-13);
}

TEST(SphereFace, IgnoresClassWeightNormsWhereLargeMarginSoftmaxDoesNot) {
    const Points x = randomPoints(10, 2, 700);
    const Points w = randomPoints(3, 2, 701);
    Points wScaled = w;
    wScaled.row(1) *= 3.0;
    const Labels y = randomLabels(10, 3, 702);
    const auto sphere = make("sphereface");
    const auto lsoftmax = make("large_margin_softmax");
    const LossOutput a = sphere->evaluate({x, y, &w}, true);
    const LossOutput b = sphere->evaluate({x, y, &wScaled}, true);
    EXPECT_NEAR(a.value, b.value, 1e-12);
    EXPECT_NEAR(a.gradOwned.row(1).dot(w.row(1)), 0.0, 1e-12) << "∂L/∂w_c ⟂ w_c when only ŵ_c matters";
    EXPECT_GT(std::abs(lsoftmax->evaluate({x, y, &w}, false).value - lsoftmax->evaluate({x, y, &wScaled}, false).value),
              1e-3);
}

TEST(LargeMarginSoftmax, MarginOneIsPlainSoftmax) {
    // m = 1: cos(1·θ) = c, k = 0 for θ < π, so ℓ_ic = ‖x‖‖w‖ c = x·w: the linear classifier.
    const Points x = randomPoints(12, 3, 710);
    const Points w = randomPoints(4, 3, 711);
    const Labels y = randomLabels(12, 4, 712);
    const LossOutput a = make("large_margin_softmax", {{"margin", 1}})->evaluate({x, y, &w}, true);
    const LossOutput b = make("softmax")->evaluate({x, y, &w}, true);
    EXPECT_NEAR(a.value, b.value, 1e-12);
    EXPECT_LT((a.gradEmbeddings - b.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((a.gradOwned - b.gradOwned).cwiseAbs().maxCoeff(), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Plain softmax

TEST(Softmax, MatchesReference) { expectMatchesReference("softmax"); }
TEST(Softmax, GradientsMatchFiniteDifferences) { expectGradientsMatchAtRandomConfigurations("softmax"); }
TEST(Softmax, RotationInvariant) { expectRotationInvariant("softmax"); }
TEST(Softmax, OneClassOrNoSampleGivesZero) { expectEmptyCasesGiveZero("softmax"); }

TEST(Softmax, HandComputedTinyValue) {
    // W = [(1,0), (0,2)].
    // x0 = (1,1), y=0: logits (1, 2) → CE = -1 + log(e + e^2) = log(1 + e).
    // x1 = (2,-1), y=1: logits (2, -2) → CE = 2 + log(e^2 + e^-2) = log(1 + e^4).
    const Real expected = (std::log1p(std::exp(1.0)) + std::log1p(std::exp(4.0))) / 2.0;
    EXPECT_NEAR(tinyValue("softmax", {}, rows2({{1, 1}, {2, -1}}), {0, 1}, rows2({{1, 0}, {0, 2}})), expected,
                1e-14);
}

// ---------------------------------------------------------------------------------------------
// Combined margin

TEST(CombinedMargin, MatchesReference) { expectMatchesReference("combined_margin"); }
TEST(CombinedMargin, GradientsMatchFiniteDifferences) { expectGradientsMatchAtRandomConfigurations("combined_margin"); }
TEST(CombinedMargin, RotationInvariant) { expectRotationInvariant("combined_margin"); }
TEST(CombinedMargin, OneClassOrNoSampleGivesZero) { expectEmptyCasesGiveZero("combined_margin"); }

void expectSameOutputs(const LossOutput& a, const LossOutput& b, const std::string& what) {
    EXPECT_NEAR(a.value, b.value, 1e-10 * std::max(1.0, std::abs(a.value))) << what;
    const Real gx = std::max(1e-3, a.gradEmbeddings.cwiseAbs().maxCoeff());
    const Real gw = std::max(1e-3, a.gradOwned.cwiseAbs().maxCoeff());
    EXPECT_LT((a.gradEmbeddings - b.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-9 * gx) << what;
    EXPECT_LT((a.gradOwned - b.gradOwned).cwiseAbs().maxCoeff(), 1e-9 * gw) << what;
    EXPECT_EQ(a.stats.easy, b.stats.easy) << what;
    EXPECT_EQ(a.stats.semiHard, b.stats.semiHard) << what;
    EXPECT_EQ(a.stats.hard, b.stats.hard) << what;
}

TEST(CombinedMargin, WithOnlyTheCosineMarginIsCosFace) {
    for (int d : {2, 3}) {
        const Points x = randomPoints(14, d, 800 + d);
        const Points w = randomPoints(3, d, 810 + d);
        const Labels y = randomLabels(14, 3, 820);
        for (Real scale : {8.0, 64.0}) {
            const auto combined =
                make("combined_margin", {{"margin1", 1}, {"margin2", 0}, {"margin3", 0.35}, {"scale", scale}});
            const auto cosface = make("cosface", {{"margin", 0.35}, {"scale", scale}});
            expectSameOutputs(combined->evaluate({x, y, &w}, true), cosface->evaluate({x, y, &w}, true),
                              "d=" + std::to_string(d));
        }
    }
}

TEST(CombinedMargin, WithOnlyTheAngularMarginIsArcFaceInTheMonotoneRegion) {
    const Real m = 0.5;
    for (int d : {2, 3}) {
        const int n = 14, classes = 3;
        const Points w = randomPoints(classes, d, 830 + d);
        const Labels y = randomLabels(n, classes, 840);
        const Points noise = randomPoints(n, d, 850 + d, 0.6);
        Points x(n, d);
        for (int i = 0; i < n; ++i) x.row(i) = w.row(y[i]).normalized() + noise.row(i);
        for (int i = 0; i < n; ++i)
            ASSERT_LE(referenceAngle(referenceCosine(x.row(i), w.row(y[i]))), kPi - m) << "outside the monotone region";
        for (Real scale : {8.0, 64.0}) {
            const auto combined =
                make("combined_margin", {{"margin1", 1}, {"margin2", m}, {"margin3", 0}, {"scale", scale}});
            const auto arcface = make("arcface", {{"margin", m * 180.0 / kPi}, {"scale", scale}});
            expectSameOutputs(combined->evaluate({x, y, &w}, true), arcface->evaluate({x, y, &w}, true),
                              "d=" + std::to_string(d));
        }
    }
}

TEST(CombinedMargin, GradientsMatchFiniteDifferencesInTheFallbackRegion) {
    // margin1 = 1.2, margin2 = 0.3: θ* = (π − 0.3)/1.2 ≈ 2.37 rad (135.6°); points around ±w_y.
    const Real thetaStar = (kPi - 0.3) / 1.2;
    for (int d : {2, 3}) {
        const int n = 14, classes = 3;
        const Points w = randomPoints(classes, d, 860 + d);
        const Labels y = randomLabels(n, classes, 870);
        const Points noise = randomPoints(n, d, 880 + d, 0.3);
        Points x(n, d);
        for (int i = 0; i < n; ++i) x.row(i) = (i % 2 == 0 ? -1.0 : 1.0) * w.row(y[i]).normalized() + noise.row(i);
        int fallback = 0;
        for (int i = 0; i < n; ++i)
            if (referenceAngle(referenceCosine(x.row(i), w.row(y[i]))) > thetaStar) ++fallback;
        ASSERT_GE(fallback, 3);
        expectGradientsMatch("combined_margin", x, y, w, "fallback d=" + std::to_string(d));
    }
}

// Our fallback is continuous at θ* and keeps φ decreasing: the loss of one sample whose other
// logit is constant rises strictly and without jumps as its target angle grows through θ*.
TEST(CombinedMargin, FallbackIsContinuousAndMonotone) {
    Points w(2, 3);
    w << 1, 0, 0, 0, 0, 1;
    const Labels y = {0};
    for (const auto& [m1, m2, m3] : {std::tuple{1.0, 0.5, 0.0}, {1.5, 0.3, 0.2}, {2.0, 0.0, 0.1}}) {
        const auto engine = make("combined_margin", {{"margin1", m1}, {"margin2", m2}, {"margin3", m3}, {"scale", 4}});
        auto valueAt = [&](Real theta) {
            Points x(1, 3);
            x << std::cos(theta), std::sin(theta), 0;
            return engine->evaluate({x, y, &w}, false).value;
        };
        Real previous = -1.0;
        for (int step = 1; step < 400; ++step) {
            const Real value = valueAt(kPi * step / 400.0);
            EXPECT_GT(value, previous) << "m1=" << m1 << " step " << step;
            previous = value;
        }
        const Real thetaStar = (kPi - m2) / m1;
        EXPECT_NEAR(valueAt(thetaStar - 1e-9), valueAt(thetaStar + 1e-9), 1e-7) << "jump at θ*, m1=" << m1;
    }
    // ArcFace's (PML's) fallback, by contrast, jumps there: that is why we did not copy it.
    const auto arcface = make("arcface", {{"margin", 0.5 * 180.0 / kPi}, {"scale", 4}});
    auto arcAt = [&](Real theta) {
        Points x(1, 3);
        x << std::cos(theta), std::sin(theta), 0;
        return arcface->evaluate({x, y, &w}, false).value;
    };
    EXPECT_GT(std::abs(arcAt(kPi - 0.5 - 1e-9) - arcAt(kPi - 0.5 + 1e-9)), 0.1);
}

TEST(CombinedMargin, HandComputedTinyValue) {
    // m1 = 1.5, m2 = π/6, m3 = 0.25, s = 2, W = [(1,0), (0,1)].
    // x0 = (1,√3), y=0: θ = π/3, 1.5·π/3 + π/6 = 2π/3 ≤ π → φ = cos(2π/3) − 0.25 = -0.75;
    //   ℓ00 = -1.5, ℓ01 = 2·(√3/2) = √3 → CE = 1.5 + log(e^-1.5 + e^√3) = log(1 + e^{1.5+√3}).
    // x1 = (1,-1), y=1: c = -1/√2, θ = 3π/4, 1.5·3π/4 + π/6 = 9π/8 + π/6 > π → fallback with
    //   θ* = (π − π/6)/1.5 = 5π/9 (100°): φ = -1/√2 − cos(5π/9) − 1 − 0.25 ≈ -1.78346;
    //   ℓ11 = 2φ, ℓ10 = 2·(1/√2) = √2 → CE = log(1 + e^{√2 − 2φ}).
    const Real phi1 = -1.0 / std::sqrt(2.0) - std::cos(5.0 * kPi / 9.0) - 1.25;
    EXPECT_NEAR(phi1, -1.78346, 1e-5);
    const Real expected =
        (std::log1p(std::exp(1.5 + std::sqrt(3.0))) + std::log1p(std::exp(std::sqrt(2.0) - 2.0 * phi1))) / 2.0;
    EXPECT_NEAR(tinyValue("combined_margin", {{"margin1", 1.5}, {"margin2", kPi / 6.0}, {"margin3", 0.25}, {"scale", 2}},
                          rows2({{1, std::sqrt(3.0)}, {1, -1}}), {0, 1}, rows2({{1, 0}, {0, 1}})),
                expected, 1e-13);
}

// ---------------------------------------------------------------------------------------------
// Catalogue entries and label checking (suite name starts with "Softmax" to run with the family).

const std::vector<std::string> kFamily = {"softmax",    "normalized_softmax", "cosface",        "arcface",
                                          "large_margin_softmax", "sphereface", "combined_margin"};

TEST(SoftmaxFamilyCatalog, EntriesOwnOneClassWeightBlockAndTakeNoMiner) {
    for (const std::string& name : kFamily) {
        const LossInfo* info = findLoss(name);
        ASSERT_TRUE(info) << name;
        EXPECT_EQ(info->family, LossFamily::Classification) << name;
        EXPECT_EQ(info->ownedBlocks, 1) << name;
        EXPECT_FALSE(info->acceptsMiner) << name;
        EXPECT_FALSE(info->distanceConfigurable) << name;
        EXPECT_FALSE(info->formula.empty()) << name;
        for (const ParamInfo& p : info->params) EXPECT_FALSE(p.description.empty()) << name << "." << p.name;
        const auto loss = make(name);
        ASSERT_TRUE(loss);
        EXPECT_EQ(loss->name(), name);
    }
}

TEST(SoftmaxFamilyCatalog, DefaultsAreThoseOfPml) {
    auto defaultOf = [](const std::string& loss, const std::string& param) {
        for (const ParamInfo& p : findLoss(loss)->params)
            if (p.name == param) return p.defaultValue;
        ADD_FAILURE() << loss << " has no " << param;
        return 0.0;
    };
    EXPECT_EQ(findLoss("normalized_softmax")->pmlName, "NormalizedSoftmaxLoss");
    EXPECT_EQ(defaultOf("normalized_softmax", "temperature"), 0.05);
    EXPECT_EQ(defaultOf("cosface", "margin"), 0.35);
    EXPECT_EQ(defaultOf("cosface", "scale"), 64);
    EXPECT_EQ(defaultOf("arcface", "margin"), 28.6);
    EXPECT_EQ(defaultOf("arcface", "scale"), 64);
    EXPECT_EQ(defaultOf("large_margin_softmax", "margin"), 4);
    EXPECT_EQ(defaultOf("large_margin_softmax", "scale"), 1);
    EXPECT_EQ(defaultOf("sphereface", "margin"), 4);
    EXPECT_EQ(defaultOf("sphereface", "scale"), 1);
    EXPECT_EQ(defaultOf("combined_margin", "margin1"), 1.0);
    EXPECT_EQ(defaultOf("combined_margin", "margin2"), 0.3);
    EXPECT_EQ(defaultOf("combined_margin", "margin3"), 0.2);
    EXPECT_EQ(defaultOf("combined_margin", "scale"), 64);
    EXPECT_TRUE(findLoss("softmax")->params.empty());
    EXPECT_TRUE(findLoss("softmax")->pmlName.empty());
    std::string error;
    ParamValues fractional;
    fractional.numbers["margin"] = 2.5;
    EXPECT_FALSE(makeLoss(LossConfig{"large_margin_softmax", fractional, std::nullopt}, &error));
    EXPECT_NE(error.find("integer"), std::string::npos) << error;
}

TEST(SoftmaxFamilyCatalog, LabelsOutsideTheClassRangeAreRejected) {
    std::string error;
    EXPECT_TRUE(validateClassLabels({0, 2, 1, 2}, 3, &error));
    EXPECT_FALSE(validateClassLabels({0, 3, 1}, 3, &error));
    EXPECT_NE(error.find("label 3 of point 1"), std::string::npos) << error;
    EXPECT_FALSE(validateClassLabels({0, -1}, 3, &error));
    EXPECT_NE(error.find("label -1"), std::string::npos) << error;

    // evaluate() cannot return an error: debug builds assert; release builds return NaN with zero
    // gradients so that the Trainer's finiteness check stops the run instead of reading past W.
    const Points x = randomPoints(3, 2, 900);
    const Points w = randomPoints(2, 2, 901);
    const Labels bad = {0, 2, 1};
    for (const std::string& name : kFamily) {
        const auto loss = make(name);
        ASSERT_TRUE(loss);
#ifdef NDEBUG
        const LossOutput out = loss->evaluate({x, bad, &w}, true);
        EXPECT_TRUE(std::isnan(out.value)) << name;
        EXPECT_TRUE(out.gradEmbeddings.isZero(0.0)) << name;
        EXPECT_TRUE(out.gradOwned.isZero(0.0)) << name;
#else
        EXPECT_DEATH(loss->evaluate({x, bad, &w}, true), "labels must lie") << name;
#endif
    }
}

// The views draw margins from Loss::marginLogits(): rebuilding every logit from it (times the
// factor common to all classes of a sample) must give back the loss the engine trains with.
TEST(MarginLogits, RebuildTheLossOfEverySoftmaxFamilyMember) {
    struct Member {
        std::string name;
        std::map<std::string, double, std::less<>> params;
        std::function<Real(const Eigen::RowVectorXd& x)> commonFactor;
        bool hasMargin;
    };
    const std::vector<Member> members = {
        {"normalized_softmax", {{"temperature", 0.2}}, [](const auto&) { return 5.0; }, false},
        {"cosface", {{"margin", 0.3}, {"scale", 4.0}}, [](const auto&) { return 4.0; }, true},
        {"arcface", {{"margin", 40.0}, {"scale", 3.0}}, [](const auto&) { return 3.0; }, true},
        {"combined_margin", {{"margin1", 1.2}, {"margin2", 0.2}, {"margin3", 0.1}, {"scale", 2.0}},
         [](const auto&) { return 2.0; }, true},
        {"sphereface", {{"margin", 3}, {"scale", 0.7}}, [](const auto& x) { return 0.7 * x.norm(); }, true},
        {"large_margin_softmax", {{"margin", 2}, {"scale", 1.5}}, [](const auto& x) { return 1.5 * x.norm(); }, true},
        {"softmax", {}, [](const auto& x) { return x.norm(); }, false},
        {"coco", {{"scale", 6.0}}, [](const auto&) { return 6.0; }, false},
    };
    const Points x = randomPoints(9, 2, 4242);
    const Points w = randomPoints(3, 2, 4243);
    const Labels y = randomLabels(9, 3, 4244);
    for (const Member& member : members) {
        const auto loss = make(member.name, member.params);
        ASSERT_TRUE(loss);
        const auto logits = loss->marginLogits();
        ASSERT_TRUE(logits) << member.name;
        EXPECT_EQ(logits->hasMargin, member.hasMargin) << member.name;
        // The factor shared by all classes, as the engine states it and as the formula has it.
        const auto factor = [&](const Eigen::RowVectorXd& xi) { return logits->scale * (logits->normScaled ? xi.norm() : 1.0); };
        EXPECT_NEAR(factor(x.row(0)), member.commonFactor(x.row(0)), 1e-12) << member.name;
        const ReferenceLogit rebuilt = [&](const auto& xi, const auto& wc, bool target) {
            const Real c = referenceCosine(xi, wc);
            const Real norm = logits->weightNorms ? wc.norm() : 1.0;
            return factor(xi) * norm * (target ? logits->target(c) : c);
        };
        EXPECT_NEAR(loss->evaluate({x, y, &w}, false).value, referenceLoss(x, y, w, rebuilt), 1e-10) << member.name;
    }
    EXPECT_FALSE(make("triplet_margin")->marginLogits());
}

// The 2D presets state how many evenly spread classes their margin fits ("up to K classes") and
// that the defaults do not: check both through the logits the engine trains with. A point lying
// on its own class direction (θ = 0) must beat the neighbouring class (θ = 360°/C) with the margin.
TEST(LossPresets, MarginsFitTheClassCountTheyClaimAndTheDefaultsDoNot) {
    auto fits = [](const Loss& loss, int classes) {
        const auto logits = loss.marginLogits();
        return logits && logits->target(1.0) > std::cos(2.0 * kPi / classes);
    };
    int checked = 0;
    for (const LossInfo& info : lossCatalog()) {
        for (const LossPreset& preset : info.presets) {
            std::string error;
            const auto loss = makeLoss(LossConfig{info.name, preset.params, std::nullopt}, &error);
            ASSERT_TRUE(loss) << info.name << " / " << preset.name << ": " << error;
            EXPECT_FALSE(preset.why.empty());
            const auto upTo = preset.name.find("up to ");
            ASSERT_NE(upTo, std::string::npos) << preset.name;
            const int claimed = std::stoi(preset.name.substr(upTo + 6));
            EXPECT_TRUE(fits(*loss, claimed)) << info.name << " " << claimed;
            EXPECT_FALSE(fits(*loss, claimed + 1)) << info.name << " " << claimed + 1;
            const auto defaults = makeLoss(LossConfig{info.name, {}, std::nullopt}, &error);
            EXPECT_FALSE(fits(*defaults, claimed)) << info.name << ": the defaults already fit, no preset needed";
            ++checked;
        }
    }
    EXPECT_EQ(checked, 3);  // CosFace, ArcFace, combined margin
}

// Not part of the suite (timing is not a test): run with --gtest_also_run_disabled_tests.

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Tests of the losses that own a per-class matrix: proxy_anchor, proxy_nca, center, coco.
#include "marginlab/loss.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

std::unique_ptr<Loss> make(const std::string& name, ParamValues params = {},
                           std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    auto loss = makeLoss(LossConfig{name, std::move(params), distance}, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

ParamValues numbers(std::initializer_list<std::pair<const std::string, double>> values) {
    ParamValues p;
    for (const auto& [k, v] : values) p.numbers[k] = v;
    return p;
}

void expectRelativeNear(Real actual, Real expected, Real tolerance, const std::string& what = {}) {
    EXPECT_NEAR(actual, expected, tolerance * std::max(1.0, std::abs(expected))) << what;
}

// ---- Slow references, straight from loss-conventions.md §5 and the papers (plain loops). ----

using Row = std::vector<Real>;

Row rowOf(const Points& m, Eigen::Index i) {
    Row r(static_cast<std::size_t>(m.cols()));
    for (Eigen::Index k = 0; k < m.cols(); ++k) r[static_cast<std::size_t>(k)] = m(i, k);
    return r;
}

Row unit(Row r) {
    Real norm = 0;
    for (Real v : r) norm += v * v;
    norm = std::max(std::sqrt(norm), 1e-12);
    for (Real& v : r) v /= norm;
    return r;
}

Real dot(const Row& a, const Row& b) {
    Real s = 0;
    for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
    return s;
}

Real squaredDistance(const Row& a, const Row& b) {
    Real s = 0;
    for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
    return s;
}

Real referenceProxyAnchor(const Points& x, const Labels& y, const Points& proxies, Real margin, Real alpha) {
    const int classes = static_cast<int>(proxies.rows());
    Real positive = 0, negative = 0;
    int present = 0;
    for (int c = 0; c < classes; ++c) {
        const Row p = unit(rowOf(proxies, c));
        Real posSum = 0, negSum = 0;
        bool any = false;
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            const Real s = dot(unit(rowOf(x, i)), p);
            if (y[static_cast<std::size_t>(i)] == c) {
                posSum += std::exp(-alpha * (s - margin));
                any = true;
            } else {
                negSum += std::exp(alpha * (s + margin));
            }
        }
        positive += std::log(1 + posSum);
        negative += std::log(1 + negSum);
        present += any ? 1 : 0;
    }
    return positive / present + negative / classes;
}

// ProxyNCA with its default distance (squared Euclidean between normalized rows), or with
// `similarity` (cosine) or un-normalized squared Euclidean, as PML's NCALoss would use them.
enum class NcaDistance { NormalizedSquared, RawSquared, Cosine };

Real referenceProxyNca(const Points& x, const Labels& y, const Points& proxies, Real sigma,
                       NcaDistance kind = NcaDistance::NormalizedSquared) {
    const int classes = static_cast<int>(proxies.rows());
    Real sum = 0;
    int kept = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        Row logits(static_cast<std::size_t>(classes));
        for (int c = 0; c < classes; ++c) {
            const Row a = rowOf(x, i), b = rowOf(proxies, c);
            Real value = 0;
            switch (kind) {
                case NcaDistance::NormalizedSquared:
                    value = -sigma * squaredDistance(unit(a), unit(b));
                    break;
                case NcaDistance::RawSquared:
                    value = -sigma * squaredDistance(a, b);
                    break;
                case NcaDistance::Cosine:
                    value = sigma * dot(unit(a), unit(b));
                    break;
            }
            logits[static_cast<std::size_t>(c)] = value;
        }
        // softmax as torch forms it: shift by the maximum
        const Real top = *std::max_element(logits.begin(), logits.end());
        Real denominator = 0;
        for (Real v : logits) denominator += std::exp(v - top);
        const Real q =
            std::exp(logits[static_cast<std::size_t>(y[static_cast<std::size_t>(i)])] - top) / denominator;
        if (q == 0) continue;
        sum += -std::log(q);
        ++kept;
    }
    return kept == 0 ? 0.0 : sum / kept;
}

Real referenceCenter(const Points& x, const Labels& y, const Points& owned, Real lambda) {
    const int classes = static_cast<int>(owned.rows() / 2);
    Real ce = 0, center = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        const int target = y[static_cast<std::size_t>(i)];
        Real denominator = 0;
        for (int c = 0; c < classes; ++c) denominator += std::exp(dot(rowOf(owned, c), rowOf(x, i)));
        ce += -std::log(std::exp(dot(rowOf(owned, target), rowOf(x, i))) / denominator);
        center += squaredDistance(rowOf(x, i), rowOf(owned, classes + target));
    }
    const auto n = static_cast<Real>(x.rows());
    return ce / n + lambda * 0.5 * center / n;
}

Real referenceCoco(const Points& x, const Labels& y, const Points& centroids, Real alpha) {
    Real sum = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        const Row xi = unit(rowOf(x, i));
        Real denominator = 0;
        for (Eigen::Index k = 0; k < centroids.rows(); ++k)
            denominator += std::exp(alpha * dot(xi, unit(rowOf(centroids, k))));
        const Row target = unit(rowOf(centroids, y[static_cast<std::size_t>(i)]));
        sum += -std::log(std::exp(alpha * dot(xi, target)) / denominator);
    }
    return sum / static_cast<Real>(x.rows());
}

// Random configurations: N = 12..20, D = 2 and 3, C = 3 or 4.
struct Config {
    int n, d, classes;
    std::uint64_t seed;
};

std::vector<Config> configs() {
    return {{12, 2, 3, 11}, {16, 3, 4, 12}, {20, 2, 4, 13}, {15, 3, 3, 14}, {18, 2, 3, 15}};
}

Points ownedFor(const Config& c, int blocks) {
    return randomPoints(blocks * c.classes, c.d, c.seed + 1000);
}

// An orthogonal D×D matrix from the QR factorization of a random matrix.
Matrix randomOrthogonal(int d, std::uint64_t seed) {
    const Matrix a = randomPoints(d, d, seed);
    return Eigen::HouseholderQR<Matrix>(a).householderQ();
}

// Value unchanged and gradients rotated when X and the owned matrix are rotated together.
void expectRotationInvariant(const Loss& loss, const Points& x, const Labels& y, const Points& owned,
                             std::uint64_t seed) {
    const Matrix q = randomOrthogonal(static_cast<int>(x.cols()), seed);
    const Points xr = x * q.transpose();
    const Points ownedRotated = owned * q.transpose();
    const LossOutput a = loss.evaluate(LossInput{x, y, &owned}, true);
    const LossOutput b = loss.evaluate(LossInput{xr, y, &ownedRotated}, true);
    expectRelativeNear(b.value, a.value, 1e-12, "value");
    const Points expectedX = a.gradEmbeddings * q.transpose();
    const Points expectedOwned = a.gradOwned * q.transpose();
    EXPECT_LT((b.gradEmbeddings - expectedX).cwiseAbs().maxCoeff(),
              1e-12 * std::max(1.0, expectedX.cwiseAbs().maxCoeff()));
    EXPECT_LT((b.gradOwned - expectedOwned).cwiseAbs().maxCoeff(),
              1e-12 * std::max(1.0, expectedOwned.cwiseAbs().maxCoeff()));
}

// ================================ Catalogue ================================

TEST(ProxyAnchorCatalog, EntriesDescribeTheFourLosses) {
    struct Expected {
        const char* name;
        const char* pml;
        int blocks;
        bool configurable;
    };
    for (const Expected& e : {Expected{"proxy_anchor", "ProxyAnchorLoss", 1, false},
                              Expected{"proxy_nca", "ProxyNCALoss", 1, true},
                              Expected{"center", "", 2, false}, Expected{"coco", "", 1, false}}) {
        const LossInfo* info = findLoss(e.name);
        ASSERT_TRUE(info) << e.name;
        EXPECT_EQ(info->family, LossFamily::Proxy);
        EXPECT_EQ(info->pmlName, e.pml);
        EXPECT_EQ(info->ownedBlocks, e.blocks);
        EXPECT_EQ(info->distanceConfigurable, e.configurable);
        EXPECT_FALSE(info->acceptsMiner);
        EXPECT_FALSE(info->formula.empty());
    }
    EXPECT_EQ(findLoss("proxy_anchor")->defaultDistance, DistanceSpec::cosine());
    EXPECT_EQ(findLoss("proxy_nca")->defaultDistance, DistanceSpec::lp(2, true));
    EXPECT_EQ(findLoss("coco")->defaultDistance, DistanceSpec::cosine());
    std::string error;
    EXPECT_FALSE(makeLoss(LossConfig{"proxy_anchor", {}, DistanceSpec::lp(1, true)}, &error));
    EXPECT_FALSE(makeLoss(LossConfig{"proxy_anchor", numbers({{"alpha", -1.0}}), std::nullopt}, &error));
}

TEST(ProxyAnchorCatalog, DefaultsAreThoseOfPmlAndOfTheHeaders) {
    // A loss built without parameters equals the one built with the documented defaults.
    const Points x = randomPoints(10, 2, 1);
    const Labels y = randomLabels(10, 3, 2);
    const Points owned1 = randomPoints(3, 2, 3), owned2 = randomPoints(6, 2, 4);
    auto same = [&](const std::string& name, ParamValues explicitDefaults, const Points& owned) {
        const Real a = make(name)->evaluate(LossInput{x, y, &owned}, false).value;
        const Real b =
            make(name, std::move(explicitDefaults))->evaluate(LossInput{x, y, &owned}, false).value;
        EXPECT_EQ(a, b) << name;
    };
    same("proxy_anchor", numbers({{"margin", 0.1}, {"alpha", 32.0}}), owned1);
    same("proxy_nca", numbers({{"softmax_scale", 1.0}}), owned1);
    same("center", numbers({{"lambda_c", 0.1}}), owned2);
    same("coco", numbers({{"scale", 16.0}}), owned1);
}

TEST(ProxyAnchorCatalog, BadShapesAndLabelsThrow) {
    const Points x = randomPoints(6, 2, 1);
    const Labels y = {0, 1, 2, 0, 1, 2};
    const Points three = randomPoints(3, 2, 2), two = randomPoints(2, 2, 3), wide = randomPoints(3, 3, 4);
    const Points five = randomPoints(5, 2, 5);
    for (const char* name : {"proxy_anchor", "proxy_nca", "coco"}) {
        auto loss = make(name);
        EXPECT_NO_THROW(loss->evaluate(LossInput{x, y, &three}, true)) << name;
        EXPECT_THROW(loss->evaluate(LossInput{x, y, &two}, true), std::invalid_argument)
            << name;  // label 2 ≥ C
        EXPECT_THROW(loss->evaluate(LossInput{x, y, &wide}, true), std::invalid_argument) << name;
        EXPECT_THROW(loss->evaluate(LossInput{x, y, nullptr}, true), std::invalid_argument) << name;
    }
    auto center = make("center");
    const Points six = randomPoints(6, 2, 6);
    EXPECT_NO_THROW(center->evaluate(LossInput{x, y, &six}, true));
    EXPECT_THROW(center->evaluate(LossInput{x, y, &five}, true), std::invalid_argument);   // odd row count
    EXPECT_THROW(center->evaluate(LossInput{x, y, &three}, true), std::invalid_argument);  // C = 1 < labels
}

TEST(ProxyAnchorCatalog, EmptyBatchGivesZeroWithShapedGradients) {
    const Points x(0, 2);
    const Labels y;
    const Points owned1 = randomPoints(3, 2, 1), owned2 = randomPoints(6, 2, 2);
    for (const char* name : {"proxy_anchor", "proxy_nca", "center", "coco"}) {
        const Points& owned = std::string(name) == "center" ? owned2 : owned1;
        const LossOutput out = make(name)->evaluate(LossInput{x, y, &owned}, true);
        EXPECT_EQ(out.value, 0.0) << name;
        EXPECT_EQ(out.gradEmbeddings.rows(), 0) << name;
        EXPECT_EQ(out.gradOwned.rows(), owned.rows()) << name;
        EXPECT_EQ(out.gradOwned.cwiseAbs().maxCoeff(), 0.0) << name;
    }
}

// ================================ proxy_anchor ================================

TEST(ProxyAnchor, ValueMatchesReference) {
    // extraProxies = 1: one more proxy than the classes in the batch (an absent class).
    for (const Config& c : configs())
        for (Real alpha : {4.0, 32.0})
            for (Real margin : {0.1, 0.3})
                for (int extraProxies : {0, 1}) {
                    const Points x = randomPoints(c.n, c.d, c.seed);
                    const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
                    const Points proxies = randomPoints(c.classes + extraProxies, c.d, c.seed + 1000);
                    auto loss = make("proxy_anchor", numbers({{"margin", margin}, {"alpha", alpha}}));
                    const LossOutput out = loss->evaluate(LossInput{x, y, &proxies}, true);
                    expectRelativeNear(out.value, referenceProxyAnchor(x, y, proxies, margin, alpha), 1e-9);
                    EXPECT_EQ(out.stats.tuples, static_cast<Count>(c.n) * proxies.rows());
                    EXPECT_EQ(out.stats.tupleKind, "pairs");
                }
}

TEST(ProxyAnchor, GradientMatchesFiniteDifferences) {
    // Moderate α = 6: at α = 32 the soft maximum over samples is nearly a hard maximum, so the
    // gradient is dominated by a few pairs and the others' contributions fall below a norm-wise
    // 1e-6 check; at α = 6 every pair carries weight and a wrong term anywhere would show.
    // (α also enters the truncation error of central differences as ~α³h², kept small here.)
    for (const Config& c : configs())
        for (Real margin : {0.1, 0.4}) {
            const Points x = randomPoints(c.n, c.d, c.seed);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points proxies = ownedFor(c, 1);
            const auto error =
                finiteDifferenceError(*make("proxy_anchor", numbers({{"alpha", 6.0}, {"margin", margin}})),
                                      LossInput{x, y, &proxies});
            EXPECT_LT(error.embeddings, 1e-6) << c.seed;
            EXPECT_LT(error.owned, 1e-6) << c.seed;
        }
}

TEST(ProxyAnchor, GradientAtDefaultAlphaMatchesFiniteDifferences) {
    // α = 32 (PML default), embeddings of norm ~1 and of norm ~0.3 (normalization multiplies the
    // derivatives by 1/‖x‖). Central differences with h = 1e-6: truncation ~α³h²/‖x‖³ and rounding
    // ~1e-16·|L|/h; measured worst norm-wise relative error over these configurations 7e-9
    // (h = 1e-5 gives 7e-7, h = 1e-7 gives 2e-8), so the usual 1e-6 bound holds with ~100×
    // head-room and no looser tolerance is needed.
    auto loss = make("proxy_anchor");
    for (Real scale : {1.0, 0.3})
        for (const Config& c : configs()) {
            const Points x = randomPoints(c.n, c.d, c.seed, scale);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points proxies = ownedFor(c, 1);
            const auto error = finiteDifferenceError(*loss, LossInput{x, y, &proxies});
            EXPECT_LT(error.embeddings, 1e-6) << c.seed;
            EXPECT_LT(error.owned, 1e-6) << c.seed;
        }
}

TEST(ProxyAnchor, AbsentClassIsNotInThePositiveDivisor) {
    // C = 4 proxies, labels only 0..2: pos terms are divided by 3 (classes present), neg by 4.
    const Points x = randomPoints(12, 2, 21);
    const Labels y = randomLabels(12, 3, 22);
    const Points proxies = randomPoints(4, 2, 23);
    const Real margin = 0.1, alpha = 8.0;
    auto loss = make("proxy_anchor", numbers({{"alpha", alpha}}));
    const LossOutput out = loss->evaluate(LossInput{x, y, &proxies}, true);

    Real pos = 0, neg = 0;
    for (int c = 0; c < 4; ++c) {
        Real ps = 0, ns = 0;
        for (int i = 0; i < 12; ++i) {
            const Real s = dot(unit(rowOf(x, i)), unit(rowOf(proxies, c)));
            if (y[static_cast<std::size_t>(i)] == c)
                ps += std::exp(-alpha * (s - margin));
            else
                ns += std::exp(alpha * (s + margin));
        }
        pos += std::log1p(ps);
        neg += std::log1p(ns);
    }
    expectRelativeNear(out.value, pos / 3 + neg / 4, 1e-12);
    // The other divisor would give a clearly different number: the test can tell them apart.
    EXPECT_GT(std::abs(out.value - (pos / 4 + neg / 4)), 1e-3);
    // The absent class's proxy still gets a gradient (from its negative term).
    EXPECT_GT(out.gradOwned.row(3).norm(), 0.0);
    const auto error = finiteDifferenceError(*loss, LossInput{x, y, &proxies});
    EXPECT_LT(error.embeddings, 1e-6);
    EXPECT_LT(error.owned, 1e-6);
}

TEST(ProxyAnchor, SingleClassHasNoNegativeTerm) {
    // C = 1, every sample of class 0: neg_0 = log(1 + empty sum) = 0, pos_0 / 1 remains.
    const Points x = randomPoints(5, 3, 31);
    const Labels y(5, 0);
    const Points proxies = randomPoints(1, 3, 32);
    const LossOutput out = make("proxy_anchor")->evaluate(LossInput{x, y, &proxies}, true);
    expectRelativeNear(out.value, referenceProxyAnchor(x, y, proxies, 0.1, 32.0), 1e-12);
    EXPECT_GT(out.value, 0.0);
}

TEST(ProxyAnchor, RotationInvariance) {
    auto loss = make("proxy_anchor");
    for (const Config& c : configs())
        expectRotationInvariant(*loss, randomPoints(c.n, c.d, c.seed),
                                randomLabels(c.n, c.classes, c.seed + 1), ownedFor(c, 1), c.seed + 7);
}

TEST(ProxyAnchor, HandComputedTinyValue) {
    // Proxies p0 = (1,0), p1 = (0,1); x0 = (2,0) of class 0, x1 = (0,3) of class 1; δ = 0.1, α = 2.
    // Cosines: s00 = 1, s01 = 0, s10 = 0, s11 = 1.
    // pos_0 = pos_1 = log(1 + e^{−2(1−0.1)}) = log(1 + e^{−1.8}) = 0.1529750...
    // neg_0 = neg_1 = log(1 + e^{2(0+0.1)}) = log(1 + e^{0.2})  = 0.7981414...
    // L = (2·0.15297...)/2 present + (2·0.79814...)/2 classes = 0.9511164799076659
    Points x(2, 2);
    x << 2, 0, 0, 3;
    Points proxies(2, 2);
    proxies << 1, 0, 0, 1;
    const Labels y = {0, 1};
    const LossOutput out =
        make("proxy_anchor", numbers({{"alpha", 2.0}}))->evaluate(LossInput{x, y, &proxies}, true);
    EXPECT_NEAR(out.value, 0.9511164799076659, 1e-14);
    // Active = pairs inside their margin: the positives (s = 1 ≥ δ) are not, both negative pairs
    // (s = 0 > −δ) are.
    EXPECT_EQ(out.stats.active, 2);
}

// ================================ proxy_nca ================================

TEST(ProxyNCA, ValueMatchesReference) {
    for (const Config& c : configs())
        for (Real sigma : {1.0, 3.0, 9.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points proxies = ownedFor(c, 1);
            auto loss = make("proxy_nca", numbers({{"softmax_scale", sigma}}));
            const LossOutput out = loss->evaluate(LossInput{x, y, &proxies}, true);
            expectRelativeNear(out.value, referenceProxyNca(x, y, proxies, sigma), 1e-9);
            EXPECT_EQ(out.stats.tuples, c.n);
            EXPECT_EQ(out.stats.active, c.n);
        }
}

TEST(ProxyNCA, OtherDistancesMatchReference) {
    // PML's NCALoss negates a distance and keeps a similarity as it is.
    for (const Config& c : configs()) {
        const Points x = randomPoints(c.n, c.d, c.seed);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
        const Points proxies = ownedFor(c, 1);
        const ParamValues p = numbers({{"softmax_scale", 2.0}});
        const Real raw = make("proxy_nca", p, DistanceSpec::lp(2, false))
                             ->evaluate(LossInput{x, y, &proxies}, false)
                             .value;
        expectRelativeNear(raw, referenceProxyNca(x, y, proxies, 2.0, NcaDistance::RawSquared), 1e-9);
        const Real cosine =
            make("proxy_nca", p, DistanceSpec::cosine())->evaluate(LossInput{x, y, &proxies}, false).value;
        expectRelativeNear(cosine, referenceProxyNca(x, y, proxies, 2.0, NcaDistance::Cosine), 1e-9);
        const auto error = finiteDifferenceError(*make("proxy_nca", p, DistanceSpec::lp(2, false)),
                                                 LossInput{x, y, &proxies});
        EXPECT_LT(error.embeddings, 1e-6);
        EXPECT_LT(error.owned, 1e-6);
    }
}

TEST(ProxyNCA, GradientMatchesFiniteDifferences) {
    for (Real sigma : {1.0, 4.0})
        for (const Config& c : configs()) {
            const Points x = randomPoints(c.n, c.d, c.seed);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points proxies = ownedFor(c, 1);
            const auto error = finiteDifferenceError(*make("proxy_nca", numbers({{"softmax_scale", sigma}})),
                                                     LossInput{x, y, &proxies});
            EXPECT_LT(error.embeddings, 1e-6) << c.seed;
            EXPECT_LT(error.owned, 1e-6) << c.seed;
        }
}

// Three proxies at angles 0, 2π/3, 4π/3 (different norms: normalization is exercised).
// With σ = 300 a sample sitting on a wrong proxy has ‖x̂ − p̂_y‖² = 3, so its logit is 900 below
// the top and exp(−900) underflows to exactly 0 in double: q_i = 0, dropped from the mean.
struct UnderflowCase {
    Points x{4, 2};
    Points proxies{3, 2};
    Labels y = {0, 1, 2, 0};
    UnderflowCase() {
        const Real third = 2 * std::numbers::pi / 3;
        proxies << 1, 0, 2 * std::cos(third), 2 * std::sin(third), 0.5 * std::cos(2 * third),
            0.5 * std::sin(2 * third);
        auto at = [](Real angle, Real radius) {
            return Eigen::RowVector2d(radius * std::cos(angle), radius * std::sin(angle));
        };
        x.row(0) = at(std::numbers::pi / 3 + 0.001, 1.5);  // class 0, halfway to proxy 1: q = O(1)
        x.row(1) = at(std::numbers::pi / 3 - 0.002, 0.7);  // class 1, halfway to proxy 0: q = O(1)
        x.row(2) = at(0.0, 3.0);                           // class 2 on proxy 0: q = 0
        x.row(3) = at(third, 1.0);                         // class 0 on proxy 1: q = 0
    }
};

TEST(ProxyNCA, UnderflowedSamplesAreExcludedFromTheMean) {
    const UnderflowCase u;
    const Real sigma = 300.0;
    auto loss = make("proxy_nca", numbers({{"softmax_scale", sigma}}));
    const LossOutput out = loss->evaluate(LossInput{u.x, u.y, &u.proxies}, true);
    // Only samples 0 and 1 count: the divisor is 2, not 4.
    const Real kept = referenceProxyNca(u.x.topRows(2), Labels{0, 1}, u.proxies, sigma);
    expectRelativeNear(out.value, kept, 1e-12);
    expectRelativeNear(out.value, referenceProxyNca(u.x, u.y, u.proxies, sigma), 1e-12);
    // The kept terms are O(1): the two nearest proxies' logits differ by σ·4·sin(π/3)·sin(ε) ≈ 1.0
    // and 2.1 (ε = 0.001, 0.002), each against the sample's own class, so −log q ≈ 1.3 and 2.2.
    EXPECT_GT(out.value, 1.5);
    EXPECT_LT(out.value, 2.0);
    EXPECT_EQ(out.stats.active, 2);
    EXPECT_EQ(out.gradEmbeddings.row(2).norm(), 0.0);
    EXPECT_EQ(out.gradEmbeddings.row(3).norm(), 0.0);
    // σ = 300 makes the kept terms steep: step 1e-7 keeps the truncation error (∝ h²σ³) small.
    const auto error = finiteDifferenceError(*loss, LossInput{u.x, u.y, &u.proxies}, 1e-7);
    EXPECT_LT(error.embeddings, 1e-6);
    EXPECT_LT(error.owned, 1e-6);
}

TEST(ProxyNCA, AllUnderflowedGivesZero) {
    const UnderflowCase u;
    const Points x = u.x.bottomRows(2);
    const Labels y = {2, 0};
    const LossOutput out =
        make("proxy_nca", numbers({{"softmax_scale", 300.0}}))->evaluate(LossInput{x, y, &u.proxies}, true);
    EXPECT_EQ(out.value, 0.0);
    EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
    EXPECT_EQ(out.gradOwned.cwiseAbs().maxCoeff(), 0.0);
    EXPECT_EQ(out.stats.active, 0);
}

TEST(ProxyNCA, RotationInvariance) {
    auto loss = make("proxy_nca", numbers({{"softmax_scale", 3.0}}));
    for (const Config& c : configs())
        expectRotationInvariant(*loss, randomPoints(c.n, c.d, c.seed),
                                randomLabels(c.n, c.classes, c.seed + 1), ownedFor(c, 1), c.seed + 7);
}

TEST(ProxyNCA, HandComputedTinyValue) {
    // Proxies p0 = (1,0), p1 = (0,1); σ = 1; x0 = (1,0) and x1 = (0,5), both of class 0.
    // x̂0 = (1,0): ‖x̂0−p̂0‖² = 0, ‖x̂0−p̂1‖² = 2 → −log q0 = log(1 + e^{−2}) = 0.126928...
    // x̂1 = (0,1): ‖x̂1−p̂0‖² = 2, ‖x̂1−p̂1‖² = 0 → −log q1 = log(1 + e^{+2}) = 2.126928...
    // L = (0.126928 + 2.126928) / 2 = 1.1269280110429727
    Points x(2, 2);
    x << 1, 0, 0, 5;
    Points proxies(2, 2);
    proxies << 1, 0, 0, 1;
    const Labels y = {0, 0};
    EXPECT_NEAR(make("proxy_nca")->evaluate(LossInput{x, y, &proxies}, false).value, 1.1269280110429727,
                1e-14);
}

// ================================ center ================================

TEST(CenterLoss, ValueMatchesReference) {
    for (const Config& c : configs())
        for (Real lambda : {0.0, 0.1, 2.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed, 2.0);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points owned = ownedFor(c, 2);
            const LossOutput out =
                make("center", numbers({{"lambda_c", lambda}}))->evaluate(LossInput{x, y, &owned}, true);
            expectRelativeNear(out.value, referenceCenter(x, y, owned, lambda), 1e-9);
            EXPECT_EQ(out.gradOwned.rows(), 2 * c.classes);
        }
}

TEST(CenterLoss, GradientMatchesFiniteDifferences) {
    for (Real lambda : {0.1, 1.0})
        for (const Config& c : configs()) {
            const Points x = randomPoints(c.n, c.d, c.seed, 2.0);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points owned = ownedFor(c, 2);
            const auto error = finiteDifferenceError(*make("center", numbers({{"lambda_c", lambda}})),
                                                     LossInput{x, y, &owned});
            EXPECT_LT(error.embeddings, 1e-6) << c.seed;
            EXPECT_LT(error.owned, 1e-6) << c.seed;
        }
}

TEST(CenterLoss, CenterTermIsTranslationInvariant) {
    for (const Config& c : configs()) {
        const Points x = randomPoints(c.n, c.d, c.seed, 2.0);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
        Points owned = ownedFor(c, 2);
        const Eigen::RowVectorXd shift = randomPoints(1, c.d, c.seed + 5, 3.0).row(0);
        const Points xs = x.rowwise() + shift;
        Points ownedShifted = owned;
        ownedShifted.bottomRows(c.classes).rowwise() += shift;  // centers move, W does not

        // (a) With any W: L_λ − L_0 (the center term alone, and its gradient) is unchanged.
        auto withLambda = make("center", numbers({{"lambda_c", 0.7}}));
        auto without = make("center", numbers({{"lambda_c", 0.0}}));
        auto term = [&](const Points& px, const Points& po) {
            const LossOutput a = withLambda->evaluate(LossInput{px, y, &po}, true);
            const LossOutput b = without->evaluate(LossInput{px, y, &po}, true);
            return std::make_tuple(a.value - b.value, Points(a.gradEmbeddings - b.gradEmbeddings),
                                   Points(a.gradOwned - b.gradOwned));
        };
        const auto [v0, gx0, go0] = term(x, owned);
        const auto [v1, gx1, go1] = term(xs, ownedShifted);
        EXPECT_GT(v0, 0.0);
        expectRelativeNear(v1, v0, 1e-10);
        EXPECT_LT((gx1 - gx0).cwiseAbs().maxCoeff(), 1e-12);
        EXPECT_LT((go1 - go0).cwiseAbs().maxCoeff(), 1e-12);

        // (b) With W = 0 the softmax part is the constant log C: the whole loss is invariant.
        owned.topRows(c.classes).setZero();
        ownedShifted.topRows(c.classes).setZero();
        const LossOutput a = withLambda->evaluate(LossInput{x, y, &owned}, true);
        const LossOutput b = withLambda->evaluate(LossInput{xs, y, &ownedShifted}, true);
        expectRelativeNear(b.value, a.value, 1e-12);
        EXPECT_LT((b.gradEmbeddings - a.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-12);
        EXPECT_LT(
            (b.gradOwned.bottomRows(c.classes) - a.gradOwned.bottomRows(c.classes)).cwiseAbs().maxCoeff(),
            1e-12);
    }
}

TEST(CenterLoss, SoftmaxPartIsNotTranslationInvariant) {
    // Guard for the test above: translating x changes the CE part, so (a) really isolates the term.
    const Points x = randomPoints(12, 2, 41);
    const Labels y = randomLabels(12, 3, 42);
    const Points owned = randomPoints(6, 2, 43);
    const Points xs = x.rowwise() + Eigen::RowVector2d(1.0, -2.0);
    auto loss = make("center", numbers({{"lambda_c", 0.0}}));
    EXPECT_GT(std::abs(loss->evaluate(LossInput{x, y, &owned}, false).value -
                       loss->evaluate(LossInput{xs, y, &owned}, false).value),
              1e-3);
}

TEST(CenterLoss, RotationInvariance) {
    auto loss = make("center", numbers({{"lambda_c", 0.5}}));
    for (const Config& c : configs())
        expectRotationInvariant(*loss, randomPoints(c.n, c.d, c.seed),
                                randomLabels(c.n, c.classes, c.seed + 1), ownedFor(c, 2), c.seed + 7);
}

TEST(CenterLoss, CentersMoveTowardsTheirClassMean) {
    // −∂L/∂c_c = (λ/N) Σ_{y_i=c} (x_i − c_c) = (λ n_c / N)(mean_c − c_c): gradient descent on a
    // center moves it towards its class mean; a class absent from the batch gets no center gradient.
    const Points x = randomPoints(9, 2, 51);
    const Labels y = {0, 1, 0, 1, 0, 1, 0, 1, 0};
    const Points owned = randomPoints(6, 2, 52);  // C = 3, class 2 absent
    const Real lambda = 0.4;
    const LossOutput out =
        make("center", numbers({{"lambda_c", lambda}}))->evaluate(LossInput{x, y, &owned}, true);
    for (int c = 0; c < 2; ++c) {
        Eigen::RowVector2d mean = Eigen::RowVector2d::Zero();
        int count = 0;
        for (int i = 0; i < 9; ++i)
            if (y[static_cast<std::size_t>(i)] == c) {
                mean += x.row(i);
                ++count;
            }
        mean /= count;
        const Eigen::RowVector2d expected = -(lambda * count / 9.0) * (mean - owned.row(3 + c));
        EXPECT_LT((out.gradOwned.row(3 + c) - expected).norm(), 1e-14);
    }
    EXPECT_EQ(out.gradOwned.row(5).norm(), 0.0);
}

TEST(CenterLoss, HandComputedTinyValue) {
    // C = 2: W = [(1,0); (−1,0)], centers [(1,1); (−1,−1)], λ = 0.5.
    // x0 = (1,0), class 0: logits (1, −1) → CE = log(1 + e^{−2}) = 0.126928; ‖x0 − c0‖² = 0 + 1 = 1.
    // x1 = (0,2), class 1: logits (0, 0)  → CE = log 2 = 0.693147;        ‖x1 − c1‖² = 1 + 9 = 10.
    // L = (0.126928 + 0.693147)/2 + 0.5 · ½ · (1 + 10)/2 = 0.410038 + 1.375 = 1.7850375958014588
    Points x(2, 2);
    x << 1, 0, 0, 2;
    Points owned(4, 2);
    owned << 1, 0, -1, 0, 1, 1, -1, -1;
    const Labels y = {0, 1};
    const LossOutput out =
        make("center", numbers({{"lambda_c", 0.5}}))->evaluate(LossInput{x, y, &owned}, true);
    EXPECT_NEAR(out.value, 1.7850375958014588, 1e-14);
    // ∂L/∂c0 = −(λ/N)(x0 − c0) = −0.25·(0, −1) = (0, 0.25)
    EXPECT_NEAR(out.gradOwned(2, 0), 0.0, 1e-15);
    EXPECT_NEAR(out.gradOwned(2, 1), 0.25, 1e-15);
}

// ================================ coco ================================

TEST(CoCo, ValueMatchesReference) {
    for (const Config& c : configs())
        for (Real scale : {1.0, 16.0, 40.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points centroids = ownedFor(c, 1);
            const LossOutput out =
                make("coco", numbers({{"scale", scale}}))->evaluate(LossInput{x, y, &centroids}, true);
            expectRelativeNear(out.value, referenceCoco(x, y, centroids, scale), 1e-9);
        }
}

TEST(CoCo, GradientMatchesFiniteDifferences) {
    // α = 4 and the default 16 (cosine logits are bounded by α, so 16 is still smooth enough for
    // h = 1e-6 at a 1e-6 relative bound).
    for (Real scale : {4.0, 16.0})
        for (const Config& c : configs()) {
            const Points x = randomPoints(c.n, c.d, c.seed);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 1);
            const Points centroids = ownedFor(c, 1);
            const auto error = finiteDifferenceError(*make("coco", numbers({{"scale", scale}})),
                                                     LossInput{x, y, &centroids});
            EXPECT_LT(error.embeddings, 1e-6) << c.seed;
            EXPECT_LT(error.owned, 1e-6) << c.seed;
        }
}

TEST(CoCo, RotationInvariance) {
    auto loss = make("coco");
    for (const Config& c : configs())
        expectRotationInvariant(*loss, randomPoints(c.n, c.d, c.seed),
                                randomLabels(c.n, c.classes, c.seed + 1), ownedFor(c, 1), c.seed + 7);
}

TEST(CoCo, ScaleInvariantInNorms) {
    // Only directions matter: rescaling every x_i and every centroid by positive factors keeps the
    // value and scales the gradients by the inverse factors.
    const Points x = randomPoints(10, 3, 61);
    const Labels y = randomLabels(10, 3, 62);
    const Points centroids = randomPoints(3, 3, 63);
    auto loss = make("coco");
    const LossOutput a = loss->evaluate(LossInput{x, y, &centroids}, true);
    const Points x2 = 2.5 * x, c2 = 0.5 * centroids;
    const LossOutput b = loss->evaluate(LossInput{x2, y, &c2}, true);
    expectRelativeNear(b.value, a.value, 1e-12);
    EXPECT_LT((2.5 * b.gradEmbeddings - a.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((0.5 * b.gradOwned - a.gradOwned).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(CoCo, HandComputedTinyValue) {
    // Centroids c0 = (2,0), c1 = (0,−1); α = 2.
    // x0 = (3,0), class 0: cosines (1, 0)        → logits (2, 0)    → CE = log(1 + e^{−2}) = 0.126928
    // x1 = (1,1), class 1: cosines (1/√2, −1/√2) → logits (√2, −√2) → CE = 2√2 + log(1 + e^{−2√2}) = 2.885852
    // L = (0.126928 + 2.885852)/2 = 1.5063900262668415
    Points x(2, 2);
    x << 3, 0, 1, 1;
    Points centroids(2, 2);
    centroids << 2, 0, 0, -1;
    const Labels y = {0, 1};
    EXPECT_NEAR(make("coco", numbers({{"scale", 2.0}}))->evaluate(LossInput{x, y, &centroids}, false).value,
                1.5063900262668415, 1e-14);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// The force split (LossInput::splitForces → LossOutput::gradFromPositives, Trainer::setSplitForces):
// it changes nothing else, its directions are the ones the definition implies, and it matches
// plain-loop references written from the formulas.
#include "marginlab/loss.h"
#include "marginlab/losses/angular.h"
#include "marginlab/miner.h"
#include "marginlab/trainer.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;
using Row = Eigen::RowVectorXd;

bool sameBits(const Points& a, const Points& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    return a.size() == 0 ||
           std::memcmp(a.data(), b.data(), sizeof(Real) * static_cast<std::size_t>(a.size())) == 0;
}

Real largest(const Points& p) { return p.size() ? p.cwiseAbs().maxCoeff() : 0.0; }

/// ‖got − expected‖∞ / ‖expected‖∞ (expected must not be all zero).
Real relativeError(const Points& got, const Points& expected) {
    EXPECT_EQ(got.rows(), expected.rows());
    EXPECT_EQ(got.cols(), expected.cols());
    if (got.rows() != expected.rows() || got.cols() != expected.cols()) return 1.0;
    EXPECT_GT(largest(expected), 0.0);
    return (got - expected).cwiseAbs().maxCoeff() / std::max(largest(expected), Real(1e-300));
}

Row cross(const Row& a, const Row& b) {
    Row out(3);
    out << a(1) * b(2) - a(2) * b(1), a(2) * b(0) - a(0) * b(2), a(0) * b(1) - a(1) * b(0);
    return out;
}

/// |sin| of the angle between two vectors of R² or R³ (0 when they are parallel or antiparallel).
Real sine(const Row& a, const Row& b) {
    const Real area = a.size() == 2 ? std::abs(a(0) * b(1) - a(1) * b(0)) : cross(a, b).norm();
    return area / (a.norm() * b.norm());
}

std::unique_ptr<Loss> make(const std::string& name, ParamValues params = {},
                           std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    auto loss = makeLoss(LossConfig{name, std::move(params), distance}, &error);
    EXPECT_TRUE(loss) << name << ": " << error;
    return loss;
}

ParamValues numbers(std::map<std::string, double, std::less<>> values) {
    ParamValues params;
    params.numbers = std::move(values);
    return params;
}

struct Case {
    const LossInfo* info;
    ParamValues params;
    std::optional<DistanceSpec> distance;
    std::string describe() const {
        std::string text = info->name;
        for (const auto& [key, value] : params.numbers) text += " " + key + "=" + std::to_string(value);
        for (const auto& [key, value] : params.choices) text += " " + key + "=" + value;
        if (distance) text += " " + distance->describe();
        return text;
    }
};

/// Every catalogue loss with its defaults, plus the options that take other code paths.
std::vector<Case> catalogueCases() {
    std::vector<Case> cases;
    for (const LossInfo& info : lossCatalog()) {
        cases.push_back({&info, {}, std::nullopt});
        if (info.distanceConfigurable)
            for (const DistanceSpec& d : {DistanceSpec::lp(1, false), DistanceSpec::lp(2, false),
                                          DistanceSpec::lp(1, true), DistanceSpec::cosine()})
                cases.push_back({&info, {}, d});
        if (info.name == "triplet_margin") {
            cases.push_back({&info, numbers({{"swap", 1}}), std::nullopt});
            cases.push_back({&info, numbers({{"smooth_loss", 1}}), std::nullopt});
            ParamValues mean;
            mean.choices["reducer"] = "mean";
            cases.push_back({&info, mean, std::nullopt});
        }
        if (info.name == "contrastive_hadsell" || info.name == "centroid_triplet")
            cases.push_back({&info, numbers({{"normalize", 1}}), std::nullopt});
    }
    return cases;
}

/// Miners whose tuples take the mined paths of the losses that accept one (none = every tuple).
std::vector<std::optional<std::string>> minersFor(const LossInfo& info) {
    if (!info.acceptsMiner) return {std::nullopt};
    return {std::nullopt, "triplet_margin", "batch_hard", "pair_margin", "multi_similarity"};
}

struct Inputs {
    Points x;
    Labels y;
    Points owned;  // empty if the loss owns nothing
};

Inputs randomInputs(const LossInfo& info, int n, int d, const Labels& y, std::uint64_t seed) {
    Inputs in{randomPoints(n, d, seed), y, {}};
    const int classes = *std::max_element(y.begin(), y.end()) + 1;
    if (info.ownedBlocks > 0) in.owned = randomPoints(info.ownedBlocks * classes, d, seed + 1000);
    // The learned margin β_c (column 0) inside the range of every distance, so that both the
    // positive and the negative terms can be active (an N(0,1) β may silence either half).
    if (info.name == "margin_learn_beta")
        for (int c = 0; c < classes; ++c) in.owned(c, 0) = 0.5 + 0.1 * c;
    return in;
}

LossOutput evaluate(const Loss& loss, const Inputs& in, const Tuples* tuples, bool split) {
    LossInput input{in.x, in.y, in.owned.size() ? &in.owned : nullptr, tuples, 99};
    input.splitForces = split;
    return loss.evaluate(input, true);
}

bool isClassOrProxy(const LossInfo& info) {
    return info.family == LossFamily::Classification || info.family == LossFamily::Proxy;
}

// ---------------------------------------------------------------------------------------------
// Every loss: the split leaves value and gradients untouched and is a finite N×D matrix.

TEST(ForceSplit, EveryCatalogueLossKeepsValueAndGradientBitIdentical) {
    ASSERT_EQ(lossCatalog().size(), 43u);
    std::set<std::string> covered;
    std::map<std::string, bool> attracts, repels;  // some configuration had a non-zero part
    for (const Case& c : catalogueCases()) {
        const auto loss = make(c.info->name, c.params, c.distance);
        ASSERT_TRUE(loss);
        covered.insert(c.info->name);
        for (const auto& minerName : minersFor(*c.info))
            for (std::uint64_t seed = 1; seed <= 3; ++seed)
                for (int d : {2, 3}) {
                    const int n = 10 + static_cast<int>(seed) * 2;
                    const Inputs in =
                        randomInputs(*c.info, n, d, randomLabels(n, 3, seed * 17 + 5), seed * 31 + d);
                    std::optional<Tuples> tuples;
                    if (minerName) {
                        std::string error;
                        const auto miner = makeMiner(MinerConfig{*minerName, {}, std::nullopt}, &error);
                        ASSERT_TRUE(miner) << error;
                        tuples = miner->mine(MinerInput{in.x, in.y, seed});
                    }
                    const Tuples* t = tuples ? &*tuples : nullptr;
                    const LossOutput plain = evaluate(*loss, in, t, false);
                    const LossOutput split = evaluate(*loss, in, t, true);
                    const std::string where = c.describe() + " miner " + minerName.value_or("none") +
                                              " seed " + std::to_string(seed) + " D " + std::to_string(d);
                    EXPECT_EQ(std::memcmp(&plain.value, &split.value, sizeof(Real)), 0) << where;
                    EXPECT_TRUE(sameBits(plain.gradEmbeddings, split.gradEmbeddings)) << where;
                    EXPECT_TRUE(sameBits(plain.gradOwned, split.gradOwned)) << where;
                    EXPECT_EQ(plain.stats.active, split.stats.active) << where;
                    EXPECT_EQ(plain.gradFromPositives.size(), 0) << where << ": filled without being asked";
                    ASSERT_EQ(split.gradFromPositives.rows(), n) << where;
                    ASSERT_EQ(split.gradFromPositives.cols(), d) << where;
                    EXPECT_TRUE(split.gradFromPositives.allFinite()) << where;
                    const Points repulsion = split.gradEmbeddings - split.gradFromPositives;
                    if (largest(split.gradFromPositives) > 0.0) attracts[c.info->name] = true;
                    if (largest(repulsion) > 0.0) repels[c.info->name] = true;
                }
    }
    EXPECT_EQ(covered.size(), lossCatalog().size());
    // Neither "everything is attraction" nor "nothing is" would pass for any loss.
    for (const LossInfo& info : lossCatalog()) {
        EXPECT_TRUE(attracts[info.name]) << info.name << ": the positive part was always zero";
        EXPECT_TRUE(repels[info.name]) << info.name << ": the positive part was always the whole gradient";
    }
}

TEST(ForceSplit, EdgeCasesGiveAZeroOrConsistentSplit) {
    // One class only, every label distinct, and no gradient requested.
    for (const LossInfo& info : lossCatalog()) {
        const auto loss = make(info.name);
        for (const Labels& y : {Labels(8, 0), Labels{0, 1, 2, 3, 4, 5, 6, 7}}) {
            const Inputs in = randomInputs(info, 8, 2, y, 5);
            const LossOutput plain = evaluate(*loss, in, nullptr, false);
            const LossOutput split = evaluate(*loss, in, nullptr, true);
            EXPECT_TRUE(sameBits(plain.gradEmbeddings, split.gradEmbeddings)) << info.name;
            ASSERT_EQ(split.gradFromPositives.rows(), 8) << info.name;
            ASSERT_EQ(split.gradFromPositives.cols(), 2) << info.name;
            EXPECT_TRUE(split.gradFromPositives.allFinite()) << info.name;
            // All labels distinct: no same-label pair at all.
            if (!isClassOrProxy(info) && y[1] == 1) {
                EXPECT_EQ(largest(split.gradFromPositives), 0.0) << info.name;
            }
        }
        const Inputs in = randomInputs(info, 8, 2, randomLabels(8, 2, 3), 6);
        LossInput input{in.x, in.y, in.owned.size() ? &in.owned : nullptr, nullptr, 1};
        input.splitForces = true;
        EXPECT_EQ(loss->evaluate(input, false).gradFromPositives.size(), 0)
            << info.name << ": no gradient asked";
    }
}

// ---------------------------------------------------------------------------------------------
// Geometry.

/// Shuffled labels with exactly two points per class.
Labels twoPerClass(int classes, std::uint64_t seed) {
    Labels y;
    for (int c = 0; c < classes; ++c) y.insert(y.end(), {c, c});
    std::mt19937_64 rng(seed);
    std::shuffle(y.begin(), y.end(), rng);
    return y;
}

TEST(ForceSplit, WithTwoPointsPerClassTheAttractionIsAlongTheLineToThePartner) {
    // Unnormalized Lp: every same-label entry M_ip moves x_i along x_i − x_p, and x_p by the
    // opposite vector. With one partner per point that is all the positive part can contain.
    std::vector<Case> cases;
    for (const LossInfo& info : lossCatalog()) {
        if (isClassOrProxy(info)) continue;
        if (info.distanceConfigurable) {
            cases.push_back({&info, {}, DistanceSpec::lp(1, false)});
            cases.push_back({&info, {}, DistanceSpec::lp(2, false)});
        } else if (info.defaultDistance.kind == DistanceKind::Lp && !info.defaultDistance.normalize) {
            // Hadsell; the centroid bound (with two members, its class mean is their midpoint).
            cases.push_back({&info, {}, std::nullopt});
        }
    }
    std::set<std::string> names;
    for (const Case& c : cases) names.insert(c.info->name);
    for (const char* expected : {"triplet_margin", "contrastive", "contrastive_hadsell", "centroid_triplet",
                                 "lifted_structure", "generalized_lifted_structure", "soft_nearest_neighbor",
                                 "ntxent", "supcon", "decoupled_contrastive"})
        EXPECT_TRUE(names.count(expected)) << expected << " is not checked";

    for (const Case& c : cases) {
        const auto loss = make(c.info->name, c.params, c.distance);
        int nonZero = 0;
        for (int d : {2, 3})
            for (std::uint64_t seed = 1; seed <= 4; ++seed) {
                const Labels y = twoPerClass(4, seed);
                const Inputs in = randomInputs(*c.info, 8, d, y, seed * 7 + d);
                const Points positive = evaluate(*loss, in, nullptr, true).gradFromPositives;
                ASSERT_EQ(positive.rows(), 8);
                const Real scale = largest(positive);
                for (int i = 0; i < 8; ++i) {
                    int partner = 0;
                    for (int j = 0; j < 8; ++j)
                        if (j != i && y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)])
                            partner = j;
                    const Row g = positive.row(i);
                    if (g.norm() == 0.0) continue;
                    ++nonZero;
                    EXPECT_LE(sine(g, in.x.row(i) - in.x.row(partner)), 1e-9)
                        << c.describe() << " point " << i;
                    EXPECT_LE((g + positive.row(partner)).cwiseAbs().maxCoeff(), 1e-12 * scale)
                        << c.describe() << ": the partners' attractions must cancel";
                }
            }
        EXPECT_GT(nonZero, 0) << c.describe();
    }
}

TEST(ForceSplit, APointWithoutClassmatesFeelsNoAttraction) {
    // Point 8 is the only member of class 3.
    const Labels y{0, 1, 2, 0, 1, 2, 0, 1, 3, 2};
    for (const Case& c : catalogueCases()) {
        if (isClassOrProxy(*c.info)) continue;
        const auto loss = make(c.info->name, c.params, c.distance);
        for (std::uint64_t seed = 1; seed <= 3; ++seed) {
            const Inputs in = randomInputs(*c.info, 10, 2, y, seed);
            const LossOutput out = evaluate(*loss, in, nullptr, true);
            ASSERT_EQ(out.gradFromPositives.rows(), 10) << c.describe();
            EXPECT_EQ(out.gradFromPositives.row(8).cwiseAbs().maxCoeff(), 0.0) << c.describe();
            EXPECT_GT(largest(out.gradFromPositives), 0.0) << c.describe() << ": the others do attract";
        }
    }
}

TEST(ForceSplit, ClassificationAttractionFollowsTheOwnClassRow) {
    // Per loss, the direction the own-class term can move x_i in (D = 3, so that a tangent plane
    // is two-dimensional and "parallel" means something):
    //  dot-product logit w_y·x:                       along w_y
    //  cosine of x̂ and ŵ_y (or ‖x̂ − p̂_y‖²):          along the tangent part (I − x̂x̂ᵀ) ŵ_y
    //  ‖x‖·ψ(cos) (L-Softmax, SphereFace):            in the plane of x and w_y
    //  w_y·x + λ/2 ‖x − c_y‖² (center loss):          in the plane of w_y and x − c_y
    //  soft assignment to several class centers (SoftTriple): tangent to the sphere at x̂
    const std::set<std::string> dot{"softmax"};
    const std::set<std::string> tangent{
        "normalized_softmax", "cosface", "arcface", "combined_margin", "coco", "proxy_anchor", "proxy_nca",
        "subcenter_arcface", "p2sgrad"};
    const std::set<std::string> tangentOnly{"soft_triple"};
    const std::set<std::string> normPlane{"large_margin_softmax", "sphereface"};
    const std::set<std::string> center{"center"};
    for (const LossInfo& info : lossCatalog()) {
        if (!isClassOrProxy(info)) continue;
        ASSERT_TRUE(dot.count(info.name) + tangent.count(info.name) + normPlane.count(info.name) +
                    center.count(info.name) + tangentOnly.count(info.name))
            << info.name << " has no geometric check";
        // Scales below the defaults keep every softmax weight away from 0 and 1.
        ParamValues params;
        if (info.name == "cosface" || info.name == "arcface" || info.name == "combined_margin" ||
            info.name == "subcenter_arcface")
            params = numbers({{"scale", 4.0}});
        if (info.name == "coco") params = numbers({{"scale", 4.0}});
        if (info.name == "proxy_anchor") params = numbers({{"alpha", 4.0}});
        if (info.name == "normalized_softmax") params = numbers({{"temperature", 0.5}});
        const auto loss = make(info.name, params);
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            const Inputs in = randomInputs(info, 12, 3, randomLabels(12, 3, seed), seed + 40);
            const Points positive = evaluate(*loss, in, nullptr, true).gradFromPositives;
            ASSERT_EQ(positive.rows(), 12);
            for (int i = 0; i < 12; ++i) {
                const int c = in.y[static_cast<std::size_t>(i)];
                const Row g = positive.row(i);
                const Row x = in.x.row(i);
                Row w = in.owned.row(c);
                // Sub-center ArcFace: the own class's sub-center closest to x (rows k·C + c).
                for (int k = 1; k < info.ownedBlocks && info.name == "subcenter_arcface"; ++k) {
                    const Row candidate = in.owned.row(k * 3 + c);
                    if (candidate.normalized().dot(x.normalized()) > w.normalized().dot(x.normalized())) w = candidate;
                }
                ASSERT_GT(g.norm(), 0.0) << info.name << " point " << i;
                if (dot.count(info.name)) {
                    EXPECT_LE(sine(g, w), 1e-9) << info.name << " point " << i;
                } else if (tangentOnly.count(info.name)) {
                    EXPECT_LE(std::abs(g.dot(x.normalized())), 1e-12 * g.norm()) << info.name << ": not tangent";
                } else if (tangent.count(info.name)) {
                    const Row xh = x.normalized();
                    const Row wh = w.normalized();
                    EXPECT_LE(sine(g, wh - wh.dot(xh) * xh), 1e-9) << info.name << " point " << i;
                    EXPECT_LE(std::abs(g.dot(xh)), 1e-12 * g.norm()) << info.name << ": not tangent";
                } else {
                    // The plane's normal: x × w_y, or w_y × (x − c_y) for the center loss (C = 3 classes).
                    const Row normal =
                        normPlane.count(info.name) ? cross(x, w) : cross(w, x - in.owned.row(3 + c));
                    EXPECT_LE(std::abs(g.dot(normal)), 1e-9 * g.norm() * normal.norm())
                        << info.name << " point " << i;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plain-loop references: the positive part straight from the formulas.

/// ∂M_ij/∂x_i of the pairwise matrix of `spec` (∂M_ij/∂x_j is the same call with i and j swapped).
Row entryGradient(const DistanceSpec& spec, const Points& x, int i, int j) {
    const bool normalize = spec.normalizes();
    const Row ei = normalize ? Row(x.row(i).normalized()) : Row(x.row(i));
    const Row ej = normalize ? Row(x.row(j).normalized()) : Row(x.row(j));
    Row g;
    if (spec.isSimilarity()) {
        g = ej;
    } else {
        const Row diff = ei - ej;
        if (spec.power == 2) g = 2.0 * diff;
        else g = diff.norm() > 0.0 ? Row(diff / diff.norm()) : Row(Row::Zero(x.cols()));
    }
    if (normalize) g = (g - g.dot(ei) * ei) / x.row(i).norm();
    return g;
}

Real entry(const DistanceSpec& spec, const Points& x, int i, int j) {
    const bool normalize = spec.normalizes();
    const Row ei = normalize ? Row(x.row(i).normalized()) : Row(x.row(i));
    const Row ej = normalize ? Row(x.row(j).normalized()) : Row(x.row(j));
    if (spec.isSimilarity()) return ei.dot(ej);
    const Real squared = (ei - ej).squaredNorm();
    return spec.power == 2 ? squared : std::sqrt(squared);
}

/// Adds c·∂M_ij/∂x to `grad` (both ends of the pair).
void addEntryGradient(const DistanceSpec& spec, const Points& x, int i, int j, Real c, Points& grad) {
    grad.row(i) += c * entryGradient(spec, x, i, j);
    grad.row(j) += c * entryGradient(spec, x, j, i);
}

struct Split {
    Points positive, negative;
};

/// Every ordered pair (a ≠ b) as an explicit list, positives and negatives by label.
Tuples everyPair(const Labels& y) {
    Tuples pairs;
    pairs.kind = Tuples::Kind::Pairs;
    const int n = static_cast<int>(y.size());
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) {
            if (a == b) continue;
            if (y[static_cast<std::size_t>(a)] == y[static_cast<std::size_t>(b)]) pairs.positivePairs.push_back({a, b});
            else pairs.negativePairs.push_back({a, b});
        }
    return pairs;
}

void expectSplit(const LossOutput& out, const Split& expected, const std::string& where) {
    EXPECT_LE(relativeError(out.gradFromPositives, expected.positive), 1e-9) << where;
    EXPECT_LE(relativeError(out.gradEmbeddings - out.gradFromPositives, expected.negative), 1e-9) << where;
}

/// The all-pairs evaluation and the same pairs listed explicitly (the SelfDistance path) must both
/// give the expected split.
void expectSplitOnBothPaths(const Loss& loss, const Points& x, const Labels& y, const Split& expected,
                            const DistanceSpec& spec) {
    expectSplit(evaluate(loss, Inputs{x, y, {}}, nullptr, true), expected, "all pairs " + spec.describe());
    const Tuples listed = everyPair(y);
    expectSplit(evaluate(loss, Inputs{x, y, {}}, &listed, true), expected, "listed " + spec.describe());
}

const std::vector<DistanceSpec> referenceDistances{DistanceSpec::lp(1, true), DistanceSpec::lp(1, false),
                                                   DistanceSpec::lp(2, false), DistanceSpec::cosine()};

TEST(ForceSplit, TripletMarginMatchesAPlainLoopOverAllTriplets) {
    const Real margin = 0.3;
    for (const DistanceSpec& spec : referenceDistances)
        for (std::uint64_t seed = 1; seed <= 3; ++seed) {
            const int n = 12;
            const Points x = randomPoints(n, 2 + static_cast<int>(seed % 2), seed + 300);
            const Labels y = randomLabels(n, 3, seed + 301);
            const Real sign = spec.orderSign();
            Split expected{Points::Zero(n, x.cols()), Points::Zero(n, x.cols())};
            int active = 0;
            for (int a = 0; a < n; ++a)
                for (int p = 0; p < n; ++p) {
                    if (p == a || y[a] != y[p]) continue;
                    for (int q = 0; q < n; ++q) {
                        if (y[q] == y[a]) continue;
                        const Real v = sign * entry(spec, x, a, p) - sign * entry(spec, x, a, q) + margin;
                        if (v <= 0.0) continue;
                        ++active;
                        addEntryGradient(spec, x, a, p, sign, expected.positive);   // +δ_ap
                        addEntryGradient(spec, x, a, q, -sign, expected.negative);  // −δ_an
                    }
                }
            ASSERT_GT(active, 0);
            expected.positive /= active;
            expected.negative /= active;
            const auto loss = make("triplet_margin", numbers({{"margin", margin}}), spec);
            // Both code paths: the sorted sweep (no miner) and the triplet loop (swap off, a list).
            expectSplit(evaluate(*loss, Inputs{x, y, {}}, nullptr, true), expected,
                        "sweep " + spec.describe());
            Tuples all;
            all.kind = Tuples::Kind::Triplets;
            for (int a = 0; a < n; ++a)
                for (int p = 0; p < n; ++p)
                    for (int q = 0; q < n; ++q)
                        if (p != a && y[a] == y[p] && y[q] != y[a]) all.triplets.push_back({a, p, q});
            expectSplit(evaluate(*loss, Inputs{x, y, {}}, &all, true), expected, "loop " + spec.describe());
        }
}

TEST(ForceSplit, ContrastiveMatchesAPlainLoopOverPairs) {
    for (const DistanceSpec& spec : referenceDistances)
        for (std::uint64_t seed = 1; seed <= 3; ++seed) {
            const bool similarity = spec.isSimilarity();
            // Margins inside the value range, so that some terms of each kind are active and some not.
            const Real mp = similarity ? 0.5 : (spec.power == 2 ? 1.0 : 0.6);
            const Real mn = similarity ? 0.0 : (spec.power == 2 ? 3.0 : 1.2);
            const int n = 12;
            const Points x = randomPoints(n, 2 + static_cast<int>(seed % 2), seed + 400);
            const Labels y = randomLabels(n, 3, seed + 401);
            Split expected{Points::Zero(n, x.cols()), Points::Zero(n, x.cols())};
            int activePositive = 0, activeNegative = 0;
            for (int a = 0; a < n; ++a)
                for (int b = 0; b < n; ++b) {
                    if (a == b) continue;
                    const Real m = entry(spec, x, a, b);
                    if (y[a] == y[b]) {
                        const Real v = similarity ? mp - m : m - mp;  // relu(v)
                        if (v <= 0.0) continue;
                        ++activePositive;
                        addEntryGradient(spec, x, a, b, similarity ? -1.0 : 1.0, expected.positive);
                    } else {
                        const Real v = similarity ? m - mn : mn - m;
                        if (v <= 0.0) continue;
                        ++activeNegative;
                        addEntryGradient(spec, x, a, b, similarity ? 1.0 : -1.0, expected.negative);
                    }
                }
            ASSERT_GT(activePositive, 0);
            ASSERT_GT(activeNegative, 0);
            expected.positive /= activePositive;
            expected.negative /= activeNegative;
            const auto loss = make("contrastive", numbers({{"pos_margin", mp}, {"neg_margin", mn}}), spec);
            expectSplitOnBothPaths(*loss, x, y, expected, spec);
        }
}

TEST(ForceSplit, SoftmaxMatchesThePerSampleFormula) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        const int n = 11, classes = 4, d = 2 + static_cast<int>(seed % 2);
        const Points x = randomPoints(n, d, seed + 500);
        const Points w = randomPoints(classes, d, seed + 501);
        const Labels y = randomLabels(n, classes, seed + 502);
        // ℓ_ic = w_c·x_i, ∂L/∂ℓ_ic = (softmax_c − [c = y_i]) / N; the own-class logit gives the attraction.
        Split expected{Points::Zero(n, d), Points::Zero(n, d)};
        for (int i = 0; i < n; ++i) {
            Vector logits = w * x.row(i).transpose();
            const Vector e = (logits.array() - logits.maxCoeff()).exp().matrix();
            const Vector softmax = e / e.sum();
            for (int c = 0; c < classes; ++c) {
                const Real g = (softmax(c) - (c == y[i] ? 1.0 : 0.0)) / n;
                (c == y[i] ? expected.positive : expected.negative).row(i) += g * w.row(c);
            }
        }
        expectSplit(evaluate(*make("softmax"), Inputs{x, y, w}, nullptr, true), expected, "softmax");
    }
}

/// softmax(w x_i) for the rows of a linear classifier.
Vector classProbabilities(const Points& w, const Row& x) {
    const Vector logits = w * x.transpose();
    const Vector e = (logits.array() - logits.maxCoeff()).exp().matrix();
    return e / e.sum();
}

TEST(ForceSplit, CenterLossAttractionIsTheOwnLogitAndTheCenterTerm) {
    const Real lambda = 0.7;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const int n = 10, classes = 3, d = 3;
        const Points x = randomPoints(n, d, seed + 550);
        const Points owned = randomPoints(2 * classes, d, seed + 551);  // [W; centers]
        const Labels y = randomLabels(n, classes, seed + 552);
        Split expected{Points::Zero(n, d), Points::Zero(n, d)};
        for (int i = 0; i < n; ++i) {
            const Vector softmax = classProbabilities(owned.topRows(classes), x.row(i));
            for (int c = 0; c < classes; ++c) {
                const Real g = (softmax(c) - (c == y[i] ? 1.0 : 0.0)) / n;
                (c == y[i] ? expected.positive : expected.negative).row(i) += g * owned.row(c);
            }
            expected.positive.row(i) += lambda / n * (x.row(i) - owned.row(classes + y[i]));
        }
        const auto loss = make("center", numbers({{"lambda_c", lambda}}));
        expectSplit(evaluate(*loss, Inputs{x, y, owned}, nullptr, true), expected, "center");
    }
}

TEST(ForceSplit, LargeMarginLossesWithMarginOneSplitLikeALinearClassifier) {
    // margin 1: ψ(c) = c, so ℓ_ic = s‖x_i‖‖w_c‖c_ic = s·w_c·x_i (L-Softmax) or s·ŵ_c·x_i
    // (SphereFace); the own-class share includes the ‖x_i‖ factor of the target logit.
    const Real scale = 1.5;
    for (const char* name : {"large_margin_softmax", "sphereface"})
        for (std::uint64_t seed = 1; seed <= 3; ++seed) {
            const int n = 10, classes = 3, d = 2 + static_cast<int>(seed % 2);
            const Points x = randomPoints(n, d, seed + 560);
            const Points w = randomPoints(classes, d, seed + 561);
            const Labels y = randomLabels(n, classes, seed + 562);
            Points rows = w;  // the classifier rows the logits reduce to
            if (std::string(name) == "sphereface") rows.rowwise().normalize();
            rows *= scale;
            Split expected{Points::Zero(n, d), Points::Zero(n, d)};
            for (int i = 0; i < n; ++i) {
                const Vector softmax = classProbabilities(rows, x.row(i));
                for (int c = 0; c < classes; ++c) {
                    const Real g = (softmax(c) - (c == y[i] ? 1.0 : 0.0)) / n;
                    (c == y[i] ? expected.positive : expected.negative).row(i) += g * rows.row(c);
                }
            }
            const auto loss = make(name, numbers({{"margin", 1}, {"scale", scale}}));
            expectSplit(evaluate(*loss, Inputs{x, y, w}, nullptr, true), expected, name);
        }
}

TEST(ForceSplit, CentroidBoundAttractionReachesTheClassmatesThroughTheMean) {
    // Own-class term ‖x_i − c‖/N with c the class mean: ∂/∂x_i = u_i(1 − 1/|m|)/N and
    // ∂/∂x_j = −u_i/(|m| N) for each classmate j, u_i = (x_i − c)/‖x_i − c‖.
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const int n = 13, classes = 3, d = 2 + static_cast<int>(seed % 2);
        const Points x = randomPoints(n, d, seed + 570);
        const Labels y = randomLabels(n, classes, seed + 571);
        Points centers = Points::Zero(classes, d);
        Vector sizes = Vector::Zero(classes);
        for (int i = 0; i < n; ++i) {
            centers.row(y[i]) += x.row(i);
            sizes(y[i]) += 1.0;
        }
        for (int c = 0; c < classes; ++c) centers.row(c) /= sizes(c);
        Points expected = Points::Zero(n, d);
        for (int i = 0; i < n; ++i) {
            const Row u = (x.row(i) - centers.row(y[i])).normalized();
            for (int j = 0; j < n; ++j)
                if (y[j] == y[i]) expected.row(j) += ((j == i ? 1.0 : 0.0) - 1.0 / sizes(y[i])) / n * u;
        }
        const LossOutput out = evaluate(*make("centroid_triplet"), Inputs{x, y, {}}, nullptr, true);
        EXPECT_LE(relativeError(out.gradFromPositives, expected), 1e-9);
    }
}

TEST(ForceSplit, NTXentMatchesAPlainLoopOverPositivePairs) {
    for (const DistanceSpec& spec :
         {DistanceSpec::cosine(), DistanceSpec::lp(2, false), DistanceSpec::lp(1, true)})
        for (std::uint64_t seed = 1; seed <= 3; ++seed) {
            const Real tau = 0.5;
            const int n = 12;
            const Points x = randomPoints(n, 2 + static_cast<int>(seed % 2), seed + 600);
            const Labels y = randomLabels(n, 3, seed + 601);
            // z = s/τ, with s = −M for a distance (PML negates it).
            const Real toLogit = -spec.orderSign() / tau;
            auto z = [&](int i, int j) { return toLogit * entry(spec, x, i, j); };
            Split expected{Points::Zero(n, x.cols()), Points::Zero(n, x.cols())};
            const int pairs = static_cast<int>(everyPair(y).positivePairs.size());
            for (int a = 0; a < n; ++a)
                for (int p = 0; p < n; ++p) {
                    if (p == a || y[a] != y[p]) continue;
                    // ℓ_ap = −log(e^{z_ap} / (e^{z_ap} + Σ_n e^{z_an})), shifted by the row's largest logit.
                    Real top = z(a, p);
                    for (int q = 0; q < n; ++q)
                        if (y[q] != y[a]) top = std::max(top, z(a, q));
                    Real denominator = std::exp(z(a, p) - top);
                    for (int q = 0; q < n; ++q)
                        if (y[q] != y[a]) denominator += std::exp(z(a, q) - top);
                    const Real share = std::exp(z(a, p) - top) / denominator;
                    addEntryGradient(spec, x, a, p, -(1.0 - share) * toLogit / pairs, expected.positive);
                    for (int q = 0; q < n; ++q)
                        if (y[q] != y[a])
                            addEntryGradient(spec, x, a, q,
                                             std::exp(z(a, q) - top) / denominator * toLogit / pairs,
                                             expected.negative);
                }
            const auto loss = make("ntxent", numbers({{"temperature", tau}}), spec);
            expectSplitOnBothPaths(*loss, x, y, expected, spec);
        }
}

TEST(ForceSplit, AngularAttractionIsThroughTheAnchorPositiveCosineOnly) {
    // ℓ_ap = log(1 + Σ_n e^{f_apn}), f_apn = 4t(x̂_a + x̂_p)·x_n − 2(1+t) x̂_a·x̂_p. The only
    // same-label quantity is the cosine s_ap = x̂_a·x̂_p (the midpoint products pair a point with
    // a negative): attraction = Σ_(a,p) ∂ℓ_ap/∂s_ap · ∂s_ap/∂x / |P|. Both evaluation paths.
    const Real alpha = 40.0;
    const Real t = std::pow(std::tan(alpha * std::acos(-1.0) / 180.0), 2);
    const DistanceSpec cosine = DistanceSpec::cosine();
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const int n = 12;
        const Points x = randomPoints(n, 2 + static_cast<int>(seed % 2), seed + 700);
        const Labels y = randomLabels(n, 3, seed + 701);
        Points expected = Points::Zero(n, x.cols());
        const int pairs = static_cast<int>(everyPair(y).positivePairs.size());
        for (int a = 0; a < n; ++a)
            for (int p = 0; p < n; ++p) {
                if (p == a || y[a] != y[p]) continue;
                const Row middle = x.row(a).normalized() + x.row(p).normalized();
                const Real offset = 2.0 * (1.0 + t) * entry(cosine, x, a, p);
                Real sum = 0.0;  // Σ_n e^{f_apn}
                for (int q = 0; q < n; ++q)
                    if (y[q] != y[a]) sum += std::exp(4.0 * t * middle.dot(x.row(q)) - offset);
                const Real slope = -2.0 * (1.0 + t) * sum / (1.0 + sum);  // ∂ℓ_ap/∂s_ap
                addEntryGradient(cosine, x, a, p, slope / pairs, expected);
            }
        LossInput input{x, y};
        input.splitForces = true;
        for (bool factorized : {true, false}) {
            const LossOutput out = AngularLoss(alpha, factorized).evaluate(input, true);
            EXPECT_LE(relativeError(out.gradFromPositives, expected), 1e-9) << "factorized " << factorized;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Trainer.

TrainerConfig trainerConfig(const std::string& loss, std::uint64_t seed) {
    TrainerConfig config;
    const int n = 24, classes = 4;
    config.points = randomPoints(n, 2, seed);
    config.labels = randomLabels(n, classes, seed + 1);
    config.numClasses = classes;
    config.loss.name = loss;
    config.optimizer.kind = OptimizerKind::Adam;
    config.optimizer.learningRate = 0.02;
    config.seed = seed;
    config.metricsEvery = 4;
    return config;
}

void expectSameStep(const Snapshot& a, const Snapshot& b, const std::string& where) {
    EXPECT_EQ(a.step, b.step) << where;
    EXPECT_TRUE(sameBits(a.positions, b.positions)) << where;
    EXPECT_TRUE(sameBits(a.owned, b.owned)) << where;
    EXPECT_TRUE(sameBits(a.gradient, b.gradient)) << where;
    EXPECT_EQ(std::memcmp(&a.loss, &b.loss, sizeof(Real)), 0) << where;
    EXPECT_EQ(a.status, b.status) << where;
}

TEST(ForceSplit, TrainerTrajectoryIsTheSameWithAndWithoutTheSplit) {
    for (const char* name : {"triplet_margin", "normalized_softmax", "angular", "centroid_triplet", "nce"}) {
        TrainerConfig config = trainerConfig(name, 11);
        config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
        config.batch.classesPerBatch = 2;
        config.batch.samplesPerClass = 5;
        if (std::string(name) == "triplet_margin") config.miner = MinerConfig{"batch_hard", {}, std::nullopt};
        Trainer split(config), plain(config);
        split.setSplitForces(true);
        EXPECT_TRUE(split.splitForces());
        for (int chunk = 0; chunk < 6; ++chunk) {
            const bool on = chunk != 3;  // switched off for one chunk, then on again
            split.setSplitForces(on);
            const auto a = split.step(3);
            const auto b = plain.step(3);
            const std::string where = std::string(name) + " chunk " + std::to_string(chunk);
            expectSameStep(*a, *b, where);
            EXPECT_EQ(b->gradientFromPositives.size(), 0) << where;
            if (!on) {
                EXPECT_EQ(a->gradientFromPositives.size(), 0) << where;
                continue;
            }
            ASSERT_EQ(a->gradientFromPositives.rows(), a->gradient.rows()) << where;
            ASSERT_EQ(a->gradientFromPositives.cols(), a->gradient.cols()) << where;
            // Points outside the batch have a zero gradient row; their split must be zero too.
            int outside = 0;
            for (Eigen::Index i = 0; i < a->gradient.rows(); ++i)
                if (a->gradient.row(i).cwiseAbs().maxCoeff() == 0.0) {
                    ++outside;
                    EXPECT_EQ(a->gradientFromPositives.row(i).cwiseAbs().maxCoeff(), 0.0)
                        << where << " row " << i;
                }
            EXPECT_GT(outside, 0) << where;
            EXPECT_GT(largest(a->gradientFromPositives), 0.0) << where;
        }
    }
}

TEST(ForceSplit, TrainerSnapshotHoldsTheLossSplitOfTheStep) {
    for (const char* name : {"triplet_margin", "softmax", "supcon"}) {
        TrainerConfig config = trainerConfig(name, 21);
        if (findLoss(name)->ownedBlocks > 0) config.owned = randomPoints(4, 2, 22);
        Trainer trainer(config);
        EXPECT_EQ(trainer.snapshot()->gradientFromPositives.size(), 0) << name;
        trainer.setSplitForces(true);
        const auto snapshot = trainer.step(1);
        // Full batch in point order: step 1 evaluates the loss on the initial points.
        std::string error;
        const auto loss = makeLoss(config.loss, &error);
        ASSERT_TRUE(loss) << error;
        LossInput input{config.points, config.labels, config.owned ? &*config.owned : nullptr, nullptr, 0};
        input.splitForces = true;
        const LossOutput out = loss->evaluate(input, true);
        EXPECT_TRUE(sameBits(snapshot->gradient, out.gradEmbeddings)) << name;
        EXPECT_TRUE(sameBits(snapshot->gradientFromPositives, out.gradFromPositives)) << name;
    }
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Tests of the rest of PML's catalogue: margin (fixed and learned β), tuplet margin, NCA, SNR
// contrastive, intra-pair variance, histogram and instance losses. The references are plain
// loops written from PML's definitions (see each header); they share no code with the engine
// (no DistanceRows, no workspace, no pair lists from the engine: pairs and triplets are
// enumerated here).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "marginlab/loss.h"
#include "marginlab/losses/subcenter_arcface.h"
#include "marginlab/miner.h"
#include "marginlab/trainer.h"
#include "test_support.h"

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;
using Row = Eigen::RowVectorXd;

const Real kPi = std::acos(-1.0);

std::unique_ptr<Loss> make(const std::string& name, std::map<std::string, double, std::less<>> numbers = {},
                           std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    ParamValues values;
    values.numbers = std::move(numbers);
    auto loss = makeLoss(LossConfig{name, values, distance}, &error);
    EXPECT_TRUE(loss) << name << ": " << error;
    return loss;
}

void expectRelative(Real actual, Real expected, const std::string& where, Real tolerance = 1e-10) {
    EXPECT_NEAR(actual, expected, tolerance * std::max(1.0, std::abs(expected))) << where;
}

/// M_ij straight from the definition of the distance.
Real entry(const DistanceSpec& spec, const Points& x, int i, int j) {
    Row a = x.row(i), b = x.row(j);
    if (spec.normalizes()) {
        a /= a.norm();
        b /= b.norm();
    }
    if (spec.isSimilarity()) return a.dot(b);
    const Real d = (a - b).norm();
    return spec.power == 2 ? d * d : d;
}

std::vector<Triplet> everyTriplet(const Labels& y) {
    std::vector<Triplet> out;
    const int n = static_cast<int>(y.size());
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p)
            for (int q = 0; q < n; ++q)
                if (p != a && y[a] == y[p] && y[q] != y[a]) out.push_back({a, p, q});
    return out;
}

void everyPair(const Labels& y, std::vector<Pair>* positives, std::vector<Pair>* negatives) {
    const int n = static_cast<int>(y.size());
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) {
            if (a == b) continue;
            (y[a] == y[b] ? positives : negatives)->push_back({a, b});
        }
}

/// The pair lists a miner hands over, as PML's convert_to_pairs makes them.
void listedPairs(const Tuples& t, std::vector<Pair>* positives, std::vector<Pair>* negatives) {
    if (t.kind == Tuples::Kind::Pairs) {
        *positives = t.positivePairs;
        *negatives = t.negativePairs;
        return;
    }
    for (const Triplet& triplet : t.triplets) {
        positives->push_back({triplet[0], triplet[1]});
        negatives->push_back({triplet[0], triplet[2]});
    }
}

/// convert_to_triplets: triplets as they are, pairs joined where a1[i] == a2[j].
std::vector<Triplet> listedTriplets(const Tuples& t) {
    if (t.kind == Tuples::Kind::Triplets) return t.triplets;
    std::vector<Triplet> out;
    for (const Pair& p : t.positivePairs)
        for (const Pair& q : t.negativePairs)
            if (p[0] == q[0]) out.push_back({p[0], p[1], q[1]});
    return out;
}

Tuples mine(const std::string& miner, const Points& x, const Labels& y) {
    std::string error;
    const auto m = makeMiner(MinerConfig{miner, {}, std::nullopt}, &error);
    EXPECT_TRUE(m) << error;
    return m->mine(MinerInput{x, y, 5});
}

void expectZeroOutput(const LossOutput& out, Eigen::Index n, Eigen::Index d, const std::string& where) {
    EXPECT_EQ(out.value, 0.0) << where;
    ASSERT_EQ(out.gradEmbeddings.rows(), n) << where;
    ASSERT_EQ(out.gradEmbeddings.cols(), d) << where;
    if (n > 0) {
        EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0) << where;
    }
}

struct Config {
    int n, d, classes;
    std::uint64_t seed;
};
const std::vector<Config> configs = {{10, 2, 3, 1}, {12, 3, 3, 2}, {14, 2, 4, 3}, {11, 3, 2, 4}};

const std::vector<DistanceSpec> someDistances = {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false),
                                                 DistanceSpec::lp(2, false), DistanceSpec::cosine()};

// ---------------------------------------------------------------------------------------------
// Margin loss.

/// PML's MarginLoss over explicit triplets; beta[c] per class (all equal for a fixed β).
Real marginReference(const Points& x, const Labels& y, const std::vector<Triplet>& triplets,
                     const DistanceSpec& spec, Real margin, const std::vector<Real>& beta, Real nu,
                     bool learned) {
    const Real sigma = spec.isSimilarity() ? -1.0 : 1.0;
    Real sum = 0.0, regularizer = 0.0;
    int nonZero = 0;
    for (const Triplet& t : triplets) {
        const Real b = beta[static_cast<std::size_t>(y[t[0]])];
        const Real pos = std::max(0.0, sigma * (entry(spec, x, t[0], t[1]) - b) + margin);
        const Real neg = std::max(0.0, sigma * (b - entry(spec, x, t[0], t[2])) + margin);
        sum += pos + neg;
        nonZero += (pos > 0) + (neg > 0);
        regularizer += nu * b;
    }
    if (triplets.empty() || nonZero == 0) return 0.0;
    return (sum + (learned ? regularizer : 0.0)) / nonZero;
}

TEST(MarginLoss, MatchesTheReferenceOverEveryTripletAndFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : someDistances) {
            const Points x = randomPoints(c.n, c.d, c.seed);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 7);
            // A β in the middle of the distances so that both halves have active and idle terms.
            const Real beta =
                spec.isSimilarity() ? 0.1 : (spec.power == 2 ? 2.0 : (spec.normalize ? 1.1 : 1.4));
            const auto loss = make("margin", {{"margin", 0.2}, {"beta", beta}}, spec);
            const LossOutput out = loss->evaluate(LossInput{x, y}, true);
            const std::string where = spec.describe() + " seed " + std::to_string(c.seed);
            const Real expected =
                marginReference(x, y, everyTriplet(y), spec, 0.2,
                                std::vector<Real>(static_cast<std::size_t>(c.classes), beta), 0, false);
            ASSERT_GT(expected, 0.0) << where;
            expectRelative(out.value, expected, where);
            EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << where;
            EXPECT_EQ(out.stats.tuples, static_cast<Count>(everyTriplet(y).size())) << where;
        }
}

TEST(MarginLoss, LearnedBetaIsColumnZeroOfTheOwnedBlockWithItsGradient) {
    for (const Config& c : configs)
        for (Real nu : {0.0, 0.3}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 20);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 21);
            Points owned = randomPoints(c.classes, c.d, c.seed + 22) * 0.05;
            std::vector<Real> beta;
            for (int k = 0; k < c.classes; ++k) {
                owned(k, 0) += 0.9 + 0.15 * k;
                beta.push_back(owned(k, 0));
            }
            const auto loss = make("margin_learn_beta", {{"nu", nu}});
            const LossInput input{x, y, &owned};
            const LossOutput out = loss->evaluate(input, true);
            const std::string where = "nu " + std::to_string(nu) + " seed " + std::to_string(c.seed);
            expectRelative(
                out.value,
                marginReference(x, y, everyTriplet(y), DistanceSpec::lp(1, true), 0.2, beta, nu, true),
                where);
            const auto error = finiteDifferenceError(*loss, input);
            EXPECT_LE(error.embeddings, 1e-6) << where;
            EXPECT_LE(error.owned, 1e-6) << where;
            ASSERT_EQ(out.gradOwned.rows(), c.classes);
            EXPECT_GT(out.gradOwned.col(0).cwiseAbs().maxCoeff(), 0.0) << where;
            EXPECT_EQ(out.gradOwned.rightCols(c.d - 1).cwiseAbs().maxCoeff(), 0.0)
                << where << ": unused columns";
        }
}

TEST(MarginLoss, MinedTripletsAndPairsFollowTheLists) {
    for (const Config& c : configs)
        for (const char* miner : {"batch_hard", "angular", "pair_margin", "multi_similarity"}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 40);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 41);
            const Tuples tuples = mine(miner, x, y);
            const auto loss = make("margin", {{"beta", 1.0}});
            const LossInput input{x, y, nullptr, &tuples};
            const std::string where = std::string(miner) + " seed " + std::to_string(c.seed);
            expectRelative(loss->evaluate(input, false).value,
                           marginReference(x, y, listedTriplets(tuples), DistanceSpec::lp(1, true), 0.2,
                                           std::vector<Real>(4, 1.0), 0, false),
                           where);
            EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6) << where;
        }
}

TEST(MarginLoss, HandComputedValue) {
    // On a line, unnormalized: only the negative pairs (1,2) = 1.5, (1,3) = 1.7 (from anchor 1) and
    // (2,1) = 1.5, (3,1) = 1.7 fall inside β + margin = 1.8: (0.3 + 0.1 + 0.3 + 0.1) / 4 = 0.2.
    Points x(4, 2);
    x << 0, 0, 0.5, 0, 2, 0, 2.2, 0;
    const auto loss = make("margin", {{"margin", 0.2}, {"beta", 1.6}}, DistanceSpec::lp(1, false));
    const LossOutput out = loss->evaluate(LossInput{x, Labels{0, 0, 1, 1}}, true);
    EXPECT_NEAR(out.value, 0.2, 1e-15);
    EXPECT_EQ(out.stats.tuples, 8);
    EXPECT_EQ(out.stats.active, 4);
    // Moving x_1 right shortens d(1,2) and d(1,3), each counted from both ends: ∂/∂x_1 = 4·(1/4).
    EXPECT_NEAR(out.gradEmbeddings(1, 0), 1.0, 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Tuplet margin.

Real tupletReference(const Points& x, const std::vector<Pair>& positives, const std::vector<Pair>& negatives,
                     Real marginDegrees, Real scale) {
    const DistanceSpec cosine = DistanceSpec::cosine();
    if (positives.empty() || negatives.empty()) return 0.0;
    Real total = 0.0;
    for (const Pair& p : positives) {
        const Real target = std::cos(std::acos(entry(cosine, x, p[0], p[1])) - marginDegrees * kPi / 180.0);
        Real sum = 1.0;
        for (const Pair& q : negatives)
            if (q[0] == p[0]) sum += std::exp(scale * (entry(cosine, x, q[0], q[1]) - target));
        total += std::log(sum);
    }
    return total / static_cast<Real>(positives.size());
}

TEST(TupletMarginLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (Real scale : {64.0, 4.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 60);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 61);
            std::vector<Pair> positives, negatives;
            everyPair(y, &positives, &negatives);
            const auto loss = make("tuplet_margin", {{"scale", scale}});
            const std::string where = "scale " + std::to_string(scale) + " seed " + std::to_string(c.seed);
            expectRelative(loss->evaluate(LossInput{x, y}, false).value,
                           tupletReference(x, positives, negatives, 5.73, scale), where);
            const Real step = scale < 10 ? 1e-6 : 1e-8;  // steep at scale 64: a smaller step
            EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}, step).embeddings, 1e-6) << where;
        }
}

TEST(TupletMarginLoss, MinedPairsFollowTheLists) {
    for (const Config& c : configs)
        for (const char* miner : {"pair_margin", "batch_hard", "multi_similarity"}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 70);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 71);
            const Tuples tuples = mine(miner, x, y);
            std::vector<Pair> positives, negatives;
            listedPairs(tuples, &positives, &negatives);
            const auto loss = make("tuplet_margin", {{"scale", 3.0}, {"margin", 10.0}});
            const LossInput input{x, y, nullptr, &tuples};
            expectRelative(loss->evaluate(input, false).value,
                           tupletReference(x, positives, negatives, 10.0, 3.0), miner);
            EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6) << miner;
        }
}

// ---------------------------------------------------------------------------------------------
// NCA.

Real ncaReference(const Points& x, const Labels& y, const DistanceSpec& spec, Real scale) {
    const int n = static_cast<int>(y.size());
    const Real sign = spec.isSimilarity() ? 1.0 : -1.0;
    Real total = 0.0;
    int kept = 0;
    for (int i = 0; i < n; ++i) {
        Real same = 0.0, all = 0.0;
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            const Real e = std::exp(sign * scale * entry(spec, x, i, j));
            all += e;
            if (y[j] == y[i]) same += e;
        }
        if (same == 0.0) continue;
        total += -std::log(same / all);
        ++kept;
    }
    return kept ? total / kept : 0.0;
}

TEST(NcaLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : {DistanceSpec::lp(2, true), DistanceSpec::lp(1, false),
                                         DistanceSpec::lp(2, false), DistanceSpec::cosine()})
            for (Real scale : {1.0, 5.0}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 80);
                Labels y = randomLabels(c.n, c.classes, c.seed + 81);
                y[0] = 99;  // a point without classmates: left out of the mean
                const auto loss = make("nca", {{"softmax_scale", scale}}, spec);
                const std::string where = spec.describe() + " scale " + std::to_string(scale);
                const LossOutput out = loss->evaluate(LossInput{x, y}, true);
                expectRelative(out.value, ncaReference(x, y, spec, scale), where);
                EXPECT_EQ(out.stats.tuples, c.n - 1) << where;
                EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << where;
            }
}

// ---------------------------------------------------------------------------------------------
// SNR contrastive.

Real unbiasedVariance(const Row& v) {
    const Real mean = v.mean();
    Real sum = 0.0;
    for (Eigen::Index k = 0; k < v.size(); ++k) sum += (v(k) - mean) * (v(k) - mean);
    return sum / static_cast<Real>(v.size() - 1);
}

Real snrReference(const Points& x, const std::vector<Pair>& positives, const std::vector<Pair>& negatives,
                  Real mp, Real mn, Real weight, bool normalize) {
    auto e = [&](int i) { return normalize ? Row(x.row(i) / x.row(i).norm()) : Row(x.row(i)); };
    auto snr = [&](const Pair& p) { return unbiasedVariance(e(p[0]) - e(p[1])) / unbiasedVariance(e(p[0])); };
    auto avgNonZero = [](const std::vector<Real>& terms) {
        Real sum = 0.0;
        int count = 0;
        for (Real t : terms) {
            sum += t;
            count += t > 0;
        }
        return count ? sum / count : 0.0;
    };
    Real total = 0.0;
    if (positives.size() > 1 || negatives.size() > 1) {
        std::vector<Real> pos, neg;
        for (const Pair& p : positives) pos.push_back(std::max(0.0, snr(p) - mp));
        for (const Pair& p : negatives) neg.push_back(std::max(0.0, mn - snr(p)));
        total = avgNonZero(pos) + avgNonZero(neg);
    }
    Real regularizer = 0.0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) regularizer += std::abs(x.row(i).sum());
    return total + (x.rows() ? weight * regularizer / static_cast<Real>(x.rows()) : 0.0);
}

TEST(SnrContrastiveLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (bool normalize : {true, false})
            for (Real weight : {0.0, 0.2}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 90);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 91);
                std::vector<Pair> positives, negatives;
                everyPair(y, &positives, &negatives);
                // Margins inside the SNR range so that both halves have idle and active pairs.
                const std::map<std::string, double, std::less<>> params{{"pos_margin", 0.5},
                                                                        {"neg_margin", 1.5},
                                                                        {"regularizer_weight", weight},
                                                                        {"normalize", normalize}};
                const auto loss = make("snr_contrastive", params);
                const std::string where =
                    "normalize " + std::to_string(normalize) + " weight " + std::to_string(weight);
                expectRelative(loss->evaluate(LossInput{x, y}, false).value,
                               snrReference(x, positives, negatives, 0.5, 1.5, weight, normalize), where);
                EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << where;
            }
}

TEST(SnrContrastiveLoss, DefaultsAndMinedPairs) {
    for (const Config& c : configs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 95);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 96);
        std::vector<Pair> positives, negatives;
        everyPair(y, &positives, &negatives);
        expectRelative(make("snr_contrastive")->evaluate(LossInput{x, y}, false).value,
                       snrReference(x, positives, negatives, 0.0, 1.0, 0.0, true), "defaults");
        const Tuples tuples = mine("pair_margin", x, y);
        positives.clear();
        negatives.clear();
        listedPairs(tuples, &positives, &negatives);
        expectRelative(make("snr_contrastive")->evaluate(LossInput{x, y, nullptr, &tuples}, false).value,
                       snrReference(x, positives, negatives, 0.0, 1.0, 0.0, true), "pair_margin");
    }
}

// ---------------------------------------------------------------------------------------------
// Intra-pair variance.

Real intraPairReference(const Points& x, const std::vector<Pair>& positives,
                        const std::vector<Pair>& negatives, const DistanceSpec& spec, Real posEps,
                        Real negEps) {
    if (positives.size() <= 1 && negatives.size() <= 1) return 0.0;
    auto mean = [&](const std::vector<Pair>& pairs) {
        Real sum = 0.0;
        for (const Pair& p : pairs) sum += entry(spec, x, p[0], p[1]);
        return sum / static_cast<Real>(pairs.size());
    };
    Real total = 0.0;
    if (!positives.empty()) {
        const Real mu = mean(positives);
        Real sum = 0.0;
        for (const Pair& p : positives) {
            const Real s = entry(spec, x, p[0], p[1]);
            const Real v = spec.isSimilarity() ? (1 - posEps) * mu - s : s - (1 + posEps) * mu;
            sum += std::pow(std::max(0.0, v), 2);
        }
        total += sum / static_cast<Real>(positives.size());
    }
    if (!negatives.empty()) {
        const Real mu = mean(negatives);
        Real sum = 0.0;
        for (const Pair& p : negatives) {
            const Real s = entry(spec, x, p[0], p[1]);
            const Real v = spec.isSimilarity() ? s - (1 + negEps) * mu : (1 - negEps) * mu - s;
            sum += std::pow(std::max(0.0, v), 2);
        }
        total += sum / static_cast<Real>(negatives.size());
    }
    return total;
}

TEST(IntraPairVarianceLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec : someDistances) {
            const Points x = randomPoints(c.n, c.d, c.seed + 100);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 101);
            std::vector<Pair> positives, negatives;
            everyPair(y, &positives, &negatives);
            const auto loss = make("intra_pair_variance", {{"pos_eps", 0.05}, {"neg_eps", 0.02}}, spec);
            const Real expected = intraPairReference(x, positives, negatives, spec, 0.05, 0.02);
            ASSERT_GT(expected, 0.0);
            expectRelative(loss->evaluate(LossInput{x, y}, false).value, expected, spec.describe());
            EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << spec.describe();
            const Tuples tuples = mine("pair_margin", x, y);
            positives.clear();
            negatives.clear();
            listedPairs(tuples, &positives, &negatives);
            const LossInput mined{x, y, nullptr, &tuples};
            expectRelative(loss->evaluate(mined, false).value,
                           intraPairReference(x, positives, negatives, spec, 0.05, 0.02),
                           spec.describe() + " mined");
            EXPECT_LE(finiteDifferenceError(*loss, mined).embeddings, 1e-6) << spec.describe() << " mined";
        }
}

// ---------------------------------------------------------------------------------------------
// Histogram.

/// The unordered pairs of every triplet ({a,p} and {a,n}), then the two interpolated histograms.
Real histogramReference(const Points& x, const Labels& y, int bins) {
    std::set<Pair> positives, negatives;
    for (const Triplet& t : everyTriplet(y)) {
        positives.insert({std::min(t[0], t[1]), std::max(t[0], t[1])});
        negatives.insert({std::min(t[0], t[2]), std::max(t[0], t[2])});
    }
    if (positives.empty()) return 0.0;
    const Real delta = 2.0 / bins;
    auto histogram = [&](const std::set<Pair>& pairs) {
        std::vector<Real> h(static_cast<std::size_t>(bins) + 1, 0.0);
        for (const Pair& p : pairs) {
            const Real s = entry(DistanceSpec::cosine(), x, p[0], p[1]);
            for (int r = 0; r <= bins; ++r) {  // the triangular kernel around each node t_r
                const Real node = -1.0 + r * delta;
                h[static_cast<std::size_t>(r)] +=
                    std::max(0.0, 1.0 - std::abs(s - node) / delta) / pairs.size();
            }
        }
        return h;
    };
    const auto hp = histogram(positives), hn = histogram(negatives);
    Real total = 0.0;
    for (int r = 0; r <= bins; ++r) {
        Real below = 0.0;
        for (int k = 0; k <= r; ++k) below += hp[static_cast<std::size_t>(k)];
        total += hn[static_cast<std::size_t>(r)] * below;
    }
    return total;
}

TEST(HistogramLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (int bins : {100, 7}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 110);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 111);
            const auto loss = make("histogram", {{"n_bins", bins}});
            const std::string where = "bins " + std::to_string(bins) + " seed " + std::to_string(c.seed);
            const Real expected = histogramReference(x, y, bins);
            ASSERT_GT(expected, 0.0) << where;
            expectRelative(loss->evaluate(LossInput{x, y}, false).value, expected, where);
            EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << where;
        }
}

TEST(HistogramLoss, SingletonClassesKeepOnlyTheNegativePairsOfTriplets) {
    // Points 3 and 4 are alone in their classes: the pair {3,4} belongs to no triplet.
    const Points x = randomPoints(5, 2, 120);
    const Labels y{0, 0, 0, 1, 2};
    const auto loss = make("histogram", {{"n_bins", 10}});
    const LossOutput out = loss->evaluate(LossInput{x, y}, true);
    expectRelative(out.value, histogramReference(x, y, 10), "singletons");
    EXPECT_EQ(out.stats.tuples, 3 + 6);  // {0,1},{0,2},{1,2} and {0..2}×{3,4}
}

// ---------------------------------------------------------------------------------------------
// Instance.

Real instanceReference(const Points& x, const Labels& y, Real gamma) {
    std::vector<int> distinct(y.begin(), y.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    const int n = static_cast<int>(y.size());
    Real total = 0.0;
    for (int i = 0; i < n; ++i) {
        int target = 0;
        while (distinct[static_cast<std::size_t>(target)] != y[i]) ++target;
        Real sum = 0.0;
        for (int j = 0; j < n; ++j) sum += std::exp(gamma * entry(DistanceSpec::cosine(), x, i, j));
        total += std::log(sum) - gamma * entry(DistanceSpec::cosine(), x, i, target);
    }
    return total / n;
}

TEST(InstanceLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (Real gamma : {64.0, 2.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 130);
            Labels y = randomLabels(c.n, c.classes, c.seed + 131);
            for (int& label : y) label = 3 * label + 5;  // the targets are ranks, not the labels
            const auto loss = make("instance", {{"gamma", gamma}});
            const std::string where = "gamma " + std::to_string(gamma);
            expectRelative(loss->evaluate(LossInput{x, y}, false).value, instanceReference(x, y, gamma),
                           where);
            const Real step = gamma < 10 ? 1e-6 : 1e-8;  // steep at γ = 64: a smaller step
            EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}, step).embeddings, 1e-6) << where;
        }
    // Every label distinct: instance discrimination, each point its own target.
    const Points x = randomPoints(8, 3, 140);
    const Labels y{7, 6, 5, 4, 3, 2, 1, 0};
    expectRelative(make("instance", {{"gamma", 3.0}})->evaluate(LossInput{x, y}, false).value,
                   instanceReference(x, y, 3.0), "distinct");
}

// ---------------------------------------------------------------------------------------------
// Sub-center ArcFace.

/// PML's SubCenterArcFaceLoss with our row layout (sub-center k of class c = row k·C + c).
Real subCenterReference(const Points& x, const Labels& y, const Points& w, int subCenters, Real marginDegrees,
                        Real scale) {
    const int classes = static_cast<int>(w.rows()) / subCenters;
    const Real m = marginDegrees * kPi / 180.0;
    Real total = 0.0;
    for (int i = 0; i < x.rows(); ++i) {
        std::vector<Real> logits;
        for (int c = 0; c < classes; ++c) {
            Real best = -2.0;
            for (int k = 0; k < subCenters; ++k)
                best = std::max(best, x.row(i).normalized().dot(w.row(k * classes + c).normalized()));
            if (c == y[i]) {
                const Real theta = std::acos(std::clamp(best, -1.0, 1.0));
                best = theta <= kPi - m ? std::cos(theta + m) : std::cos(theta) - m * std::sin(m);
            }
            logits.push_back(scale * best);
        }
        Real sum = 0.0;
        for (Real l : logits) sum += std::exp(l);
        total += std::log(sum) - logits[static_cast<std::size_t>(y[i])];
    }
    return total / static_cast<Real>(x.rows());
}

TEST(SubCenterArcFaceLoss, MatchesTheReferenceAndFiniteDifferencesForPointsAndSubCenters) {
    for (const Config& c : configs)
        for (Real scale : {64.0, 4.0})
            for (Real margin : {28.6, 80.0}) {  // 80°: the fallback branch θ > π − m = 100° is taken too
                const Points x = randomPoints(c.n, c.d, c.seed + 150);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 151);
                const Points w = randomPoints(3 * c.classes, c.d, c.seed + 152);
                const auto loss = make("subcenter_arcface", {{"scale", scale}, {"margin", margin}});
                const LossInput input{x, y, &w};
                const std::string where =
                    "scale " + std::to_string(scale) + " margin " + std::to_string(margin);
                expectRelative(loss->evaluate(input, false).value,
                               subCenterReference(x, y, w, 3, margin, scale), where);
                const auto error = finiteDifferenceError(*loss, input, scale < 10 ? 1e-6 : 1e-8);
                EXPECT_LE(error.embeddings, 1e-6) << where;
                EXPECT_LE(error.owned, 1e-6) << where;
            }
}

TEST(SubCenterArcFaceLoss, OneSubCenterIsArcFaceAndRepeatedSubCentersChangeNothing) {
    const Points x = randomPoints(12, 3, 160);
    const Labels y = randomLabels(12, 4, 161);
    const Points w = randomPoints(4, 3, 162);
    const LossOutput arcface = make("arcface", {{"scale", 8.0}})->evaluate(LossInput{x, y, &w}, true);
    const LossOutput one = SubCenterArcFaceLoss(28.6, 8.0, 1).evaluate(LossInput{x, y, &w}, true);
    expectRelative(one.value, arcface.value, "K = 1", 1e-13);
    EXPECT_LE((one.gradEmbeddings - arcface.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-13);
    EXPECT_LE((one.gradOwned - arcface.gradOwned).cwiseAbs().maxCoeff(), 1e-13);
    Points repeated(12, 3);
    repeated << w, w, w;
    const LossOutput three =
        make("subcenter_arcface", {{"scale", 8.0}})->evaluate(LossInput{x, y, &repeated}, true);
    expectRelative(three.value, arcface.value, "K = 3, equal sub-centers", 1e-13);
    // Ties go to sub-center 0: the whole gradient lands in block 0.
    EXPECT_LE((three.gradOwned.topRows(4) - arcface.gradOwned).cwiseAbs().maxCoeff(), 1e-13);
    EXPECT_EQ(three.gradOwned.bottomRows(8).cwiseAbs().maxCoeff(), 0.0);
}

// ---------------------------------------------------------------------------------------------
// PML's centroid triplet loss.

/// Balanced batches (every class M ≥ 2 members): per instance r and class k, the anchor is the
/// r-th member, the positive the mean of the others, the negatives the full means of the other
/// classes (classes in order of first appearance; with P ≥ 5, PML's chunking keeps the last 3).
Real centroidPmlReference(const Points& x, const Labels& y, const DistanceSpec& spec, Real margin) {
    std::vector<int> order;
    std::map<int, std::vector<int>> members;
    for (int i = 0; i < static_cast<int>(y.size()); ++i) {
        if (members[y[i]].empty()) order.push_back(y[i]);
        members[y[i]].push_back(i);
    }
    const int classes = static_cast<int>(order.size());
    const std::size_t perClass = members[order[0]].size();
    auto mean = [&](const std::vector<int>& rows) {
        Row sum = Row::Zero(x.cols());
        for (int r : rows) sum += x.row(r);
        return Row(sum / static_cast<Real>(rows.size()));
    };
    auto measure = [&](Row a, Row b) {
        if (spec.normalizes()) {
            a.normalize();
            b.normalize();
        }
        if (spec.isSimilarity()) return a.dot(b);
        return spec.power == 2 ? (a - b).squaredNorm() : (a - b).norm();
    };
    const Real sigma = spec.isSimilarity() ? -1.0 : 1.0;
    Real sum = 0.0;
    int active = 0;
    for (std::size_t r = 0; r < perClass; ++r)
        for (int k = 0; k < classes; ++k) {
            const auto& own = members[order[static_cast<std::size_t>(k)]];
            std::vector<int> others;
            for (std::size_t m = 0; m < own.size(); ++m)
                if (m != r) others.push_back(own[m]);
            const Row query = x.row(own[r]);
            const Real positive = measure(query, mean(others));
            std::vector<int> negatives;
            for (int j = 0; j < classes; ++j)
                if (j != k) negatives.push_back(j);
            if (classes >= 5) negatives.erase(negatives.begin(), negatives.end() - 3);
            for (int j : negatives) {
                const Real t = std::max(
                    0.0,
                    sigma * (positive - measure(query, mean(members[order[static_cast<std::size_t>(j)]]))) +
                        margin);
                sum += t;
                active += t > 0;
            }
        }
    return active ? sum / active : 0.0;
}

TEST(PmlCentroidTripletLoss, BalancedBatchesMatchTheReferenceAndFiniteDifferences) {
    for (int classes : {2, 3, 4, 5, 6})
        for (int perClass : {2, 3, 4})
            for (const DistanceSpec& spec : someDistances) {
                const int n = classes * perClass, d = 2 + (classes + perClass) % 2;
                const Points x = randomPoints(n, d, static_cast<std::uint64_t>(10 * classes + perClass));
                const Labels y =
                    randomLabels(n, classes, static_cast<std::uint64_t>(10 * classes + perClass + 1));
                const Real margin = spec.isSimilarity() || spec.power == 2 ? 0.5 : 0.3;
                const auto loss = make("centroid_triplet_pml", {{"margin", margin}}, spec);
                const std::string where =
                    spec.describe() + " P " + std::to_string(classes) + " M " + std::to_string(perClass);
                const LossOutput out = loss->evaluate(LossInput{x, y}, false);
                const Real expected = centroidPmlReference(x, y, spec, margin);
                ASSERT_GT(expected, 0.0) << where;
                expectRelative(out.value, expected, where);
                EXPECT_EQ(out.stats.tuples, static_cast<Count>(n * std::min(classes - 1, 3))) << where;
                EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << where;
            }
}

TEST(PmlCentroidTripletLoss, ImbalancedBatchesSingletonsAndOneClass) {
    // Unequal sizes take PML's padded path; its gradient is still exact.
    const Points x = randomPoints(9, 2, 170);
    const Labels imbalanced{0, 1, 1, 2, 0, 1, 2, 1, 0};
    const auto loss = make("centroid_triplet_pml", {{"margin", 0.3}});
    EXPECT_GT(loss->evaluate(LossInput{x, imbalanced}, false).value, 0.0);
    EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, imbalanced}).embeddings, 1e-6);
    // A singleton class (PML raises) is left out: the value is that of the batch without it.
    const Labels withSingleton{0, 1, 0, 1, 7, 0, 1};
    Points kept(6, 2);
    kept << x.row(0), x.row(1), x.row(2), x.row(3), x.row(5), x.row(6);
    const LossOutput out = loss->evaluate(LossInput{x.topRows(7), withSingleton}, true);
    expectRelative(out.value, loss->evaluate(LossInput{kept, Labels{0, 1, 0, 1, 0, 1}}, false).value,
                   "singleton");
    EXPECT_EQ(out.gradEmbeddings.row(4).cwiseAbs().maxCoeff(), 0.0);
    expectZeroOutput(loss->evaluate(LossInput{x, Labels(9, 0)}, true), 9, 2, "one class");
    expectZeroOutput(loss->evaluate(LossInput{x, Labels{0, 1, 2, 3, 4, 5, 6, 7, 8}}, true), 9, 2, "distinct");
}

// ---------------------------------------------------------------------------------------------
// FastAP.

Real fastApReference(const Points& x, const Labels& y, const DistanceSpec& spec, int bins) {
    const int n = static_cast<int>(y.size());
    const Real top = spec.power == 2 ? 4.0 : 2.0, delta = top / bins;
    Real total = 0.0;
    int anchors = 0;
    for (int i = 0; i < n; ++i) {
        std::vector<Real> hp(static_cast<std::size_t>(bins) + 1, 0.0), hn = hp;
        int positives = 0;
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            positives += y[j] == y[i];
            for (int r = 0; r <= bins; ++r) {
                const Real pulse = std::max(0.0, 1.0 - std::abs(entry(spec, x, i, j) - r * delta) / delta);
                (y[j] == y[i] ? hp : hn)[static_cast<std::size_t>(r)] += pulse;
            }
        }
        if (positives == 0) continue;
        ++anchors;
        Real ap = 0.0;
        for (int r = 0; r <= bins; ++r) {
            Real below = 0.0, all = 0.0;
            for (int k = 0; k <= r; ++k) {
                below += hp[static_cast<std::size_t>(k)];
                all += hp[static_cast<std::size_t>(k)] + hn[static_cast<std::size_t>(k)];
            }
            const Real product = hp[static_cast<std::size_t>(r)] * below;
            if (product > 0 && all > 0) ap += product / all;
        }
        total += 1.0 - ap / positives;
    }
    return anchors ? total / anchors : 0.0;
}

TEST(FastApLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec :
             {DistanceSpec::lp(2, true), DistanceSpec::lp(1, true), DistanceSpec::lp(2, false)})
            for (int bins : {10, 3}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 180, spec.normalize ? 1.0 : 0.5);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 181);
                const auto loss = make("fast_ap", {{"num_bins", bins}}, spec);
                const std::string where = spec.describe() + " bins " + std::to_string(bins);
                // The nodes are float32 as in PML: ~1e-8 away from the reference's exact ones.
                expectRelative(loss->evaluate(LossInput{x, y}, false).value,
                               fastApReference(x, y, spec, bins), where, 1e-6);
                EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << where;
            }
}

// ---------------------------------------------------------------------------------------------
// P2SGrad.

TEST(P2SGradLoss, MatchesTheReferenceWithPmlsDetachedWeightGradient) {
    for (const Config& c : configs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 190);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 191);
        const Points w = randomPoints(c.classes, c.d, c.seed + 192);
        Real value = 0.0;
        Points gradW = Points::Zero(c.classes, c.d);
        const Real count = static_cast<Real>(c.n * c.classes);
        for (int i = 0; i < c.n; ++i)
            for (int k = 0; k < c.classes; ++k) {
                const Real cosine = x.row(i).normalized().dot(w.row(k).normalized());
                const Real error = cosine - (k == y[i] ? 1.0 : 0.0);
                value += error * error / count;
                gradW.row(k) += 2.0 * error / count * x.row(i).normalized();  // ∂/∂ŵ, ŵ held fixed
            }
        const auto loss = make("p2sgrad");
        const LossInput input{x, y, &w};
        const LossOutput out = loss->evaluate(input, true);
        expectRelative(out.value, value, "p2sgrad", 1e-6);  // PML's ŵ is unit up to 1e-7/‖w‖
        EXPECT_LE((out.gradOwned - gradW).cwiseAbs().maxCoeff(), 1e-6 * gradW.cwiseAbs().maxCoeff());
        EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6);
        // Not the derivative through the normalization: the radial part of ∂/∂w is not 0.
        Real radial = 0.0;
        for (int k = 0; k < c.classes; ++k)
            radial += std::abs(out.gradOwned.row(k).dot(w.row(k).normalized()));
        EXPECT_GT(radial, 1e-3);
    }
}

// ---------------------------------------------------------------------------------------------
// SoftTriple.

Real softTripleReference(const Points& x, const Labels& y, const Points& w, int centers, Real la, Real gamma,
                         Real margin) {
    const int classes = static_cast<int>(w.rows()) / centers;
    Real total = 0.0;
    for (int i = 0; i < x.rows(); ++i) {
        std::vector<Real> logits;
        for (int c = 0; c < classes; ++c) {
            Real normaliser = 0.0, weighted = 0.0;
            for (int k = 0; k < centers; ++k) {
                const Real s = x.row(i).normalized().dot(w.row(k * classes + c).normalized());
                normaliser += std::exp(s / gamma);
                weighted += std::exp(s / gamma) * s;
            }
            logits.push_back(la * (weighted / normaliser - (c == y[i] ? margin : 0.0)));
        }
        Real sum = 0.0;
        for (Real l : logits) sum += std::exp(l);
        total += std::log(sum) - logits[static_cast<std::size_t>(y[i])];
    }
    return total / static_cast<Real>(x.rows());
}

TEST(SoftTripleLoss, MatchesTheReferenceAndFiniteDifferencesForPointsAndCenters) {
    for (const Config& c : configs)
        for (Real la : {20.0, 3.0}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 200);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 201);
            const Points w = randomPoints(10 * c.classes, c.d, c.seed + 202);
            const auto loss = make("soft_triple", {{"la", la}, {"margin", 0.1}});
            const LossInput input{x, y, &w};
            const std::string where = "la " + std::to_string(la);
            expectRelative(loss->evaluate(input, false).value, softTripleReference(x, y, w, 10, la, 0.1, 0.1),
                           where);
            const auto error = finiteDifferenceError(*loss, input, la > 10 ? 1e-7 : 1e-6);
            EXPECT_LE(error.embeddings, 1e-6) << where;
            EXPECT_LE(error.owned, 1e-6) << where;
        }
}

// ---------------------------------------------------------------------------------------------
// Ranked list.

Real rankedListReference(const Points& x, const Labels& y, const DistanceSpec& spec, Real margin, Real tn,
                         Real imbalance, Real alpha, Real tp) {
    const int n = static_cast<int>(y.size());
    Real total = 0.0;
    for (int i = 0; i < n; ++i) {
        Real wp = 0.0, wpu = 0.0, wn = 0.0, wnz = 0.0;
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            const Real d = entry(spec, x, i, j);
            if (y[j] == y[i] && d > alpha - margin) {
                const Real u = d - (alpha - margin);
                wp += std::exp(tp * u);
                wpu += std::exp(tp * u) * u;
            } else if (y[j] != y[i] && d < alpha && d > 0) {
                const Real z = alpha - d;
                wn += std::exp(tn * z);
                wnz += std::exp(tn * z) * z;
            }
        }
        total += (1 - imbalance) * (wp > 0 ? wpu / wp : 0.0) + imbalance * (wn > 0 ? wnz / wn : 0.0);
    }
    return total / n;
}

TEST(RankedListLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (const DistanceSpec& spec :
             {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false), DistanceSpec::cosine()})
            for (Real tp : {0.0, 2.0}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 210);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 211);
                // A similarity has its boundaries the other way round; 0.3/0.6 keeps both sets busy.
                const Real alpha = spec.isSimilarity() ? 0.6 : 1.2, margin = spec.isSimilarity() ? 0.3 : 0.4;
                const auto loss = make("ranked_list",
                                       {{"margin", margin}, {"alpha", alpha}, {"Tp", tp}, {"Tn", 3.0}}, spec);
                const std::string where = spec.describe() + " Tp " + std::to_string(tp);
                const Real expected = rankedListReference(x, y, spec, margin, 3.0, 0.5, alpha, tp);
                ASSERT_GT(expected, 0.0) << where;
                expectRelative(loss->evaluate(LossInput{x, y}, false).value, expected, where);
                EXPECT_LE(finiteDifferenceError(*loss, LossInput{x, y}).embeddings, 1e-6) << where;
            }
}

// ---------------------------------------------------------------------------------------------
// PNP.

Real pnpReference(const Points& x, const Labels& y, Real b, Real alpha, Real anneal,
                  const std::string& variant) {
    const int n = static_cast<int>(y.size());
    const DistanceSpec cosine = DistanceSpec::cosine();
    Real total = 0.0;
    for (int i = 0; i < n; ++i) {
        std::vector<int> positives;
        for (int j = 0; j < n; ++j)
            if (y[j] == y[i]) positives.push_back(j);
        if (positives.size() < 2) continue;
        Real sum = 0.0;
        for (int j : positives) {
            Real r = 0.0;
            for (int k = 0; k < n; ++k) {
                if (y[k] == y[i]) continue;
                const Real exponent =
                    std::clamp(-(entry(cosine, x, i, k) - entry(cosine, x, i, j)) / anneal, -50.0, 50.0);
                r += 1.0 / (1.0 + std::exp(exponent));
            }
            if (variant == "Ds")
                r = std::log(1 + r);
            else if (variant == "Dq")
                r = 1 / std::pow(1 + r, alpha);
            else if (variant == "Iu")
                r = (1 + r) * std::log(1 + r);
            else if (variant == "Ib")
                r = (b * r - std::log(1 + b * r)) / (b * b);
            sum += r;
        }
        total += sum / static_cast<Real>(positives.size());
    }
    total /= n;
    return variant == "Dq" ? 1 - total : total;
}

TEST(PnpLoss, EveryVariantMatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (const char* variant : {"O", "Ds", "Dq", "Iu", "Ib"})
            for (Real anneal : {0.01, 0.3}) {
                const Points x = randomPoints(c.n, c.d, c.seed + 220);
                const Labels y = randomLabels(c.n, c.classes, c.seed + 221);
                ParamValues params;
                params.numbers = {{"anneal", anneal}, {"alpha", 1.5}, {"b", 3.0}};
                params.choices["variant"] = variant;
                std::string error;
                const auto loss = makeLoss(LossConfig{"pnp", params, std::nullopt}, &error);
                ASSERT_TRUE(loss) << error;
                const std::string where = std::string(variant) + " anneal " + std::to_string(anneal);
                expectRelative(loss->evaluate(LossInput{x, y}, false).value,
                               pnpReference(x, y, 3.0, 1.5, anneal, variant), where);
                EXPECT_LE(
                    finiteDifferenceError(*loss, LossInput{x, y}, anneal < 0.1 ? 1e-8 : 1e-6).embeddings,
                    1e-6)
                    << where;
            }
}

// ---------------------------------------------------------------------------------------------
// Threshold-consistent margin term.

Real tcmReference(const Points& x, const std::vector<Pair>& positives, const std::vector<Pair>& negatives,
                  Real lp, Real lm, Real mp, Real mm) {
    const DistanceSpec cosine = DistanceSpec::cosine();
    Real pos = 0.0, neg = 0.0;
    int inPos = 0, inNeg = 0;
    for (const Pair& p : positives)
        if (entry(cosine, x, p[0], p[1]) <= mp) {
            pos += mp - entry(cosine, x, p[0], p[1]);
            ++inPos;
        }
    for (const Pair& p : negatives)
        if (entry(cosine, x, p[0], p[1]) >= mm) {
            neg += entry(cosine, x, p[0], p[1]) - mm;
            ++inNeg;
        }
    return lp * (inPos ? pos / inPos : 0.0) + lm * (inNeg ? neg / inNeg : 0.0);
}

TEST(ThresholdConsistentMarginLoss, MatchesTheReferenceAndFiniteDifferences) {
    for (const Config& c : configs)
        for (const char* miner : {"", "pair_margin", "batch_hard"}) {
            const Points x = randomPoints(c.n, c.d, c.seed + 230);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 231);
            std::vector<Pair> positives, negatives;
            std::optional<Tuples> tuples;
            if (*miner) {
                tuples = mine(miner, x, y);
                listedPairs(*tuples, &positives, &negatives);
            } else {
                everyPair(y, &positives, &negatives);
            }
            const auto loss =
                make("threshold_consistent_margin", {{"lambda_minus", 0.7}, {"margin_minus", 0.2}});
            const LossInput input{x, y, nullptr, tuples ? &*tuples : nullptr};
            const Real expected = tcmReference(x, positives, negatives, 1.0, 0.7, 0.9, 0.2);
            ASSERT_GT(expected, 0.0) << miner;
            expectRelative(loss->evaluate(input, false).value, expected, miner);
            EXPECT_LE(finiteDifferenceError(*loss, input).embeddings, 1e-6) << miner;
        }
}

// ---------------------------------------------------------------------------------------------
// Force split (LossOutput::gradFromPositives) against plain loops.

TEST(MorePmlForceSplit, MarginAttractionIsTheGradientThroughTheAnchorPositiveDistances) {
    // Unnormalized Euclidean: an active positive term of triplet (a,p,n) pulls with
    // ∂d_ap/∂x_a = (x_a − x_p)/d_ap (and the opposite at p), divided by the non-zero count.
    for (const Config& c : configs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 240);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 241);
        const Real beta = 1.4, margin = 0.2;
        Points expected = Points::Zero(c.n, c.d);
        int nonZero = 0;
        for (const Triplet& t : everyTriplet(y)) {
            const Real dap = (x.row(t[0]) - x.row(t[1])).norm(), dan = (x.row(t[0]) - x.row(t[2])).norm();
            nonZero += (dap - beta + margin > 0) + (beta - dan + margin > 0);
            if (dap - beta + margin > 0) {
                expected.row(t[0]) += (x.row(t[0]) - x.row(t[1])) / dap;
                expected.row(t[1]) -= (x.row(t[0]) - x.row(t[1])) / dap;
            }
        }
        expected /= nonZero;
        LossInput input{x, y};
        input.splitForces = true;
        const LossOutput out =
            make("margin", {{"beta", beta}, {"margin", margin}}, DistanceSpec::lp(1, false))
                ->evaluate(input, true);
        ASSERT_GT(expected.cwiseAbs().maxCoeff(), 0.0);
        EXPECT_LE((out.gradFromPositives - expected).cwiseAbs().maxCoeff(),
                  1e-12 * expected.cwiseAbs().maxCoeff());
    }
}

TEST(MorePmlForceSplit, SnrAttractionIsTheGradientOfThePositiveHalfAlone) {
    // The positive half of the SNR loss with the negative margin switched off (neg_margin far below
    // every SNR makes every negative term 0): then the whole gradient is the attraction.
    for (const Config& c : configs) {
        const Points x = randomPoints(c.n, c.d, c.seed + 250);
        const Labels y = randomLabels(c.n, c.classes, c.seed + 251);
        LossInput input{x, y};
        input.splitForces = true;
        const auto both = make("snr_contrastive", {{"pos_margin", 0.3}, {"neg_margin", 1.5}});
        const auto positiveOnly = make("snr_contrastive", {{"pos_margin", 0.3}, {"neg_margin", -100.0}});
        const LossOutput split = both->evaluate(input, true);
        const LossOutput reference = positiveOnly->evaluate(LossInput{x, y}, true);
        ASSERT_GT(reference.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
        EXPECT_LE((split.gradFromPositives - reference.gradEmbeddings).cwiseAbs().maxCoeff(),
                  1e-13 * reference.gradEmbeddings.cwiseAbs().maxCoeff());
        EXPECT_GT((split.gradEmbeddings - split.gradFromPositives).cwiseAbs().maxCoeff(), 0.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Every new loss: empty and degenerate batches.

TEST(MorePmlLosses, EmptyAndDegenerateBatchesGiveZero) {
    const std::vector<std::string> names = {"margin",    "margin_learn_beta",    "tuplet_margin",
                                            "nca",       "snr_contrastive",      "intra_pair_variance",
                                            "histogram", "centroid_triplet_pml", "fast_ap"};
    for (const std::string& name : names)
        for (int d : {2, 3}) {
            const auto loss = make(name);
            const Points owned = randomPoints(8, d, 3);
            auto run = [&](const Points& x, const Labels& y) {
                LossInput input{x, y, findLoss(name)->ownedBlocks ? &owned : nullptr};
                input.splitForces = true;
                return loss->evaluate(input, true);
            };
            const Points x = randomPoints(8, d, 4);
            // One class: no negative pair, no triplet. NCA is the exception: every point has
            // classmates and the softmax runs over the same points (checked below).
            // FastAP with positives only: AP = 1 up to the float32 nodes' partition of unity.
            if (name == "fast_ap")
                EXPECT_NEAR(run(x, Labels(8, 0)).value, 0.0, 1e-6);
            else if (name != "nca" && name != "intra_pair_variance" && name != "snr_contrastive")
                expectZeroOutput(run(x, Labels(8, 0)), 8, d, name + " one class");
            // Every label distinct: no positive pair, no triplet, no classmate.
            if (name != "intra_pair_variance" && name != "snr_contrastive")
                expectZeroOutput(run(x, Labels{0, 1, 2, 3, 4, 5, 6, 7}), 8, d, name + " distinct");
            expectZeroOutput(run(Points(0, d), Labels{}), 0, d, name + " empty");
            expectZeroOutput(run(randomPoints(1, d, 5), Labels{0}), 1, d, name + " one point");
        }
    // The pair-variance losses judge each kind of pair on its own: one class still has positives.
    const Points x = randomPoints(8, 2, 6);
    EXPECT_GT(make("intra_pair_variance")->evaluate(LossInput{x, Labels(8, 0)}, false).value, 0.0);
    EXPECT_GT(make("nca")->evaluate(LossInput{x, Labels(8, 0)}, false).value, -1e-15);
    EXPECT_NEAR(make("nca")->evaluate(LossInput{x, Labels(8, 0)}, false).value, 0.0, 1e-12);  // p_i = 1
    // Without positive pairs the negative half still spreads the negatives around their mean.
    EXPECT_GT(
        make("intra_pair_variance")->evaluate(LossInput{x, Labels{0, 1, 2, 3, 4, 5, 6, 7}}, false).value,
        0.0);
    EXPECT_GT(make("snr_contrastive")->evaluate(LossInput{x, Labels{0, 1, 2, 3, 4, 5, 6, 7}}, false).value,
              0.0);
}

// ---------------------------------------------------------------------------------------------
// Every loss of this file trains: 40 Adam steps stay finite and lower the loss from its start.

TEST(MorePmlLosses, EachTrainsWithTheTrainer) {
    const std::vector<std::string> names = {"margin",
                                            "margin_learn_beta",
                                            "centroid_triplet_pml",
                                            "tuplet_margin",
                                            "nca",
                                            "snr_contrastive",
                                            "intra_pair_variance",
                                            "histogram",
                                            "instance",
                                            "subcenter_arcface",
                                            "fast_ap",
                                            "p2sgrad",
                                            "soft_triple",
                                            "ranked_list",
                                            "pnp",
                                            "threshold_consistent_margin"};
    for (const std::string& name : names) {
        TrainerConfig config;
        config.points = randomPoints(24, 2, 260);
        config.labels = randomLabels(24, 3, 261);
        config.numClasses = 3;
        config.loss.name = name;
        config.optimizer.kind = OptimizerKind::Adam;
        config.optimizer.learningRate = 0.01;
        if (name == "margin_learn_beta") {  // β_c = 1.2 (PML's initial β) in column 0
            Points owned = Points::Zero(3, 2);
            owned.col(0).setConstant(1.2);
            config.owned = owned;
        }
        std::string error;
        ASSERT_TRUE(config.isValid(&error)) << name << ": " << error;
        Trainer trainer(config);
        const Real first = trainer.snapshot()->loss;
        const auto last = trainer.step(40);
        EXPECT_EQ(last->status, TrainStatus::Running) << name;
        EXPECT_TRUE(last->positions.allFinite()) << name;
        EXPECT_LT(last->loss, first) << name;
    }
}

// ---------------------------------------------------------------------------------------------
// The whole catalogue: central finite differences with the defaults, D = 2 and 3.

TEST(LossCatalogue, EveryLossMatchesCentralFiniteDifferences) {
    for (const LossInfo& info : lossCatalog()) {
        // Circle loss detaches its weights (PML): its gradient is not the derivative of its value.
        if (info.name == "circle") continue;
        const auto loss = make(info.name);
        for (int d : {2, 3})
            for (std::uint64_t seed : {1u, 2u}) {
                const int n = 10, classes = 3;
                const Points x = randomPoints(n, d, seed * 10 + d);
                const Labels y = randomLabels(n, classes, seed * 10 + d + 1);
                const Points owned =
                    randomPoints(std::max(1, info.ownedBlocks) * classes, d, seed * 10 + d + 2);
                const LossInput input{x, y, info.ownedBlocks ? &owned : nullptr, nullptr, seed};
                // Large default scales (γ = 64, s = 64) make the value steep: a smaller step.
                const auto error = finiteDifferenceError(*loss, input, 1e-7);
                EXPECT_LE(error.embeddings, 1e-6) << info.name << " D " << d << " seed " << seed;
                // P2SGrad: PML renormalizes W outside the graph; its owned gradient is checked
                // against its own reference (P2SGradLoss tests).
                if (info.name != "p2sgrad") {
                    EXPECT_LE(error.owned, 1e-6) << info.name << " D " << d << " seed " << seed;
                }
            }
    }
}

}  // namespace
}  // namespace marginlab

#include "marginlab/runinfo.h"

namespace marginlab {
namespace {

// What the views are told about the new losses comes from the catalogue (never from the name).
TEST(MorePmlRunInfo, MarginLossesDescribeTheirBetaBand) {
    LossConfig loss{"margin", {}, std::nullopt};
    RunInfo run = describeRun(loss, std::nullopt);
    ASSERT_TRUE(run.distanceBand);
    EXPECT_EQ(run.distanceBand->boundary, 1.2);
    EXPECT_EQ(run.distanceBand->margin, 0.2);
    EXPECT_FALSE(run.distanceBand->boundaryPerClass);
    loss.params.numbers = {{"beta", 0.9}, {"margin", 0.05}};
    run = describeRun(loss, std::nullopt);
    EXPECT_EQ(run.distanceBand->boundary, 0.9);
    EXPECT_EQ(run.distanceBand->margin, 0.05);
    run = describeRun({"margin_learn_beta", {}, std::nullopt}, std::nullopt);
    ASSERT_TRUE(run.distanceBand);
    EXPECT_TRUE(run.distanceBand->boundaryPerClass);
    EXPECT_EQ(run.ownedLayout, OwnedLayout::ClassScalars);
    EXPECT_FALSE(run.hasClassWeights());  // β is no class direction
    // No other loss claims a band.
    for (const LossInfo& info : lossCatalog())
        if (info.pmlName != "MarginLoss") {
            EXPECT_FALSE(describeRun({info.name, {}, std::nullopt}, std::nullopt).distanceBand) << info.name;
        }
}

TEST(MorePmlRunInfo, MultiCenterLossesSayHowManyCentersEachClassHas) {
    EXPECT_EQ(describeRun({"soft_triple", {}, std::nullopt}, std::nullopt).centersPerClass(), 10);
    EXPECT_EQ(describeRun({"subcenter_arcface", {}, std::nullopt}, std::nullopt).centersPerClass(), 3);
    // The center loss owns two blocks too, but they are [class weights; centers], not K centers.
    EXPECT_EQ(describeRun({"center", {}, std::nullopt}, std::nullopt).centersPerClass(), 0);
    for (const LossInfo& info : lossCatalog())
        if (info.ownedLayout == OwnedLayout::CentersPerClass) {
            EXPECT_GE(info.ownedBlocks, 2) << info.name;
        }
}

}  // namespace
}  // namespace marginlab

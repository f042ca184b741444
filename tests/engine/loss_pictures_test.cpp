// SPDX-License-Identifier: MIT
// The numbers behind the loss pictures (loss_pictures.h) against plain loops written here, and
// against the losses they explain (NCA's value is the mean of −log p(same class)).
#include "marginlab/loss_pictures.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "marginlab/loss.h"
#include "marginlab/runinfo.h"
#include "test_support.h"

namespace marginlab {
namespace {

Real plainValue(const Points& x, int i, int j, const DistanceSpec& spec) {
    Eigen::RowVectorXd a = x.row(i), b = x.row(j);
    if (spec.normalizes()) a /= a.norm(), b /= b.norm();
    if (spec.kind != DistanceKind::Lp) return a.dot(b);
    return spec.power == 2 ? (a - b).squaredNorm() : (a - b).norm();
}

const DistanceSpec kSpecs[] = {DistanceSpec::lp(1, false), DistanceSpec::lp(1, true),
                               DistanceSpec::lp(2, true), DistanceSpec::cosine()};

TEST(LossPictures, RankedNeighboursAreEveryOtherPointNearestFirst) {
    for (int d : {2, 3})
        for (const DistanceSpec& spec : kSpecs) {
            const Points x = testing::randomPoints(30, d, 11 + d);
            const Labels y = testing::randomLabels(30, 3, 5);
            const auto ranked = rankedNeighbours(x, y, 7, spec);
            ASSERT_EQ(ranked.size(), 29u);
            std::vector<bool> seen(30, false);
            for (std::size_t r = 0; r < ranked.size(); ++r) {
                const RankedNeighbour& n = ranked[r];
                ASSERT_NE(n.index, 7);
                EXPECT_FALSE(seen[static_cast<std::size_t>(n.index)]);
                seen[static_cast<std::size_t>(n.index)] = true;
                EXPECT_NEAR(n.value, plainValue(x, 7, n.index, spec), 1e-12);
                EXPECT_EQ(n.positive, y[static_cast<std::size_t>(n.index)] == y[7]);
                // Nearest first: smaller distances, or larger similarities, come earlier.
                if (r > 0) {
                    EXPECT_LE(spec.orderSign() * ranked[r - 1].value, spec.orderSign() * n.value);
                }
            }
        }
    EXPECT_TRUE(rankedNeighbours(testing::randomPoints(4, 2, 1), {0, 0, 1, 1}, 4, kSpecs[0]).empty());
}

TEST(LossPictures, SoftNeighbourProbabilitiesAreNcasSoftmaxAndGiveItsValue) {
    for (int d : {2, 3})
        for (const DistanceSpec& spec :
             {DistanceSpec::lp(2, true), DistanceSpec::lp(1, false), DistanceSpec::cosine()}) {
            const int n = 24;
            const Points x = testing::randomPoints(n, d, 3 + d);
            const Labels y = testing::randomLabels(n, 3, 9);
            const Real scale = 2.5;
            Real meanLoss = 0.0;
            int counted = 0;
            for (int a = 0; a < n; ++a) {
                const auto p = softNeighbourProbabilities(x, a, spec, scale);
                // The definition, as a plain loop: exp(−scale·δ) normalized over j ≠ a.
                Real total = 0.0;
                for (int j = 0; j < n; ++j)
                    if (j != a) total += std::exp(-scale * spec.orderSign() * plainValue(x, a, j, spec));
                Real same = 0.0;
                bool hasClassmate = false;
                for (int j = 0; j < n; ++j) {
                    const Real expected =
                        j == a ? 0.0
                               : std::exp(-scale * spec.orderSign() * plainValue(x, a, j, spec)) / total;
                    EXPECT_NEAR(p[static_cast<std::size_t>(j)], expected, 1e-12);
                    if (j != a && y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(a)]) {
                        same += p[static_cast<std::size_t>(j)];
                        hasClassmate = true;
                    }
                }
                if (hasClassmate) meanLoss += -std::log(same), ++counted;
            }
            // NCA's value is the mean over points with classmates of −log p(same class).
            LossConfig config{"nca", {}, spec};
            config.params.numbers["softmax_scale"] = scale;
            const auto loss = makeLoss(config, nullptr);
            ASSERT_TRUE(loss);
            const LossOutput out = loss->evaluate({x, y}, false);
            EXPECT_NEAR(out.value, meanLoss / counted, 1e-10 * std::max(1.0, std::abs(out.value)));
        }
}

TEST(LossPictures, SnrDistanceIsTheVarianceRatio) {
    Points x(2, 3);
    x << 1.0, 2.0, 4.0, 0.0, 1.0, 1.0;
    // var(x_0 − x_1) / var(x_0) for x_0 − x_1 = (1, 1, 3): var = 4/3; var(x_0) = 7/3.
    EXPECT_NEAR(snrDistance(x, 0, 1, false), (4.0 / 3.0) / (7.0 / 3.0), 1e-14);
    const Points e = x.rowwise().normalized();
    const Eigen::RowVector3d diff = e.row(0) - e.row(1);
    auto var = [](const Eigen::RowVector3d& v) { return (v.array() - v.mean()).square().sum() / 2.0; };
    EXPECT_NEAR(snrDistance(x, 0, 1, true), var(diff) / var(e.row(0)), 1e-14);
    EXPECT_NEAR(snrDistance(x, 0, 0, true), 0.0, 1e-15);
}

TEST(LossPictures, PairHistogramsCountEveryPairOnceOnItsSide) {
    for (const DistanceSpec& spec : kSpecs)
        for (bool angles : {false, true}) {
            const int n = 40, bins = 12;
            const Points x = testing::randomPoints(n, 3, 21);
            const Labels y = testing::randomLabels(n, 4, 2);
            const PairHistograms h = pairHistograms(x, y, spec, bins, angles);
            std::vector<Count> positive(bins, 0), negative(bins, 0);
            Real low = 0.0, high = 0.0, positiveSum = 0.0;
            std::vector<std::pair<Real, bool>> values;
            for (int i = 0; i < n; ++i)
                for (int j = i + 1; j < n; ++j) {
                    Real v = plainValue(x, i, j, angles ? DistanceSpec::cosine() : spec);
                    if (angles) v = std::acos(std::clamp(v, -1.0, 1.0)) * 180.0 / std::numbers::pi;
                    values.emplace_back(v, y[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(j)]);
                    high = std::max(high, v);
                }
            if (angles)
                low = 0.0, high = 180.0;
            else if (spec.isSimilarity())
                low = -1.0, high = 1.0;
            EXPECT_NEAR(h.low, low, 1e-12);
            EXPECT_NEAR(h.high, high, 1e-12);
            Count positives = 0;
            for (const auto& [v, same] : values) {
                const int bin =
                    std::clamp(static_cast<int>(std::floor((v - low) / (high - low) * bins)), 0, bins - 1);
                ++(same ? positive : negative)[static_cast<std::size_t>(bin)];
                if (same) positiveSum += v, ++positives;
            }
            EXPECT_EQ(h.positive, positive);
            EXPECT_EQ(h.negative, negative);
            EXPECT_EQ(h.positivePairs + h.negativePairs, n * (n - 1) / 2);
            EXPECT_NEAR(h.positiveMean, positiveSum / positives, 1e-12);
            EXPECT_EQ(h.stride, 1);
        }
    // Large sets use every stride-th point.
    const Points big = testing::randomPoints(1300, 2, 4);
    const PairHistograms h =
        pairHistograms(big, testing::randomLabels(1300, 3, 1), DistanceSpec::cosine(), 10, false, 600);
    EXPECT_EQ(h.stride, 3);
    EXPECT_EQ(h.positivePairs + h.negativePairs, 434 * 433 / 2);
}

TEST(LossPictures, TheCatalogueGivesEachNewLossItsPicture) {
    using Kind = LossPicture::Kind;
    auto kind = [](const char* name) {
        return describeRun({name, {}, std::nullopt}, std::nullopt).picture.kind;
    };
    for (const char* name : {"fast_ap", "pnp", "ranked_list"})
        EXPECT_EQ(kind(name), Kind::RankedList) << name;
    for (const char* name :
         {"histogram", "intra_pair_variance", "threshold_consistent_margin", "tuplet_margin"})
        EXPECT_EQ(kind(name), Kind::PairHistograms) << name;
    EXPECT_EQ(kind("nca"), Kind::SoftNeighbours);
    EXPECT_EQ(kind("snr_contrastive"), Kind::SnrPair);
    EXPECT_EQ(kind("triplet_margin"), Kind::None);
    EXPECT_TRUE(describeRun({"tuplet_margin", {}, std::nullopt}, std::nullopt).picture.angles);
    LossConfig nca{"nca", {}, std::nullopt};
    nca.params.numbers["softmax_scale"] = 4.0;
    EXPECT_EQ(describeRun(nca, std::nullopt).picture.softmaxScale, 4.0);
    // TCM's thresholds are its margins; IntraPairVariance's scale the means, mirrored for a distance.
    LossConfig tcm{"threshold_consistent_margin", {}, std::nullopt};
    const auto tcmPicture = describeRun(tcm, std::nullopt).picture;
    ASSERT_EQ(tcmPicture.thresholds.size(), 2u);
    EXPECT_EQ(tcmPicture.thresholds[0].value, 0.9);
    EXPECT_TRUE(tcmPicture.thresholds[0].positiveSide);
    EXPECT_EQ(tcmPicture.thresholds[1].value, 0.5);
    LossConfig ipv{"intra_pair_variance", {}, std::nullopt};
    ipv.params.numbers = {{"pos_eps", 0.1}, {"neg_eps", 0.2}};
    auto ipvPicture = describeRun(ipv, std::nullopt).picture;
    ASSERT_EQ(ipvPicture.thresholds.size(), 2u);
    EXPECT_NEAR(ipvPicture.thresholds[0].value, 0.9, 1e-15);
    EXPECT_NEAR(ipvPicture.thresholds[1].value, 1.2, 1e-15);
    EXPECT_TRUE(ipvPicture.thresholds[0].scalesMean);
    ipv.distance = DistanceSpec::lp(1, true);
    ipvPicture = describeRun(ipv, std::nullopt).picture;
    EXPECT_NEAR(ipvPicture.thresholds[0].value, 1.1, 1e-15);
    EXPECT_NEAR(ipvPicture.thresholds[1].value, 0.8, 1e-15);
}

}  // namespace
}  // namespace marginlab

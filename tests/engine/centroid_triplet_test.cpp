// SPDX-License-Identifier: MIT
#include "marginlab/loss.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

std::unique_ptr<Loss> makeCentroid(bool normalize) {
    LossConfig config{"centroid_triplet", {}, std::nullopt};
    config.params.numbers["normalize"] = normalize ? 1.0 : 0.0;
    std::string error;
    auto loss = makeLoss(config, &error);
    EXPECT_TRUE(loss) << error;
    return loss;
}

// The header's formula with plain loops: class means, then the per-sample bound.
Real reference(const Points& x0, const Labels& y, bool normalize) {
    Points x = x0;
    if (normalize)
        for (int i = 0; i < x.rows(); ++i) x.row(i) /= x.row(i).norm();
    std::map<int, Eigen::RowVectorXd> sums;
    std::map<int, int> counts;
    for (int i = 0; i < x.rows(); ++i) {
        if (!sums.count(y[i])) sums[y[i]] = Eigen::RowVectorXd::Zero(x.cols());
        sums[y[i]] += x.row(i);
        ++counts[y[i]];
    }
    const int classes = static_cast<int>(sums.size());
    if (classes < 2) return 0.0;
    Real total = 0;
    for (int i = 0; i < x.rows(); ++i) {
        Real own = 0, others = 0;
        for (const auto& [label, sum] : sums) {
            const Real d = (x.row(i) - sum / counts[label]).norm();
            if (label == y[i]) own = d;
            else others += d;
        }
        total += own - others / (3.0 * (classes - 1));
    }
    return total / Real(x.rows());
}

TEST(CentroidTriplet, MatchesReferenceAndFiniteDifferences) {
    std::uint64_t seed = 3;
    for (bool normalize : {false, true})
        for (int classes : {2, 3, 4})
            for (int dims : {2, 3}) {
                const int n = 12 + static_cast<int>(seed % 7);
                const Points x = randomPoints(n, dims, seed);
                Labels y = randomLabels(n, classes, seed + 1);
                for (int& label : y) label = 10 * label - 5;  // labels need not be 0..C−1
                const auto loss = makeCentroid(normalize);
                const LossOutput out = loss->evaluate({x, y}, true);
                const Real expected = reference(x, y, normalize);
                EXPECT_NEAR(out.value, expected, 1e-12 * std::max(1.0, std::abs(expected)));
                EXPECT_EQ(out.stats.tuples, n);
                EXPECT_LE(finiteDifferenceError(*loss, {x, y}).embeddings, 1e-6) << normalize << classes << dims;
                ++seed;
            }
}

// x0 = (0,0), x1 = (2,0) (class 0, center (1,0)); x2 = (1,3) (class 1, center (1,3)). C = 2:
//   ℓ0 = ‖x0 − (1,0)‖ − ‖x0 − (1,3)‖/3 = 1 − √10/3
//   ℓ1 = 1 − √10/3 (mirror image)
//   ℓ2 = 0 − ‖(1,3) − (1,0)‖/3 = −1
//   loss = (2 − 2√10/3 − 1)/3 = (1 − 2√10/3)/3
TEST(CentroidTriplet, HandComputedThreePoints) {
    Points x(3, 2);
    x << 0, 0, 2, 0, 1, 3;
    const Labels y{0, 0, 1};
    const auto loss = makeCentroid(false);
    const LossOutput out = loss->evaluate({x, y}, true);
    EXPECT_NEAR(out.value, (1.0 - 2.0 * std::sqrt(10.0) / 3.0) / 3.0, 1e-15);
    EXPECT_EQ(out.stats.active, 0);  // ℓ0 = ℓ1 ≈ −0.054, ℓ2 = −1
    // x2 moves c1 = x2 with it: d/dx2 of −(1/9)[‖x2 − c0‖ + ‖x0 − x2‖ + ‖x1 − x2‖]
    // = −(1/9)[(0,1) + (1,3)/√10 + (−1,3)/√10] = −(1/9)(0, 1 + 6/√10).
    EXPECT_NEAR(out.gradEmbeddings(2, 0), 0.0, 1e-15);
    EXPECT_NEAR(out.gradEmbeddings(2, 1), -(1.0 + 6.0 / std::sqrt(10.0)) / 9.0, 1e-15);
    EXPECT_LE(finiteDifferenceError(*loss, {x, y}).embeddings, 1e-6);
}

TEST(CentroidTriplet, InvariancesAndEmptyCases) {
    const Points x = randomPoints(12, 2, 41);
    const Labels y = randomLabels(12, 3, 42);
    Eigen::Matrix2d rotation;
    rotation << std::cos(2.0), -std::sin(2.0), std::sin(2.0), std::cos(2.0);
    for (bool normalize : {false, true}) {
        const auto loss = makeCentroid(normalize);
        const LossOutput base = loss->evaluate({x, y}, true);
        const LossOutput turned = loss->evaluate({Points(x * rotation.transpose()), y}, true);
        EXPECT_NEAR(turned.value, base.value, 1e-12);
        EXPECT_LE((turned.gradEmbeddings - base.gradEmbeddings * rotation.transpose()).cwiseAbs().maxCoeff(), 1e-12);
    }
    Points shifted = x;
    shifted.rowwise() += Eigen::RowVector2d(7.0, -1.0);
    const auto plain = makeCentroid(false);
    EXPECT_NEAR(plain->evaluate({shifted, y}, false).value, plain->evaluate({x, y}, false).value, 1e-12);
    // The gradient sums to zero: moving every point together changes nothing.
    EXPECT_LE(plain->evaluate({x, y}, true).gradEmbeddings.colwise().sum().cwiseAbs().maxCoeff(), 1e-14);
    for (bool normalize : {false, true}) {
        const LossOutput one = makeCentroid(normalize)->evaluate({x, Labels(12, 3)}, true);
        EXPECT_EQ(one.value, 0.0);
        ASSERT_EQ(one.gradEmbeddings.rows(), 12);
        EXPECT_EQ(one.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
    }
    const LossInfo* info = findLoss("centroid_triplet");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->family, LossFamily::TripletBased);
    EXPECT_FALSE(info->distanceConfigurable);
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Uniformity and alignment on the sphere (Wang & Isola) against plain loops over ordered pairs,
// hand-computed cases, invariances; and the 3D generators they are meant for.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "marginlab/generators.h"
#include "marginlab/metrics.h"
#include "test_support.h"

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;

/// Straight from the definition, over ordered pairs i ≠ j (each unordered pair twice), with
/// Eigen's row norms: a different order of operations than the engine's.
Real referenceUniformity(const Points& x, Real t) {
    double sum = 0.0, pairs = 0.0;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        for (Eigen::Index j = 0; j < x.rows(); ++j) {
            if (i == j) continue;
            const Eigen::RowVectorXd a = x.row(i) / x.row(i).norm(), b = x.row(j) / x.row(j).norm();
            sum += std::exp(-t * (a - b).squaredNorm());
            pairs += 1.0;
        }
    return std::log(sum / pairs);
}

Real referenceAlignment(const Points& x, const Labels& y, Real alpha) {
    double sum = 0.0, pairs = 0.0;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        for (Eigen::Index j = 0; j < x.rows(); ++j) {
            if (i == j || y[static_cast<std::size_t>(i)] != y[static_cast<std::size_t>(j)]) continue;
            const Eigen::RowVectorXd a = x.row(i) / x.row(i).norm(), b = x.row(j) / x.row(j).norm();
            sum += std::pow((a - b).norm(), alpha);
            pairs += 1.0;
        }
    return pairs > 0 ? sum / pairs : 0.0;
}

TEST(SphereMetrics, UniformityAndAlignmentMatchPlainLoops) {
    for (int d : {2, 3, 5})
        for (int n : {2, 7, 60}) {
            const Points x = randomPoints(n, d, 11u + static_cast<unsigned>(n * d), 2.0);
            const Labels y = randomLabels(n, 3, 5u + static_cast<unsigned>(n));
            for (Real t : {0.5, 2.0, 7.0})
                EXPECT_NEAR(uniformity(x, t), referenceUniformity(x, t), 1e-12)
                    << n << "x" << d << " t=" << t;
            for (Real alpha : {1.0, 2.0, 3.0})
                EXPECT_NEAR(alignment(x, y, alpha), referenceAlignment(x, y, alpha), 1e-12)
                    << n << "x" << d << " alpha=" << alpha;
        }
}

TEST(SphereMetrics, HandComputedValues) {
    // Two antipodal points: ‖x̂_i − x̂_j‖² = 4, so uniformity = −2·4 and alignment = 4.
    Points x(2, 3);
    x << 0, 0, 3, 0, 0, -0.5;
    EXPECT_DOUBLE_EQ(uniformity(x), -8.0);
    EXPECT_DOUBLE_EQ(alignment(x, Labels{1, 1}), 4.0);
    EXPECT_DOUBLE_EQ(alignment(x, Labels{0, 1}), 0.0);  // no positive pair
    // Orthogonal unit vectors: distance² 2 between every pair.
    Points o(3, 3);
    o.setIdentity();
    EXPECT_NEAR(uniformity(o, 1.5), -3.0, 1e-15);
    EXPECT_NEAR(alignment(o, Labels{2, 2, 2}), 2.0, 1e-15);
    // One point in one place: the least uniform embedding, perfectly aligned.
    Points same(4, 2);
    same << 1, 1, 2, 2, 3, 3, 0.1, 0.1;
    EXPECT_NEAR(uniformity(same), 0.0, 1e-15);
    EXPECT_NEAR(alignment(same, Labels{0, 0, 1, 1}), 0.0, 1e-15);
    EXPECT_EQ(uniformity(Points(1, 3)), 0.0);
    EXPECT_EQ(alignment(Points(0, 3), Labels{}), 0.0);
}

TEST(SphereMetrics, OnlyDirectionsCount) {
    const Points x = randomPoints(40, 3, 8, 1.0);
    const Labels y = randomLabels(40, 4, 9);
    Points scaled = x;
    for (Eigen::Index i = 0; i < x.rows(); ++i) scaled.row(i) *= 0.1 + 0.37 * static_cast<double>(i);
    EXPECT_NEAR(uniformity(scaled), uniformity(x), 1e-12);
    EXPECT_NEAR(alignment(scaled, y), alignment(x, y), 1e-12);
}

TEST(SphereMetrics, UniformPointsOnTheSphereReachTheKnownLimit) {
    // For x, y uniform on S², cos∠ is uniform in [−1, 1], so E exp(−2‖x − y‖²) = (1 − e⁻⁸)/8.
    std::string error;
    GeneratorConfig config{"uniform_sphere", {}};
    config.params.numbers["points"] = 3000;
    const auto data = generate(config, &error);
    ASSERT_TRUE(data) << error;
    const double limit = std::log((1.0 - std::exp(-8.0)) / 8.0);
    EXPECT_NEAR(uniformity(data->points), limit, 0.02);
    // Labels are independent of position: alignment is the mean over all pairs, E‖x − y‖² = 2.
    EXPECT_NEAR(alignment(data->points, data->labels), 2.0, 0.05);
    // Caps are far less uniform and far better aligned.
    config.name = "sphere_caps";
    const auto caps = generate(config, &error);
    ASSERT_TRUE(caps) << error;
    EXPECT_GT(uniformity(caps->points), limit + 0.2);
    EXPECT_LT(alignment(caps->points, caps->labels), 0.3);
}

TEST(SphereGenerators, UniformSphereIsOnTheSphereAndCentred) {
    GeneratorConfig config{"uniform_sphere", {}};
    config.params.numbers["points"] = 4000;
    std::string error;
    const auto d = generate(config, &error);
    ASSERT_TRUE(d) << error;
    ASSERT_EQ(d->points.cols(), 3);
    Eigen::RowVector3d mean = Eigen::RowVector3d::Zero();
    for (Eigen::Index i = 0; i < d->points.rows(); ++i) {
        EXPECT_NEAR(d->points.row(i).norm(), 1.0, 1e-14);
        mean += d->points.row(i) / 4000.0;
    }
    // Each coordinate of a uniform point has variance 1/3: the mean's standard error is ~0.009.
    EXPECT_LT(mean.norm(), 0.05);
}

TEST(SphereGenerators, SphereRingsAreCirclesOfLatitude) {
    GeneratorConfig config{"sphere_rings", {}};
    config.params.numbers["points"] = 600;
    config.params.numbers["classes"] = 4;
    config.params.numbers["noise"] = 0.0;
    std::string error;
    const auto d = generate(config, &error);
    ASSERT_TRUE(d) << error;
    ASSERT_EQ(d->points.cols(), 3);
    double lowestSpread = 1.0;
    for (Eigen::Index i = 0; i < d->points.rows(); ++i) {
        const int c = d->labels[static_cast<std::size_t>(i)];
        EXPECT_NEAR(d->points.row(i).norm(), 1.0, 1e-14);
        EXPECT_NEAR(d->points(i, 1), std::cos(std::numbers::pi * (c + 1) / 5.0), 1e-14);
        lowestSpread = std::min(lowestSpread, std::abs(d->points(i, 0)) + std::abs(d->points(i, 2)));
    }
    // With jitter the latitude varies but the points stay on the sphere.
    config.params.numbers["noise"] = 0.1;
    const auto jittered = generate(config, &error);
    ASSERT_TRUE(jittered) << error;
    double largestOff = 0.0;
    for (Eigen::Index i = 0; i < jittered->points.rows(); ++i) {
        EXPECT_NEAR(jittered->points.row(i).norm(), 1.0, 1e-14);
        const int c = jittered->labels[static_cast<std::size_t>(i)];
        largestOff = std::max(largestOff,
                              std::abs(jittered->points(i, 1) - std::cos(std::numbers::pi * (c + 1) / 5.0)));
    }
    EXPECT_GT(largestOff, 0.05);
    EXPECT_LT(largestOff, 0.5);
}

TEST(SphereGenerators, NoisyBlobs3dAreBlobs3dWithTwentyPercentFlipped) {
    GeneratorConfig noisy{"noisy_blobs3d", {}}, clean{"blobs3d", {}};
    std::string error;
    const auto a = generate(noisy, &error), b = generate(clean, &error);
    ASSERT_TRUE(a && b) << error;
    EXPECT_TRUE(a->points == b->points);
    int flipped = 0;
    for (std::size_t i = 0; i < a->labels.size(); ++i) flipped += a->labels[i] != b->labels[i];
    EXPECT_EQ(flipped, 40);
}

}  // namespace
}  // namespace marginlab

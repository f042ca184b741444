// SPDX-License-Identifier: MIT
#include "marginlab/distance.h"

#include <gtest/gtest.h>

#include <cmath>

#include "marginlab/parallel.h"
#include "test_support.h"

namespace marginlab {
namespace {

using testing::randomPoints;

// L = Σ_ij G_ij M_ij for a fixed random G: its gradient is exactly SelfDistance::backward(G).
Real weightedSum(const DistanceSpec& spec, const Points& x, const Matrix& g) {
    return (SelfDistance(spec, x).matrix().array() * g.array()).sum();
}

std::vector<DistanceSpec> allSpecs() {
    return {DistanceSpec::lp(1, true), DistanceSpec::lp(1, false), DistanceSpec::lp(2, true),
            DistanceSpec::lp(2, false), DistanceSpec::cosine(), DistanceSpec::dot(true), DistanceSpec::dot(false)};
}

TEST(Distance, MatrixEntriesFollowTheirDefinitions) {
    const Points x = randomPoints(6, 3, 1);
    for (const DistanceSpec& spec : allSpecs()) {
        const SelfDistance d(spec, x);
        for (int i = 0; i < 6; ++i)
            for (int j = 0; j < 6; ++j) {
                Eigen::RowVectorXd a = x.row(i), b = x.row(j);
                if (spec.normalizes()) {
                    a /= a.norm();
                    b /= b.norm();
                }
                Real expected = 0;
                if (spec.isSimilarity()) expected = a.dot(b);
                else if (spec.power == 1) expected = (a - b).norm();
                else expected = (a - b).squaredNorm();
                EXPECT_NEAR(d.matrix()(i, j), expected, 1e-12) << spec.describe();
            }
    }
}

TEST(Distance, SelfBackwardMatchesFiniteDifferences) {
    const Points x0 = randomPoints(7, 2, 2);
    const Matrix g = randomPoints(7, 7, 3);
    for (const DistanceSpec& spec : allSpecs()) {
        const Points analytic = SelfDistance(spec, x0).backward(g);
        Points x = x0;
        const Real h = 1e-6;
        for (int i = 0; i < x.rows(); ++i)
            for (int j = 0; j < x.cols(); ++j) {
                const Real saved = x(i, j);
                x(i, j) = saved + h;
                const Real up = weightedSum(spec, x, g);
                x(i, j) = saved - h;
                const Real down = weightedSum(spec, x, g);
                x(i, j) = saved;
                EXPECT_NEAR(analytic(i, j), (up - down) / (2 * h), 1e-6 * std::max(1.0, std::abs(analytic(i, j))))
                    << spec.describe() << " at " << i << "," << j;
            }
    }
}

TEST(Distance, CrossBackwardMatchesFiniteDifferences) {
    const Points q0 = randomPoints(5, 3, 4);
    const Points r0 = randomPoints(3, 3, 5);
    const Matrix g = randomPoints(5, 3, 6);
    for (const DistanceSpec& spec : allSpecs()) {
        Points gq, gr;
        CrossDistance(spec, q0, r0).backward(g, &gq, &gr);
        auto value = [&](const Points& q, const Points& r) {
            return (CrossDistance(spec, q, r).matrix().array() * g.array()).sum();
        };
        const Real h = 1e-6;
        Points q = q0, r = r0;
        for (int i = 0; i < q.rows(); ++i)
            for (int j = 0; j < q.cols(); ++j) {
                const Real saved = q(i, j);
                q(i, j) = saved + h;
                const Real up = value(q, r0);
                q(i, j) = saved - h;
                const Real down = value(q, r0);
                q(i, j) = saved;
                EXPECT_NEAR(gq(i, j), (up - down) / (2 * h), 1e-6 * std::max(1.0, std::abs(gq(i, j))));
            }
        for (int i = 0; i < r.rows(); ++i)
            for (int j = 0; j < r.cols(); ++j) {
                const Real saved = r(i, j);
                r(i, j) = saved + h;
                const Real up = value(q0, r);
                r(i, j) = saved - h;
                const Real down = value(q0, r);
                r(i, j) = saved;
                EXPECT_NEAR(gr(i, j), (up - down) / (2 * h), 1e-6 * std::max(1.0, std::abs(gr(i, j))));
            }
    }
}

TEST(Distance, NormalizationClampsTinyVectorsLikeTorch) {
    Points x(2, 2);
    x << 0.0, 0.0, 3.0, 4.0;
    Vector norms;
    const Points n = normalizeRows(x, &norms);
    EXPECT_EQ(n(0, 0), 0.0);
    EXPECT_NEAR(n(1, 0), 0.6, 1e-15);
    EXPECT_NEAR(norms(1), 5.0, 1e-15);
}

TEST(Distance, CoincidentPointsGiveZeroSubgradientForEuclidean) {
    Points x(2, 2);
    x << 1.0, 1.0, 1.0, 1.0;
    const SelfDistance d(DistanceSpec::lp(1, false), x);
    Matrix g = Matrix::Ones(2, 2);
    const Points grad = d.backward(g);
    EXPECT_TRUE(grad.isZero());
}

// Many queries (soft triple's N × K·C cosines) are cut into runs of rows on the engine's
// threads, and ∂L/∂R adds the runs' partial sums in run order: each query's own backward, one
// query at a time, must add up to the same gradient, and every thread count gives the same bits.
TEST(Distance, CrossDistanceOverManyQueriesSumsItsRunsInOrder) {
    const int before = engineThreads();
    const Points q = randomPoints(1100, 3, 7);  // 5 runs of rows
    const Points r = randomPoints(64, 3, 8);    // 1100 · 64 · 3 entries: above kMinParallelWork
    const Matrix g = randomPoints(1100, 64, 9);
    for (const DistanceSpec& spec : allSpecs()) {
        setEngineThreads(1);
        const CrossDistance one(spec, q, r);
        Points gq1, gr1;
        one.backward(g, &gq1, &gr1);
        Points grSum = Points::Zero(r.rows(), r.cols());
        for (int i = 0; i < q.rows(); ++i) {
            const CrossDistance single(spec, q.row(i), r);
            Points gq, gr;
            single.backward(g.row(i), &gq, &gr);
            EXPECT_TRUE(single.matrix().row(0).isApprox(one.matrix().row(i), 1e-14))
                << spec.describe() << " row " << i;
            EXPECT_TRUE(gq.row(0).isApprox(gq1.row(i), 1e-12)) << spec.describe() << " row " << i;
            grSum += gr;
        }
        EXPECT_TRUE(grSum.isApprox(gr1, 1e-12)) << spec.describe();
        for (int threads : {2, 3}) {
            setEngineThreads(threads);
            const CrossDistance other(spec, q, r);
            Points gq, gr;
            other.backward(g, &gq, &gr);
            EXPECT_TRUE(other.matrix() == one.matrix()) << spec.describe() << " " << threads;
            EXPECT_TRUE(gq == gq1) << spec.describe() << " " << threads;
            EXPECT_TRUE(gr == gr1) << spec.describe() << " " << threads;
        }
    }
    setEngineThreads(before);
}

}  // namespace
}  // namespace marginlab

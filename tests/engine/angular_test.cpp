// SPDX-License-Identifier: MIT
// The angular loss's factorized path on the vector units' kernels (issue 13): against the explicit
// per-pair path and a plain loop over several blocks of negatives with ragged edges, against
// central finite differences, and the same bits on any thread count and any vector unit.
#include "marginlab/losses/angular.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "marginlab/parallel.h"
#include "simd/dispatch.h"
#include "test_support.h"

namespace marginlab {
namespace {

namespace simd = detail::simd;
using testing::randomPoints;

using Row = Eigen::RowVectorXd;

// Labels with classes of very different sizes (one of them a singleton, which has no pair).
Labels unevenLabels(int n, const std::vector<int>& sizes, std::uint64_t seed) {
    Labels y;
    for (int c = 0; c < static_cast<int>(sizes.size()); ++c)
        for (int i = 0; i < sizes[static_cast<std::size_t>(c)]; ++i) y.push_back(c);
    while (static_cast<int>(y.size()) < n) y.push_back(static_cast<int>(sizes.size()));
    std::mt19937_64 rng(seed);
    std::shuffle(y.begin(), y.end(), rng);
    return y;
}

// The most blocks of negatives any class of y spans on the factorized path.
Eigen::Index mostBlocks(const Labels& y) {
    std::map<int, Eigen::Index> sizes;
    for (int label : y) ++sizes[label];
    Eigen::Index most = 0;
    for (const auto& [label, m] : sizes) {
        if (m < 2) continue;
        const Eigen::Index others = static_cast<Eigen::Index>(y.size()) - m;
        most = std::max(most,
                        (others + AngularLoss::negativesPerBlock(m) - 1) / AngularLoss::negativesPerBlock(m));
    }
    return most;
}

// PML's definition as a plain loop (loss-conventions.md §3).
Real referenceAngular(const Points& x, const Labels& y, Real alphaDegrees) {
    const Real t = std::pow(std::tan(alphaDegrees * std::numbers::pi / 180.0), 2);
    const int n = static_cast<int>(x.rows());
    Real sum = 0.0;
    int pairs = 0;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (a == p || y[a] != y[p]) continue;
            ++pairs;
            const Row anchor = x.row(a).normalized(), positive = x.row(p).normalized();
            Real inner = 0.0;
            for (int j = 0; j < n; ++j)
                if (y[j] != y[a])
                    inner += std::exp(4 * t * (anchor + positive).dot(x.row(j)) -
                                      2 * (1 + t) * anchor.dot(positive));
            sum += std::log1p(inner);
        }
    return sum / pairs;
}

struct Case {
    int n, d;
    std::vector<int> sizes;
    std::uint64_t seed;
    Real alpha;
};
// Classes of 150–260 (E' blocks of 125–213 negatives): every class spans 2–5 blocks, the last one
// ragged, and the class widths are not multiples of any register tile.
const Case kCases[] = {{620, 2, {251, 199, 1, 150}, 71, 40.0}, {560, 3, {233, 170, 157}, 72, 25.0}};

class AngularFactorized : public ::testing::Test {
protected:
    void TearDown() override {
        setEngineThreads(m_threads);
        simd::setSimdLevel(m_level);
    }

private:
    int m_threads = engineThreads();
    simd::Level m_level = simd::kernels().level;
};

TEST_F(AngularFactorized, MatchesTheExplicitPathOverSeveralRaggedBlocks) {
    for (const Case& c : kCases) {
        const Points x = randomPoints(c.n, c.d, c.seed, 0.9);
        const Labels y = unevenLabels(c.n, c.sizes, c.seed + 1);
        ASSERT_GE(mostBlocks(y), 3);
        {
            const Real alpha = c.alpha;
            LossInput input{x, y};
            input.splitForces = true;
            const LossOutput fast = AngularLoss(alpha, true).evaluate(input, true);
            const LossOutput slow = AngularLoss(alpha, false).evaluate(input, true);
            const Real reference = referenceAngular(x, y, alpha);
            // Both paths and the plain loop sum the same |P|·|N| positive terms in different
            // orders (K_ap over n in one chain, then one log per pair; the explicit path a
            // log-sum-exp per pair): measured 4e-15 to 3e-14 relative; 1e-12 leaves a margin of 40.
            EXPECT_NEAR(fast.value, reference, 1e-12 * reference) << c.n << " alpha " << alpha;
            EXPECT_NEAR(slow.value, reference, 1e-12 * reference) << c.n << " alpha " << alpha;
            // Gradients: the same sums in other orders again, through the factorized weights
            // σ(z)/K (a quotient of sums): measured ≤ 1.4e-14 of the largest entry (the cosine
            // part alone ≤ 6e-16); 1e-12 leaves a margin of 70.
            const Real scale = slow.gradEmbeddings.cwiseAbs().maxCoeff();
            ASSERT_GT(scale, 0.0);
            EXPECT_LE((fast.gradEmbeddings - slow.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-12 * scale);
            EXPECT_LE((fast.gradFromPositives - slow.gradFromPositives).cwiseAbs().maxCoeff(), 1e-12 * scale);
            EXPECT_EQ(fast.stats.tuples, slow.stats.tuples);
            EXPECT_EQ(fast.stats.active, slow.stats.active);
        }
    }
}

TEST_F(AngularFactorized, GradientMatchesCentralDifferencesOverSeveralBlocks) {
    const Case& c = kCases[1];
    const Points x = randomPoints(c.n, c.d, c.seed + 5, 0.9);
    const Labels y = unevenLabels(c.n, c.sizes, c.seed + 6);
    ASSERT_GE(mostBlocks(y), 3);
    const AngularLoss loss(40.0, true);
    const LossOutput analytic = loss.evaluate(LossInput{x, y}, true);
    // The loss is a mean of 10⁵ terms of size ~1 and its gradient entries are ~1e-3: with a
    // step of 1e-6 the rounding of the value (ε·L/h) alone is ~1e-7 of the gradient; at 1e-5 the
    // measured error is 3e-8 of the largest entry.
    const Real step = 1e-5;
    Real worst = 0.0;
    const Real scale = analytic.gradEmbeddings.cwiseAbs().maxCoeff();
    // A spread of coordinates (every point is an anchor of its class and a negative of the others).
    for (int i = 0; i < c.n; i += 37)
        for (int k = 0; k < c.d; ++k) {
            Points plus = x, minus = x;
            plus(i, k) += step;
            minus(i, k) -= step;
            const Real numeric = (loss.evaluate(LossInput{plus, y}, false).value -
                                  loss.evaluate(LossInput{minus, y}, false).value) /
                                 (2 * step);
            worst = std::max(worst, std::abs(numeric - analytic.gradEmbeddings(i, k)));
        }
    EXPECT_LE(worst, 1e-6 * scale);
}

// One unit gives the same bits on any thread count; the units with FMA (AVX2, AVX-512) the same
// bits as each other, and the portable unit, whose products multiply and add separately
// (simd/dispatch.h), the same value and gradients within 1e-12 of their scale.
TEST_F(AngularFactorized, SameBitsOnAnyThreadCountAndOnTheFusedUnits) {
    for (const Case& c : kCases) {
        const Points x = randomPoints(c.n, c.d, c.seed + 9, 1.1);
        const Labels y = unevenLabels(c.n, c.sizes, c.seed + 10);
        LossInput input{x, y};
        input.splitForces = true;
        const AngularLoss loss(40.0, true);
        std::optional<LossOutput> portable, fused;
        for (simd::Level level : {simd::Level::Portable, simd::Level::Avx2, simd::Level::Avx512}) {
            if (!simd::kernelsFor(level)) continue;
            simd::setSimdLevel(level);
            setEngineThreads(1);
            const LossOutput first = loss.evaluate(input, true);
            ASSERT_GT(first.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0);
            for (int threads : {2, 3, 7}) {
                setEngineThreads(threads);
                const LossOutput other = loss.evaluate(input, true);
                const std::string what =
                    std::string(simd::levelName(level)) + " threads " + std::to_string(threads);
                EXPECT_EQ(first.value, other.value) << what;
                EXPECT_TRUE(first.gradEmbeddings == other.gradEmbeddings) << what;
                EXPECT_TRUE(first.gradFromPositives == other.gradFromPositives) << what;
                EXPECT_EQ(first.stats.active, other.stats.active) << what;
            }
            const std::string what(simd::levelName(level));
            if (level == simd::Level::Portable) {
                portable = first;
            } else if (!fused) {
                fused = first;
            } else {
                EXPECT_EQ(fused->value, first.value) << what;
                EXPECT_TRUE(fused->gradEmbeddings == first.gradEmbeddings) << what;
                EXPECT_TRUE(fused->gradFromPositives == first.gradFromPositives) << what;
            }
            if (level != simd::Level::Portable) {
                const Real scale = portable->gradEmbeddings.cwiseAbs().maxCoeff();
                EXPECT_NEAR(first.value, portable->value, 1e-12 * std::abs(portable->value)) << what;
                EXPECT_LE((first.gradEmbeddings - portable->gradEmbeddings).cwiseAbs().maxCoeff(), 1e-12 * scale)
                    << what;
                EXPECT_LE((first.gradFromPositives - portable->gradFromPositives).cwiseAbs().maxCoeff(),
                          1e-12 * scale)
                    << what;
                EXPECT_EQ(first.stats.active, portable->stats.active) << what;
            }
        }
    }
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// The fused row-by-row paths of the dense all-pairs losses (issue 13): the row exponential
// against std::exp, bit identity on 1, 2, 3 and 7 threads at sizes with several row chunks, and
// finite differences of gradient entries spread over every chunk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "losses/exp_row.h"
#include "marginlab/loss.h"
#include "marginlab/parallel.h"
#include "parallel.h"
#include "simd/dispatch.h"
#include "test_support.h"

namespace marginlab {
namespace {

// Distance in units in the last place between two positive finite doubles.
double ulpDistance(double a, double b) {
    if (a == b) return 0.0;
    return std::abs(a - b) / std::abs(std::nextafter(b, 2 * b + 1) - b);
}

TEST(ExpRow, WithinFourUlpOfStdExpOverTheShiftedRange) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> uniform(-700.0, 709.0);
    std::vector<double> v(20001);
    for (double& value : v) value = uniform(rng);
    // Edges and awkward points: the reduction boundaries ±ln2/2, integers, tiny values.
    for (double edge : {0.0, -0.0, 1e-300, -1e-300, 0.34657359027997264, -0.34657359027997264, -1.0, 1.0,
                        -699.999, 708.0, -0.5 * std::log(2.0), 88.0, -88.0})
        v.push_back(edge);
    std::vector<double> out = v;
    detail::expRowInPlace(out.data(), static_cast<Eigen::Index>(out.size()));
    double worst = 0.0;
    for (std::size_t k = 0; k < v.size(); ++k) worst = std::max(worst, ulpDistance(out[k], std::exp(v[k])));
    EXPECT_LE(worst, 4.0);
    EXPECT_EQ(out[v.size() - 13], 1.0);  // e^0 = 1 exactly
}

TEST(ExpRow, LanesGiveTheSameBitsAsThePortableForm) {
    // The SIMD lanes (when built) and the scalar rowExp, including odd lengths and the tail.
    std::mt19937_64 rng(8);
    std::uniform_real_distribution<double> uniform(-720.0, 20.0);
    for (int length : {1, 2, 3, 7, 64, 1001}) {
        std::vector<double> v(static_cast<std::size_t>(length));
        for (double& value : v) value = uniform(rng);
        std::vector<double> out = v;
        detail::expRowInPlace(out.data(), length);
        for (int k = 0; k < length; ++k) {
            const double expected = detail::rowExp(v[static_cast<std::size_t>(k)]);
            EXPECT_EQ(std::memcmp(&out[static_cast<std::size_t>(k)], &expected, sizeof expected), 0)
                << length << " " << v[static_cast<std::size_t>(k)];
        }
    }
}

TEST(ExpRow, FlushesBelowMinus700AndKeepsNaN) {
    std::vector<double> v = {-700.5, -1e6, -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN(), -699.5};
    detail::expRowInPlace(v.data(), static_cast<Eigen::Index>(v.size()));
    EXPECT_EQ(v[0], 0.0);
    EXPECT_EQ(v[1], 0.0);
    EXPECT_EQ(v[2], 0.0);
    EXPECT_TRUE(std::isnan(v[3]));
    EXPECT_GT(v[4], 0.0);
    EXPECT_LE(ulpDistance(v[4], std::exp(-699.5)), 4.0);
}

// The losses issue 13 made fused and row-chunked.
const char* const kDenseLosses[] = {"contrastive", "contrastive_hadsell", "circle", "multi_similarity",
                                    "lifted_structure", "generalized_lifted_structure",
                                    "soft_nearest_neighbor", "nce", "ntxent", "supcon",
                                    "decoupled_contrastive", "npairs",
                                    // issue 12's row-independent losses, fused or on row runs
                                    "instance", "nca", "fast_ap", "ranked_list", "tuplet_margin",
                                    "snr_contrastive", "intra_pair_variance", "histogram",
                                    "threshold_consistent_margin", "margin"};

class DenseLosses : public ::testing::Test {
protected:
    void TearDown() override { setEngineThreads(m_before); }

private:
    int m_before = engineThreads();
};

TEST_F(DenseLosses, SameBitsOnOneTwoThreeAndSevenThreads) {
    const int n = 1100, classes = 7;  // 5 row chunks
    ASSERT_GT(detail::AnchorChunks(n).count(), 3);
    const Points x = testing::randomPoints(n, 2, 41);
    const Labels y = testing::randomLabels(n, classes, 42);
    for (const char* name : kDenseLosses) {
        std::string error;
        const auto loss = makeLoss(LossConfig{name, {}, std::nullopt}, &error);
        ASSERT_TRUE(loss) << error;
        LossInput input{x, y, nullptr, nullptr, 9};
        input.splitForces = true;
        setEngineThreads(1);
        const LossOutput one = loss->evaluate(input, true);
        ASSERT_TRUE(std::isfinite(one.value)) << name;
        ASSERT_GT(one.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0) << name;
        for (int threads : {2, 3, 7}) {
            setEngineThreads(threads);
            const LossOutput other = loss->evaluate(input, true);
            EXPECT_EQ(one.value, other.value) << name << " " << threads;
            EXPECT_TRUE(one.gradEmbeddings == other.gradEmbeddings) << name << " " << threads;
            EXPECT_TRUE(one.gradFromPositives == other.gradFromPositives) << name << " " << threads;
            EXPECT_EQ(one.stats.active, other.stats.active) << name << " " << threads;
            EXPECT_EQ(one.stats.tuples, other.stats.tuples) << name << " " << threads;
        }
    }
}

// The vector units (simd/dispatch.h): every loss gives the portable unit's bits on every unit
// this CPU has, in 2D (the interleaved backward row) and 3D, with tails (N not a multiple of 8).
TEST_F(DenseLosses, SameBitsOnEveryVectorUnit) {
    const detail::simd::Level before = detail::simd::kernels().level;
    setEngineThreads(2);
    std::vector<const char*> names(std::begin(kDenseLosses), std::end(kDenseLosses));
    names.push_back("triplet_margin");  // the same distance rows and backward rows
    for (Eigen::Index dims : {2, 3})
        for (const char* name : names) {
            const Points x = testing::randomPoints(613, dims, 61);
            const Labels y = testing::randomLabels(613, 6, 62);
            std::string error;
            const auto loss = makeLoss(LossConfig{name, {}, std::nullopt}, &error);
            ASSERT_TRUE(loss) << error;
            LossInput input{x, y, nullptr, nullptr, 9};
            input.splitForces = true;
            detail::simd::setSimdLevel(detail::simd::Level::Portable);
            const LossOutput portable = loss->evaluate(input, true);
            ASSERT_GT(portable.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0) << name;
            for (detail::simd::Level level : {detail::simd::Level::Avx2, detail::simd::Level::Avx512}) {
                if (!detail::simd::kernelsFor(level)) continue;
                detail::simd::setSimdLevel(level);
                const LossOutput other = loss->evaluate(input, true);
                const std::string what = std::string(name) + " " + std::string(detail::simd::levelName(level)) +
                                         " D " + std::to_string(dims);
                EXPECT_EQ(std::memcmp(&portable.value, &other.value, sizeof other.value), 0) << what;
                EXPECT_TRUE(portable.gradEmbeddings == other.gradEmbeddings) << what;
                EXPECT_TRUE(portable.gradFromPositives == other.gradFromPositives) << what;
                EXPECT_EQ(portable.stats.active, other.stats.active) << what;
            }
        }
    detail::simd::setSimdLevel(before);
}

// Central differences of single coordinates, taken in every row chunk: the chunks' partial
// gradients are added correctly (the small-N finite-difference tests have one chunk only).
// Circle is left out: PML detaches its weights, so its gradient is not the derivative of its
// value (its own test checks the detached gradient).
TEST_F(DenseLosses, GradientEntriesInEveryChunkMatchFiniteDifferences) {
    const int n = 700, classes = 5;  // 3 row chunks
    const detail::AnchorChunks chunks(n);
    ASSERT_EQ(chunks.count(), 3);
    const Points x = testing::randomPoints(n, 2, 51);
    const Labels y = testing::randomLabels(n, classes, 52);
    setEngineThreads(2);
    for (const char* name : kDenseLosses) {
        if (std::string(name) == "circle") continue;
        std::string error;
        const auto loss = makeLoss(LossConfig{name, {}, std::nullopt}, &error);
        ASSERT_TRUE(loss) << error;
        const LossInput input{x, y, nullptr, nullptr, 9};
        const LossOutput analytic = loss->evaluate(input, true);
        ASSERT_GT(analytic.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0) << name;
        // Errors against the largest probed entry, not the largest of all: one point's huge
        // gradient elsewhere (SNR's, where a point's signal is nearly 0) would hide a run's
        // missing share at the probed points.
        Real worst = 0.0, scale = 0.0;
        for (int chunk = 0; chunk < chunks.count(); ++chunk)
            for (Eigen::Index i :
                 {chunks.begin(chunk), (chunks.begin(chunk) + chunks.end(chunk)) / 2, chunks.end(chunk) - 1})
                for (Eigen::Index k = 0; k < 2; ++k) {
                    const Real step = 1e-6;
                    Points probe = x;
                    probe(i, k) = x(i, k) + step;
                    const Real up = loss->evaluate(LossInput{probe, y, nullptr, nullptr, 9}, false).value;
                    probe(i, k) = x(i, k) - step;
                    const Real down = loss->evaluate(LossInput{probe, y, nullptr, nullptr, 9}, false).value;
                    const Real numeric = (up - down) / (2 * step), entry = analytic.gradEmbeddings(i, k);
                    worst = std::max(worst, std::abs(numeric - entry));
                    scale = std::max({scale, std::abs(numeric), std::abs(entry)});
                }
        ASSERT_GT(scale, 0.0) << name;
        worst /= scale;
        EXPECT_LT(worst, 1e-4) << name;  // a run's missing share is O(1) here
    }
}

// The pair-list losses of issue 12 have two paths: every ordered pair fused row by row (no
// miner) and the listed pairs (a miner's). Listing every pair explicitly must give the fused
// path's numbers: values, both gradients, counts; in 2D and 3D, for well-mixed labels, for one
// class only (no negative) and for two points.
TEST_F(DenseLosses, PairListLossesOverEveryPairMatchTheListingPath) {
    setEngineThreads(2);
    struct Case {
        int n, classes, dims;
    };
    for (const Case c : {Case{700, 5, 2}, Case{300, 4, 3}, Case{40, 1, 2}, Case{2, 2, 3}, Case{9, 3, 2}})
        for (const char* name :
             {"tuplet_margin", "snr_contrastive", "intra_pair_variance", "threshold_consistent_margin"}) {
            const Points x = testing::randomPoints(c.n, c.dims, 71);
            const Labels y = testing::randomLabels(c.n, c.classes, 72);
            std::string error;
            const auto loss = makeLoss(LossConfig{name, {}, std::nullopt}, &error);
            ASSERT_TRUE(loss) << error;
            LossInput fused{x, y, nullptr, nullptr, 9};
            fused.splitForces = true;
            const Tuples every = Tuples::fromPairs(allPositivePairs(y), allNegativePairs(y));
            LossInput listed = fused;
            listed.tuples = &every;
            const LossOutput a = loss->evaluate(fused, true), b = loss->evaluate(listed, true);
            const std::string what =
                std::string(name) + " N " + std::to_string(c.n) + " D " + std::to_string(c.dims);
            EXPECT_NEAR(a.value, b.value, 1e-12 * std::max(1.0, std::abs(b.value))) << what;
            // Not the same bits: the listing path takes arccos and std::exp, the fused path
            // sin θ = √(1 − s²) and the row exponential; for nearly parallel pairs both are as
            // ill-conditioned as arccos near 1 (tuplet's slope sin(θ − m)/sin θ, scaled by 64).
            const Real scale = std::max(1.0, b.gradEmbeddings.cwiseAbs().maxCoeff());
            EXPECT_LT((a.gradEmbeddings - b.gradEmbeddings).cwiseAbs().maxCoeff(), 1e-9 * scale) << what;
            EXPECT_LT((a.gradFromPositives - b.gradFromPositives).cwiseAbs().maxCoeff(), 1e-9 * scale)
                << what;
            EXPECT_EQ(a.stats.tuples, b.stats.tuples) << what;
            EXPECT_EQ(a.stats.active, b.stats.active) << what;
            if (c.n == 700) {
                EXPECT_GT(b.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0) << what;
            }
        }
}

// The per-sample losses (softmax family, proxies, centers) run their samples in row runs on the
// engine's threads (detail::sumOverSampleRuns): the same bits on any thread count, and the runs'
// partial sums (value, counts, ∂L/∂‖w‖) add up to the derivative in every run.
const char* const kPerSampleLosses[] = {"softmax",           "normalized_softmax", "cosface",
                                        "arcface",           "sphereface",         "large_margin_softmax",
                                        "combined_margin",   "coco",               "proxy_nca",
                                        "subcenter_arcface", "soft_triple",
                                        // a pair loss whose learned β sums over the anchors of every run
                                        "margin_learn_beta"};

struct PerSampleProblem {
    Points x, owned;
    Labels y;
};

PerSampleProblem perSampleProblem(const std::string& name, int n, int classes, std::uint64_t seed) {
    const LossInfo* info = findLoss(name);
    PerSampleProblem p;
    p.x = testing::randomPoints(n, 2, seed);
    p.y = testing::randomLabels(n, classes, seed + 1);
    p.owned = testing::randomPoints(std::max(1, info ? info->ownedBlocks : 1) * classes, 2, seed + 2);
    return p;
}

TEST_F(DenseLosses, PerSampleLossesGiveTheSameBitsOnAnyThreadCount) {
    const int n = 1100, classes = 7;
    ASSERT_GT(detail::AnchorChunks(n).count(), 3);
    for (const char* name : kPerSampleLosses) {
        const PerSampleProblem p = perSampleProblem(name, n, classes, 61);
        std::string error;
        const auto loss = makeLoss(LossConfig{name, {}, std::nullopt}, &error);
        ASSERT_TRUE(loss) << error;
        LossInput input{p.x, p.y, &p.owned, nullptr, 9};
        input.splitForces = true;
        setEngineThreads(1);
        const LossOutput one = loss->evaluate(input, true);
        ASSERT_TRUE(std::isfinite(one.value)) << name;
        ASSERT_GT(one.gradOwned.cwiseAbs().maxCoeff(), 0.0) << name;
        for (int threads : {2, 3, 7}) {
            setEngineThreads(threads);
            const LossOutput other = loss->evaluate(input, true);
            EXPECT_EQ(one.value, other.value) << name << " " << threads;
            EXPECT_TRUE(one.gradEmbeddings == other.gradEmbeddings) << name << " " << threads;
            EXPECT_TRUE(one.gradOwned == other.gradOwned) << name << " " << threads;
            EXPECT_TRUE(one.gradFromPositives == other.gradFromPositives) << name << " " << threads;
            EXPECT_EQ(one.stats.active, other.stats.active) << name << " " << threads;
            EXPECT_EQ(one.stats.easy, other.stats.easy) << name << " " << threads;
            EXPECT_EQ(one.stats.semiHard, other.stats.semiHard) << name << " " << threads;
            EXPECT_EQ(one.stats.hard, other.stats.hard) << name << " " << threads;
        }
    }
}

TEST_F(DenseLosses, PerSampleGradientsInEveryRunMatchFiniteDifferences) {
    const int n = 700, classes = 5;  // 3 row runs
    const detail::AnchorChunks chunks(n);
    ASSERT_EQ(chunks.count(), 3);
    setEngineThreads(2);
    for (const char* name : kPerSampleLosses) {
        const PerSampleProblem p = perSampleProblem(name, n, classes, 71);
        std::string error;
        const auto loss = makeLoss(LossConfig{name, {}, std::nullopt}, &error);
        ASSERT_TRUE(loss) << error;
        const LossOutput analytic = loss->evaluate(LossInput{p.x, p.y, &p.owned, nullptr, 9}, true);
        const Real scale = std::max(analytic.gradEmbeddings.cwiseAbs().maxCoeff(), analytic.gradOwned.cwiseAbs().maxCoeff());
        ASSERT_GT(scale, 0.0) << name;
        auto valueAt = [&](const Points& x, const Points& owned) {
            return loss->evaluate(LossInput{x, p.y, &owned, nullptr, 9}, false).value;
        };
        const Real step = 1e-6;
        Real worst = 0.0;
        for (int chunk = 0; chunk < chunks.count(); ++chunk)
            for (Eigen::Index i : {chunks.begin(chunk), (chunks.begin(chunk) + chunks.end(chunk)) / 2, chunks.end(chunk) - 1})
                for (Eigen::Index k = 0; k < 2; ++k) {
                    Points up = p.x, down = p.x;
                    up(i, k) += step;
                    down(i, k) -= step;
                    const Real numeric = (valueAt(up, p.owned) - valueAt(down, p.owned)) / (2 * step);
                    worst = std::max(worst, std::abs(numeric - analytic.gradEmbeddings(i, k)) / scale);
                }
        // Every owned row sums over the samples of all runs.
        for (Eigen::Index r = 0; r < p.owned.rows(); ++r)
            for (Eigen::Index k = 0; k < 2; ++k) {
                Points up = p.owned, down = p.owned;
                up(r, k) += step;
                down(r, k) -= step;
                const Real numeric = (valueAt(p.x, up) - valueAt(p.x, down)) / (2 * step);
                worst = std::max(worst, std::abs(numeric - analytic.gradOwned(r, k)) / scale);
            }
        EXPECT_LT(worst, 1e-5) << name;
    }
}

// PNP is O(N³/C) (a smooth rank per query, positive and negative): its own smaller problem, still
// cut into three runs of queries.
TEST_F(DenseLosses, PnpQueriesInRunsGiveTheSameBitsAndTheDerivative) {
    const int n = 520, classes = 13;
    const detail::AnchorChunks chunks(n);
    ASSERT_EQ(chunks.count(), 3);
    const Points x = testing::randomPoints(n, 2, 81);
    const Labels y = testing::randomLabels(n, classes, 82);
    std::string error;
    const auto loss = makeLoss(LossConfig{"pnp", {}, std::nullopt}, &error);
    ASSERT_TRUE(loss) << error;
    setEngineThreads(1);
    const LossOutput one = loss->evaluate(LossInput{x, y, nullptr, nullptr, 9}, true);
    setEngineThreads(3);
    const LossOutput three = loss->evaluate(LossInput{x, y, nullptr, nullptr, 9}, true);
    EXPECT_EQ(one.value, three.value);
    EXPECT_TRUE(one.gradEmbeddings == three.gradEmbeddings);
    EXPECT_EQ(one.stats.active, three.stats.active);
    const Real scale = one.gradEmbeddings.cwiseAbs().maxCoeff();
    ASSERT_GT(scale, 0.0);
    const Real step = 1e-6;
    for (int chunk = 0; chunk < chunks.count(); ++chunk) {
        const Eigen::Index i = (chunks.begin(chunk) + chunks.end(chunk)) / 2;
        Points up = x, down = x;
        up(i, 0) += step;
        down(i, 0) -= step;
        const Real numeric = (loss->evaluate(LossInput{up, y, nullptr, nullptr, 9}, false).value -
                              loss->evaluate(LossInput{down, y, nullptr, nullptr, 9}, false).value) /
                             (2 * step);
        EXPECT_LT(std::abs(numeric - one.gradEmbeddings(i, 0)) / scale, 1e-5) << i;
    }
}

}  // namespace
}  // namespace marginlab

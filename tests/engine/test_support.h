// SPDX-License-Identifier: MIT
// Helpers shared by the engine tests: seeded random inputs and the finite-difference check.
#pragma once

#include "marginlab/generators.h"
#include "marginlab/loss.h"
#include "marginlab/trainer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <random>

namespace marginlab::testing {

inline Points randomPoints(int n, int d, std::uint64_t seed, Real scale = 1.0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<Real> normal(0.0, scale);
    Points x(n, d);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < d; ++j) x(i, j) = normal(rng);
    return x;
}

/// n labels over `classes` classes, each class present at least twice when n ≥ 2·classes.
inline Labels randomLabels(int n, int classes, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Labels y(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) y[static_cast<std::size_t>(i)] = i % classes;
    std::shuffle(y.begin(), y.end(), rng);
    return y;
}

struct GradientError {
    Real embeddings = 0.0;  ///< ‖analytic − numeric‖∞ / max(‖numeric‖∞, 1e-6)
    Real owned = 0.0;
};

/**
 * Central finite differences of loss.evaluate(...).value in double, compared with the
 * analytic gradient; returns the norm-wise relative errors. `step` is the difference step.
 */
inline GradientError finiteDifferenceError(const Loss& loss, const LossInput& input, Real step = 1e-6) {
    const LossOutput analytic = loss.evaluate(input, true);
    auto valueAt = [&](const Points& x, const Points* owned) {
        LossInput probe{x, input.labels, owned, input.tuples, input.sampleSeed};
        // A reference set stays where it is: the check measures the gradient to the batch only.
        probe.referenceEmbeddings = input.referenceEmbeddings;
        probe.referenceLabels = input.referenceLabels;
        return loss.evaluate(probe, false).value;
    };
    auto relative = [](const Points& a, const Points& numeric) {
        if (numeric.size() == 0) return Real(0);
        const Real scale = std::max(numeric.cwiseAbs().maxCoeff(), Real(1e-6));
        return (a - numeric).cwiseAbs().maxCoeff() / scale;
    };
    GradientError error;
    Points x = input.embeddings;
    Points numeric(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        for (Eigen::Index j = 0; j < x.cols(); ++j) {
            const Real saved = x(i, j);
            x(i, j) = saved + step;
            const Real up = valueAt(x, input.owned);
            x(i, j) = saved - step;
            const Real down = valueAt(x, input.owned);
            x(i, j) = saved;
            numeric(i, j) = (up - down) / (2 * step);
        }
    EXPECT_EQ(analytic.gradEmbeddings.rows(), x.rows());
    EXPECT_EQ(analytic.gradEmbeddings.cols(), x.cols());
    if (analytic.gradEmbeddings.rows() == x.rows() && analytic.gradEmbeddings.cols() == x.cols())
        error.embeddings = relative(analytic.gradEmbeddings, numeric);
    if (input.owned) {
        Points w = *input.owned;
        Points numericOwned(w.rows(), w.cols());
        for (Eigen::Index i = 0; i < w.rows(); ++i)
            for (Eigen::Index j = 0; j < w.cols(); ++j) {
                const Real saved = w(i, j);
                w(i, j) = saved + step;
                const Real up = valueAt(input.embeddings, &w);
                w(i, j) = saved - step;
                const Real down = valueAt(input.embeddings, &w);
                w(i, j) = saved;
                numericOwned(i, j) = (up - down) / (2 * step);
            }
        EXPECT_EQ(analytic.gradOwned.rows(), w.rows());
        if (analytic.gradOwned.rows() == w.rows() && analytic.gradOwned.cols() == w.cols())
            error.owned = relative(analytic.gradOwned, numericOwned);
    }
    return error;
}

/// A trainer configuration on the seeded blobs generator: its points, labels and classes set, the
/// rest (loss, optimizer, batch, seed) at their defaults for the test to choose. `noise` empty:
/// the generator's own default.
inline TrainerConfig blobsRun(int points, int classes, int seed, std::optional<Real> noise = std::nullopt) {
    GeneratorConfig data{"blobs", {}};
    data.params.numbers["points"] = points;
    data.params.numbers["classes"] = classes;
    if (noise) data.params.numbers["noise"] = *noise;
    data.params.numbers["seed"] = seed;
    std::string error;
    auto dataset = generate(data, &error);
    EXPECT_TRUE(dataset) << error;
    TrainerConfig config;
    if (!dataset) return config;
    config.points = dataset->points;
    config.labels = dataset->labels;
    config.numClasses = dataset->numClasses;
    return config;
}

}  // namespace marginlab::testing

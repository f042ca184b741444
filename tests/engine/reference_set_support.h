// SPDX-License-Identifier: MIT
// Helpers for the tests of the losses against a reference set (PML's ref_emb / ref_labels, what
// CrossBatchMemory passes): a batch and a memory-like reference, the listed pairs, and one check
// that runs a loss against a slow loop written from PML's definition, with all pairs and with
// explicit pairs that index the reference, in 2 and 3 dimensions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "marginlab/loss.h"
#include "marginlab/trainer.h"
#include "test_support.h"

namespace marginlab::testing {

struct ReferenceCase {
    Points x, r;
    Labels y, ry;
};

/// A batch and a reference that holds, like a memory, copies of some batch rows (moved by
/// `copyNoise` for the losses whose slope is singular at an exact copy, e.g. arccos at 1).
inline ReferenceCase makeReferenceCase(int n, int m, int d, std::uint64_t seed, Real copyNoise = 0.0) {
    ReferenceCase c;
    c.x = randomPoints(n, d, seed);
    c.y = randomLabels(n, 3, seed + 1);
    c.r = randomPoints(m, d, seed + 2);
    c.ry = randomLabels(m, 3, seed + 3);
    for (int i = 0; i < std::min(n, m) / 2; ++i) {
        c.r.row(2 * i) =
            c.x.row(i) + copyNoise * randomPoints(1, d, seed + 4 + static_cast<std::uint64_t>(i));
        c.ry[static_cast<std::size_t>(2 * i)] = c.y[static_cast<std::size_t>(i)];
    }
    return c;
}

inline LossInput referenceLossInput(const ReferenceCase& c, const Points& x, const Tuples* tuples = nullptr) {
    LossInput input{x, c.y, nullptr, tuples};
    input.referenceEmbeddings = &c.r;
    input.referenceLabels = &c.ry;
    return input;
}

inline Eigen::RowVectorXd unitRow(const Points& x, Eigen::Index i) {
    return x.row(i) / std::max(x.row(i).norm(), 1e-12);
}
/// PML's default LpDistance between batch row a and reference row j (normalized, not squared).
inline Real unitDistance(const Points& x, Eigen::Index a, const Points& r, Eigen::Index j) {
    return (unitRow(x, a) - unitRow(r, j)).norm();
}
inline Real unitCosine(const Points& x, Eigen::Index a, const Points& r, Eigen::Index j) {
    return unitRow(x, a).dot(unitRow(r, j));
}

/// The listed pairs a slow loop reads: anchor in the batch, partner in the reference.
struct ReferencePairs {
    std::vector<Pair> positives, negatives;
};

inline ReferencePairs everyReferencePair(const ReferenceCase& c) {
    ReferencePairs pairs;
    allReferencePairs(c.y, c.ry, &pairs.positives, &pairs.negatives);
    return pairs;
}

/// Every other pair, one positive and one negative listed twice: explicit tuples into the reference.
inline ReferencePairs someReferencePairs(const ReferenceCase& c) {
    const ReferencePairs all = everyReferencePair(c);
    ReferencePairs some;
    for (std::size_t i = 0; i < all.positives.size(); i += 2) some.positives.push_back(all.positives[i]);
    for (std::size_t i = 0; i < all.negatives.size(); i += 2) some.negatives.push_back(all.negatives[i]);
    some.positives.push_back(some.positives.front());
    some.negatives.push_back(some.negatives.front());
    return some;
}

/// A slow loop: the loss at batch positions x (the reference and labels from the case).
using SlowReferenceLoss = std::function<Real(const ReferenceCase&, const Points& x, const ReferencePairs&)>;

/// Central differences of a slow loop in x: the gradient the loss must return.
inline Points slowGradient(const SlowReferenceLoss& slow, const ReferenceCase& c, const ReferencePairs& pairs,
                           Real step = 1e-6) {
    Points grad(c.x.rows(), c.x.cols());
    Points probe = c.x;
    for (Eigen::Index i = 0; i < c.x.rows(); ++i)
        for (Eigen::Index k = 0; k < c.x.cols(); ++k) {
            const Real saved = probe(i, k);
            probe(i, k) = saved + step;
            const Real up = slow(c, probe, pairs);
            probe(i, k) = saved - step;
            const Real down = slow(c, probe, pairs);
            probe(i, k) = saved;
            grad(i, k) = (up - down) / (2.0 * step);
        }
    return grad;
}

inline std::unique_ptr<Loss> referenceLoss(const std::string& name, ParamValues params = {},
                                           std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    auto made = makeLoss(LossConfig{name, std::move(params), distance}, &error);
    EXPECT_TRUE(made) << error;
    return made;
}

/**
 * The loss against its slow loop on batch × reference pairs: all pairs (tuples == nullptr) and
 * explicit pairs with duplicates, D = 2 and 3: the value (1e-12), the gradient against central
 * differences of the slow loop and of the loss itself (the reference held fixed), and the
 * reference is read (the batch alone gives another number).
 */
inline void expectMatchesSlowReferenceLoop(const std::string& name, const ParamValues& params,
                                           const SlowReferenceLoss& slow, Real copyNoise = 0.0,
                                           bool gradientIsTheValuesDerivative = true) {
    const auto loss = referenceLoss(name, params);
    ASSERT_TRUE(loss);
    ASSERT_TRUE(findLoss(name)->acceptsReference);
    for (int d : {2, 3}) {
        const ReferenceCase c = makeReferenceCase(7, 11, d, 40 + static_cast<std::uint64_t>(d), copyNoise);
        for (bool listed : {false, true}) {
            SCOPED_TRACE(name + " D=" + std::to_string(d) + (listed ? " listed pairs" : " all pairs"));
            const ReferencePairs pairs = listed ? someReferencePairs(c) : everyReferencePair(c);
            const Tuples tuples = Tuples::fromPairs(pairs.positives, pairs.negatives);
            const LossInput input = referenceLossInput(c, c.x, listed ? &tuples : nullptr);
            const LossOutput out = loss->evaluate(input, true);
            const Real expected = slow(c, c.x, pairs);
            ASSERT_GT(std::abs(expected), 1e-3);  // a non-trivial case
            EXPECT_NEAR(out.value, expected, 1e-12 * std::max(1.0, std::abs(expected)));
            ASSERT_EQ(out.gradEmbeddings.rows(), c.x.rows());
            const Points numeric = slowGradient(slow, c, pairs);
            const Real scale = std::max(numeric.cwiseAbs().maxCoeff(), 1e-6);
            EXPECT_LT((out.gradEmbeddings - numeric).cwiseAbs().maxCoeff() / scale, 1e-5);
            // (Not for a loss that detaches part of its expression, e.g. circle's α: the slow loop
            // above holds that part fixed.)
            if (gradientIsTheValuesDerivative) {
                EXPECT_LT(finiteDifferenceError(*loss, input).embeddings, 1e-5);
            }
            if (!listed) {
                const LossOutput alone = loss->evaluate(LossInput{c.x, c.y}, false);
                EXPECT_GT(std::abs(alone.value - out.value), 1e-6);
            }
        }
    }
}

/// Which of the empty cases give 0: no listed pair, a reference with positives only, negatives only.
struct EmptyReferenceCases {
    bool nothingListed = true, positivesOnly = true, negativesOnly = true;
};

/// The loss's empty answers (0 and a zero gradient of the batch's shape) where `zero` says so.
inline void expectEmptyReferenceCasesAreZero(const std::string& name, const ParamValues& params = {},
                                             EmptyReferenceCases zero = {}) {
    const auto loss = referenceLoss(name, params);
    ASSERT_TRUE(loss);
    const ReferenceCase c = makeReferenceCase(5, 8, 2, 91);
    auto expectZero = [&](const LossOutput& out, const std::string& what) {
        EXPECT_EQ(out.value, 0.0) << name << ": " << what;
        ASSERT_EQ(out.gradEmbeddings.rows(), c.x.rows()) << name << ": " << what;
        EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0) << name << ": " << what;
    };
    const Tuples nothing = Tuples::fromPairs({}, {});
    if (zero.nothingListed) expectZero(loss->evaluate(referenceLossInput(c, c.x, &nothing), true), "no pair");
    // A reference of one class that the batch shares (positives only) or not (negatives only).
    for (int label : {0, 7}) {
        if (!(label == 0 ? zero.positivesOnly : zero.negativesOnly)) continue;
        ReferenceCase one = c;
        std::fill(one.y.begin(), one.y.end(), 0);
        std::fill(one.ry.begin(), one.ry.end(), label);
        expectZero(loss->evaluate(referenceLossInput(one, one.x), true),
                   label == 0 ? "positives only" : "negatives only");
    }
}

/// A CrossBatchMemory run with this loss on seeded blobs (P×K batches of 8, memory 40): valid,
/// finite, moving, and the same bits again.
inline void expectTrainsWithCrossBatchMemory(const std::string& name,
                                             std::optional<MinerConfig> miner = std::nullopt) {
    TrainerConfig config = blobsRun(120, 6, 4);
    config.loss.name = name;
    config.miner = std::move(miner);
    config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
    config.batch.classesPerBatch = 2;
    config.batch.samplesPerClass = 4;
    config.crossBatchMemory = CrossBatchMemoryConfig{40};
    config.seed = 9;
    std::string error;
    ASSERT_TRUE(config.isValid(&error)) << name << ": " << error;
    Trainer first(config), second(config);
    const auto a = first.step(12);
    const auto b = second.step(12);
    EXPECT_TRUE(std::isfinite(a->loss)) << name;
    EXPECT_TRUE(a->positions.allFinite()) << name;
    EXPECT_GT((a->positions - config.points).norm(), 1e-6) << name;  // it moved
    EXPECT_EQ(a->positions, b->positions) << name;
    EXPECT_EQ(a->memoryPositions.rows(), 40) << name;
}

}  // namespace marginlab::testing

// SPDX-License-Identifier: MIT
// PML's CrossBatchMemory: the losses and miners against a reference set (ref_emb / ref_labels),
// each against a slow loop written here and central finite differences (the gradient reaches the
// batch only), and the trainer's queue against a plain reference that keeps it as a list.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <set>

#include "marginlab/generators.h"
#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "marginlab/trainer.h"
#include "reference_set_support.h"

namespace marginlab {
namespace {

using testing::finiteDifferenceError;
using testing::randomLabels;
using testing::randomPoints;

std::unique_ptr<Loss> loss(const std::string& name, ParamValues params = {},
                           std::optional<DistanceSpec> distance = std::nullopt) {
    std::string error;
    auto made = makeLoss(LossConfig{name, std::move(params), distance}, &error);
    EXPECT_TRUE(made) << error;
    return made;
}

// The slow loops below read PML's definitions directly (loss-conventions.md), on the batch ×
// reference pairs: anchor a in the batch, partner j in the reference, no pair skipped.
Real normalizedDistance(const Points& x, Eigen::Index a, const Points& r, Eigen::Index j) {
    return testing::unitDistance(x, a, r, j);
}
Real cosine(const Points& x, Eigen::Index a, const Points& r, Eigen::Index j) {
    return testing::unitCosine(x, a, r, j);
}

using Case = testing::ReferenceCase;

// A batch and a reference that holds, like a memory, copies of some batch rows.
Case makeCase(int n, int m, int d, std::uint64_t seed) {
    return testing::makeReferenceCase(n, m, d, seed);
}

LossInput referenceInput(const Case& c, const Tuples* tuples = nullptr) {
    LossInput input{c.x, c.y, nullptr, tuples};
    input.referenceEmbeddings = &c.r;
    input.referenceLabels = &c.ry;
    return input;
}

Real slowContrastive(const Case& c, Real mp, Real mn) {
    Real pos = 0, neg = 0;
    int posCount = 0, negCount = 0;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a)
        for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
            const Real dist = normalizedDistance(c.x, a, c.r, j);
            if (c.y[a] == c.ry[j]) {
                const Real t = std::max(dist - mp, 0.0);
                if (t > 0) pos += t, ++posCount;
            } else {
                const Real t = std::max(mn - dist, 0.0);
                if (t > 0) neg += t, ++negCount;
            }
        }
    return (posCount ? pos / posCount : 0.0) + (negCount ? neg / negCount : 0.0);
}

Real slowTriplet(const Case& c, Real margin) {
    Real sum = 0;
    int active = 0;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a)
        for (Eigen::Index p = 0; p < c.r.rows(); ++p) {
            if (c.ry[p] != c.y[a]) continue;
            for (Eigen::Index q = 0; q < c.r.rows(); ++q) {
                if (c.ry[q] == c.y[a]) continue;
                const Real t = std::max(
                    normalizedDistance(c.x, a, c.r, p) - normalizedDistance(c.x, a, c.r, q) + margin, 0.0);
                if (t > 0) sum += t, ++active;
            }
        }
    return active ? sum / active : 0.0;
}

Real slowMultiSimilarity(const Case& c, Real alpha, Real beta, Real base) {
    Real total = 0;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a) {
        Real pos = 0, neg = 0;
        for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
            const Real s = cosine(c.x, a, c.r, j);
            if (c.y[a] == c.ry[j])
                pos += std::exp(-alpha * (s - base));
            else
                neg += std::exp(beta * (s - base));
        }
        total += std::log(1 + pos) / alpha + std::log(1 + neg) / beta;
    }
    return total / Real(c.x.rows());
}

Real slowNtXent(const Case& c, Real temperature) {
    Real total = 0;
    int pairs = 0;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a)
        for (Eigen::Index p = 0; p < c.r.rows(); ++p) {
            if (c.ry[p] != c.y[a]) continue;
            const Real numerator = std::exp(cosine(c.x, a, c.r, p) / temperature);
            Real denominator = numerator;
            for (Eigen::Index q = 0; q < c.r.rows(); ++q)
                if (c.ry[q] != c.y[a]) denominator += std::exp(cosine(c.x, a, c.r, q) / temperature);
            total += -std::log(numerator / denominator);
            ++pairs;
        }
    return pairs ? total / pairs : 0.0;
}

Real slowSupCon(const Case& c, Real temperature) {
    // Per anchor: −(1/|P|) Σ_p [s_ap/τ − log Σ_{k} e^{s_ak/τ}] over every reference row k; mean over
    // the anchors whose term is > 0.
    Real total = 0;
    int active = 0;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a) {
        Real denominator = 0;
        for (Eigen::Index k = 0; k < c.r.rows(); ++k)
            denominator += std::exp(cosine(c.x, a, c.r, k) / temperature);
        Real sum = 0;
        int positives = 0;
        for (Eigen::Index p = 0; p < c.r.rows(); ++p)
            if (c.ry[p] == c.y[a])
                sum += cosine(c.x, a, c.r, p) / temperature - std::log(denominator), ++positives;
        if (positives == 0) continue;
        const Real term = -sum / positives;
        if (term > 0) total += term, ++active;
    }
    return active ? total / active : 0.0;
}

Real slowGeneralizedLifted(const Case& c, Real negativeMargin, Real positiveMargin) {
    Real total = 0;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a) {
        Real pos = 0, neg = 0;
        bool anyPos = false, anyNeg = false;
        for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
            const Real dist = normalizedDistance(c.x, a, c.r, j);
            if (c.y[a] == c.ry[j])
                pos += std::exp(dist - positiveMargin), anyPos = true;
            else
                neg += std::exp(negativeMargin - dist), anyNeg = true;
        }
        total += std::max((anyPos ? std::log(pos) : 0.0) + (anyNeg ? std::log(neg) : 0.0), 0.0);
    }
    return total / Real(c.x.rows());
}

TEST(ReferenceSetLosses, MatchTheSlowLoopsAndFiniteDifferencesWithTheGradientToTheBatchOnly) {
    for (int d : {2, 3}) {
        const Case c = makeCase(7, 11, d, 40 + static_cast<std::uint64_t>(d));
        struct Expected {
            std::string name;
            ParamValues params;
            Real value;
        };
        ParamValues contrastive;
        contrastive.numbers["pos_margin"] = 0.1;
        contrastive.numbers["neg_margin"] = 1.2;
        ParamValues triplet;
        triplet.numbers["margin"] = 0.3;
        ParamValues ms;  // PML defaults α 2, β 50, λ 0.5
        ParamValues ntxent;
        ntxent.numbers["temperature"] = 0.5;
        ParamValues supcon;
        supcon.numbers["temperature"] = 0.3;
        ParamValues lifted;
        lifted.numbers["neg_margin"] = 0.8;
        lifted.numbers["pos_margin"] = 0.2;
        const Expected cases[] = {
            {"contrastive", contrastive, slowContrastive(c, 0.1, 1.2)},
            {"triplet_margin", triplet, slowTriplet(c, 0.3)},
            {"multi_similarity", ms, slowMultiSimilarity(c, 2.0, 50.0, 0.5)},
            {"ntxent", ntxent, slowNtXent(c, 0.5)},
            {"supcon", supcon, slowSupCon(c, 0.3)},
            {"generalized_lifted_structure", lifted, slowGeneralizedLifted(c, 0.8, 0.2)},
        };
        for (const Expected& expected : cases) {
            SCOPED_TRACE(expected.name + " D=" + std::to_string(d));
            const auto made = loss(expected.name, expected.params);
            ASSERT_TRUE(findLoss(expected.name)->acceptsReference);
            const LossInput input = referenceInput(c);
            const LossOutput out = made->evaluate(input, true);
            ASSERT_GT(std::abs(expected.value), 1e-3);  // a non-trivial case
            EXPECT_NEAR(out.value, expected.value, 1e-12 * std::max(1.0, std::abs(expected.value)));
            // Without the reference the batch alone gives another number: the reference is read.
            const LossOutput alone = made->evaluate(LossInput{c.x, c.y}, false);
            EXPECT_GT(std::abs(alone.value - out.value), 1e-6);
            EXPECT_EQ(out.gradEmbeddings.rows(), c.x.rows());
            EXPECT_LT(finiteDifferenceError(*made, input).embeddings, 1e-6);
        }
    }
}

TEST(ReferenceSetLosses, ForcesSplitIntoTheSameLabelPartsAndListedPairsAreUsedAsListed) {
    const Case c = makeCase(6, 9, 2, 77);
    std::vector<Pair> positives, negatives;
    allReferencePairs(c.y, c.ry, &positives, &negatives);
    // Keep every other pair, and list one negative twice.
    std::vector<Pair> somePositives, someNegatives;
    for (std::size_t i = 0; i < positives.size(); i += 2) somePositives.push_back(positives[i]);
    for (std::size_t i = 0; i < negatives.size(); i += 2) someNegatives.push_back(negatives[i]);
    someNegatives.push_back(someNegatives.front());
    const Tuples tuples = Tuples::fromPairs(somePositives, someNegatives);
    // Contrastive over the listed pairs, written out (AvgNonZero per sub-loss, duplicates twice).
    Real pos = 0, neg = 0;
    int posCount = 0, negCount = 0;
    // pos_margin 0.05: an anchor's copy in the reference sits at distance 0, where a zero margin
    // would put the pair on the AvgNonZero count's edge (finite differences would jump).
    for (const Pair& pair : somePositives) {
        const Real t = std::max(normalizedDistance(c.x, pair[0], c.r, pair[1]) - 0.05, 0.0);
        if (t > 0) pos += t, ++posCount;
    }
    for (const Pair& pair : someNegatives) {
        const Real t = std::max(1.0 - normalizedDistance(c.x, pair[0], c.r, pair[1]), 0.0);
        if (t > 0) neg += t, ++negCount;
    }
    ParamValues margins;
    margins.numbers["pos_margin"] = 0.05;
    const auto contrastive = loss("contrastive", margins);
    LossInput input = referenceInput(c, &tuples);
    input.splitForces = true;
    const LossOutput out = contrastive->evaluate(input, true);
    EXPECT_NEAR(out.value, pos / posCount + neg / negCount, 1e-12);
    EXPECT_EQ(out.stats.tuples, static_cast<Count>(somePositives.size() + someNegatives.size()));
    EXPECT_LT(finiteDifferenceError(*contrastive, input).embeddings, 1e-6);
    // The positive part is the gradient of the positive sub-loss alone (pos_margin 0).
    ParamValues noNegatives = margins;
    noNegatives.numbers["neg_margin"] = -5.0;  // no negative term is ever active
    const LossOutput positiveOnly = loss("contrastive", noNegatives)->evaluate(input, true);
    EXPECT_TRUE(out.gradFromPositives.isApprox(positiveOnly.gradEmbeddings, 1e-12));
    EXPECT_GT(out.gradFromPositives.norm(), 1e-3);
    EXPECT_GT((out.gradEmbeddings - out.gradFromPositives).norm(), 1e-3);

    // Triplets from these pairs: (a1[i], p[i], n[j]) for a1[i] == a2[j], as PML's convert_to_triplets.
    const auto triplet = loss("triplet_margin");
    Real sum = 0;
    int active = 0;
    for (const Pair& p : somePositives)
        for (const Pair& n : someNegatives)
            if (p[0] == n[0]) {
                const Real t = std::max(normalizedDistance(c.x, p[0], c.r, p[1]) -
                                            normalizedDistance(c.x, p[0], c.r, n[1]) + 0.05,
                                        0.0);
                if (t > 0) sum += t, ++active;
            }
    ASSERT_GT(active, 0);
    EXPECT_NEAR(triplet->evaluate(input, false).value, sum / active, 1e-12);
    EXPECT_LT(finiteDifferenceError(*triplet, input).embeddings, 1e-6);
}

TEST(ReferenceSetLosses, EmptyReferenceListsGiveZeroAndAnUnnormalizedDistanceWorks) {
    const Case c = makeCase(5, 8, 2, 91);
    const Tuples nothing = Tuples::fromPairs({}, {});
    for (const char* name : {"contrastive", "triplet_margin", "multi_similarity", "ntxent", "supcon",
                             "generalized_lifted_structure"}) {
        const LossOutput out = loss(name)->evaluate(referenceInput(c, &nothing), true);
        EXPECT_EQ(out.value, 0.0) << name;
        EXPECT_EQ(out.gradEmbeddings.cwiseAbs().maxCoeff(), 0.0) << name;
    }
    // Plain Euclidean (normalize_embeddings=False): the triplet loss against the slow loop.
    const auto triplet = loss("triplet_margin", {}, DistanceSpec::lp(1, false));
    Real sum = 0;
    int active = 0;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a)
        for (Eigen::Index p = 0; p < c.r.rows(); ++p)
            for (Eigen::Index q = 0; q < c.r.rows(); ++q) {
                if (c.ry[p] != c.y[a] || c.ry[q] == c.y[a]) continue;
                const Real t =
                    std::max((c.x.row(a) - c.r.row(p)).norm() - (c.x.row(a) - c.r.row(q)).norm() + 0.05, 0.0);
                if (t > 0) sum += t, ++active;
            }
    const LossInput input = referenceInput(c);
    EXPECT_NEAR(triplet->evaluate(input, false).value, sum / active, 1e-12);
    EXPECT_LT(finiteDifferenceError(*triplet, input).embeddings, 1e-6);
}

TEST(ReferenceSetLosses, TheCatalogueSaysWhichLossesAndMinersTakeAReference) {
    std::set<std::string> losses, miners;
    for (const LossInfo& info : lossCatalog())
        if (info.acceptsReference) losses.insert(info.name);
    for (const MinerInfo& info : minerCatalog())
        if (info.acceptsReference) miners.insert(info.name);
    // Every loss of the catalogue that PML's CrossBatchMemory takes.
    EXPECT_EQ(losses,
              (std::set<std::string>{"angular", "circle", "contrastive", "generalized_lifted_structure",
                                     "intra_pair_variance", "lifted_structure", "margin", "margin_learn_beta",
                                     "multi_similarity", "nca", "ntxent", "snr_contrastive", "supcon",
                                     "triplet_margin", "tuplet_margin"}));
    // Every PML miner (FaceNet's and TF-Addons' rules and the random negative are not PML's).
    EXPECT_EQ(miners, (std::set<std::string>{"angular", "batch_easy_hard", "batch_hard", "distance_weighted",
                                             "hdc", "multi_similarity", "pair_margin", "triplet_margin",
                                             "uniform_histogram"}));
}

// ---------------------------------------------------------------- miners against a reference

Tuples mineReference(const std::string& name, ParamValues params, const Case& c) {
    std::string error;
    auto miner = makeMiner(MinerConfig{name, std::move(params), std::nullopt}, &error);
    EXPECT_TRUE(miner) << error;
    MinerInput input{c.x, c.y};
    input.referenceEmbeddings = &c.r;
    input.referenceLabels = &c.ry;
    return miner->mine(input);
}

TEST(ReferenceSetMiners, MatchBruteForceWithTheAnchorsOwnCopyAsACandidate) {
    const Case c = makeCase(8, 13, 2, 123);
    // Batch hard: farthest positive and nearest negative per anchor among the reference rows.
    const Tuples hard = mineReference("batch_hard", {}, c);
    std::vector<Triplet> expected;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a) {
        int p = -1, n = -1;
        for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
            const Real dist = normalizedDistance(c.x, a, c.r, j);
            if (c.ry[j] == c.y[a]) {
                if (p < 0 || dist > normalizedDistance(c.x, a, c.r, p)) p = static_cast<int>(j);
            } else if (n < 0 || dist < normalizedDistance(c.x, a, c.r, n)) {
                n = static_cast<int>(j);
            }
        }
        if (p >= 0 && n >= 0) expected.push_back({static_cast<int>(a), p, n});
    }
    ASSERT_EQ(hard.kind, Tuples::Kind::Triplets);
    EXPECT_EQ(hard.triplets, expected);

    // Multi-similarity (cosine, ε 0.1).
    ParamValues epsilon;
    epsilon.numbers["epsilon"] = 0.1;
    const Tuples ms = mineReference("multi_similarity", epsilon, c);
    std::vector<Pair> positives, negatives;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a) {
        Real leastPositive = 2, mostNegative = -2;
        for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
            const Real s = cosine(c.x, a, c.r, j);
            if (c.ry[j] == c.y[a])
                leastPositive = std::min(leastPositive, s);
            else
                mostNegative = std::max(mostNegative, s);
        }
        for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
            const Real s = cosine(c.x, a, c.r, j);
            if (c.ry[j] == c.y[a] && s - 0.1 < mostNegative)
                positives.push_back({static_cast<int>(a), static_cast<int>(j)});
            if (c.ry[j] != c.y[a] && s + 0.1 > leastPositive)
                negatives.push_back({static_cast<int>(a), static_cast<int>(j)});
        }
    }
    ASSERT_EQ(ms.kind, Tuples::Kind::Pairs);
    EXPECT_EQ(ms.positivePairs, positives);
    EXPECT_EQ(ms.negativePairs, negatives);
    EXPECT_FALSE(positives.empty());
    EXPECT_FALSE(negatives.empty());

    // Triplet margin miner, semihard: 0 < d_an − d_ap ≤ 0.2 over batch × reference × reference.
    ParamValues semihard;
    semihard.numbers["margin"] = 0.2;
    semihard.choices["type_of_triplets"] = "semihard";
    const Tuples filtered = mineReference("triplet_margin", semihard, c);
    std::vector<Triplet> kept;
    for (Eigen::Index a = 0; a < c.x.rows(); ++a)
        for (Eigen::Index p = 0; p < c.r.rows(); ++p)
            for (Eigen::Index q = 0; q < c.r.rows(); ++q) {
                if (c.ry[p] != c.y[a] || c.ry[q] == c.y[a]) continue;
                const Real gap = normalizedDistance(c.x, a, c.r, q) - normalizedDistance(c.x, a, c.r, p);
                if (gap > 0 && gap <= 0.2)
                    kept.push_back({static_cast<int>(a), static_cast<int>(p), static_cast<int>(q)});
            }
    ASSERT_FALSE(kept.empty());
    EXPECT_EQ(materializeReferenceTriplets(filtered, c.x, c.y, c.r, c.ry), kept);
}

// ---------------------------------------------------------------- the trainer's queue

TrainerConfig memoryConfig(const std::string& lossName, int memorySize) {
    // 3 classes × 2 points and P×K = 3×2: every batch is all six points in index order, so the
    // plain reference below knows each batch without the trainer's sampler.
    TrainerConfig config;
    config.points = randomPoints(6, 2, 5);
    config.labels = {0, 1, 2, 0, 1, 2};
    config.numClasses = 3;
    config.loss.name = lossName;
    config.optimizer.kind = OptimizerKind::Sgd;
    config.optimizer.learningRate = 0.05;
    config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
    config.batch.classesPerBatch = 3;
    config.batch.samplesPerClass = 2;
    config.crossBatchMemory = CrossBatchMemoryConfig{memorySize};
    config.seed = 11;
    return config;
}

// One memory entry of the plain reference: the row, its label, and which step and point it came from.
struct Entry {
    Eigen::RowVectorXd row;
    int label;
    int step;
    int point;
};

TEST(CrossBatchMemoryTrainer, MatchesAPlainReferenceThatKeepsTheQueueAsAList) {
    struct Setting {
        std::string loss;
        std::optional<MinerConfig> miner;
    };
    const Setting settings[] = {
        {"contrastive", std::nullopt},
        {"triplet_margin", MinerConfig{"batch_hard", {}, std::nullopt}},
        {"multi_similarity", MinerConfig{"multi_similarity", {}, std::nullopt}},
        {"ntxent", std::nullopt},
        {"supcon", MinerConfig{"triplet_margin", {}, std::nullopt}},
        {"generalized_lifted_structure", std::nullopt},
        // (Not lifted_structure: PML matches a reference index with a batch index there, so its
        // value depends on the ring's slot order, which this list does not keep.)
        {"circle", std::nullopt},
        {"nca", std::nullopt},
        {"margin", MinerConfig{"batch_hard", {}, std::nullopt}},
        {"tuplet_margin", MinerConfig{"multi_similarity", {}, std::nullopt}},
        {"snr_contrastive", std::nullopt},
        {"intra_pair_variance", std::nullopt},
        {"angular", std::nullopt},
    };
    for (const Setting& setting : settings) {
        SCOPED_TRACE(setting.loss);
        const int memorySize = 10;  // not a multiple of the batch: the ring wraps inside a batch
        TrainerConfig config = memoryConfig(setting.loss, memorySize);
        config.miner = setting.miner;
        std::string error;
        ASSERT_TRUE(config.isValid(&error)) << error;
        Trainer trainer(config);
        auto miner = setting.miner ? makeMiner(*setting.miner, &error) : nullptr;
        const auto lossFunction = loss(setting.loss);

        std::deque<Entry> queue;  // oldest first, at most memorySize entries
        Points x = config.points;
        for (int step = 0; step < 7; ++step) {
            for (int i = 0; i < 6; ++i) {
                queue.push_back({x.row(i), config.labels[static_cast<std::size_t>(i)], step, i});
                if (static_cast<int>(queue.size()) > memorySize) queue.pop_front();
            }
            Points reference(static_cast<Eigen::Index>(queue.size()), 2);
            Labels referenceLabels;
            for (std::size_t k = 0; k < queue.size(); ++k) {
                reference.row(static_cast<Eigen::Index>(k)) = queue[k].row;
                referenceLabels.push_back(queue[k].label);
            }
            // The pairs (or the miner's choice) against the list, minus each anchor's fresh copy.
            Tuples tuples;
            auto isSelf = [&](int a, int j) {
                return queue[static_cast<std::size_t>(j)].step == step &&
                       queue[static_cast<std::size_t>(j)].point == a;
            };
            if (miner) {
                MinerInput input{x, config.labels};
                input.referenceEmbeddings = &reference;
                input.referenceLabels = &referenceLabels;
                tuples = miner->mine(input);
            } else {
                tuples.kind = Tuples::Kind::Pairs;
                allReferencePairs(config.labels, referenceLabels, &tuples.positivePairs,
                                  &tuples.negativePairs);
            }
            // The triplet-margin miner answers symbolically: its triplets against the list, listed.
            if (tuples.kind == Tuples::Kind::All)
                tuples = Tuples::fromTriplets(
                    materializeReferenceTriplets(tuples, x, config.labels, reference, referenceLabels));
            std::erase_if(tuples.triplets, [&](const Triplet& t) { return isSelf(t[0], t[1]); });
            std::erase_if(tuples.positivePairs, [&](const Pair& p) { return isSelf(p[0], p[1]); });
            LossInput input{x, config.labels, nullptr, &tuples};
            input.referenceEmbeddings = &reference;
            input.referenceLabels = &referenceLabels;
            const LossOutput out = lossFunction->evaluate(input, true);
            x -= config.optimizer.learningRate * out.gradEmbeddings;

            const auto snapshot = trainer.step(1);
            EXPECT_NEAR(snapshot->loss, out.value, 1e-12 * std::max(1.0, std::abs(out.value)))
                << "step " << step;
            EXPECT_TRUE(snapshot->positions.isApprox(x, 1e-12)) << "step " << step;
            // The snapshot's memory holds the same rows as the list (in ring order).
            ASSERT_EQ(snapshot->memoryPositions.rows(), static_cast<Eigen::Index>(queue.size()));
            // The trainer's rows differ from the list's by the rounding of the loss's sums.
            std::vector<std::pair<int, Real>> fromTrainer, fromList;
            for (std::size_t k = 0; k < queue.size(); ++k) {
                fromTrainer.push_back({snapshot->memoryLabels[k],
                                       snapshot->memoryPositions.row(static_cast<Eigen::Index>(k)).sum()});
                fromList.push_back({queue[k].label, queue[k].row.sum()});
            }
            std::sort(fromTrainer.begin(), fromTrainer.end());
            std::sort(fromList.begin(), fromList.end());
            for (std::size_t k = 0; k < queue.size(); ++k) {
                EXPECT_EQ(fromTrainer[k].first, fromList[k].first);
                EXPECT_NEAR(fromTrainer[k].second, fromList[k].second, 1e-12);
            }
        }
        EXPECT_GT((trainer.snapshot()->positions - config.points).norm(), 1e-3);  // it moved
    }
}

TEST(CrossBatchMemoryTrainer, SelfComparisonsAreRemovedAndTheRingIsWrittenAtQueueIndex) {
    // With a memory of exactly one batch, the first step's queue is the batch itself: every pair
    // a ≠ b is there and each anchor's own copy is removed, so the loss is the plain batch loss.
    // The gradient reaches only the anchor end of each pair (the partner is a detached copy), and
    // each unordered pair is listed twice, so it is exactly half of the plain gradient.
    TrainerConfig config = memoryConfig("contrastive", 6);
    Trainer withMemory(config);
    config.crossBatchMemory.reset();
    Trainer plain(config);
    const auto a = withMemory.step(1);
    const auto b = plain.step(1);
    EXPECT_NEAR(a->loss, b->loss, 1e-12);
    EXPECT_EQ(a->stats.tuples, b->stats.tuples);  // 30 ordered pairs: the 6 self pairs are gone
    EXPECT_TRUE(a->gradient.isApprox(0.5 * b->gradient, 1e-12));
    EXPECT_GT(a->gradient.norm(), 1e-3);
    withMemory.step(2);
    const TrainerStart state = withMemory.savedState();
    ASSERT_TRUE(state.memory);
    EXPECT_TRUE(state.memory->filled);
    EXPECT_EQ(state.memory->queueIndex, 0);

    // Memory 8 with batches of 6: slots 0..5, then 6, 7, 0..3 (queue index 4), then 4..7, 0, 1.
    TrainerConfig eight = memoryConfig("contrastive", 8);
    Trainer ring(eight);
    EXPECT_EQ(ring.snapshot()->memoryPositions.rows(), 0);
    ring.step(1);
    EXPECT_EQ(ring.savedState().memory->queueIndex, 6);
    EXPECT_FALSE(ring.savedState().memory->filled);
    EXPECT_EQ(ring.snapshot()->memoryPositions.rows(), 6);
    const Points afterOne = ring.snapshot()->positions;
    ring.step(1);
    const MemoryQueue queue = *ring.savedState().memory;
    EXPECT_EQ(queue.queueIndex, 4);
    EXPECT_TRUE(queue.filled);
    // Slots 6, 7, 0..3 hold points 0..5 as they were after step 1.
    const int slots[] = {6, 7, 0, 1, 2, 3};
    for (int i = 0; i < 6; ++i) EXPECT_EQ(queue.embeddings.row(slots[i]), afterOne.row(i)) << i;
    // Slots 4, 5 still hold points 4, 5 of step 0 (the initial positions).
    EXPECT_EQ(queue.embeddings.row(4), eight.points.row(4));
    EXPECT_EQ(queue.embeddings.row(5), eight.points.row(5));
}

TrainerConfig blobsMemory(int memorySize) {
    TrainerConfig config = testing::blobsRun(120, 6, 4);
    config.loss.name = "triplet_margin";
    config.miner = MinerConfig{"batch_hard", {}, std::nullopt};
    config.batch.mode = BatchConfig::Mode::ClassesTimesSamples;
    config.batch.classesPerBatch = 2;
    config.batch.samplesPerClass = 4;
    config.crossBatchMemory = CrossBatchMemoryConfig{memorySize};
    config.seed = 9;
    return config;
}

TEST(CrossBatchMemoryTrainer, IsDeterministicAndContinuesBitForBitFromASavedState) {
    const TrainerConfig config = blobsMemory(50);
    Trainer first(config), second(config);
    first.step(13);
    second.step(13);
    const auto a = first.snapshot(), b = second.snapshot();
    ASSERT_EQ(a->positions.size(), b->positions.size());
    EXPECT_EQ(0, std::memcmp(a->positions.data(), b->positions.data(), sizeof(Real) * a->positions.size()));
    EXPECT_EQ(a->memoryPositions, b->memoryPositions);

    TrainerConfig resumed = config;
    resumed.start = first.savedState();
    Trainer continued(resumed);
    const auto c = continued.step(9);
    const auto d = first.step(9);
    EXPECT_EQ(0, std::memcmp(c->positions.data(), d->positions.data(), sizeof(Real) * c->positions.size()));
    EXPECT_EQ(c->memoryPositions, d->memoryPositions);
    EXPECT_EQ(c->memoryLabels, d->memoryLabels);

    // Without the queue the continued run differs (it starts with an empty memory).
    resumed.start->memory.reset();
    Trainer emptied(resumed);
    EXPECT_NE(emptied.step(9)->positions, d->positions);
}

TEST(CrossBatchMemoryTrainer, RefusesWhatCannotWorkWithClearMessages) {
    std::string error;
    TrainerConfig config = blobsMemory(50);
    ASSERT_TRUE(config.isValid(&error)) << error;

    TrainerConfig full = config;
    full.batch.mode = BatchConfig::Mode::Full;
    EXPECT_FALSE(full.isValid(&error));
    EXPECT_NE(error.find("P×K"), std::string::npos) << error;

    TrainerConfig small = config;
    small.crossBatchMemory->memorySize = 7;  // the batch has 8 rows
    EXPECT_FALSE(small.isValid(&error));
    EXPECT_NE(error.find("at least one batch"), std::string::npos) << error;

    TrainerConfig softmax = config;
    softmax.loss.name = "softmax";
    softmax.miner.reset();
    EXPECT_FALSE(softmax.isValid(&error));
    EXPECT_NE(error.find("cannot compare with a cross-batch memory"), std::string::npos) << error;
    EXPECT_NE(error.find("contrastive"), std::string::npos) << error;

    TrainerConfig miner = config;
    miner.miner = MinerConfig{"facenet_semihard", {}, std::nullopt};
    EXPECT_FALSE(miner.isValid(&error));
    EXPECT_NE(error.find("cannot mine a cross-batch memory"), std::string::npos) << error;

    TrainerConfig one = config;
    one.batch.classesPerBatch = 1;
    one.batch.samplesPerClass = 1;
    EXPECT_FALSE(one.isValid(&error));

    // Switching the memory on and off through reconfigure: an invalid combination changes nothing.
    Trainer trainer(config);
    trainer.step(3);
    TrainerConfig settings = config;
    settings.loss.name = "softmax";
    settings.miner.reset();
    EXPECT_FALSE(trainer.reconfigure(settings, &error));
    EXPECT_EQ(trainer.snapshot()->memoryPositions.rows(), 24);
    settings = config;
    settings.crossBatchMemory.reset();
    ASSERT_TRUE(trainer.reconfigure(settings, &error)) << error;
    EXPECT_EQ(trainer.snapshot()->memoryPositions.rows(), 0);
    EXPECT_FALSE(trainer.savedState().memory);
}

TEST(CrossBatchMemoryTrainer, GivesMoreNegativePairsPerStepThanTheBatchAlone) {
    TrainerConfig config = blobsMemory(64);
    config.loss.name = "contrastive";
    config.miner.reset();
    Trainer withMemory(config);
    config.crossBatchMemory.reset();
    Trainer plain(config);
    withMemory.step(20);
    plain.step(20);
    // 8 anchors × (64 reference rows − the own copy) pairs against 8 × 7.
    EXPECT_EQ(withMemory.snapshot()->stats.tuples, 8 * 63);
    EXPECT_EQ(plain.snapshot()->stats.tuples, 8 * 7);
}

}  // namespace
}  // namespace marginlab

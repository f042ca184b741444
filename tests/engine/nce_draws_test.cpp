// SPDX-License-Identifier: MIT
// NCE's bulk noise draws (internal losses/nce_draws.h, random_blocks.h): the engine words are
// std::mt19937_64's on every vector unit, the remainder by multiplication is r mod n, the draws are the
// sampler's draw for draw, and the loss gives the bits of the former path that drew through the sampler.
#include "losses/nce_draws.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "marginlab/loss.h"
#include "marginlab/losses/nce.h"
#include "marginlab/parallel.h"
#include "simd/dispatch.h"
#include "test_support.h"

namespace marginlab {
namespace {

using testing::randomLabels;
using testing::randomPoints;

std::vector<const detail::simd::Kernels*> everyUnit() {
    std::vector<const detail::simd::Kernels*> units;
    for (auto level : {detail::simd::Level::Portable, detail::simd::Level::Avx2, detail::simd::Level::Avx512})
        if (const auto* kernels = detail::simd::kernelsFor(level)) units.push_back(kernels);
    return units;
}

TEST(NceDraws, MersenneBlocksAreStdMt19937_64WordForWord) {
    for (const auto* kernels : everyUnit())
        for (std::uint64_t seed :
             std::vector<std::uint64_t>{0, 1, 5489, 0xFFFFFFFFFFFFFFFF, Rng::deriveSeed(42, 7)}) {
            std::mt19937_64 reference(seed);
            detail::MersenneBlocks blocks(seed);
            for (int block = 0; block < 5; ++block) {
                const std::uint64_t* words = blocks.next(*kernels);
                for (int k = 0; k < detail::MersenneBlocks::kWords; ++k)
                    ASSERT_EQ(words[k], reference())
                        << "unit " << static_cast<int>(kernels->level) << " seed " << seed << " block "
                        << block << " word " << k;
            }
        }
}

TEST(NceDraws, BlockRngDrawsWhatRngDraws) {
    // FaceNet's draws: the bounds change from draw to draw, n = 1 takes no word, bounds near 2⁶⁴
    // reject words, and a re-seeded stream starts over in the middle of a block.
    const std::vector<std::uint64_t> bounds = {
        1, 2, 7, 3687, 1, 0x8000000000000001ull, 1000, 0xFFFFFFFFFFFFFFFFull};
    detail::BlockRng blocks;
    for (std::uint64_t seed : std::vector<std::uint64_t>{3, Rng::deriveSeed(42, 7), 3}) {
        Rng reference(seed);
        blocks.seed(seed);
        for (int k = 0; k < 2000; ++k) {
            const std::uint64_t n = bounds[static_cast<std::size_t>(k) % bounds.size()];
            ASSERT_EQ(blocks.uniformInt(n), reference.uniformInt(n)) << "seed " << seed << " draw " << k;
        }
        ASSERT_EQ(blocks.next(), reference.next());
    }
}

// Every unit's remainders (vector lanes for divisors below 2³², the scalar steps above and in the
// tails) against r % n, on the edges of each divisor's quotients and on random words of every
// magnitude; a word below the threshold anywhere, the tail included, is reported.
TEST(NceDraws, WordRemaindersAreTheRemainders) {
    const std::uint64_t top = ~std::uint64_t{0};
    std::mt19937_64 random(11);
    for (std::uint64_t n : std::vector<std::uint64_t>{1ull,
                                                      2ull,
                                                      3ull,
                                                      5ull,
                                                      7ull,
                                                      10ull,
                                                      255ull,
                                                      256ull,
                                                      257ull,
                                                      1000ull,
                                                      3687ull,
                                                      4095ull,
                                                      2147483647ull,
                                                      2147483648ull,
                                                      4294967295ull,
                                                      4294967296ull,
                                                      4294967311ull,
                                                      0x8000000000000000ull,
                                                      0x8000000000003039ull,
                                                      0xFFFFFFFFFFFFFFFEull,
                                                      top}) {
        std::vector<std::uint64_t> values = {0,
                                             1,
                                             2,
                                             n - 1,
                                             n,
                                             n + 1,
                                             top,
                                             top - 1,
                                             top - n,
                                             top - top % n,
                                             top - top % n - 1,
                                             n * 2 - 1,
                                             (top / n) * n,
                                             (top / n) * n - 1};
        for (int k = 0; k < 20003; ++k) values.push_back(random() >> (k % 64));
        const auto size = static_cast<std::ptrdiff_t>(values.size());  // 20017: a tail on every unit
        for (const auto* kernels : everyUnit()) {
            std::vector<std::uint64_t> out(values.size());
            ASSERT_TRUE(
                kernels->wordRemainders(values.data(), size, detail::remainderMagic(n, 0), out.data()));
            for (std::size_t k = 0; k < values.size(); ++k)
                ASSERT_EQ(out[k], values[k] % n)
                    << values[k] << " mod " << n << ", " << detail::simd::levelName(kernels->level);
            // A word below the threshold, in a vector lane or in the tail, rejects the block.
            for (const std::ptrdiff_t at : {std::ptrdiff_t{3}, size - 1}) {
                std::vector<std::uint64_t> words(values.begin(), values.end());
                for (auto& w : words) w |= std::uint64_t{1} << 40;
                words[static_cast<std::size_t>(at)] = 5;
                EXPECT_FALSE(
                    kernels->wordRemainders(words.data(), size, detail::remainderMagic(n, 6), out.data()))
                    << n << " at " << at;
                EXPECT_TRUE(
                    kernels->wordRemainders(words.data(), size, detail::remainderMagic(n, 5), out.data()))
                    << n << " at " << at;
            }
        }
    }
}

TEST(Nce, SamplesAreTheSamplersDrawsDrawForDraw) {
    const detail::simd::Level before = detail::simd::kernels().level;
    for (const auto* kernels : everyUnit()) {
        detail::simd::setSimdLevel(kernels->level);
        for (std::uint64_t seed : std::vector<std::uint64_t>{0, 42, 0xDEADBEEF})
            for (int anchor : {0, 3, 4095})
                for (int count : {1, 2, 3, 7, 64, 409, 3687, 4095, 2147483647}) {
                    NoiseContrastiveSampler sampler(seed, anchor);
                    const std::int64_t total = 2000;  // several blocks of 312 words
                    std::vector<std::uint64_t> drawn;
                    detail::drawNoiseIndices(seed, anchor, static_cast<std::uint64_t>(count), total,
                                             [&](std::uint64_t index) { drawn.push_back(index); });
                    ASSERT_EQ(drawn.size(), static_cast<std::size_t>(total));
                    for (std::int64_t k = 0; k < total; ++k)
                        ASSERT_EQ(drawn[static_cast<std::size_t>(k)],
                                  static_cast<std::uint64_t>(sampler.drawIndex(count)))
                            << "seed " << seed << " anchor " << anchor << " count " << count << " draw " << k;
                }
        // Counts past int whose rejection is frequent (threshold ≈ 2⁶³: about every other word):
        // the rule of Rng::uniformInt, word for word.
        for (std::uint64_t count : std::vector<std::uint64_t>{0x8000000000003039, 0xC000000000000001}) {
            Rng reference(Rng::deriveSeed(7, 5));
            std::vector<std::uint64_t> drawn;
            detail::drawNoiseIndices(7, 5, count, 1500, [&](std::uint64_t index) { drawn.push_back(index); });
            for (std::uint64_t index : drawn) ASSERT_EQ(index, reference.uniformInt(count));
        }
    }
    detail::simd::setSimdLevel(before);
}

/// Σ terms in nce.cpp's order: four interleaved partial sums (term k in sum k mod 4), added as
/// (s₀ + s₁) + (s₂ + s₃).
Real fourLaneSum(const std::vector<Real>& terms) {
    Real sums[4] = {0.0, 0.0, 0.0, 0.0};
    for (std::size_t k = 0; k < terms.size(); ++k) sums[k % 4] += terms[k];
    return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

/// The loss as it was before the bulk draws: NoiseContrastiveSampler one draw at a time, each
/// negative's draws counted in a row indexed by sample, the drawn negatives listed by a plain
/// loop, the rest as in nce.cpp (the gradient rows without the common factor 1/(τ|P|), applied
/// to the sum). The new path must give exactly these bits.
LossOutput formerNce(const Points& x, const Labels& labels, std::uint64_t seed, Real temperature,
                     int perPair) {
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), x);
    const Real inverseTemperature = 1.0 / temperature;
    const Real pairCount = static_cast<Real>(counts.positives);
    const std::vector<std::vector<int>> groups = detail::groupByLabel(labels);
    std::vector<const std::vector<int>*> classOf(static_cast<std::size_t>(n));
    for (const auto& members : groups)
        for (int i : members) classOf[static_cast<std::size_t>(i)] = &members;
    pairRows.run(true, nullptr, [&](int a, detail::PairRowChunk& part) {
        const Real* s = part.row.data();
        Real* gradRow = part.gradRow.data();
        std::fill(gradRow, gradRow + n, 0.0);
        const std::vector<int>& members = *classOf[static_cast<std::size_t>(a)];
        const detail::simd::Kernels& kernels = detail::simd::kernels();
        Real* inputs = part.second.data();
        Real* values = part.third.data();
        Real* slopes = part.fourth.data();
        Eigen::Index count = 0;
        for (int p : members)
            if (p != a) inputs[count++] = -(s[p] * inverseTemperature);
        kernels.softplusRow(inputs, count, detail::expconst::kTable.data(), values, slopes);
        part.total += fourLaneSum(std::vector<Real>(values, values + count));
        count = 0;
        for (int p : members) {
            if (p == a) continue;
            gradRow[p] -= slopes[count];
            ++count;
        }
        std::vector<int> negatives;
        for (int j = 0; j < n; ++j)
            if (labels[static_cast<std::size_t>(j)] != labels[static_cast<std::size_t>(a)])
                negatives.push_back(j);
        if (!negatives.empty()) {
            std::vector<Real> draws(static_cast<std::size_t>(n), 0.0);
            NoiseContrastiveSampler sampler(seed, a);
            for (int p : members) {
                if (p == a) continue;
                for (int k = 0; k < perPair; ++k)
                    draws[static_cast<std::size_t>(negatives[static_cast<std::size_t>(
                        sampler.drawIndex(static_cast<int>(negatives.size())))])] += 1.0;
            }
            std::vector<int> drawnNegatives;
            for (int j : negatives)
                if (draws[static_cast<std::size_t>(j)] != 0.0) {
                    inputs[drawnNegatives.size()] = s[j] * inverseTemperature;
                    drawnNegatives.push_back(j);
                }
            const auto drawn = static_cast<Eigen::Index>(drawnNegatives.size());
            kernels.softplusRow(inputs, drawn, detail::expconst::kTable.data(), values, slopes);
            std::vector<Real> terms;
            for (Eigen::Index t = 0; t < drawn; ++t) {
                const int j = drawnNegatives[static_cast<std::size_t>(t)];
                const Real times = draws[static_cast<std::size_t>(j)];
                terms.push_back(times * values[t]);
                gradRow[j] += times * slopes[t];
            }
            part.total += fourLaneSum(terms);
        }
        return true;
    });
    LossOutput out;
    out.value = pairRows.total() / pairCount;
    out.gradEmbeddings = pairRows.gradient(inverseTemperature / pairCount);
    return out;
}

TEST(Nce, BulkDrawsGiveTheFormerPathsValueAndGradientBitForBit) {
    const int threadsBefore = engineThreads();
    struct Case {
        int n, d, classes;
        std::uint64_t seed;
        Real temperature;
        int perPair;
    };
    for (const Case& c : {Case{12, 2, 3, 1, 0.1, 5}, Case{50, 3, 4, 2, 0.5, 1}, Case{300, 2, 10, 3, 0.1, 5},
                          Case{700, 3, 7, 4, 0.07, 9}, Case{257, 2, 2, 5, 1.0, 3}})
        for (int threads : {1, 2, 3}) {
            setEngineThreads(threads);
            const Points x = randomPoints(c.n, c.d, c.seed + 100);
            const Labels y = randomLabels(c.n, c.classes, c.seed + 200);
            std::string error;
            ParamValues values;
            values.numbers = {{"temperature", c.temperature}, {"num_negatives", Real(c.perPair)}};
            const auto loss = makeLoss(LossConfig{"nce", values, std::nullopt}, &error);
            ASSERT_TRUE(loss) << error;
            for (std::uint64_t sampleSeed : std::vector<std::uint64_t>{0, 77}) {
                const LossOutput now = loss->evaluate(LossInput{x, y, nullptr, nullptr, sampleSeed}, true);
                const LossOutput before = formerNce(x, y, sampleSeed, c.temperature, c.perPair);
                EXPECT_EQ(now.value, before.value) << c.n << " points, " << threads << " threads";
                EXPECT_EQ((now.gradEmbeddings - before.gradEmbeddings).cwiseAbs().maxCoeff(), 0.0)
                    << c.n << " points, " << threads << " threads";
            }
        }
    setEngineThreads(threadsBefore);
}

}  // namespace
}  // namespace marginlab

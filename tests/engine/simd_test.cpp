// SPDX-License-Identifier: MIT
// The vector units' kernels (engine/src/simd/dispatch.h): every unit this CPU has gives the portable
// kernels' bits exactly (the kernels avoid contraction and keep one order per element), the cap
// works from code and from MARGINLAB_SIMD, and the miners built on them choose the same triplets
// whichever unit runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "losses/exp_row.h"
#include "losses/triplet_sweep.h"
#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "miners/miner_common.h"
#include "simd/dispatch.h"
#include "test_support.h"

namespace marginlab {
namespace {

namespace simd = detail::simd;

class SimdCap {
public:
    explicit SimdCap(simd::Level level) : m_before(simd::kernels().level) { simd::setSimdLevel(level); }
    ~SimdCap() { simd::setSimdLevel(m_before); }
    SimdCap(const SimdCap&) = delete;
    SimdCap& operator=(const SimdCap&) = delete;

private:
    simd::Level m_before;
};

bool sameBits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::vector<const simd::Kernels*> availableUnits() {
    std::vector<const simd::Kernels*> out;
    for (simd::Level level : {simd::Level::Avx2, simd::Level::Avx512})
        if (const simd::Kernels* k = simd::kernelsFor(level)) out.push_back(k);
    return out;
}

TEST(SimdDispatch, EveryUnitGivesThePortableBits) {
    const simd::Kernels* portable = simd::kernelsFor(simd::Level::Portable);
    ASSERT_NE(portable, nullptr);
    std::mt19937_64 rng(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (const simd::Kernels* unit : availableUnits())
        for (std::ptrdiff_t dims : {1, 2, 3, 4, 7})
            for (std::ptrdiff_t n : {1, 5, 67, 1000}) {
                std::vector<double> data(static_cast<std::size_t>(n * dims));
                // Mixed magnitudes and exact duplicates: cancellation and ties.
                for (std::size_t i = 0; i < data.size(); ++i)
                    data[i] = normal(rng) * (i % 5 == 0 ? 1e-9 : 1.0);
                if (n > 3) std::copy(data.begin(), data.begin() + dims, data.begin() + 3 * dims);
                for (std::ptrdiff_t a : {std::ptrdiff_t(0), n / 2, n - 1})
                    for (std::ptrdiff_t first : {std::ptrdiff_t(0), std::min<std::ptrdiff_t>(3, n)}) {
                        std::vector<double> expected(static_cast<std::size_t>(n), -1.0), got = expected;
                        portable->squaredDistanceRow(data.data(), n, dims, a, expected.data(), first);
                        unit->squaredDistanceRow(data.data(), n, dims, a, got.data(), first);
                        const std::string what = std::string(simd::levelName(unit->level)) + " dims " +
                                                 std::to_string(dims) + " n " + std::to_string(n) + " a " +
                                                 std::to_string(a);
                        EXPECT_TRUE(sameBits(got, expected)) << what;
                        // The distance in one pass: the square roots of the same squares, the
                        // entries before `first` untouched.
                        std::vector<double> root = expected, fused(static_cast<std::size_t>(n), -1.0);
                        portable->sqrtInPlace(root.data() + first, n - first);
                        unit->distanceRow(data.data(), n, dims, a, fused.data(), first);
                        EXPECT_TRUE(sameBits(fused, root)) << what << " distance";
                        portable->sqrtInPlace(expected.data(), n);
                        unit->sqrtInPlace(got.data(), n);
                        EXPECT_TRUE(sameBits(got, expected)) << what << " sqrt";
                    }
            }
}

TEST(SimdDispatch, KernelsFollowTheirDefinition) {
    // The portable unit against the formula (and thereby every unit, by the test above).
    const double data[] = {0.0, 0.0, 3.0, 4.0, 1.0, 1.0};
    double out[3] = {-1, -1, -1};
    simd::kernelsFor(simd::Level::Portable)->squaredDistanceRow(data, 3, 2, 1, out, 0);
    EXPECT_EQ(out[0], 25.0);
    EXPECT_EQ(out[1], 0.0);
    EXPECT_EQ(out[2], 4.0 + 9.0);
    std::vector<double> roots = {
        0.0,  25.0, 2.0, std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::infinity(),
        1e300};
    for (const simd::Kernels* unit :
         {simd::kernelsFor(simd::Level::Portable), simd::kernelsFor(simd::supportedLevel())}) {
        std::vector<double> values = roots;
        unit->sqrtInPlace(values.data(), static_cast<std::ptrdiff_t>(values.size()));
        for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], std::sqrt(roots[i])) << i;
    }
}

// Lifted structure's positive pairs of a row, against the definition written out per pair: every
// unit (portable, AVX2, AVX-512) the same bits, ties li = lp, inactive pairs and a NaN included.
TEST(SimdDispatch, LiftedPairRowsFollowTheirDefinition) {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    for (std::ptrdiff_t n : {1, 7, 8, 29, 300}) {
        const auto size = static_cast<std::size_t>(n);
        const double li = 0.75, margin = 0.5, perPair = 1.0 / 97.0;
        std::vector<double> lp(size), e(size), logOnePlus(size), distance(size), otherStart(size);
        for (std::size_t k = 0; k < size; ++k) {
            lp[k] = k % 5 == 0 ? li : li + normal(rng);  // ties every fifth pair
            e[k] = std::exp(-std::abs(li - lp[k]));
            logOnePlus[k] = std::log1p(e[k]);
            distance[k] = std::abs(normal(rng)) * (k % 3 == 0 ? 0.1 : 2.0);  // some J ≤ 0
            otherStart[k] = normal(rng);
        }
        if (n > 4) distance[4] = std::numeric_limits<double>::quiet_NaN();
        // the definition, pair by pair
        std::vector<double> square(size), slope(size), own(size), other = otherStart;
        double active = 0.0;
        for (std::size_t k = 0; k < size; ++k) {
            const double raw = (std::max(li, lp[k]) + logOnePlus[k]) + (distance[k] - margin);
            const double j = std::max(raw, 0.0);
            active += raw > 0.0 || std::isnan(raw) ? 1.0 : 0.0;
            square[k] = j * j;
            slope[k] = 2.0 * (j * perPair);
            const double larger = 1.0 / (1.0 + e[k]), smaller = e[k] * larger;
            own[k] = slope[k] * (li >= lp[k] ? larger : smaller);
            other[k] += slope[k] * (li >= lp[k] ? smaller : larger);
        }
        for (const simd::Kernels* unit : units) {
            std::vector<double> gotSquare(size), gotSlope(size), gotOwn(size), gotOther = otherStart;
            const double gotActive =
                unit->liftedPairRow(li, lp.data(), e.data(), logOnePlus.data(), distance.data(), margin, perPair, n,
                                    gotSquare.data(), gotSlope.data(), gotOwn.data(), gotOther.data());
            const std::string what = std::string(simd::levelName(unit->level)) + " n " + std::to_string(n);
            EXPECT_EQ(gotActive, active) << what;
            EXPECT_TRUE(sameBits(gotSquare, square)) << what;
            EXPECT_TRUE(sameBits(gotSlope, slope)) << what;
            EXPECT_TRUE(sameBits(gotOwn, own)) << what;
            EXPECT_TRUE(sameBits(gotOther, other)) << what;
        }
    }
}

// Points with mixed magnitudes, exact duplicates (ties, zero distances) and negative zeros.
std::vector<double> awkwardPoints(std::ptrdiff_t n, std::ptrdiff_t dims, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> data(static_cast<std::size_t>(n * dims));
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = normal(rng) * (i % 5 == 0 ? 1e-9 : 1.0);
    if (n > 3) std::copy(data.begin(), data.begin() + dims, data.begin() + 3 * dims);
    if (n > 6) data[static_cast<std::size_t>(6 * dims)] = -0.0;
    return data;
}

TEST(SimdDispatch, DotRowsAndBackwardRowsGiveThePortableBits) {
    const simd::Kernels* portable = simd::kernelsFor(simd::Level::Portable);
    std::mt19937_64 rng(4);
    std::normal_distribution<double> normal(0.0, 1.0);
    int compared = 0;
    for (const simd::Kernels* unit : availableUnits())
        for (std::ptrdiff_t dims : {1, 2, 3, 4, 9, 17})
            for (std::ptrdiff_t n : {1, 5, 8, 67, 1000}) {
                const std::vector<double> data = awkwardPoints(n, dims, rng);
                std::vector<double> g(static_cast<std::size_t>(n)), rows(static_cast<std::size_t>(n));
                for (double& value : g) value = normal(rng);
                if (n > 2) g[1] = 0.0;
                for (std::ptrdiff_t a : {std::ptrdiff_t(0), n / 2, n - 1})
                    for (std::ptrdiff_t first : {std::ptrdiff_t(0), std::min<std::ptrdiff_t>(3, n)}) {
                        const std::string what = std::string(simd::levelName(unit->level)) + " dims " +
                                                 std::to_string(dims) + " n " + std::to_string(n) + " a " +
                                                 std::to_string(a) + " first " + std::to_string(first);
                        std::vector<double> expected(static_cast<std::size_t>(n), -1.0), got = expected;
                        portable->dotRow(data.data(), n, dims, a, expected.data(), first);
                        unit->dotRow(data.data(), n, dims, a, got.data(), first);
                        EXPECT_TRUE(sameBits(got, expected)) << what << " dot";
                        if (first == 0) {  // × factor with split maxima: dotRow, then splitAffineMax
                            std::vector<double> kind(static_cast<std::size_t>(n)), fused(kind.size());
                            for (double& k : kind) k = rng() % 3 == 0 ? 1.0 : 0.0;
                            double separateTop[2], fusedTop[2];
                            portable->splitAffineMax(expected.data(), expected.data(), kind.data(), n, 0.0,
                                                     -1.5, 0.0, -1.5, -1, &separateTop[0], &separateTop[1]);
                            unit->dotRowScaledMax(data.data(), n, dims, a, -1.5, kind.data(), fused.data(),
                                                  &fusedTop[0], &fusedTop[1]);
                            EXPECT_TRUE(sameBits(fused, expected)) << what << " scaled dot";
                            EXPECT_EQ(std::memcmp(separateTop, fusedTop, sizeof fusedTop), 0)
                                << what << " scaled dot";
                        }
                        for (int mode : {0, 1, 2}) {
                            // the row the backward pass reads: distances for mode 1 (zeros at ties)
                            portable->squaredDistanceRow(data.data(), n, dims, a, rows.data(), 0);
                            portable->sqrtInPlace(rows.data(), n);
                            std::vector<double> gradExpected(data.size());
                            for (double& value : gradExpected) value = normal(rng);
                            std::vector<double> gradGot = gradExpected;
                            portable->accumulateRow(data.data(), n, dims, a, mode, g.data(), rows.data(),
                                                    gradExpected.data(), first);
                            unit->accumulateRow(data.data(), n, dims, a, mode, g.data(), rows.data(),
                                                gradGot.data(), first);
                            EXPECT_TRUE(sameBits(gradGot, gradExpected)) << what << " mode " << mode;
                            ++compared;
                        }
                    }
            }
    if (!availableUnits().empty()) {
        EXPECT_GT(compared, 500);
    }
}

TEST(SimdDispatch, BlocksOfBackwardRowsAreTheRowsInTurnBitForBit) {
    // accumulateRows against accumulateRow called row after row, on every unit: anchors sharing a
    // group of lanes, in the tail, and more rows than one block.
    std::mt19937_64 rng(6);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    auto below = [&rng](std::ptrdiff_t n) {
        return static_cast<std::ptrdiff_t>(rng() % static_cast<std::uint64_t>(n));
    };
    int compared = 0;
    for (const simd::Kernels* unit : units)
        for (std::ptrdiff_t dims : {1, 2, 3})
            for (std::ptrdiff_t n : {1, 5, 8, 13, 67, 1000})
                for (int count : {1, 2, 3, 4, 6}) {
                    const std::vector<double> data = awkwardPoints(n, dims, rng);
                    std::vector<std::ptrdiff_t> anchors;
                    const std::ptrdiff_t start = below(n);
                    for (int k = 0; k < count; ++k)  // neighbours (one group, and the tail) or anywhere
                        anchors.push_back(count % 2 == 1 ? (start + k) % n : below(n));
                    if (count == 4) anchors.back() = n - 1;
                    const auto size = static_cast<std::size_t>(n);
                    std::vector<std::vector<double>> g(static_cast<std::size_t>(count),
                                                       std::vector<double>(size));
                    std::vector<std::vector<double>> rows = g;
                    std::vector<const double*> gs, rowPointers;
                    for (std::size_t k = 0; k < g.size(); ++k) {
                        for (double& value : g[k]) value = rng() % 4 == 0 ? 0.0 : normal(rng);
                        // the distances for mode 1 (zeros at ties)
                        unit->squaredDistanceRow(data.data(), n, dims, anchors[k], rows[k].data(), 0);
                        unit->sqrtInPlace(rows[k].data(), n);
                        gs.push_back(g[k].data());
                        rowPointers.push_back(rows[k].data());
                    }
                    for (int mode : {0, 1, 2}) {
                        std::vector<double> inTurn(data.size());
                        for (double& value : inTurn) value = normal(rng);
                        std::vector<double> blocked = inTurn;
                        for (std::size_t k = 0; k < g.size(); ++k)
                            unit->accumulateRow(data.data(), n, dims, anchors[k], mode, gs[k], rowPointers[k],
                                                inTurn.data(), 0);
                        unit->accumulateRows(data.data(), n, dims, mode, count, anchors.data(), gs.data(),
                                             rowPointers.data(), blocked.data());
                        EXPECT_TRUE(sameBits(blocked, inTurn))
                            << simd::levelName(unit->level) << " dims " << dims << " n " << n << " rows "
                            << count << " mode " << mode;
                        ++compared;
                    }
                }
    EXPECT_GT(compared, 250);
}

TEST(SimdDispatch, DotExpRowsAreTheirPassesBitForBit) {
    // On every unit, against the portable unit's passes: dotRowScaledExpSum against dotRow,
    // splitAffine by the factor and splitShiftExpSum; rowAffineExpSum against sameLabelRow,
    // dotRow (distanceRow, squaredDistanceRow), splitAffineMax (the anchor skipped) and splitShiftExpSum; dotRowCircleExpSum against
    // sameLabelRow, dotRow, circleRow, splitShiftExpSum and splitScaleProduct of exps and slopes
    // (by 1). The kind rows, logits, slopes, exps and sums; an infinite shift (NT-Xent's own
    // class) and a row long enough for several of the exp's blocks.
    const simd::Kernels* portable = simd::kernelsFor(simd::Level::Portable);
    std::mt19937_64 rng(17);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(portable);
    const std::int64_t* table = detail::expconst::kTable.data();
    int compared = 0;
    for (const simd::Kernels* unit : units)
        for (std::ptrdiff_t dims : {1, 2, 3})
            for (std::ptrdiff_t n : {1, 7, 8, 67, 1000})
                for (double shiftOnes : {0.25, std::numeric_limits<double>::infinity()}) {
                    const std::vector<double> data = awkwardPoints(n, dims, rng);
                    const auto size = static_cast<std::size_t>(n);
                    std::vector<int> labels(size);
                    for (int& label : labels) label = static_cast<int>(rng() % 3);
                    const std::ptrdiff_t a = static_cast<std::ptrdiff_t>(rng() % static_cast<std::uint64_t>(n));
                    const int label = labels[static_cast<std::size_t>(a)];
                    std::vector<double> kind(size), gotKind(size, -1.0);
                    portable->sameLabelRow(labels.data(), label, n, kind.data());
                    const double factor = 14.25, shiftZeros = 3.5;
                    std::vector<double> logits(size), exps(size), gotLogits(size, -1.0), gotExps(size, -1.0);
                    double sums[2] = {}, gotSums[2] = {};
                    portable->dotRow(data.data(), n, dims, a, logits.data(), 0);
                    portable->splitAffine(logits.data(), logits.data(), kind.data(), n, 0.0, factor, 0.0, factor);
                    portable->splitShiftExpSum(exps.data(), logits.data(), kind.data(), n, shiftOnes, shiftZeros, table,
                                               &sums[0], &sums[1]);
                    unit->dotRowScaledExpSum(data.data(), n, dims, a, factor, kind.data(), shiftOnes, shiftZeros,
                                             table, gotLogits.data(), gotExps.data(), &gotSums[0], &gotSums[1]);
                    const std::string what = std::string(simd::levelName(unit->level)) + " dims " +
                                             std::to_string(dims) + " n " + std::to_string(n);
                    EXPECT_TRUE(sameBits(gotLogits, logits)) << what;
                    EXPECT_TRUE(sameBits(gotExps, exps)) << what;
                    EXPECT_EQ(std::memcmp(gotSums, sums, sizeof sums), 0) << what;
                    // the split affine row (multi-similarity's): shift and factor by kind, a skip
                    const double affine[4] = {0.3, -2.0, -0.1, 7.0};
                    double tops[2] = {};
                    portable->dotRow(data.data(), n, dims, a, logits.data(), 0);
                    portable->splitAffineMax(logits.data(), logits.data(), kind.data(), n, affine[0], affine[1],
                                             affine[2], affine[3], a, &tops[0], &tops[1]);
                    portable->splitShiftExpSum(exps.data(), logits.data(), kind.data(), n, shiftOnes, shiftZeros, table,
                                               &sums[0], &sums[1]);
                    unit->rowAffineExpSum(data.data(), n, dims, a, 0, affine, labels.data(), label, gotKind.data(), a,
                                          shiftOnes, shiftZeros, table, nullptr, gotExps.data(), nullptr,
                                          nullptr, &gotSums[0], &gotSums[1]);
                    EXPECT_TRUE(sameBits(gotKind, kind)) << what << " affine";
                    EXPECT_TRUE(sameBits(gotExps, exps)) << what << " affine";
                    EXPECT_EQ(std::memcmp(gotSums, sums, sizeof sums), 0) << what << " affine";
                    EXPECT_EQ(gotExps[static_cast<std::size_t>(a)], 0.0) << what << " affine";  // e^{−∞}
                    // the same of the distance row and its square (generalized lifted structure's),
                    // with the row written out
                    for (int mode : {1, 2}) {
                        std::vector<double> row(size), gotRow(size, -1.0);
                        if (mode == 1)
                            portable->distanceRow(data.data(), n, dims, a, row.data(), 0);
                        else
                            portable->squaredDistanceRow(data.data(), n, dims, a, row.data(), 0);
                        portable->splitAffineMax(logits.data(), row.data(), kind.data(), n, affine[0], affine[1],
                                                 affine[2], affine[3], a, &tops[0], &tops[1]);
                        portable->splitShiftExpSum(exps.data(), logits.data(), kind.data(), n, shiftOnes, shiftZeros,
                                                   table, &sums[0], &sums[1]);
                        std::fill(gotKind.begin(), gotKind.end(), -1.0);
                        unit->rowAffineExpSum(data.data(), n, dims, a, mode, affine, labels.data(), label,
                                              gotKind.data(), a, shiftOnes, shiftZeros, table, gotRow.data(),
                                              gotExps.data(), nullptr, nullptr, &gotSums[0], &gotSums[1]);
                        const std::string which = what + " affine mode " + std::to_string(mode);
                        EXPECT_TRUE(sameBits(gotRow, row)) << which;
                        EXPECT_TRUE(sameBits(gotKind, kind)) << which;
                        EXPECT_TRUE(sameBits(gotExps, exps)) << which;
                        EXPECT_EQ(std::memcmp(gotSums, sums, sizeof sums), 0) << which;
                    }
                    // the distance row from the point after the anchor on (lifted structure's
                    // triangle: the anchor before the offset data), its exps added to a row and
                    // their negated products with offset + factors written out
                    if (a + 1 < n) {
                        const std::ptrdiff_t first = a + 1, length = n - first;
                        const auto tail = [first](const std::vector<double>& v) {
                            return std::vector<double>(v.begin() + first, v.end());
                        };
                        std::vector<double> row(size), gotRow(size), added(size, 0.5), gotAdded(size, 0.5);
                        portable->distanceRow(data.data(), n, dims, a, row.data(), first);
                        portable->splitAffineMax(logits.data() + first, row.data() + first, kind.data() + first,
                                                 length, affine[0], affine[1], affine[2], affine[3], -1, &tops[0],
                                                 &tops[1]);
                        portable->splitShiftExpSum(exps.data() + first, logits.data() + first, kind.data() + first,
                                                   length, shiftOnes, shiftZeros, table, &sums[0], &sums[1]);
                        portable->addRow(added.data() + first, exps.data() + first, length);
                        std::vector<double> factors(size), products(size, 0.25), gotProducts(size, 0.25);
                        for (double& f : factors) f = static_cast<double>(rng() % 1000) / 37.0;
                        const double offset = 0.625;
                        portable->negatedSumProduct(products.data() + first, offset, factors.data() + first,
                                                    exps.data() + first, length);
                        const simd::NegatedProduct product{offset, factors.data() + first, gotProducts.data() + first};
                        unit->rowAffineExpSum(data.data() + first * dims, length, dims, a - first, 1, affine,
                                              labels.data() + first, label, gotKind.data() + first, -1, shiftOnes,
                                              shiftZeros, table, gotRow.data() + first, gotExps.data() + first,
                                              gotAdded.data() + first, &product, &gotSums[0], &gotSums[1]);
                        EXPECT_TRUE(sameBits(gotProducts, products)) << what << " products from " << first;
                        // no labels: every entry of kind 0, as a label no point has
                        std::vector<double> noneExps(size), noneRow(size), absentExps(size), absentRow(size);
                        std::vector<double> scratchKind(size);
                        double noneSums[2] = {}, absentSums[2] = {};
                        unit->rowAffineExpSum(data.data() + first * dims, length, dims, a - first, 1, affine,
                                              labels.data() + first, 99, scratchKind.data() + first, -1, shiftOnes,
                                              shiftZeros, table, absentRow.data() + first, absentExps.data() + first,
                                              nullptr, nullptr, &absentSums[0], &absentSums[1]);
                        unit->rowAffineExpSum(data.data() + first * dims, length, dims, a - first, 1, affine, nullptr,
                                              0, scratchKind.data() + first, -1, shiftOnes, shiftZeros, table,
                                              noneRow.data() + first, noneExps.data() + first, nullptr, nullptr,
                                              &noneSums[0], &noneSums[1]);
                        EXPECT_TRUE(sameBits(noneRow, absentRow)) << what << " no labels from " << first;
                        EXPECT_TRUE(sameBits(noneExps, absentExps)) << what << " no labels from " << first;
                        EXPECT_EQ(std::memcmp(noneSums, absentSums, sizeof noneSums), 0) << what << " no labels";
                        EXPECT_EQ(noneSums[0], 0.0) << what << " no labels";
                        const std::string which = what + " affine from " + std::to_string(first);
                        EXPECT_TRUE(sameBits(tail(gotRow), tail(row))) << which;
                        EXPECT_TRUE(sameBits(tail(gotKind), tail(kind))) << which;
                        EXPECT_TRUE(sameBits(tail(gotExps), tail(exps))) << which;
                        EXPECT_TRUE(sameBits(gotAdded, added)) << which;
                        EXPECT_EQ(std::memcmp(gotSums, sums, sizeof sums), 0) << which;
                    }
                    // circle's row: z and slope (dotRow, circleRow), then the exps in place
                    const double circle[5] = {80.0, 1.25, -0.25, 0.75, 0.25};
                    std::vector<double> slopes(size), gotSlopes(size, -1.0);
                    portable->dotRow(data.data(), n, dims, a, exps.data(), 0);
                    portable->circleRow(exps.data(), kind.data(), n, circle, a, exps.data(), slopes.data(), &tops[0],
                                        &tops[1]);
                    portable->splitShiftExpSum(exps.data(), exps.data(), kind.data(), n, shiftOnes, shiftZeros, table,
                                               &sums[0], &sums[1]);
                    std::vector<double> ones(size, 1.0);
                    portable->splitScaleProduct(slopes.data(), exps.data(), slopes.data(), ones.data(), n, 1.0, 1.0);
                    std::fill(gotKind.begin(), gotKind.end(), -1.0);
                    unit->dotRowCircleExpSum(data.data(), n, dims, a, circle, labels.data(), label, gotKind.data(), a,
                                             shiftOnes, shiftZeros, table, gotExps.data(), gotSlopes.data(),
                                             &gotSums[0], &gotSums[1]);
                    EXPECT_TRUE(sameBits(gotKind, kind)) << what << " circle";
                    EXPECT_TRUE(sameBits(gotExps, exps)) << what << " circle";
                    EXPECT_TRUE(sameBits(gotSlopes, slopes)) << what << " circle";
                    EXPECT_EQ(std::memcmp(gotSums, sums, sizeof sums), 0) << what << " circle";
                    ++compared;
                }
    EXPECT_GE(compared, 30);
}

TEST(SimdDispatch, LabelScaledBackwardRowsAreTheWrittenRowsBitForBit) {
    // accumulateScaledRows against splitScale by the same-label kind row, then accumulateRows, on
    // every unit: the row scaled inside the pass must be the written one; with anchors of random
    // labels and with anchors of one label (whose rows share one lane mask).
    std::mt19937_64 rng(16);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    int compared = 0, differentFromUnscaled = 0;
    for (const simd::Kernels* unit : units)
        for (std::ptrdiff_t dims : {1, 2, 3})
            for (std::ptrdiff_t n : {1, 7, 8, 13, 67, 1000})
                for (int count : {1, 3, 4, 6})
                    for (bool oneLabel : {false, true}) {
                        const std::vector<double> data = awkwardPoints(n, dims, rng);
                        const auto size = static_cast<std::size_t>(n);
                        std::vector<int> labels(size);
                        for (int& label : labels) label = static_cast<int>(rng() % 3) - 1;  // negatives too
                        std::vector<std::ptrdiff_t> anchors;
                        while (static_cast<int>(anchors.size()) < count) {
                            const auto a = static_cast<std::ptrdiff_t>(rng() % static_cast<std::uint64_t>(n));
                            if (!oneLabel || anchors.empty() ||
                                labels[static_cast<std::size_t>(a)] ==
                                    labels[static_cast<std::size_t>(anchors[0])])
                                anchors.push_back(a);
                        }
                        std::vector<std::vector<double>> values(static_cast<std::size_t>(count),
                                                                std::vector<double>(size));
                        std::vector<std::vector<double>> kinds = values, written = values, rows = values;
                        std::vector<double> ofOnes, ofZeros;
                        std::vector<const double*> valuePointers, writtenPointers, rowPointers;
                        for (std::size_t k = 0; k < values.size(); ++k) {
                            for (double& value : values[k]) value = rng() % 5 == 0 ? 0.0 : normal(rng);
                            ofOnes.push_back(normal(rng));
                            ofZeros.push_back(normal(rng));
                            unit->sameLabelRow(labels.data(), labels[static_cast<std::size_t>(anchors[k])], n,
                                               kinds[k].data());
                            unit->splitScale(written[k].data(), values[k].data(), kinds[k].data(), n,
                                             ofOnes[k], ofZeros[k]);
                            unit->squaredDistanceRow(data.data(), n, dims, anchors[k], rows[k].data(), 0);
                            unit->sqrtInPlace(rows[k].data(), n);
                            valuePointers.push_back(values[k].data());
                            writtenPointers.push_back(written[k].data());
                            rowPointers.push_back(rows[k].data());
                        }
                        for (int mode : {0, 1, 2}) {
                            std::vector<double> expected(data.size());
                            for (double& value : expected) value = normal(rng);
                            std::vector<double> got = expected, unscaled = expected;
                            unit->accumulateRows(data.data(), n, dims, mode, count, anchors.data(),
                                                 writtenPointers.data(), rowPointers.data(), expected.data());
                            unit->accumulateScaledRows(data.data(), n, dims, mode, count, anchors.data(),
                                                       valuePointers.data(), labels.data(), ofOnes.data(),
                                                       ofZeros.data(), rowPointers.data(), got.data());
                            EXPECT_TRUE(sameBits(got, expected))
                                << simd::levelName(unit->level) << " dims " << dims << " n " << n << " rows "
                                << count << " mode " << mode << (oneLabel ? " one label" : "");
                            // the factors must matter: the unscaled rows give other numbers
                            unit->accumulateRows(data.data(), n, dims, mode, count, anchors.data(),
                                                 valuePointers.data(), rowPointers.data(), unscaled.data());
                            differentFromUnscaled += sameBits(unscaled, expected) ? 0 : 1;
                            ++compared;
                        }
                    }
    EXPECT_GT(compared, 200);
    EXPECT_GT(differentFromUnscaled, compared * 3 / 4);
}

TEST(SimdDispatch, DotRowsAndBackwardRowsFollowTheirDefinition) {
    // The portable unit (and thereby every unit) against the plain formulas, on every unit.
    std::mt19937_64 rng(5);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (const simd::Kernels* unit :
         {simd::kernelsFor(simd::Level::Portable), simd::kernelsFor(simd::supportedLevel())})
        for (std::ptrdiff_t dims : {2, 3, 5, 11})
            for (std::ptrdiff_t n : {7, 300}) {
                const std::vector<double> data = awkwardPoints(n, dims, rng);
                std::vector<double> g(static_cast<std::size_t>(n));
                for (double& value : g) value = normal(rng);
                const std::ptrdiff_t a = n / 3, first = 2;
                auto at = [&](std::ptrdiff_t i, std::ptrdiff_t k) {
                    return data[static_cast<std::size_t>(i * dims + k)];
                };
                std::vector<double> dots(static_cast<std::size_t>(n), -1.0),
                    distances(static_cast<std::size_t>(n));
                unit->dotRow(data.data(), n, dims, a, dots.data(), first);
                unit->squaredDistanceRow(data.data(), n, dims, a, distances.data(), 0);
                unit->sqrtInPlace(distances.data(), n);
                EXPECT_EQ(dots[0], -1.0);  // before `first`: untouched
                for (std::ptrdiff_t j = first; j < n; ++j) {
                    double dot = 0.0;
                    for (std::ptrdiff_t k = 0; k < dims; ++k) dot += at(a, k) * at(j, k);
                    EXPECT_EQ(dots[static_cast<std::size_t>(j)], dot) << j;
                }
                for (int mode : {0, 1, 2}) {
                    std::vector<double> grad(data.size(), 0.0), expected(data.size(), 0.0);
                    unit->accumulateRow(data.data(), n, dims, a, mode, g.data(), distances.data(),
                                        grad.data(), first);
                    // ∂(Σ_j g_j M_aj): M = e_a·e_j, ‖e_a − e_j‖ or ‖e_a − e_j‖², written out
                    for (std::ptrdiff_t j = first; j < n; ++j) {
                        if (j == a) continue;
                        const double gj = g[static_cast<std::size_t>(j)];
                        const double d = distances[static_cast<std::size_t>(j)];
                        for (std::ptrdiff_t k = 0; k < dims; ++k) {
                            double toAnchor = 0.0, toOther = 0.0;
                            if (mode == 0) {
                                toAnchor = gj * at(j, k);
                                toOther = gj * at(a, k);
                            } else {
                                const double w = mode == 2 ? 2.0 * gj : (d > 0.0 ? gj / d : 0.0);
                                toAnchor = w * (at(a, k) - at(j, k));
                                toOther = -toAnchor;
                            }
                            expected[static_cast<std::size_t>(a * dims + k)] += toAnchor;
                            expected[static_cast<std::size_t>(j * dims + k)] += toOther;
                        }
                    }
                    double scale = 0.0;
                    for (double value : expected) scale = std::max(scale, std::abs(value));
                    ASSERT_GT(scale, 0.1);
                    for (std::size_t k = 0; k < grad.size(); ++k)
                        EXPECT_NEAR(grad[k], expected[k], 1e-13 * scale) << "mode " << mode << " entry " << k;
                }
            }
}

TEST(SimdDispatch, RowExpOfEveryUnitIsRowExpBitForBit) {
    std::mt19937_64 rng(6);
    std::uniform_real_distribution<double> uniform(-730.0, 709.0);
    std::vector<double> v(5003);
    for (double& value : v) value = uniform(rng);
    const double special[] = {0.0,
                              -0.0,
                              -700.0,
                              -700.0000000001,
                              709.0,
                              -std::numeric_limits<double>::infinity(),
                              std::numeric_limits<double>::quiet_NaN(),
                              1e-300,
                              -0.34657359027997264};
    for (std::size_t k = 0; k < std::size(special); ++k) v[k * 7] = special[k];
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    for (const simd::Kernels* unit : units)
        for (std::ptrdiff_t length :
             {std::ptrdiff_t(1), std::ptrdiff_t(3), std::ptrdiff_t(9), std::ptrdiff_t(5003)}) {
            std::vector<double> out(v.begin(), v.begin() + length);
            unit->expInPlace(out.data(), length, detail::expconst::kTable.data());
            for (std::ptrdiff_t k = 0; k < length; ++k) {
                const double expected = detail::rowExp(v[static_cast<std::size_t>(k)]);
                ASSERT_EQ(std::memcmp(&out[static_cast<std::size_t>(k)], &expected, sizeof expected), 0)
                    << simd::levelName(unit->level) << " v " << v[static_cast<std::size_t>(k)];
            }
        }
}

// Distance in units in the last place (0 for equal values, including both zero).
double ulps(double got, double expected) {
    if (got == expected) return 0.0;
    const double step =
        std::abs(std::nextafter(expected, std::numeric_limits<double>::infinity()) - expected);
    return std::abs(got - expected) / step;
}

// Rows with ties, zeros of both signs, −∞ entries and values across many magnitudes.
std::vector<double> awkwardRow(std::size_t n, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> row(n);
    for (std::size_t j = 0; j < n; ++j)
        row[j] = normal(rng) * (j % 7 == 0 ? 1e-6 : (j % 11 == 0 ? 50.0 : 1.0));
    if (n > 5) row[5] = row[2];
    if (n > 8) row[8] = -0.0;
    if (n > 9) row[9] = 0.0;
    if (n > 12) row[12] = -std::numeric_limits<double>::infinity();
    return row;
}

std::vector<double> kindRow(std::size_t n, std::mt19937_64& rng) {
    std::vector<double> kind(n);
    for (double& k : kind) k = rng() % 3 == 0 ? 1.0 : 0.0;
    return kind;
}

TEST(SimdDispatch, RowPassesGiveThePortableBits) {
    const simd::Kernels* portable = simd::kernelsFor(simd::Level::Portable);
    std::mt19937_64 rng(9);
    const double circleParameters[5] = {80.0, 1.25, -0.25, 0.75, 0.25};
    for (const simd::Kernels* unit : availableUnits())
        for (std::size_t n :
             {std::size_t(1), std::size_t(7), std::size_t(16), std::size_t(37), std::size_t(1001)}) {
            const std::string what = std::string(simd::levelName(unit->level)) + " n " + std::to_string(n);
            const auto length = static_cast<std::ptrdiff_t>(n);
            const std::vector<double> values = awkwardRow(n, rng), other = awkwardRow(n, rng),
                                      kind = kindRow(n, rng);
            double expected[2], got[2];
            portable->splitMax(values.data(), kind.data(), length, &expected[0], &expected[1]);
            unit->splitMax(values.data(), kind.data(), length, &got[0], &got[1]);
            EXPECT_EQ(std::memcmp(expected, got, sizeof got), 0) << what << " max";
            portable->splitSum(values.data(), kind.data(), length, &expected[0], &expected[1]);
            unit->splitSum(values.data(), kind.data(), length, &got[0], &got[1]);
            EXPECT_EQ(std::memcmp(expected, got, sizeof got), 0) << what << " sum";
            std::vector<double> a = values, b = values;
            portable->splitShift(a.data(), kind.data(), length, 0.5, -3.0);
            unit->splitShift(b.data(), kind.data(), length, 0.5, -3.0);
            EXPECT_TRUE(sameBits(a, b)) << what << " shift";
            portable->splitScale(a.data(), values.data(), kind.data(), length, -0.25, 7.0);
            unit->splitScale(b.data(), values.data(), kind.data(), length, -0.25, 7.0);
            EXPECT_TRUE(sameBits(a, b)) << what << " scale";
            {
                std::vector<double> separate = values, fused(n), inPlace = values;
                double separateSums[2], fusedSums[2], inPlaceSums[2];
                portable->splitShift(separate.data(), kind.data(), length, 0.5, -3.0);
                portable->expInPlace(separate.data(), length, detail::expconst::kTable.data());
                portable->splitSum(separate.data(), kind.data(), length, &separateSums[0], &separateSums[1]);
                unit->splitShiftExpSum(fused.data(), values.data(), kind.data(), length, 0.5, -3.0,
                                       detail::expconst::kTable.data(), &fusedSums[0], &fusedSums[1]);
                unit->splitShiftExpSum(inPlace.data(), inPlace.data(), kind.data(), length, 0.5, -3.0,
                                       detail::expconst::kTable.data(), &inPlaceSums[0], &inPlaceSums[1]);
                EXPECT_TRUE(sameBits(separate, fused) && sameBits(separate, inPlace))
                    << what << " shift exp sum";
                EXPECT_EQ(std::memcmp(separateSums, fusedSums, sizeof fusedSums), 0)
                    << what << " shift exp sum";
                EXPECT_EQ(std::memcmp(separateSums, inPlaceSums, sizeof fusedSums), 0)
                    << what << " shift exp sum";
            }
            portable->splitAffine(a.data(), values.data(), kind.data(), length, 0.5, -0.25, -3.0, 7.0);
            unit->splitAffine(b.data(), values.data(), kind.data(), length, 0.5, -0.25, -3.0, 7.0);
            EXPECT_TRUE(sameBits(a, b)) << what << " affine";
            std::vector<int> labels(n);
            for (int& label : labels) label = static_cast<int>(rng() % 3) - 1;
            portable->sameLabelRow(labels.data(), -1, length, a.data());
            unit->sameLabelRow(labels.data(), -1, length, b.data());
            EXPECT_TRUE(sameBits(a, b)) << what << " same label";
            a = values;
            b = values;
            portable->addRow(a.data(), other.data(), length);
            unit->addRow(b.data(), other.data(), length);
            EXPECT_TRUE(sameBits(a, b)) << what << " add";
            portable->negatedSumProduct(a.data(), 0.3, values.data(), other.data(), length);
            unit->negatedSumProduct(b.data(), 0.3, values.data(), other.data(), length);
            EXPECT_TRUE(sameBits(a, b)) << what << " negated sum product";
            {  // the fused maxima: the bits of splitAffine, out[skip] = −∞, then splitMax
                const std::ptrdiff_t skip = length / 2;
                std::vector<double> separate(n), fused(n), inPlace = values;
                double separateTop[2], fusedTop[2], inPlaceTop[2];
                portable->splitAffine(separate.data(), values.data(), kind.data(), length, 0.5, -0.25, -3.0,
                                      7.0);
                separate[static_cast<std::size_t>(skip)] = -std::numeric_limits<double>::infinity();
                portable->splitMax(separate.data(), kind.data(), length, &separateTop[0], &separateTop[1]);
                unit->splitAffineMax(fused.data(), values.data(), kind.data(), length, 0.5, -0.25, -3.0, 7.0,
                                     skip, &fusedTop[0], &fusedTop[1]);
                unit->splitAffineMax(inPlace.data(), inPlace.data(), kind.data(), length, 0.5, -0.25, -3.0,
                                     7.0, skip, &inPlaceTop[0], &inPlaceTop[1]);
                EXPECT_TRUE(sameBits(separate, fused) && sameBits(separate, inPlace))
                    << what << " affine max";
                EXPECT_EQ(std::memcmp(separateTop, fusedTop, sizeof fusedTop), 0) << what << " affine max";
                EXPECT_EQ(std::memcmp(separateTop, inPlaceTop, sizeof fusedTop), 0) << what << " affine max";
                // skip < 0: nothing skipped
                portable->splitAffine(separate.data(), values.data(), kind.data(), length, 0.5, -0.25, -3.0,
                                      7.0);
                portable->splitMax(separate.data(), kind.data(), length, &separateTop[0], &separateTop[1]);
                unit->splitAffineMax(fused.data(), values.data(), kind.data(), length, 0.5, -0.25, -3.0, 7.0,
                                     -1, &fusedTop[0], &fusedTop[1]);
                EXPECT_TRUE(sameBits(separate, fused)) << what << " affine max, no skip";
                EXPECT_EQ(std::memcmp(separateTop, fusedTop, sizeof fusedTop), 0)
                    << what << " affine max, no skip";
            }
            portable->splitScaleProduct(a.data(), values.data(), other.data(), kind.data(), length, -0.25,
                                        7.0);
            unit->splitScaleProduct(b.data(), values.data(), other.data(), kind.data(), length, -0.25, 7.0);
            EXPECT_TRUE(sameBits(a, b)) << what << " scale product";
            std::vector<double> slopeA(n), slopeB(n);
            const std::ptrdiff_t anchor = length - 1;
            double topA[2], topB[2];
            portable->circleRow(values.data(), kind.data(), length, circleParameters, anchor, a.data(),
                                slopeA.data(), &topA[0], &topA[1]);
            unit->circleRow(values.data(), kind.data(), length, circleParameters, anchor, b.data(),
                            slopeB.data(), &topB[0], &topB[1]);
            EXPECT_TRUE(sameBits(a, b) && sameBits(slopeA, slopeB)) << what << " circle";
            EXPECT_EQ(std::memcmp(topA, topB, sizeof topB), 0) << what << " circle maxima";
            std::vector<double> unitValues(n);
            for (std::size_t j = 0; j < n; ++j) unitValues[j] = std::abs(std::tanh(values[j]));
            a = unitValues;
            b = unitValues;
            portable->log1pUnitRow(a.data(), length);
            unit->log1pUnitRow(b.data(), length);
            EXPECT_TRUE(sameBits(a, b)) << what << " log1p";
            portable->softplusRow(values.data(), length, detail::expconst::kTable.data(), a.data(),
                                  slopeA.data());
            unit->softplusRow(values.data(), length, detail::expconst::kTable.data(), b.data(),
                              slopeB.data());
            EXPECT_TRUE(sameBits(a, b) && sameBits(slopeA, slopeB)) << what << " softplus";
        }
}

TEST(SimdDispatch, RowPassesFollowTheirDefinition) {
    std::mt19937_64 rng(10);
    for (const simd::Kernels* unit :
         {simd::kernelsFor(simd::Level::Portable), simd::kernelsFor(simd::supportedLevel())}) {
        const std::size_t n = 203;
        const auto length = static_cast<std::ptrdiff_t>(n);
        const std::vector<double> values = awkwardRow(n, rng), kind = kindRow(n, rng);
        double top[2], sum[2];
        unit->splitMax(values.data(), kind.data(), length, &top[0], &top[1]);
        unit->splitSum(values.data(), kind.data(), length, &sum[0], &sum[1]);
        double expectedTop[2] = {-std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity()};
        double expectedSum[2] = {0.0, 0.0}, magnitude = 0.0;
        for (std::size_t j = 0; j < n; ++j) {
            const int k = kind[j] == 1.0 ? 0 : 1;
            expectedTop[k] = std::max(expectedTop[k], values[j]);
            expectedSum[k] += values[j];
            if (std::isfinite(values[j])) magnitude += std::abs(values[j]);
        }
        EXPECT_EQ(top[0], expectedTop[0]);
        EXPECT_EQ(top[1], expectedTop[1]);
        // the −∞ entry makes one sum −∞; the other is compared within its rounding
        for (int k = 0; k < 2; ++k) {
            if (std::isinf(expectedSum[k]))
                EXPECT_EQ(sum[k], expectedSum[k]);
            else
                EXPECT_NEAR(sum[k], expectedSum[k], 1e-14 * magnitude);
        }
        std::vector<double> out(n), slope(n);
        const double parameters[5] = {80.0, 1.25, -0.25, 0.75, 0.25};
        const std::ptrdiff_t anchor = 5;
        double circleTop[2];
        std::vector<double> similarity = values;  // finite: the maxima are compared too
        for (double& v : similarity)
            if (!std::isfinite(v)) v = 0.3;
        unit->circleRow(similarity.data(), kind.data(), length, parameters, anchor, out.data(), slope.data(),
                        &circleTop[0], &circleTop[1]);
        double expectedCircleTop[2] = {-std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity()};
        EXPECT_EQ(out[anchor], -std::numeric_limits<double>::infinity());
        for (std::size_t j = 0; j < n; ++j) {
            const bool positive = kind[j] == 1.0;
            const double s = similarity[j];
            // PML: α_p = relu(O_p − s), α_n = relu(s − O_n); z = −γ α_p (s − Δ_p) or γ α_n (s − Δ_n)
            const double alpha = positive ? std::max(1.25 - s, 0.0) : std::max(s + 0.25, 0.0);
            const double expectedSlope = (positive ? -80.0 : 80.0) * alpha;
            const double expectedExponent = expectedSlope * (s - (positive ? 0.75 : 0.25));
            EXPECT_EQ(slope[j], expectedSlope) << j;
            if (static_cast<std::ptrdiff_t>(j) == anchor) continue;
            EXPECT_EQ(out[j], expectedExponent) << j;
            double& circleMax = expectedCircleTop[positive ? 0 : 1];
            circleMax = std::max(circleMax, expectedExponent);
        }
        EXPECT_EQ(circleTop[0], expectedCircleTop[0]);
        EXPECT_EQ(circleTop[1], expectedCircleTop[1]);
        unit->splitAffine(out.data(), values.data(), kind.data(), length, 0.5, -0.25, -3.0, 7.0);
        for (std::size_t j = 0; j < n; ++j) {
            const double expected = kind[j] == 1.0 ? (values[j] - 0.5) * -0.25 : (values[j] + 3.0) * 7.0;
            EXPECT_TRUE(std::isnan(expected) ? std::isnan(out[j]) : out[j] == expected) << j;
        }
        std::vector<int> labels(n);
        for (int& label : labels) label = static_cast<int>(rng() % 4);
        unit->sameLabelRow(labels.data(), 2, length, out.data());
        for (std::size_t j = 0; j < n; ++j) EXPECT_EQ(out[j], labels[j] == 2 ? 1.0 : 0.0) << j;
        // log1p on [0, 1] against glibc, and softplus / σ against their definitions
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        std::vector<double> x(4003);
        for (std::size_t j = 0; j < x.size(); ++j)
            x[j] = j % 3 == 0 ? std::exp(-700.0 * uniform(rng))
                              : (j % 3 == 1 ? uniform(rng) : 1e-9 * uniform(rng));
        x[0] = 0.0;
        x[1] = 1.0;
        x[2] = std::sqrt(2.0) - 1.0;
        x[4] = std::numeric_limits<double>::denorm_min();
        std::vector<double> logs = x;
        unit->log1pUnitRow(logs.data(), static_cast<std::ptrdiff_t>(logs.size()));
        double worst = 0.0;
        for (std::size_t j = 0; j < x.size(); ++j) worst = std::max(worst, ulps(logs[j], std::log1p(x[j])));
        EXPECT_LE(worst, 2.0) << simd::levelName(unit->level);
        EXPECT_EQ(logs[0], 0.0);
        std::vector<double> v(1001);
        std::uniform_real_distribution<double> wide(-60.0, 60.0);
        for (double& value : v) value = wide(rng);
        v[0] = 0.0;
        v[1] = -0.0;
        v[2] = 800.0;
        v[3] = -800.0;
        std::vector<double> softplus(v.size()), sigma(v.size());
        unit->softplusRow(v.data(), static_cast<std::ptrdiff_t>(v.size()), detail::expconst::kTable.data(),
                          softplus.data(), sigma.data());
        double worstValue = 0.0, worstSlope = 0.0;
        for (std::size_t j = 0; j < v.size(); ++j) {
            const double e = std::exp(-std::abs(v[j]));
            const double expectedValue = std::max(v[j], 0.0) + std::log1p(e);
            const double expectedSlope = v[j] >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            if (std::abs(v[j]) > 700.0) {  // e flushed to 0 below e^−700: softplus = max(v, 0) exactly
                EXPECT_EQ(softplus[j], std::max(v[j], 0.0));
                EXPECT_EQ(sigma[j], v[j] > 0.0 ? 1.0 : 0.0);
                continue;
            }
            worstValue = std::max(worstValue, ulps(softplus[j], expectedValue));
            worstSlope = std::max(worstSlope, ulps(sigma[j], expectedSlope));
        }
        EXPECT_LE(worstValue, 8.0);
        EXPECT_LE(worstSlope, 8.0);
        EXPECT_EQ(softplus[0], std::log(2.0));
        EXPECT_EQ(sigma[0], 0.5);
    }
}

// std::mt19937_64's refill (NCE's bulk draws): integer operations, so every unit must give the
// standard engine's words exactly, block after block.
TEST(SimdDispatch, MersenneTwistOfEveryUnitIsStdMt19937_64) {
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    for (const simd::Kernels* k : units) {
        for (std::uint64_t seed : std::vector<std::uint64_t>{0, 5489, 0x123456789ABCDEF0}) {
            std::mt19937_64 reference(seed);
            // [rand.eng.mers] seeding, then the refills.
            std::vector<std::uint64_t> state(312), words(312);
            state[0] = seed;
            for (std::size_t i = 1; i < state.size(); ++i)
                state[i] = 6364136223846793005ULL * (state[i - 1] ^ (state[i - 1] >> 62)) + i;
            for (int block = 0; block < 4; ++block) {
                k->mersenneTwist64(state.data(), words.data());
                for (std::size_t i = 0; i < words.size(); ++i)
                    ASSERT_EQ(words[i], reference())
                        << simd::levelName(k->level) << " block " << block << " word " << i;
            }
        }
    }
}

TEST(SimdDispatch, RunningSumsOfEveryUnitAreThePlainSums) {
    std::mt19937_64 rng(53);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    for (std::ptrdiff_t n : {0, 1, 7, 8, 9, 16, 23, 100, 14745}) {
        std::vector<int> counts(static_cast<std::size_t>(n));
        for (int& count : counts) count = static_cast<int>(rng() % 5) - 1;  // negatives too
        std::vector<int> plain = counts;
        for (std::size_t c = 1; c < plain.size(); ++c) plain[c] += plain[c - 1];
        for (const simd::Kernels* unit : units) {
            std::vector<int> got = counts;
            unit->runningSums(got.data(), n);
            EXPECT_EQ(got, plain) << simd::levelName(unit->level) << " n " << n;
        }
    }
}

// The bucket sort's row kernels on every unit: rowRange is the plain loop's least and largest
// with NaN left out and reported, bucketCells the scalar cellOf, value for value, at the range's
// ends and over row lengths around the lane count.
// Batch hard's choice (dispatch.h: hardestPair) on every unit, the portable one included, against
// the definition's single scan: rows of 1 to 203 entries (partial groups of eight and four) with
// ties everywhere (values on a coarse grid), ±∞, NaN as the first candidate, among the others or
// everywhere, the anchor first in its class or alone in it, and rows without negatives.
TEST(SimdDispatch, HardestPairIsTheScan) {
    auto scan = [](const std::vector<double>& delta, const std::vector<int>& labels, int a) {
        int positive = -1, negative = -1;
        for (int j = 0; j < static_cast<int>(delta.size()); ++j) {
            if (labels[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(a)]) {
                if (j != a && (positive < 0 || delta[static_cast<std::size_t>(j)] >
                                                   delta[static_cast<std::size_t>(positive)]))
                    positive = j;
            } else if (negative < 0 ||
                       delta[static_cast<std::size_t>(j)] < delta[static_cast<std::size_t>(negative)]) {
                negative = j;
            }
        }
        return std::pair<int, int>{positive, negative};
    };
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr double infinity = std::numeric_limits<double>::infinity();
    std::mt19937_64 rng(61);
    std::uniform_int_distribution<int> grid(0, 6);
    int rows = 0, nanChosen = 0;
    for (int n : {1, 2, 7, 8, 9, 31, 64, 203})
        for (int kind = 0; kind < 8; ++kind)
            for (int trial = 0; trial < 6; ++trial) {
                std::vector<int> labels(static_cast<std::size_t>(n));
                for (int& label : labels) label = kind == 7 ? 4 : grid(rng) % 3;  // kind 7: one class
                std::vector<double> delta(static_cast<std::size_t>(n));
                for (double& value : delta) value = 0.5 * grid(rng);  // ties
                const int a = (trial * 37) % n;
                if (kind == 1)  // ±∞ among the values
                    for (int j = 0; j < n; j += 5)
                        delta[static_cast<std::size_t>(j)] = j % 2 ? infinity : -infinity;
                if (kind == 2 || kind == 3)  // NaN as the first entries (the first candidates, often)
                    for (int j = 0; j < std::min(n, kind); ++j) delta[static_cast<std::size_t>(j)] = nan;
                if (kind == 4)  // NaN among the others
                    for (int j = 3; j < n; j += 4) delta[static_cast<std::size_t>(j)] = nan;
                if (kind == 5)  // NaN everywhere
                    for (double& value : delta) value = nan;
                if (kind == 6)  // the anchor alone in its class
                    labels[static_cast<std::size_t>(a)] = 9;
                const auto [positive, negative] = scan(delta, labels, a);
                ++rows;
                nanChosen += (positive >= 0 && std::isnan(delta[static_cast<std::size_t>(positive)])) ||
                             (negative >= 0 && std::isnan(delta[static_cast<std::size_t>(negative)]));
                for (const simd::Kernels* unit : units) {
                    int gotPositive = -2, gotNegative = -2;
                    unit->hardestPair(delta.data(), labels.data(), a, n, &gotPositive, &gotNegative);
                    EXPECT_EQ(gotPositive, positive) << simd::levelName(unit->level) << " n " << n << " kind "
                                                     << kind << " trial " << trial;
                    EXPECT_EQ(gotNegative, negative) << simd::levelName(unit->level) << " n " << n << " kind "
                                                     << kind << " trial " << trial;
                }
            }
    EXPECT_GT(nanChosen, rows / 10);  // the NaN rule is exercised, not only the ordinary choice
}

TEST(SimdDispatch, RowRangeAndBucketCellsAreThePlainLoops) {
    std::mt19937_64 rng(59);
    std::uniform_real_distribution<double> uniform(-1.0, 3.0);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::ptrdiff_t n : {1, 7, 8, 9, 16, 23, 100, 4096}) {
        for (int withNaN : {0, 1}) {
            std::vector<double> values(static_cast<std::size_t>(n));
            for (double& v : values) v = uniform(rng);
            if (withNaN) values[static_cast<std::size_t>(n / 2)] = nan;
            double low = std::numeric_limits<double>::infinity(), high = -low;
            bool anyNaN = false;
            for (double v : values) {
                if (std::isnan(v)) {
                    anyNaN = true;
                    continue;
                }
                low = std::min(low, v);
                high = std::max(high, v);
            }
            for (const simd::Kernels* unit : units) {
                double gotLow = 0.0, gotHigh = 0.0;
                EXPECT_EQ(unit->rowRange(values.data(), n, &gotLow, &gotHigh), anyNaN)
                    << simd::levelName(unit->level) << " n " << n;
                EXPECT_EQ(gotLow, low) << simd::levelName(unit->level) << " n " << n;
                EXPECT_EQ(gotHigh, high) << simd::levelName(unit->level) << " n " << n;
            }
            if (withNaN) continue;
            // 4n cells, as the sorter makes them; the largest value lands exactly on the top cell's end.
            const int cells = 4 * static_cast<int>(n);
            const double scale = double(cells) / (high - low), top = double(cells - 1);
            std::vector<int> plain(static_cast<std::size_t>(n));
            for (std::size_t j = 0; j < plain.size(); ++j)
                plain[j] = static_cast<int>(std::min((values[j] - low) * scale, top));
            for (const simd::Kernels* unit : units) {
                std::vector<int> got(static_cast<std::size_t>(n), -1);
                unit->bucketCells(values.data(), n, low, scale, top, got.data());
                EXPECT_EQ(got, plain) << simd::levelName(unit->level) << " n " << n;
            }
        }
    }
}

// Lifted structure's fused row pass (dispatch.h: sameLabelAffine) on every unit: the bits of
// sameLabelRow then splitAffine, the passes it replaces, with ±∞ and NaN distances and row lengths
// around the lane count.
TEST(SimdDispatch, SameLabelAffineIsTheTwoPassesBitForBit) {
    std::mt19937_64 rng(67);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    const double infinity = std::numeric_limits<double>::infinity();
    for (std::ptrdiff_t n : {0, 1, 7, 8, 9, 17, 301})
        for (int classes : {1, 3}) {
            const auto size = static_cast<std::size_t>(n);
            std::vector<int> labels(size);
            std::vector<double> values(size);
            for (std::size_t j = 0; j < size; ++j) {
                labels[j] = static_cast<int>(rng() % static_cast<unsigned>(classes));
                const auto pick = rng() % 16;
                values[j] = pick == 0   ? infinity
                            : pick == 1 ? std::numeric_limits<double>::quiet_NaN()
                            : pick == 2 ? 0.0
                                        : std::uniform_real_distribution<double>(0.0, 5.0)(rng);
            }
            for (const simd::Kernels* unit : units) {
                std::vector<double> kind(size, -1.0), out(size, -1.0), twoPassKind(size, -1.0),
                    twoPassOut(size, -1.0);
                unit->sameLabelRow(labels.data(), 0, n, twoPassKind.data());
                unit->splitAffine(twoPassOut.data(), values.data(), twoPassKind.data(), n, infinity, 1.0, 0.0,
                                  -1.0);
                unit->sameLabelAffine(labels.data(), 0, values.data(), n, infinity, 1.0, 0.0, -1.0,
                                      kind.data(), out.data());
                for (std::size_t j = 0; j < size; ++j) {
                    EXPECT_EQ(kind[j], twoPassKind[j])
                        << simd::levelName(unit->level) << " n " << n << " j " << j;
                    EXPECT_EQ(std::memcmp(&out[j], &twoPassOut[j], sizeof(double)), 0)
                        << simd::levelName(unit->level) << " n " << n << " j " << j << ": " << out[j]
                        << " vs " << twoPassOut[j];
                }
            }
        }
}

// NCE's packing of the drawn negatives (dispatch.h: packDrawn) on every unit against a plain
// loop over its definition: rows of every length around the vector width, one to all points
// negatives (or none), from none to all drawn; only the kept entries are compared.
TEST(SimdDispatch, PackDrawnKeepsTheDrawnNegativesInOrderOnEveryUnit) {
    std::mt19937_64 rng(61);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    const double scale = 1.0 / 0.07;
    for (std::ptrdiff_t n : {0, 1, 7, 8, 9, 15, 16, 17, 40, 301, 4096})
        for (int classes : {1, 2, 3, 10})
            for (double drawRate : {0.0, 0.3, 1.0}) {
                const auto size = static_cast<std::size_t>(n);
                std::vector<int> labels(size);
                std::vector<double> row(size);
                std::vector<int> draws(size, -1);
                for (std::size_t j = 0; j < size; ++j) {
                    labels[j] = static_cast<int>(rng() % static_cast<unsigned>(classes));
                    row[j] = std::uniform_real_distribution<double>(-1.0, 1.0)(rng);
                }
                const int label = 0;
                // draws[t] for the t-th negative: 0 (not drawn) or a count.
                std::vector<int> expectedIndices;
                std::vector<double> expectedTimes, expectedInputs;
                std::size_t t = 0;
                for (std::size_t j = 0; j < size; ++j) {
                    if (labels[j] == label) continue;
                    const bool drawn = std::uniform_real_distribution<double>(0.0, 1.0)(rng) < drawRate;
                    draws[t] = drawn ? static_cast<int>(1 + rng() % 4) : 0;
                    if (drawn) {
                        expectedIndices.push_back(static_cast<int>(j));
                        expectedTimes.push_back(draws[t]);
                        expectedInputs.push_back(row[j] * scale);
                    }
                    ++t;
                }
                for (const simd::Kernels* unit : units) {
                    std::vector<double> packedTimes(size, 0.0), inputs(size, 0.0);
                    std::vector<int> indices(size, -1);
                    const int kept = unit->packDrawn(labels.data(), label, n, row.data(), scale, draws.data(),
                                                     packedTimes.data(), indices.data(), inputs.data());
                    const std::string where = std::string(simd::levelName(unit->level)) + " n " +
                                              std::to_string(n) + " classes " + std::to_string(classes);
                    ASSERT_EQ(kept, static_cast<int>(expectedIndices.size())) << where;
                    for (int k = 0; k < kept; ++k) {
                        const auto at = static_cast<std::size_t>(k);
                        EXPECT_EQ(indices[at], expectedIndices[at]) << where << " k " << k;
                        EXPECT_EQ(packedTimes[at], expectedTimes[at]) << where << " k " << k;
                        EXPECT_EQ(inputs[at], expectedInputs[at]) << where << " k " << k;
                    }
                }
            }
}

// The contrastive losses' rows (dispatch.h: contrastiveRow, hadsellRow) on every unit against
// their definitions written as plain loops: slopes bit for bit, sums in the 8 lanes' tree, counts
// exact; rows starting anywhere (the anchor's b > a), values at the margins and zeros of both signs.
TEST(SimdDispatch, ContrastiveRowsFollowTheirDefinitionOnEveryUnit) {
    std::mt19937_64 rng(59);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    const double mp = 0.25, mn = 1.5;
    int compared = 0;
    for (std::ptrdiff_t n : {1, 9, 40, 301})
        for (std::ptrdiff_t first : {std::ptrdiff_t{0}, std::ptrdiff_t{1}, n / 2}) {
            std::vector<double> row(static_cast<std::size_t>(n));
            std::vector<int> labels(static_cast<std::size_t>(n));
            for (std::ptrdiff_t j = 0; j < n; ++j) {
                const double pick = normal(rng);
                row[static_cast<std::size_t>(j)] = pick > 1.5    ? mp
                                                   : pick < -1.5 ? mn
                                                   : pick > 1.2  ? -0.0
                                                   : pick < -1.2 ? 0.0
                                                                 : 2.0 * std::abs(normal(rng));
                labels[static_cast<std::size_t>(j)] = static_cast<int>(rng() % 3);
            }
            const int label = 1;
            for (bool similarity : {false, true}) {
                const double s = similarity ? -1.0 : 1.0;
                double lanes[2][8] = {};
                std::int64_t counts[3] = {};
                std::vector<double> positiveSlope(row.size(), 7.0), negativeSlope(row.size(), 7.0);
                for (std::ptrdiff_t j = first; j < n; ++j) {
                    const double m = row[static_cast<std::size_t>(j)];
                    const bool same = labels[static_cast<std::size_t>(j)] == label;
                    const double p = same ? 1.0 : 0.0, q = 1.0 - p;
                    const double v = p * (similarity ? mp - m : m - mp) + q * (similarity ? m - mn : mn - m);
                    const double term = v + std::abs(v);
                    lanes[0][(j - first) % 8] += p * term;
                    lanes[1][(j - first) % 8] += q * term;
                    counts[0] += same;
                    counts[1] += same && v > 0.0;
                    counts[2] += !same && v > 0.0;
                    const double slope = (v > 0.0 ? 2.0 : 0.0) * (p * s - q * s);
                    positiveSlope[static_cast<std::size_t>(j)] = p * slope;
                    negativeSlope[static_cast<std::size_t>(j)] = q * slope;
                }
                double sums[2];
                for (int k = 0; k < 2; ++k) {
                    const double* l = lanes[k];
                    sums[k] = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
                }
                for (const simd::Kernels* unit : units) {
                    const std::string what = std::string(simd::levelName(unit->level)) + " n " +
                                             std::to_string(n) + " first " + std::to_string(first) +
                                             (similarity ? " similarity" : "");
                    std::vector<double> gotPositive(row.size(), 7.0), gotNegative(row.size(), 7.0);
                    double gotSums[2];
                    std::int64_t gotCounts[3];
                    unit->contrastiveRow(row.data(), labels.data(), label, first, n, mp, mn, similarity,
                                         gotPositive.data(), gotNegative.data(), gotSums, gotCounts);
                    EXPECT_TRUE(sameBits(gotPositive, positiveSlope)) << what;
                    EXPECT_TRUE(sameBits(gotNegative, negativeSlope)) << what;
                    EXPECT_TRUE(sameBits({gotSums[0], gotSums[1]}, {sums[0], sums[1]})) << what;
                    EXPECT_EQ(std::vector<std::int64_t>(gotCounts, gotCounts + 3),
                              std::vector<std::int64_t>(counts, counts + 3))
                        << what;
                    ++compared;
                }
            }
            // Hadsell's form, the margin mn.
            double lanes[8] = {};
            std::int64_t active = 0;
            std::vector<double> slope(row.size(), 7.0);
            for (std::ptrdiff_t j = first; j < n; ++j) {
                const double d = row[static_cast<std::size_t>(j)], gap = mn - d;
                const double shortfall = gap > 0.0 ? gap : 0.0;
                const bool same = labels[static_cast<std::size_t>(j)] == label;
                const double term = same ? 0.5 * d * d : 0.5 * shortfall * shortfall;
                lanes[(j - first) % 8] += term;
                active += term > 0.0;
                slope[static_cast<std::size_t>(j)] = same ? d : -shortfall;
            }
            const double sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                               ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
            for (const simd::Kernels* unit : units) {
                std::vector<double> gotSlope(row.size(), 7.0);
                double gotSum = 0.0;
                std::int64_t gotActive = -1;
                unit->hadsellRow(row.data(), labels.data(), label, first, n, mn, gotSlope.data(), &gotSum,
                                 &gotActive);
                const std::string what =
                    std::string(simd::levelName(unit->level)) + " Hadsell n " + std::to_string(n);
                EXPECT_TRUE(sameBits(gotSlope, slope)) << what;
                EXPECT_TRUE(sameBits({gotSum}, {sum})) << what;
                EXPECT_EQ(gotActive, active) << what;
            }
        }
    EXPECT_EQ(compared, 4 * 3 * 2 * static_cast<int>(units.size()));
}

TEST(SimdDispatch, TheCapChoosesTheUnit) {
    const simd::Level best = simd::supportedLevel();
    {
        const SimdCap cap(simd::Level::Portable);
        EXPECT_EQ(simd::kernels().level, simd::Level::Portable);
    }
    const SimdCap cap(simd::Level::Avx512);
    EXPECT_EQ(simd::kernels().level, best);  // never above what the CPU has
}

// ctest runs this once more with MARGINLAB_SIMD=portable (tests/engine/CMakeLists.txt).
TEST(SimdDispatch, TheEnvironmentCapsTheStartingUnit) {
    const char* value = std::getenv("MARGINLAB_SIMD");
    if (value && std::string(value) == "portable") {
        EXPECT_EQ(simd::kernels().level, simd::Level::Portable);
    } else if (!value) {
        EXPECT_EQ(simd::kernels().level, simd::supportedLevel());
    }
}

TEST(SimdDispatch, MinersChooseTheSameTripletsOnEveryUnit) {
    const Points x = testing::randomPoints(700, 3, 8);
    const Labels y = testing::randomLabels(700, 6, 9);
    for (const char* name : {"batch_hard", "tfa_semihard", "facenet_semihard", "batch_easy_hard"}) {
        std::string error;
        const auto miner = makeMiner(MinerConfig{name, {}, std::nullopt}, &error);
        ASSERT_TRUE(miner) << error;
        std::vector<Triplet> portable;
        {
            const SimdCap cap(simd::Level::Portable);
            portable = miner->mine(MinerInput{x, y, 5}).triplets;
        }
        ASSERT_FALSE(portable.empty()) << name;
        for (const simd::Kernels* unit : availableUnits()) {
            const SimdCap cap(unit->level);
            EXPECT_TRUE(miner->mine(MinerInput{x, y, 5}).triplets == portable)
                << name << " " << simd::levelName(unit->level);
        }
    }
}

// The batch-all sweep (dispatch.h: tripletSweep, AVX2 and AVX-512), with and without the filters of
// TripletMarginMiner: every unit gives the portable loop's counts, coefficients and violation
// bit for bit, on rows made to hit its rare cases:
// gaps exactly at 0 and at the margin (values on a grid of the margin's quarters), crowded cells
// (a cluster of equal positives), NaN and ±∞ among the negatives, and negative counts that leave
// a partial group of eight.
struct SweepResult {
    detail::TripletSweepTotals totals;
    std::vector<double> coefficients;
};

SweepResult sweepRows(const std::vector<std::vector<double>>& rows, const Labels& labels,
                      bool semiIncludesMargin, const TripletGapFilter* filter) {
    detail::TripletSweepOptions options;
    options.margin = 0.5;
    options.semiHardIncludesMargin = semiIncludesMargin;
    options.filter = filter;
    detail::TripletSweep sweep(options, labels);
    SweepResult out;
    std::vector<double> coefficients(labels.size());
    for (std::size_t a = 0; a < rows.size(); ++a) {
        sweep.anchor(static_cast<int>(a), rows[a].data(), a % 2 ? -1.0 : 1.0, labels, &out.totals,
                     coefficients.data());
        out.coefficients.insert(out.coefficients.end(), coefficients.begin(), coefficients.end());
    }
    return out;
}

TEST(SimdDispatch, BatchAllSweepGivesThePortableBits) {
    const int n = 203;  // 8·25 + 3 negatives and positives per anchor, give or take a class
    const Labels labels = testing::randomLabels(n, 3, 21);
    std::mt19937_64 rng(22);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<std::vector<double>> rows;
    for (int a = 0; a < 40; ++a) {
        std::vector<double> row(static_cast<std::size_t>(n));
        for (double& v : row) {
            v = normal(rng);
            if (a % 4 == 1) v = std::round(v * 8.0) / 8.0;     // ties at gap 0 and gap = margin
            if (a % 4 == 2 && normal(rng) < 0.0) v = 0.125;    // a crowded cell
            if (a % 4 == 3) v *= std::exp(6.0 * normal(rng));  // many binades
        }
        if (a % 5 == 0) {
            row[static_cast<std::size_t>((a * 7) % n)] = std::numeric_limits<double>::quiet_NaN();
            row[static_cast<std::size_t>((a * 11 + 1) % n)] = std::numeric_limits<double>::infinity();
            row[static_cast<std::size_t>((a * 13 + 2) % n)] = -std::numeric_limits<double>::infinity();
        }
        rows.push_back(std::move(row));
    }
    // No filter, then TripletMarginMiner's kept ranges: "all" (gap ≤ 0.75), "semihard" (0 < gap
    // ≤ 0.75), a strict high bound (gap < 0.75), and "hard" (gap ≤ 0) and "easy" (gap > 0.75),
    // whose lookups the vector unit makes beforehand for the generic loop.
    std::vector<std::optional<TripletGapFilter>> filters{std::nullopt};
    TripletGapFilter all;
    all.high = 0.75;
    filters.push_back(all);
    TripletGapFilter semiHard = all;
    semiHard.low = 0.0;
    filters.push_back(semiHard);
    TripletGapFilter strictHigh = all;
    strictHigh.includeHigh = false;
    filters.push_back(strictHigh);
    TripletGapFilter hard;
    hard.high = 0.0;
    filters.push_back(hard);
    TripletGapFilter easy;
    easy.low = 0.75;
    filters.push_back(easy);
    for (std::size_t f = 0; f < filters.size(); ++f)
        for (const bool semiIncludesMargin : {true, false}) {
            const TripletGapFilter* kept = filters[f] ? &*filters[f] : nullptr;
            SweepResult portable;
            {
                const SimdCap cap(simd::Level::Portable);
                portable = sweepRows(rows, labels, semiIncludesMargin, kept);
            }
            ASSERT_GT(portable.totals.tuples, 0);
            if (f < 4) {
                ASSERT_GT(portable.totals.active, 0);
            }
            if (f < 2) {
                ASSERT_GT(portable.totals.easy, 0);
            }
            for (const simd::Kernels* unit : availableUnits()) {
                const SimdCap cap(unit->level);
                const SweepResult got = sweepRows(rows, labels, semiIncludesMargin, kept);
                const std::string name =
                    std::string(simd::levelName(unit->level)) + ", filter " + std::to_string(f);
                EXPECT_EQ(got.totals.tuples, portable.totals.tuples) << name;
                EXPECT_EQ(got.totals.active, portable.totals.active) << name;
                EXPECT_EQ(got.totals.easy, portable.totals.easy) << name;
                EXPECT_EQ(got.totals.semiHard, portable.totals.semiHard) << name;
                EXPECT_EQ(got.totals.hard, portable.totals.hard) << name;
                EXPECT_TRUE(sameBits({got.totals.violation}, {portable.totals.violation})) << name;
                EXPECT_TRUE(sameBits(got.coefficients, portable.coefficients)) << name;
            }
        }
}

TEST(SimdDispatch, BatchAllTripletLossGivesThePortableBits) {
    const Points x = testing::randomPoints(900, 2, 31);
    const Labels y = testing::randomLabels(900, 10, 32);
    std::string error;
    const auto loss = makeLoss(LossConfig{"triplet_margin", {}, std::nullopt}, &error);
    ASSERT_TRUE(loss) << error;
    const LossInput input{x, y, nullptr, nullptr, 1};
    LossOutput portable;
    {
        const SimdCap cap(simd::Level::Portable);
        portable = loss->evaluate(input, true);
    }
    ASSERT_GT(portable.value, 0.0);
    for (const simd::Kernels* unit : availableUnits()) {
        const SimdCap cap(unit->level);
        const LossOutput got = loss->evaluate(input, true);
        EXPECT_TRUE(sameBits({got.value}, {portable.value})) << simd::levelName(unit->level);
        EXPECT_EQ(0, std::memcmp(got.gradEmbeddings.data(), portable.gradEmbeddings.data(),
                                 sizeof(double) * static_cast<std::size_t>(got.gradEmbeddings.size())))
            << simd::levelName(unit->level);
    }
}

// RankedValues::countBelowMany (dispatch.h: countBelow, the TF-Addons semi-hard miner's ranks):
// the plain count #{x < z} on every unit, for positives with ties, a crowded cell and values over
// many binades, queried at the values themselves, their neighbours, beyond them and at ±∞.
TEST(SimdDispatch, RankQueriesGiveThePlainCounts) {
    std::mt19937_64 rng(41);
    std::normal_distribution<double> normal(0.0, 1.0);
    constexpr double infinity = std::numeric_limits<double>::infinity();
    for (int kind = 0; kind < 4; ++kind) {
        std::vector<std::pair<double, int>> items;
        for (int k = 0; k < 150; ++k) {
            double v = normal(rng);
            if (kind == 1) v = std::round(v * 8.0) / 8.0;
            if (kind == 2 && normal(rng) < 0.0) v = 0.125;
            if (kind == 3) v *= std::exp(6.0 * normal(rng));
            items.emplace_back(v, k);
        }
        std::vector<double> values;
        for (const auto& [v, k] : items) {
            values.push_back(v);
            values.push_back(std::nextafter(v, -infinity));
            values.push_back(std::nextafter(v, infinity));
            values.push_back(v + normal(rng));
        }
        for (double v : {-infinity, infinity, -1e300, 1e300, 0.0, -0.0}) values.push_back(v);
        values.push_back(0.5);  // 607 queries: a partial last group of eight
        ASSERT_EQ(values.size() % 8, 7u);
        std::vector<int> plain(values.size());
        for (std::size_t t = 0; t < values.size(); ++t)
            for (const auto& item : items) plain[t] += item.first < values[t];
        detail::RankedValues ranked;
        ranked.assign(&items);
        for (const simd::Kernels* unit : availableUnits()) {
            const SimdCap cap(unit->level);
            std::vector<int> ranks(values.size(), -1);
            ranked.countBelowMany(values.data(), static_cast<int>(values.size()), ranks.data());
            for (std::size_t t = 0; t < values.size(); ++t)
                ASSERT_EQ(ranks[t], plain[t]) << simd::levelName(unit->level) << ", positives of kind "
                                              << kind << ", z = " << values[t];
        }
    }
}

// The vector unit's boundary lookups (gapBoundaries, and through the same code the sweep's) skip
// reading a cell's neighbours where the cell's place proves their answers (sweep_avx512.cpp,
// prove): queries placed within ulps of the bound from a positive and of the cells' edges, on
// tables with duplicates, a wide range and a large offset, must still give the plain boundaries.
TEST(SimdDispatch, GapBoundariesGiveThePlainBoundariesNearEdges) {
    std::vector<const simd::Kernels*> units;
    for (const simd::Kernels* unit : availableUnits())
        if (unit->gapBoundaries) units.push_back(unit);
    if (units.empty()) GTEST_SKIP() << "no vector sweep kernels on this CPU";
    std::mt19937_64 rng(47);
    std::normal_distribution<double> normal(0.0, 1.0);
    constexpr double infinity = std::numeric_limits<double>::infinity();
    int checked = 0;
    for (int kind = 0; kind < 6; ++kind) {
        std::vector<double> values;
        if (kind == 5) {
            // 128 values in [0, 1]: 512 cells of exactly 1/512, every other value one ulp below a
            // cell's edge, where the gap to a query in the next cell can round onto the bound.
            values = {0.0, 1.0};
            for (int c = 1; values.size() < 128; c += 3) values.push_back(std::nextafter(c / 512.0, -1.0));
        }
        for (int k = 0; k < (kind == 5 ? 0 : 120); ++k) {
            double v = normal(rng);
            if (kind == 1) v = std::round(v * 8.0) / 8.0;
            if (kind == 2) v *= std::exp(6.0 * normal(rng));
            if (kind == 3) v = 1e6 + v;
            if (kind == 4) v = std::abs(v) * 1e-3;
            values.push_back(v);
        }
        std::sort(values.begin(), values.end());
        const int n = static_cast<int>(values.size());
        std::vector<double> sorted(static_cast<std::size_t>(n + detail::GapLocator::kPadding + 2), infinity);
        sorted[0] = -infinity;
        std::copy(values.begin(), values.end(), sorted.begin() + 1);
        detail::GapLocator locator;
        locator.assign(sorted.data() + 1, n);
        const detail::GapTable& table = locator.table();
        ASSERT_GT(table.cells, 0);
        const simd::CellTable cells{table.sorted, table.size, table.low,
                                    table.scale,  table.top,  table.cellStart};
        for (double bound : {0.05, 0.2, 0.0, -0.3, 1.0 / 3.0, 1e-9, 2.5}) {
            std::vector<double> queries;
            auto around = [&](double z) {  // z and three ulps either side
                queries.push_back(z);
                double below = z, above = z;
                for (int k = 0; k < 3; ++k) {
                    queries.push_back(below = std::nextafter(below, -infinity));
                    queries.push_back(above = std::nextafter(above, infinity));
                }
            };
            for (double x : values) around(x + bound);
            for (int c = 0; c <= table.cells; c += 7) around(table.low + c / table.scale + bound);
            for (double z : {-infinity, infinity, -1e300, 1e300, 0.0, -0.0, std::nan("")})
                queries.push_back(z);
            for (const simd::Kernels* unit : units) {
                std::vector<int> strict(queries.size(), -1), inclusive(queries.size(), -1);
                unit->gapBoundaries(cells, queries.data(), static_cast<int>(queries.size()), bound,
                                    strict.data(), inclusive.data());
                for (std::size_t t = 0; t < queries.size(); ++t) {
                    const double z = queries[t];
                    int plainStrict = n, plainInclusive = n;
                    for (int k = n - 1; k >= 0; --k) {
                        if (z - values[static_cast<std::size_t>(k)] < bound) plainStrict = k;
                        if (z - values[static_cast<std::size_t>(k)] <= bound) plainInclusive = k;
                    }
                    const std::string where = std::string(simd::levelName(unit->level)) + ", kind " +
                                              std::to_string(kind) + ", bound " + std::to_string(bound);
                    ASSERT_EQ(strict[t], plainStrict) << where << " z " << z;
                    ASSERT_EQ(inclusive[t], plainInclusive) << where << " z " << z;
                    ++checked;
                }
            }
        }
    }
    EXPECT_GT(checked, static_cast<int>(units.size()) * 6 * 7 * 800);
}

// The TF-Addons semi-hard miner, whose ranks come from that kernel: the same triplets on every unit.
TEST(SimdDispatch, TfaSemiHardMinerGivesThePortableTriplets) {
    const Points x = testing::randomPoints(700, 2, 43);
    const Labels y = testing::randomLabels(700, 6, 44);
    std::string error;
    const auto miner = makeMiner(MinerConfig{"tfa_semihard", {}, std::nullopt}, &error);
    ASSERT_TRUE(miner) << error;
    Tuples portable;
    {
        const SimdCap cap(simd::Level::Portable);
        portable = miner->mine(MinerInput{x, y, 7});
    }
    ASSERT_GT(portable.triplets.size(), 0u);
    for (const simd::Kernels* unit : availableUnits()) {
        const SimdCap cap(unit->level);
        EXPECT_EQ(miner->mine(MinerInput{x, y, 7}).triplets, portable.triplets)
            << simd::levelName(unit->level);
    }
}

// The factorized angular loss's products (dispatch.h: gramLowerUpdate, productRows): every unit
// against the plain loops of their definition, bit for bit, on shapes with ragged edges (cols
// not a multiple of any unit's register tile, rows of 1 to a few tiles), signed zeros, and
// products spanning many binades. The units with FMA fuse each step (std::fma), the portable unit
// multiplies and adds.
std::vector<double> productOperand(std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,
                                   std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> b(static_cast<std::size_t>(rows * stride), 0.0);
    for (std::ptrdiff_t n = 0; n < rows; ++n)
        for (std::ptrdiff_t i = 0; i < cols; ++i)
            b[static_cast<std::size_t>(n * stride + i)] =
                std::exp(4.0 * normal(rng)) * (normal(rng) < 0 ? -1.0 : 1.0);
    if (rows > 2 && cols > 3) {
        b[static_cast<std::size_t>(stride + 2)] = -0.0;
        b[static_cast<std::size_t>(2 * stride + 3)] = 0.0;
    }
    return b;
}

TEST(SimdDispatch, AngularProductsFollowTheirDefinitionOnEveryUnit) {
    std::mt19937_64 rng(12);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    int compared = 0;
    // cols 300: three chunks of the sum over p (kernels_impl.h), and a padded width of 304 that
    // leaves columns beyond AVX-512's widest tile
    for (std::ptrdiff_t cols : {1, 2, 5, 16, 23, 47, 100, 300})
        for (std::ptrdiff_t rows : {1, 3, 7, 30}) {
            const std::ptrdiff_t stride = (cols + 15) / 16 * 16;
            const std::vector<double> b = productOperand(rows, cols, stride, rng);
            std::vector<double> start(static_cast<std::size_t>(cols * stride));
            for (double& value : start) value = normal(rng);
            std::vector<double> w(static_cast<std::size_t>(cols * stride));
            for (double& value : w) value = normal(rng);
            // The plain loops, with separate multiplies and adds or fused ones.
            auto step = [](bool fused, double sum, double x, double y) {
                return fused ? std::fma(x, y, sum) : sum + x * y;
            };
            std::vector<double> grams[2], products[2];
            for (const bool fused : {false, true}) {
                std::vector<double>& gram = grams[fused];
                std::vector<double>& product = products[fused];
                gram = start;
                product.assign(static_cast<std::size_t>(rows * stride), 0.0);
                for (std::ptrdiff_t a = 0; a < cols; ++a)
                    for (std::ptrdiff_t p = 0; p < stride; ++p) {
                        double& sum = gram[static_cast<std::size_t>(a * stride + p)];
                        for (std::ptrdiff_t n = 0; n < rows; ++n)
                            sum = step(fused, sum, b[static_cast<std::size_t>(n * stride + a)],
                                       b[static_cast<std::size_t>(n * stride + p)]);
                    }
                for (std::ptrdiff_t n = 0; n < rows; ++n)
                    for (std::ptrdiff_t i = 0; i < stride; ++i) {
                        double sum = 0.0;
                        for (std::ptrdiff_t p = 0; p < cols; ++p)
                            sum = step(fused, sum, b[static_cast<std::size_t>(n * stride + p)],
                                       w[static_cast<std::size_t>(p * stride + i)]);
                        product[static_cast<std::size_t>(n * stride + i)] = sum;
                    }
            }
            // The two forms must differ somewhere, or this test could not tell them apart.
            if (cols == 300 && rows == 30) {
                EXPECT_FALSE(sameBits(products[0], products[1]));
            }
            for (const simd::Kernels* unit : units) {
                const bool fused = unit->level != simd::Level::Portable;
                const std::vector<double>& gram = grams[fused];
                const std::vector<double>& product = products[fused];
                const std::string what = std::string(simd::levelName(unit->level)) + " cols " +
                                         std::to_string(cols) + " rows " + std::to_string(rows);
                std::vector<double> gotGram = start;
                unit->gramLowerUpdate(b.data(), rows, cols, stride, gotGram.data());
                for (std::ptrdiff_t a = 0; a < cols; ++a)
                    for (std::ptrdiff_t p = 0; p < stride; ++p) {
                        const double got = gotGram[static_cast<std::size_t>(a * stride + p)];
                        const double expected = gram[static_cast<std::size_t>(a * stride + p)];
                        const double before = start[static_cast<std::size_t>(a * stride + p)];
                        // on and below the diagonal: the plain loop's bits; above it (which
                        // entries depends on the unit's tile): untouched or the plain loop's bits
                        if (p <= a || std::memcmp(&got, &before, sizeof got) != 0) {
                            ASSERT_EQ(std::memcmp(&got, &expected, sizeof got), 0)
                                << what << " a " << a << " p " << p;
                        }
                    }
                std::vector<double> gotProduct(product.size(), -1.0);
                unit->productRows(b.data(), rows, cols, stride, w.data(), gotProduct.data());
                EXPECT_TRUE(sameBits(gotProduct, product)) << what;
                ++compared;
            }
        }
    EXPECT_EQ(compared, 32 * static_cast<int>(units.size()));
}

TEST(SimdDispatch, AngularProductsAgreeAcrossUnitsOnLargeBlocks) {
    // Blocks of the size the angular loss uses (hundreds of columns, tens of rows): the units with
    // FMA give the same bits as each other, and the portable unit's unfused sums agree with them
    // within dispatch.h's bound, n·2⁻⁵³ of the sum of the terms' magnitudes (n terms; with a
    // factor 4 to spare).
    const simd::Kernels* portable = simd::kernelsFor(simd::Level::Portable);
    std::mt19937_64 rng(13);
    std::normal_distribution<double> normal(0.0, 1.0);
    const std::vector<const simd::Kernels*> units = availableUnits();
    auto close = [](const std::vector<double>& got, const std::vector<double>& expected,
                    const std::vector<double>& magnitude, std::ptrdiff_t terms) {
        for (std::size_t e = 0; e < got.size(); ++e)
            if (!(std::abs(got[e] - expected[e]) <= 4.0 * double(terms) * 0x1p-53 * magnitude[e])) return false;
        return true;
    };
    for (std::ptrdiff_t cols : {410, 333}) {
        const std::ptrdiff_t stride = (cols + 15) / 16 * 16, rows = 78;
        const std::vector<double> b = productOperand(rows, cols, stride, rng);
        std::vector<double> w(static_cast<std::size_t>(cols * stride));
        for (double& value : w) value = normal(rng);
        std::vector<double> absB(b.size()), absW(w.size());
        std::transform(b.begin(), b.end(), absB.begin(), [](double v) { return std::abs(v); });
        std::transform(w.begin(), w.end(), absW.begin(), [](double v) { return std::abs(v); });
        // Twice: the Gram update accumulates. The lower triangle is compared (the rest depends on
        // the unit's tile).
        auto gramOf = [&](const simd::Kernels* unit, const std::vector<double>& operand) {
            std::vector<double> gram(static_cast<std::size_t>(cols * stride), 0.0);
            unit->gramLowerUpdate(operand.data(), rows, cols, stride, gram.data());
            unit->gramLowerUpdate(operand.data(), rows, cols, stride, gram.data());
            for (std::ptrdiff_t a = 0; a < cols; ++a)
                std::fill(gram.begin() + a * stride + a + 1, gram.begin() + (a + 1) * stride, 0.0);
            return gram;
        };
        auto productOf = [&](const simd::Kernels* unit, const std::vector<double>& left,
                             const std::vector<double>& right) {
            std::vector<double> product(static_cast<std::size_t>(rows * stride));
            unit->productRows(left.data(), rows, cols, stride, right.data(), product.data());
            return product;
        };
        const std::vector<double> gramPortable = gramOf(portable, b), gramMagnitude = gramOf(portable, absB);
        const std::vector<double> productPortable = productOf(portable, b, w),
                                  productMagnitude = productOf(portable, absB, absW);
        for (const simd::Kernels* unit : units) {
            const std::string what = std::string(simd::levelName(unit->level)) + " cols " + std::to_string(cols);
            const std::vector<double> gram = gramOf(unit, b), product = productOf(unit, b, w);
            EXPECT_TRUE(close(gram, gramPortable, gramMagnitude, 2 * rows)) << what;
            EXPECT_TRUE(close(product, productPortable, productMagnitude, cols)) << what;
            EXPECT_FALSE(sameBits(product, productPortable)) << what << ": fused sums should round differently";
            EXPECT_TRUE(sameBits(gram, gramOf(units.front(), b))) << what;
            EXPECT_TRUE(sameBits(product, productOf(units.front(), b, w))) << what;
        }
    }
}

// The rows around those products (dispatch.h: affineColumnsRow, weightedPullRows): every unit
// against the plain loops of their definition, bit for bit, for the written-out dimensions (2, 3)
// and the general loop, on widths that are not a multiple of any unit's vector.
TEST(SimdDispatch, AngularRowsFollowTheirDefinitionOnEveryUnit) {
    std::mt19937_64 rng(14);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<const simd::Kernels*> units = availableUnits();
    units.push_back(simd::kernelsFor(simd::Level::Portable));
    auto draw = [&](std::size_t size) {
        std::vector<double> out(size);
        for (double& value : out) value = std::exp(3.0 * normal(rng)) * (normal(rng) < 0 ? -1.0 : 1.0);
        return out;
    };
    int compared = 0;
    for (std::ptrdiff_t dims : {1, 2, 3, 5})
        for (std::ptrdiff_t m : {1, 7, 23, 100}) {
            const std::ptrdiff_t stride = (m + 15) / 16 * 16, rows = 9;
            const std::vector<double> columns = draw(static_cast<std::size_t>(dims * stride));
            const std::vector<double> points = draw(static_cast<std::size_t>(rows * dims));
            const std::vector<double> q = draw(static_cast<std::size_t>(rows * stride));
            const std::vector<double> e = draw(static_cast<std::size_t>(rows * stride));
            const std::vector<double> pulledStart = draw(static_cast<std::size_t>(dims * stride));
            const double scale = 2.8, shift = 1.7;
            // The plain loops.
            std::vector<double> row(static_cast<std::size_t>(m));
            for (std::ptrdiff_t i = 0; i < m; ++i) {
                double sum = 0.0;
                for (std::ptrdiff_t c = 0; c < dims; ++c)
                    sum += columns[static_cast<std::size_t>(c * stride + i)] *
                           points[static_cast<std::size_t>(c)];
                row[static_cast<std::size_t>(i)] = scale * sum - shift;
            }
            std::vector<double> qExpected = q, pulledExpected = pulledStart,
                                dotsExpected(static_cast<std::size_t>(rows * dims));
            for (std::ptrdiff_t n = 0; n < rows; ++n) {
                for (std::ptrdiff_t i = 0; i < stride; ++i)
                    qExpected[static_cast<std::size_t>(n * stride + i)] *=
                        e[static_cast<std::size_t>(n * stride + i)];
                for (std::ptrdiff_t c = 0; c < dims; ++c) {
                    double lanes[8] = {};
                    for (std::ptrdiff_t i = 0; i < stride; ++i) {
                        const double value = qExpected[static_cast<std::size_t>(n * stride + i)];
                        pulledExpected[static_cast<std::size_t>(c * stride + i)] +=
                            value * points[static_cast<std::size_t>(n * dims + c)];
                        lanes[i % 8] += value * columns[static_cast<std::size_t>(c * stride + i)];
                    }
                    dotsExpected[static_cast<std::size_t>(n * dims + c)] =
                        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                        ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
                }
            }
            for (const simd::Kernels* unit : units) {
                const std::string what = std::string(simd::levelName(unit->level)) + " dims " +
                                         std::to_string(dims) + " m " + std::to_string(m);
                std::vector<double> gotRow(row.size(), -1.0);
                unit->affineColumnsRow(columns.data(), stride, dims, points.data(), scale, shift, m,
                                       gotRow.data());
                EXPECT_TRUE(sameBits(gotRow, row)) << what;
                std::vector<double> gotQ = q, gotPulled = pulledStart, gotDots(dotsExpected.size(), -1.0);
                unit->weightedPullRows(gotQ.data(), e.data(), rows, stride, points.data(), dims,
                                       columns.data(), gotPulled.data(), gotDots.data());
                EXPECT_TRUE(sameBits(gotQ, qExpected)) << what;
                EXPECT_TRUE(sameBits(gotPulled, pulledExpected)) << what;
                EXPECT_TRUE(sameBits(gotDots, dotsExpected)) << what;
                ++compared;
            }
        }
    EXPECT_EQ(compared, 16 * static_cast<int>(units.size()));
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// The vector units' kernels (engine/src/simd/dispatch.h): every unit this CPU has gives the portable
// kernels' bits exactly (the kernels avoid contraction and keep one order per element), the cap
// works from code and from MARGINLAB_SIMD, and the miners built on them choose the same triplets
// whichever unit runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "marginlab/miner.h"
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

}  // namespace
}  // namespace marginlab

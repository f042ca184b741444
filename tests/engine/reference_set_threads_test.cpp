// SPDX-License-Identifier: MIT
// Every loss that takes a reference set (CrossBatchMemory) gives the same bits on any number of
// the engine's threads and on every vector unit, with all pairs and with listed pairs.
#include <gtest/gtest.h>

#include <cstring>

#include "marginlab/parallel.h"
#include "parallel.h"
#include "reference_set_support.h"
#include "simd/dispatch.h"

namespace marginlab {
namespace {

using namespace testing;

class ReferenceSetThreads : public ::testing::Test {
protected:
    void TearDown() override {
        setEngineThreads(m_before);
        detail::simd::setSimdLevel(m_level);
    }

private:
    int m_before = engineThreads();
    detail::simd::Level m_level = detail::simd::kernels().level;
};

TEST_F(ReferenceSetThreads, SameBitsOnAnyThreadCountAndVectorUnit) {
    // 1100 anchors: several row chunks and pair runs; a reference of 60 rows (all triplets stay small).
    const ReferenceCase c = makeReferenceCase(1100, 60, 3, 17, 0.01);
    const ReferencePairs some = someReferencePairs(c);
    const Tuples tuples = Tuples::fromPairs(some.positives, some.negatives);
    for (const LossInfo& info : lossCatalog()) {
        if (!info.acceptsReference) continue;
        const auto loss = referenceLoss(info.name);
        for (const Tuples* listed : {static_cast<const Tuples*>(nullptr), &tuples}) {
            const std::string what = info.name + (listed ? " listed" : " all pairs");
            LossInput input = referenceLossInput(c, c.x, listed);
            input.splitForces = true;
            setEngineThreads(1);
            detail::simd::setSimdLevel(detail::simd::Level::Portable);
            const LossOutput one = loss->evaluate(input, true);
            ASSERT_TRUE(std::isfinite(one.value)) << what;
            auto expectSame = [&](const LossOutput& other, const std::string& how) {
                EXPECT_EQ(std::memcmp(&one.value, &other.value, sizeof one.value), 0) << what << " " << how;
                EXPECT_TRUE(one.gradEmbeddings == other.gradEmbeddings) << what << " " << how;
                EXPECT_TRUE(one.gradFromPositives == other.gradFromPositives) << what << " " << how;
                EXPECT_EQ(one.stats.tuples, other.stats.tuples) << what << " " << how;
                EXPECT_EQ(one.stats.active, other.stats.active) << what << " " << how;
            };
            for (int threads : {2, 3, 7}) {
                setEngineThreads(threads);
                expectSame(loss->evaluate(input, true), std::to_string(threads) + " threads");
            }
            for (detail::simd::Level level : {detail::simd::Level::Avx2, detail::simd::Level::Avx512}) {
                if (!detail::simd::kernelsFor(level)) continue;
                detail::simd::setSimdLevel(level);
                expectSame(loss->evaluate(input, true), std::string(detail::simd::levelName(level)));
            }
        }
    }
}

}  // namespace
}  // namespace marginlab

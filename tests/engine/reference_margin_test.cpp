// SPDX-License-Identifier: MIT
// Margin loss against a reference set (PML's MarginLoss with ref_emb, as CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

// PML's MarginLoss with ref_emb: the triplets of convert_to_triplets (the listed pairs joined on
// their anchor; all pairs give every batch × reference × reference triplet), β of the anchor's
// class (`betas` per class, or one value), the DivisorReducer's count of non-zero terms.
Real slowMargin(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, Real margin,
                const std::vector<Real>& betas, Real nu) {
    Real sum = 0, regularizer = 0;
    int divisor = 0;
    for (const Pair& p : pairs.positives)
        for (const Pair& n : pairs.negatives) {
            if (p[0] != n[0]) continue;
            const Real beta = betas.size() == 1 ? betas[0] : betas[static_cast<std::size_t>(c.y[p[0]])];
            const Real pos = std::max(unitDistance(x, p[0], c.r, p[1]) - beta + margin, 0.0);
            const Real neg = std::max(beta - unitDistance(x, n[0], c.r, n[1]) + margin, 0.0);
            sum += pos + neg;
            divisor += (pos > 0) + (neg > 0);
            regularizer += beta;
        }
    return divisor ? (sum + nu * regularizer) / divisor : 0.0;
}

TEST(ReferenceSetMargin, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["margin"] = 0.3;
    params.numbers["beta"] = 1.0;
    expectMatchesSlowReferenceLoop(
        "margin", params,
        [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
            return slowMargin(c, x, p, 0.3, {1.0}, 0.0);
        },
        0.05);
}

TEST(ReferenceSetMargin, LearnedBetaPerClassOfTheBatchAnchor) {
    ParamValues params;
    params.numbers["margin"] = 0.3;
    params.numbers["nu"] = 0.1;
    const auto loss = referenceLoss("margin_learn_beta", params);
    ASSERT_TRUE(findLoss("margin_learn_beta")->acceptsReference);
    for (int d : {2, 3}) {
        const ReferenceCase c = makeReferenceCase(7, 11, d, 60 + static_cast<std::uint64_t>(d));
        Points owned = Points::Zero(3, d);
        owned.col(0) << 0.9, 1.1, 1.3;
        const std::vector<Real> betas = {0.9, 1.1, 1.3};
        for (bool listed : {false, true}) {
            SCOPED_TRACE("D=" + std::to_string(d) + (listed ? " listed" : " all"));
            const ReferencePairs pairs = listed ? someReferencePairs(c) : everyReferencePair(c);
            const Tuples tuples = Tuples::fromPairs(pairs.positives, pairs.negatives);
            LossInput input = referenceLossInput(c, c.x, listed ? &tuples : nullptr);
            input.owned = &owned;
            const LossOutput out = loss->evaluate(input, true);
            EXPECT_NEAR(out.value, slowMargin(c, c.x, pairs, 0.3, betas, 0.1), 1e-12);
            const GradientError error = finiteDifferenceError(*loss, input);
            EXPECT_LT(error.embeddings, 1e-5);
            EXPECT_LT(error.owned, 1e-5);
            EXPECT_GT(out.gradOwned.col(0).norm(), 1e-6);
            EXPECT_EQ(out.gradOwned.rightCols(d - 1).cwiseAbs().maxCoeff(), 0.0);
        }
    }
}

TEST(ReferenceSetMargin, EmptyCasesGiveZero) {
    expectEmptyReferenceCasesAreZero("margin");
    expectEmptyReferenceCasesAreZero("margin_learn_beta");
}

TEST(ReferenceSetMargin, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("margin");
    expectTrainsWithCrossBatchMemory("margin_learn_beta", MinerConfig{"batch_hard", {}, std::nullopt});
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Lifted structure loss against a reference set (PML's LiftedStructureLoss with ref_emb, as
// CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

// PML's pair-based lifted structure with ref_emb, written out: for each listed positive pair
// (a, p) the listed negatives (b, n) with b == a or b == p (PML compares the reference index p
// with the batch index b), LSE of mn − d_bn (0 if none), plus d_ap − mp; relu² / 2, mean over
// the listed positive pairs.
Real slowLifted(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, Real mn, Real mp) {
    Real total = 0;
    for (const Pair& p : pairs.positives) {
        Real sum = 0;
        bool any = false;
        for (const Pair& n : pairs.negatives)
            if (n[0] == p[0] || n[0] == p[1])
                sum += std::exp(mn - unitDistance(x, n[0], c.r, n[1])), any = true;
        const Real j = (any ? std::log(sum) : 0.0) + unitDistance(x, p[0], c.r, p[1]) - mp;
        total += j > 0 ? 0.5 * j * j : 0.0;
    }
    return total / Real(pairs.positives.size());
}

TEST(ReferenceSetLiftedStructure, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["neg_margin"] = 0.8;
    params.numbers["pos_margin"] = 0.1;
    expectMatchesSlowReferenceLoop(
        "lifted_structure", params,
        [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
            return slowLifted(c, x, p, 0.8, 0.1);
        },
        0.05);
}

TEST(ReferenceSetLiftedStructure, EmptyCasesGiveZeroAndAPositiveWithoutNegativesKeepsItsDistance) {
    expectEmptyReferenceCasesAreZero("lifted_structure");
    // One positive pair (0, 9) and one negative pair of anchor 1: reference row 9 is no batch
    // index, so the positive pair has no negative and J = d_ap − mp.
    const ReferenceCase c = makeReferenceCase(6, 11, 2, 8);
    ReferencePairs pairs;
    for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
        if (c.ry[j] == c.y[0] && pairs.positives.empty() && j >= 6) pairs.positives.push_back({0, int(j)});
        if (c.ry[j] != c.y[1] && pairs.negatives.empty()) pairs.negatives.push_back({1, int(j)});
    }
    ASSERT_EQ(pairs.positives.size(), 1u);
    pairs.positives.push_back(pairs.positives.front());  // GenericPairLoss needs more than one pair
    const Tuples tuples = Tuples::fromPairs(pairs.positives, pairs.negatives);
    const auto loss = referenceLoss("lifted_structure");
    const LossInput input = referenceLossInput(c, c.x, &tuples);
    const Real d = unitDistance(c.x, 0, c.r, pairs.positives[0][1]);
    EXPECT_NEAR(loss->evaluate(input, false).value, 0.5 * d * d, 1e-12);
    EXPECT_NEAR(slowLifted(c, c.x, pairs, 1.0, 0.0), 0.5 * d * d, 1e-12);
    EXPECT_LT(finiteDifferenceError(*loss, input).embeddings, 1e-5);
}

TEST(ReferenceSetLiftedStructure, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("lifted_structure");
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Intra-pair variance loss against a reference set (PML's IntraPairVarianceLoss with ref_emb, as
// CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

// PML's pair-based loss with ref_emb on the batch × reference cosines: per half the mean of
// relu(v)² with v = (1 − ε)μ_P − s_ap (positives) or s_an − (1 + ε)μ_N (negatives), μ the half's mean.
Real slowIpv(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, Real posEps, Real negEps) {
    if (pairs.positives.size() <= 1 && pairs.negatives.size() <= 1) return 0.0;
    auto half = [&](const std::vector<Pair>& list, bool positive) {
        if (list.empty()) return 0.0;
        Real mean = 0;
        for (const Pair& p : list) mean += unitCosine(x, p[0], c.r, p[1]);
        mean /= Real(list.size());
        Real total = 0;
        for (const Pair& p : list) {
            const Real s = unitCosine(x, p[0], c.r, p[1]);
            const Real v = positive ? (1 - posEps) * mean - s : s - (1 + negEps) * mean;
            total += v > 0 ? v * v : 0.0;
        }
        return total / Real(list.size());
    };
    return half(pairs.positives, true) + half(pairs.negatives, false);
}

TEST(ReferenceSetIntraPairVariance, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["pos_eps"] = 0.05;
    params.numbers["neg_eps"] = 0.02;
    expectMatchesSlowReferenceLoop("intra_pair_variance", params,
                                   [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
                                       return slowIpv(c, x, p, 0.05, 0.02);
                                   });
}

TEST(ReferenceSetIntraPairVariance, OneSidedReferencesKeepTheirHalfAndNothingListedIsZero) {
    expectEmptyReferenceCasesAreZero("intra_pair_variance", {}, EmptyReferenceCases{true, false, false});
    const auto loss = referenceLoss("intra_pair_variance");
    for (int label : {0, 7}) {
        ReferenceCase one = makeReferenceCase(5, 8, 3, 91);
        std::fill(one.y.begin(), one.y.end(), 0);
        std::fill(one.ry.begin(), one.ry.end(), label);
        const LossInput input = referenceLossInput(one, one.x);
        const Real expected = slowIpv(one, one.x, everyReferencePair(one), 0.01, 0.01);
        EXPECT_GT(expected, 0.0);
        EXPECT_NEAR(loss->evaluate(input, false).value, expected, 1e-12);
        EXPECT_LT(finiteDifferenceError(*loss, input).embeddings, 1e-5);
    }
}

TEST(ReferenceSetIntraPairVariance, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("intra_pair_variance");
    expectTrainsWithCrossBatchMemory("intra_pair_variance", MinerConfig{"triplet_margin", {}, std::nullopt});
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Tuplet margin loss against a reference set (PML's TupletMarginLoss with ref_emb, as
// CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

// PML's pair-based tuplet margin with ref_emb, written out: for each listed positive pair (a, p),
// log(1 + Σ over the listed negatives of a of e^{scale (s_an − cos(θ_ap − m))}); mean over the
// listed positive pairs.
Real slowTuplet(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, Real degrees,
                Real scale) {
    const Real margin = degrees * std::acos(-1.0) / 180.0;
    Real total = 0;
    for (const Pair& p : pairs.positives) {
        const Real q = std::cos(std::acos(std::clamp(unitCosine(x, p[0], c.r, p[1]), -1.0, 1.0)) - margin);
        Real sum = 1;
        for (const Pair& n : pairs.negatives)
            if (n[0] == p[0]) sum += std::exp(scale * (unitCosine(x, n[0], c.r, n[1]) - q));
        total += std::log(sum);
    }
    return total / Real(pairs.positives.size());
}

TEST(ReferenceSetTupletMargin, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["margin"] = 10.0;
    params.numbers["scale"] = 3.0;
    expectMatchesSlowReferenceLoop(
        "tuplet_margin", params,
        [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
            return slowTuplet(c, x, p, 10.0, 3.0);
        },
        0.05);
}

TEST(ReferenceSetTupletMargin, EmptyCasesGiveZero) {
    expectEmptyReferenceCasesAreZero("tuplet_margin");
}

TEST(ReferenceSetTupletMargin, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("tuplet_margin");
    expectTrainsWithCrossBatchMemory("tuplet_margin", MinerConfig{"multi_similarity", {}, std::nullopt});
}

}  // namespace
}  // namespace marginlab

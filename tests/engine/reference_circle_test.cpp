// SPDX-License-Identifier: MIT
// Circle loss against a reference set (PML's CircleLoss with ref_emb, as CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

// PML's mat-based circle loss with ref_emb, written out: per batch anchor the reference rows of
// its listed pairs (a pair listed twice counts once), α from the case's own positions (PML
// detaches it, so the gradient to compare with is that of this expression with α held there).
Real slowCircle(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, Real m, Real gamma) {
    Real total = 0;
    int active = 0;
    for (Eigen::Index a = 0; a < x.rows(); ++a) {
        std::set<int> positives, negatives;
        for (const Pair& p : pairs.positives)
            if (p[0] == a) positives.insert(p[1]);
        for (const Pair& p : pairs.negatives)
            if (p[0] == a) negatives.insert(p[1]);
        if (positives.empty() || negatives.empty()) continue;
        Real sumP = 0, sumN = 0;
        for (int j : positives) {
            const Real alpha = std::max(1 + m - unitCosine(c.x, a, c.r, j), 0.0);
            sumP += std::exp(-gamma * alpha * (unitCosine(x, a, c.r, j) - (1 - m)));
        }
        for (int j : negatives) {
            const Real alpha = std::max(unitCosine(c.x, a, c.r, j) + m, 0.0);
            sumN += std::exp(gamma * alpha * (unitCosine(x, a, c.r, j) - m));
        }
        const Real v = std::log(sumP) + std::log(sumN);
        const Real term = v > 20 ? v : std::log1p(std::exp(v));
        if (term > 0) total += term, ++active;
    }
    return active ? total / active : 0.0;
}

TEST(ReferenceSetCircle, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["m"] = 0.25;
    params.numbers["gamma"] = 4.0;  // small enough that the sums do not underflow in the slow loop
    expectMatchesSlowReferenceLoop(
        "circle", params,
        [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
            return slowCircle(c, x, p, 0.25, 4.0);
        },
        0.0, false);
}

TEST(ReferenceSetCircle, EmptyCasesGiveZeroAndTheSplitIsThePositivePart) {
    expectEmptyReferenceCasesAreZero("circle");
    const ReferenceCase c = makeReferenceCase(6, 9, 2, 77);
    LossInput input = referenceLossInput(c, c.x);
    input.splitForces = true;
    const LossOutput out = referenceLoss("circle")->evaluate(input, true);
    EXPECT_GT(out.gradFromPositives.norm(), 1e-6);
    EXPECT_GT((out.gradEmbeddings - out.gradFromPositives).norm(), 1e-6);
}

TEST(ReferenceSetCircle, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("circle");
}

}  // namespace
}  // namespace marginlab

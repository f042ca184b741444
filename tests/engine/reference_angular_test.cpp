// SPDX-License-Identifier: MIT
// Angular loss against a reference set (PML's AngularLoss with ref_emb, as CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

// PML's AngularLoss with ref_emb, written out: per listed positive pair (a, p),
// log(1 + Σ_{j: ry_j ≠ y_a} e^{4t (x̂_a + r̂_p)·r_j − 2(1+t) x̂_a·r̂_p}) over EVERY reference row
// of another label (raw r_j), mean over the listed positive pairs; 0 without a listed negative.
Real slowAngular(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, Real degrees) {
    if (pairs.positives.empty() || pairs.negatives.empty()) return 0.0;
    const Real tangent = std::tan(degrees * std::numbers::pi / 180.0), t = tangent * tangent;
    Real total = 0;
    for (const Pair& p : pairs.positives) {
        const Eigen::RowVectorXd xa = unitRow(x, p[0]), rp = unitRow(c.r, p[1]);
        Real sum = 1;
        for (Eigen::Index j = 0; j < c.r.rows(); ++j)
            if (c.ry[j] != c.y[p[0]])
                sum += std::exp(4 * t * (xa + rp).dot(c.r.row(j)) - 2 * (1 + t) * xa.dot(rp));
        total += std::log(sum);
    }
    return total / Real(pairs.positives.size());
}

TEST(ReferenceSetAngular, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["alpha"] = 35.0;
    expectMatchesSlowReferenceLoop("angular", params,
                                   [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
                                       return slowAngular(c, x, p, 35.0);
                                   });
}

TEST(ReferenceSetAngular, EmptyCasesGiveZeroAndTheSplitIsTheCosinePart) {
    expectEmptyReferenceCasesAreZero("angular");
    const ReferenceCase c = makeReferenceCase(6, 9, 3, 77);
    LossInput input = referenceLossInput(c, c.x);
    input.splitForces = true;
    const LossOutput out = referenceLoss("angular")->evaluate(input, true);
    EXPECT_GT(out.gradFromPositives.norm(), 1e-6);
    EXPECT_GT((out.gradEmbeddings - out.gradFromPositives).norm(), 1e-6);
}

TEST(ReferenceSetAngular, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("angular");
}

}  // namespace
}  // namespace marginlab

// SPDX-License-Identifier: MIT
// NCA against a reference set (PML's NCALoss with ref_emb, as CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

// PML's nca_computation(query = batch, reference): softmax of −scale·d² over every reference row
// (nothing excluded), p_i over the reference rows of the class, weights from how often each batch
// point is an anchor of the listed pairs over the most often; mean over the points with p_i ≠ 0.
Real slowNca(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, bool listed, Real scale) {
    std::map<Eigen::Index, int> times;
    for (const Pair& p : pairs.positives) ++times[p[0]];
    for (const Pair& p : pairs.negatives) ++times[p[0]];
    int most = 0;
    for (const auto& [anchor, count] : times) most = std::max(most, count);
    Real total = 0;
    int kept = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        Real all = 0, same = 0;
        for (Eigen::Index j = 0; j < c.r.rows(); ++j) {
            const Real d = unitDistance(x, i, c.r, j);
            const Real e = std::exp(-scale * d * d);
            all += e;
            if (c.ry[j] == c.y[i]) same += e;
        }
        const Real p = same / all;
        if (p == 0) continue;
        const Real weight = listed ? Real(times.count(i) ? times[i] : 0) / most : 1.0;
        total += -std::log(p) * weight;
        ++kept;
    }
    return kept ? total / kept : 0.0;
}

TEST(ReferenceSetNca, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["softmax_scale"] = 2.0;
    expectMatchesSlowReferenceLoop(
        "nca", params, [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
            // The listed case has every other pair and duplicates (weights ≠ 1); all pairs: weights 1.
            const bool listed = p.positives.size() != everyReferencePair(c).positives.size();
            return slowNca(c, x, p, listed, 2.0);
        });
}

TEST(ReferenceSetNca, EmptyCasesAndNoSelfExclusion) {
    // No listed pair weighs every point 1 (PML's convert_to_weights), so that case is not 0.
    expectEmptyReferenceCasesAreZero("nca", {}, EmptyReferenceCases{false, false, true});
    const ReferenceCase c = makeReferenceCase(6, 9, 3, 5);
    const Tuples nothing = Tuples::fromPairs({}, {});
    const auto nca = referenceLoss("nca");
    EXPECT_NEAR(nca->evaluate(referenceLossInput(c, c.x, &nothing), false).value,
                nca->evaluate(referenceLossInput(c, c.x), false).value, 1e-15);
    // The anchor's own copy in the reference is a neighbour (PML fills the diagonal only when the
    // reference is the batch itself): a reference that is exactly the batch differs from the batch alone.
    ReferenceCase same = c;
    same.r = c.x;
    same.ry = c.y;
    const Real withCopies = nca->evaluate(referenceLossInput(same, same.x), false).value;
    const Real alone = nca->evaluate(LossInput{c.x, c.y}, false).value;
    EXPECT_GT(std::abs(withCopies - alone), 1e-6);
    EXPECT_NEAR(withCopies, slowNca(same, same.x, everyReferencePair(same), false, 1.0), 1e-12);
}

TEST(ReferenceSetNca, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("nca");
}

}  // namespace
}  // namespace marginlab

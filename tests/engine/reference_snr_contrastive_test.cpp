// SPDX-License-Identifier: MIT
// SNR contrastive loss against a reference set (PML's SignalToNoiseRatioContrastiveLoss with
// ref_emb, as CrossBatchMemory calls it).
#include <gtest/gtest.h>

#include <cmath>

#include "reference_set_support.h"

namespace marginlab {
namespace {

using namespace testing;

Real variance(const Eigen::RowVectorXd& v) {
    const Real mean = v.mean();
    return (v.array() - mean).square().sum() / Real(v.size() - 1);  // torch.var: unbiased
}

// PML's SNRDistance(batch, reference) on the normalized rows, AvgNonZero per half over the listed
// pairs, plus w · mean_i |Σ_d x_id| on the raw batch.
Real slowSnr(const ReferenceCase& c, const Points& x, const ReferencePairs& pairs, Real mp, Real mn, Real w) {
    auto snr = [&](const Pair& p) {
        return variance(unitRow(x, p[0]) - unitRow(c.r, p[1])) / variance(unitRow(x, p[0]));
    };
    Real pos = 0, neg = 0;
    int posCount = 0, negCount = 0;
    for (const Pair& p : pairs.positives) {
        const Real t = std::max(snr(p) - mp, 0.0);
        if (t > 0) pos += t, ++posCount;
    }
    for (const Pair& p : pairs.negatives) {
        const Real t = std::max(mn - snr(p), 0.0);
        if (t > 0) neg += t, ++negCount;
    }
    Real regularizer = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) regularizer += std::abs(x.row(i).sum());
    const bool none = pairs.positives.size() <= 1 && pairs.negatives.size() <= 1;
    return (none ? 0.0 : (posCount ? pos / posCount : 0.0) + (negCount ? neg / negCount : 0.0)) +
           w * regularizer / Real(x.rows());
}

TEST(ReferenceSetSnrContrastive, MatchesTheSlowLoopWithAllAndListedPairs) {
    ParamValues params;
    params.numbers["pos_margin"] = 0.1;
    params.numbers["neg_margin"] = 1.5;
    params.numbers["regularizer_weight"] = 0.05;
    expectMatchesSlowReferenceLoop("snr_contrastive", params,
                                   [](const ReferenceCase& c, const Points& x, const ReferencePairs& p) {
                                       return slowSnr(c, x, p, 0.1, 1.5, 0.05);
                                   });
}

TEST(ReferenceSetSnrContrastive, OneSidedReferencesKeepTheirHalfAndNothingListedIsZero) {
    // Positive (or negative) pairs alone still have their half: not zero, the slow loop's value.
    expectEmptyReferenceCasesAreZero("snr_contrastive", {}, EmptyReferenceCases{true, false, false});
    const auto loss = referenceLoss("snr_contrastive");
    for (int label : {0, 7}) {
        // Copies moved a little: at an exact copy SNR = 0 sits on the AvgNonZero count's edge.
        ReferenceCase one = makeReferenceCase(5, 8, 3, 91, 0.05);
        std::fill(one.y.begin(), one.y.end(), 0);
        std::fill(one.ry.begin(), one.ry.end(), label);
        const LossInput input = referenceLossInput(one, one.x);
        EXPECT_NEAR(loss->evaluate(input, false).value,
                    slowSnr(one, one.x, everyReferencePair(one), 0.0, 1.0, 0.0), 1e-12);
        EXPECT_LT(finiteDifferenceError(*loss, input).embeddings, 1e-5);
    }
}

TEST(ReferenceSetSnrContrastive, TrainsWithACrossBatchMemory) {
    expectTrainsWithCrossBatchMemory("snr_contrastive");
}

}  // namespace
}  // namespace marginlab

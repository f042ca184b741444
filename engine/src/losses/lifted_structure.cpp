// SPDX-License-Identifier: MIT
#include "marginlab/losses/lifted_structure.h"

#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "simd/dispatch.h"
#include "parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab {

LiftedStructureLoss::LiftedStructureLoss(Real negativeMargin, Real positiveMargin, const DistanceSpec& distance)
    : m_negativeMargin(negativeMargin), m_positiveMargin(positiveMargin), m_distance(distance) {}

LossOutput LiftedStructureLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0 || counts.negatives == 0) return detail::zeroOutputWithKind(input, withGradient, "pairs");

    // Two fused passes over the rows, no N×N buffer: the first finds each row's log-sum-exp over
    // its negatives, the second takes the pair terms and the whole backward pass of its row.
    detail::FusedPairRows pairRows(m_distance, input.embeddings);
    // PML's margin(x, y) is x − y for a distance and y − x for a similarity: one sign covers both.
    const Real sign = m_distance.orderSign();
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    // Per sample i: L_i = log Σ_{n∈N(i)} e^{t_in}, t_in = sign·(mn − M_in), shifted by `top`:
    // e^{min(t − top, 0)} on the negatives, 0 elsewhere (kind = the row's 0/1 same-label row; the
    // label tests are mask operations, not branches: which j is a negative is data-dependent).
    // Returns the row's sum.
    auto shiftedRow = [&](const Real* kind, const Real* m, Real top, Real* shifted) {
        for (int j = 0; j < n; ++j) shifted[j] = std::min(sign * (m_negativeMargin - m[j]) - top, Real(0));
        // Same-label entries: minus +∞ gives −∞, whose exponential is 0; the others lose 0.
        detail::splitShift(shifted, kind, n, std::numeric_limits<Real>::infinity(), 0.0);
        detail::expRowInPlace(shifted, n);
        Real sameLabel = 0.0, sum = 0.0;
        detail::splitSum(shifted, kind, n, &sameLabel, &sum);
        return sum;
    };
    // For a distance, t_in = mn − M_in ≤ mn = t_ii (M ≥ 0 and M_ii = 0), so mn is a valid shift
    // and one pass suffices; only if the shifted sum underflows (negatives hundreds of units away)
    // is the row redone with the exact maximum. Similarities have no such bound: always exact.
    const bool boundedByDiagonal = !m_distance.isSimilarity();
    auto rowShift = [&](const Real* kind, const Real* m, Real* shifted, Real* sum) {
        Real top = m_negativeMargin;
        *sum = boundedByDiagonal ? shiftedRow(kind, m, top, shifted) : 0.0;
        if (!(*sum > 1e-280)) {
            top = minusInfinity;
            for (int j = 0; j < n; ++j) {
                const Real t = sign * (m_negativeMargin - m[j]);
                top = std::max(top, kind[j] == 0.0 ? t : minusInfinity);
            }
            *sum = shiftedRow(kind, m, top, shifted);
        }
        return top;
    };
    Vector rowSum(n), rowLog(n);
    // Rows are independent: any split over threads gives the same numbers.
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int) {
        std::vector<Real> row(static_cast<std::size_t>(n)), shifted(static_cast<std::size_t>(n)), kind(static_cast<std::size_t>(n));
        for (int i = static_cast<int>(begin); i < end; ++i) {
            pairRows.rows().row(i, row.data());
            detail::sameLabelRow(labels, labels[static_cast<std::size_t>(i)], kind.data(), n);
            Real sum = 0.0;
            const Real top = rowShift(kind.data(), row.data(), shifted.data(), &sum);
            rowSum(i) = sum;
            rowLog(i) = top + std::log(sum);  // finite: with ≥ 2 classes every sample has a negative
        }
    });

    const Real pairCount = static_cast<Real>(counts.positives);
    // Positive pairs straight from the class member lists (ascending, as a scan of all p would
    // visit them), not by testing every p's label.
    const std::vector<std::vector<int>> groups = detail::groupByLabel(labels);
    std::vector<const std::vector<int>*> classOf(static_cast<std::size_t>(n));
    for (const auto& members : groups)
        for (int i : members) classOf[static_cast<std::size_t>(i)] = &members;
    // Row i of ∂L/∂M: the pairs (i, p) it anchors, J_ip = log(e^{L_i} + e^{L_p}) + sign·(M_ip − mp),
    // and through L_i the softmax of its negatives, weighted by Σ ∂L/∂L_i over the pairs (i, p)
    // and (p, i) (J_pi = J_ip bit for bit: M is symmetric and so is the joint LSE).
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int i, detail::PairRowChunk& part) {
        const Real* m = part.row.data();
        Real* gradRow = part.gradRow.data();
        if (withGradient) std::fill(gradRow, gradRow + n, 0.0);
        Real rowWeight = 0.0;
        bool any = false;
        // e^{−|L_i − L_p|} and its log1p for every positive p of the row at once, on the vector
        // unit (simd/dispatch.h): the row exp and the unit's log1p (within a few ulp of glibc's).
        const std::vector<int>& members = *classOf[static_cast<std::size_t>(i)];
        const Real li = rowLog(i);
        Real* exps = part.third.data();
        Real* logs = part.fourth.data();
        Eigen::Index count = 0;
        for (int p : members)
            if (p != i) exps[count++] = -std::abs(li - rowLog(p));
        const detail::simd::Kernels& kernels = detail::simd::kernels();
        kernels.expInPlace(exps, count, detail::expconst::kTable.data());
        std::copy(exps, exps + count, logs);
        kernels.log1pUnitRow(logs, count);
        // the running sum in a local (the same order): part.total would wait on its own stores
        Real total = part.total;
        Eigen::Index next = 0;
        for (int p : members) {
            if (p == i) continue;
            // log(e^{L_i} + e^{L_p}): the negatives of both ends of the pair in one LSE. The
            // same e^{−|L_i − L_p|} also gives the two softmax shares of the backward pass.
            const Real lp = rowLog(p);
            const Real e = exps[next], logOnePlus = logs[next];
            ++next;
            const Real joint = std::max(li, lp) + logOnePlus;
            const Real j = joint + sign * (m[p] - m_positiveMargin);
            if (j <= 0.0) continue;
            total += 0.5 * j * j;
            ++part.active;
            if (!withGradient) continue;
            any = true;
            const Real g = j / pairCount;  // d(J²/2)/dJ, mean over pairs
            gradRow[p] += g * sign;
            const Real larger = 1.0 / (1.0 + e), smaller = e / (1.0 + e);  // e^{L − joint} of each end
            rowWeight += g * (li >= lp ? larger : smaller);  // i as the pair's anchor
            rowWeight += g * (lp >= li ? smaller : larger);  // i as the positive of (p, i)
        }
        part.total = total;
        if (!any) return false;
        if (rowWeight != 0.0) {
            // ∂L_i/∂t_in = softmax over the row; ∂t_in/∂M_in = −sign. Same shift, same exponentials
            // as the first pass.
            Real* shifted = part.first.data();
            Real* kind = part.second.data();
            detail::sameLabelRow(labels, labels[static_cast<std::size_t>(i)], kind, n);
            Real sum = 0.0;
            rowShift(kind, m, shifted, &sum);
            const Real scale = -sign * rowWeight / sum;
            for (int k = 0; k < n; ++k) gradRow[k] += scale * shifted[k];
        }
        return true;
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives;
    out.stats.active = pairRows.active();
    out.value = pairRows.total() / pairCount;
    if (withGradient) {
        out.gradEmbeddings = pairRows.gradient(1.0);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/lifted_structure.h"

#include "losses/contrastive_support.h"
#include "losses/pair_family_support.h"
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

    detail::PairwiseWorkspace& workspace = detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    // PML's margin(x, y) is x − y for a distance and y − x for a similarity: one sign covers both.
    const Real sign = m_distance.orderSign();

    // Per sample i: L_i = log Σ_{n∈N(i)} e^{t_in}, t_in = sign·(mn − M_in). The shifted
    // exponentials are kept (0 off the negatives) for the backward pass, in a per-thread buffer
    // reused across calls (a fresh N×N buffer costs more in page faults than the arithmetic).
    thread_local Matrix shiftedBuffer;
    // Named once, on this thread: the row chunks below run on other threads too, where the name
    // of the thread_local would denote their own (empty) buffers.
    Matrix& shifted = shiftedBuffer;
    shifted.resize(n, n);
    Vector rowSum(n), rowLog(n);
    // The label tests are selects, not branches: which j is a negative is data-dependent, and
    // mispredicting it cost more than the exp. Same-label entries get exp(min(·, 0)), then 0.
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    // For a distance, t_in = mn − M_in ≤ mn = t_ii (M ≥ 0 and M_ii = 0), so mn is a valid shift
    // and one pass suffices; only if the shifted sum underflows (negatives hundreds of units away)
    // is the row redone with the exact maximum. Similarities have no such bound: always exact.
    auto fillRow = [&](int i, int label, Real top) {
        Real sum = 0.0;
        for (int j = 0; j < n; ++j) {
            const Real t = sign * (m_negativeMargin - m(i, j));
            const Real e = detail::shiftedExp(std::min(t - top, Real(0)));
            const Real kept = labels[static_cast<std::size_t>(j)] != label ? e : 0.0;
            shifted(i, j) = kept;
            sum += kept;
        }
        return sum;
    };
    const bool boundedByDiagonal = !m_distance.isSimilarity();
    // Rows are independent: any split over threads gives the same numbers.
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int) {
        for (int i = static_cast<int>(begin); i < end; ++i) {
            const int label = labels[static_cast<std::size_t>(i)];
            Real top = m_negativeMargin;
            Real sum = boundedByDiagonal ? fillRow(i, label, top) : 0.0;
            if (!(sum > 1e-280)) {
                top = minusInfinity;
                for (int j = 0; j < n; ++j) {
                    const Real t = sign * (m_negativeMargin - m(i, j));
                    top = std::max(top, labels[static_cast<std::size_t>(j)] != label ? t : minusInfinity);
                }
                sum = fillRow(i, label, top);
            }
            rowSum(i) = sum;
            rowLog(i) = top + std::log(sum);  // finite: with ≥ 2 classes every sample has a negative
        }
    });

    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives;
    const Real pairCount = static_cast<Real>(counts.positives);
    Matrix& gradMatrix = workspace.gradient();  // zeroed by the workspace when withGradient
    // Positive pairs straight from the class member lists (ascending, as a scan of all p would
    // visit them), not by testing every p's label.
    const std::vector<std::vector<int>> groups = detail::groupByLabel(labels);
    std::vector<const std::vector<int>*> classOf(static_cast<std::size_t>(n));
    for (const auto& members : groups)
        for (int i : members) classOf[static_cast<std::size_t>(i)] = &members;
    // Anchors a in chunks on the engine's threads. A pair also weighs on row p, so each chunk
    // keeps its own row weights (Σ over the pairs using row i of ∂L/∂L_i) and sums, added in
    // chunk order: the same bits on any number of threads.
    struct Chunk {
        Real total = 0.0;
        Count active = 0;
        Vector rowWeight;
    };
    std::vector<Chunk> parts(static_cast<std::size_t>(detail::AnchorChunks(n).count()));
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int c) {
        Chunk& part = parts[static_cast<std::size_t>(c)];
        if (withGradient) part.rowWeight = Vector::Zero(n);
        for (int a = static_cast<int>(begin); a < end; ++a)
            for (int p : *classOf[static_cast<std::size_t>(a)]) {
                if (p == a) continue;
                // log(e^{L_a} + e^{L_p}): the negatives of both ends of the pair in one LSE. The
                // same e^{−|L_a − L_p|} also gives the two softmax shares of the backward pass.
                const Real la = rowLog(a), lp = rowLog(p);
                const Real e = std::exp(-std::abs(la - lp));
                const Real joint = std::max(la, lp) + std::log1p(e);
                const Real j = joint + sign * (m(a, p) - m_positiveMargin);
                if (j <= 0.0) continue;
                part.total += 0.5 * j * j;
                ++part.active;
                if (withGradient) {
                    const Real g = j / pairCount;  // d(J²/2)/dJ, mean over pairs
                    gradMatrix(a, p) += g * sign;
                    const Real larger = 1.0 / (1.0 + e), smaller = e / (1.0 + e);  // e^{L − joint} of each end
                    part.rowWeight(a) += g * (la >= lp ? larger : smaller);
                    part.rowWeight(p) += g * (la >= lp ? smaller : larger);
                }
            }
    });
    Real total = 0.0;
    Vector rowWeight;
    if (withGradient) rowWeight = Vector::Zero(n);
    for (const Chunk& part : parts) {
        total += part.total;
        out.stats.active += part.active;
        if (withGradient) rowWeight += part.rowWeight;
    }
    out.value = total / pairCount;
    if (withGradient) {
        detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int) {
            for (Eigen::Index i = begin; i < end; ++i) {
                if (rowWeight(i) == 0.0) continue;
                // ∂L_i/∂t_in = softmax over the row; ∂t_in/∂M_in = −sign.
                const Real scale = -sign * rowWeight(i) / rowSum(i);
                gradMatrix.row(i) += scale * shifted.row(i);
            }
        });
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

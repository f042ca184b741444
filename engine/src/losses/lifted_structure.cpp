// SPDX-License-Identifier: MIT
#include "marginlab/losses/lifted_structure.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"
#include "losses/triangle_rows.h"
#include "parallel.h"
#include "simd/dispatch.h"

namespace marginlab {

namespace {

/**
 * The loss for a distance over the upper triangle j > i only. With M ≥ 0 and M_ii = 0, mn is a
 * valid shift of every row's log-sum-exp, and E_ij = e^{(mn − M_ij) − mn} = e^{−M_ij} is symmetric:
 * each negative pair's exponential serves both rows, each positive pair's J_ip = J_pi is found
 * once, and the backward pass takes each pair once with both rows' coefficients — half the
 * distances, exponentials and backward rows of the full-row passes. The rows go class by class
 * (ClassOrder): the part j > i of row i is then its positives, a run up to the end of its class,
 * and after them only negatives, whose exponentials alone are computed (none wasted on the
 * positives) while the positives' distances and slopes are copied as runs. Three passes, rows in
 * AnchorChunks on the engine's threads; what a row adds to other rows goes into its chunk's own
 * vectors, added in chunk order: the same bits on any thread count. Memory: O(chunks·N + N·D)
 * and one distance per unordered positive pair. Empty when a row's sum underflows (negatives
 * hundreds of units away): the caller then takes the full-row passes with each row's exact shift.
 */
std::optional<LossOutput> liftedOverTriangle(const LossInput& callers, bool withGradient,
                                             const DistanceSpec& spec, Real negativeMargin,
                                             Real positiveMargin, Count positivePairs) {
    const detail::ClassOrderedRows sorted(callers, spec);
    const detail::ClassOrder& order = sorted.order;
    const LossInput& input = sorted.input();
    const Labels& labels = sorted.labels();
    const int n = sorted.n;
    const detail::DistanceRows& rows = sorted.rows;
    const int chunkCount = detail::AnchorChunks(n).count();
    // Where each row's class ends (its positives after it are [i + 1, classEnd)) and where their
    // slots start in the per-pair arrays.
    const std::vector<int>& classEnd = sorted.classEnd;
    auto laterCount = [&](int i) { return static_cast<std::size_t>(classEnd[static_cast<std::size_t>(i)] - i - 1); };
    std::vector<std::size_t> slot(static_cast<std::size_t>(n) + 1, 0);
    for (int i = 0; i < n; ++i) slot[static_cast<std::size_t>(i) + 1] = slot[static_cast<std::size_t>(i)] + laterCount(i);
    // One entry per unordered positive pair (N²/2C of them): kept between calls, per thread, so
    // that a step does not fault in megabytes of fresh pages; every entry is written before use.
    // Named through references: the row chunks run on other threads, whose thread_locals differ.
    thread_local std::vector<Real> keptDistance, keptSlope;
    std::vector<Real>& positiveDistance = keptDistance;
    std::vector<Real>& positiveSlope = keptSlope;
    // The distances after n entries of padding: row i writes its run as a distance row would,
    // entry j at distanceRun(i)[j], straight into its slots (distanceRun(i) + i + 1 ≥ the padding).
    positiveDistance.resize(static_cast<std::size_t>(n) + slot.back());
    positiveSlope.resize(slot.back());
    Real* const distances = positiveDistance.data() + n;  // the slots
    auto distanceRun = [&](int i) { return distances + slot[static_cast<std::size_t>(i)] - (i + 1); };

    // Row i's negatives j ≥ its class's end: M_ij (into m unless null) and E_ij = e^{−M_ij}, in
    // one pass over those points: z = (M − 0)·(−1) = −M, shifted by 0 (every entry of kind 0: no
    // label compare; kind is scratch). Their sum; addTo (unless null) gains the E.
    const detail::simd::Kernels& kernels = detail::simd::kernels();
    const Real negativeExponent[4] = {std::numeric_limits<Real>::infinity(), 1.0, 0.0, -1.0};
    auto negativeExps = [&](int i, Real* m, Real* kind, Real* e, Real* addTo, Real* sum,
                            const detail::simd::NegatedProduct* product = nullptr) {
        Real sameLabel = 0.0;
        rows.rowAffineExpSum(i, negativeExponent, nullptr, kind, -1, 0.0, 0.0, m, e, addTo, &sameLabel, sum,
                             classEnd[static_cast<std::size_t>(i)], product);
    };

    // Pass 1: S_i = Σ_{n ∈ N(i)} E_in, each E added to both of its rows; the positive pairs' M.
    std::vector<std::vector<Real>> partial(static_cast<std::size_t>(chunkCount));
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int chunk) {
        std::vector<Real>& sums = partial[static_cast<std::size_t>(chunk)];
        sums.assign(static_cast<std::size_t>(n), 0.0);
        detail::TriangleScratch& scratch = detail::triangleScratch(n);
        std::vector<Real>& kind = scratch.rows[1];
        std::vector<Real>& e = scratch.rows[2];
        for (auto i = static_cast<int>(begin); i < end; ++i) {
            const int negativesFrom = classEnd[static_cast<std::size_t>(i)];
            Real sum = 0.0;  // E of the row's negatives, each also added to its other row
            if (negativesFrom < n) negativeExps(i, nullptr, kind.data(), e.data(), sums.data(), &sum);
            sums[static_cast<std::size_t>(i)] += sum;
            if (negativesFrom > i + 1) rows.row(i, distanceRun(i), i + 1, negativesFrom);
        }
    });
    Vector rowSum = Vector::Zero(n);
    for (const std::vector<Real>& sums : partial)
        for (int i = 0; i < n; ++i) rowSum(i) += sums[static_cast<std::size_t>(i)];
    if (!(rowSum.minCoeff() > 1e-280)) return std::nullopt;
    const Vector rowLog = (rowSum.array().log() + negativeMargin).matrix();

    // Pass 2: each unordered positive pair {i, p}: J = log(e^{L_i} + e^{L_p}) + M_ip − mp stands
    // for both ordered pairs (0.5·J² each); its slope and both ends' softmax weights.
    const Real pairCount = static_cast<Real>(positivePairs);
    std::vector<Real> chunkTotal(static_cast<std::size_t>(chunkCount), 0.0);
    std::vector<Count> chunkActive(static_cast<std::size_t>(chunkCount), 0);
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int chunk) {
        std::vector<Real>& weights = partial[static_cast<std::size_t>(chunk)];
        weights.assign(static_cast<std::size_t>(n), 0.0);
        detail::TriangleScratch& scratch = detail::triangleScratch(n);
        std::vector<Real>& exps = scratch.rows[0];
        std::vector<Real>& logs = scratch.rows[1];
        Real total = 0.0;
        Count active = 0;
        for (auto i = static_cast<int>(begin); i < end; ++i) {
            const auto count = static_cast<Eigen::Index>(laterCount(i));
            if (count == 0) continue;
            const Real li = rowLog(i);
            for (Eigen::Index k = 0; k < count; ++k) exps[static_cast<std::size_t>(k)] = -std::abs(li - rowLog(i + 1 + k));
            kernels.expInPlace(exps.data(), count, detail::expconst::kTable.data());
            std::copy(exps.begin(), exps.begin() + count, logs.begin());
            kernels.log1pUnitRow(logs.data(), count);
            // The row's pairs on the vector unit, without branches or running sums: an inactive
            // pair (J ≤ 0) gets J = 0, which adds exact zeros, and the row's J² and its own
            // weights go into arrays, summed after in interleaved partial sums. A branch per pair
            // (J's sign is data) and two sums each waiting on the last had made this pass a
            // twelfth of the loss.
            const std::size_t at = slot[static_cast<std::size_t>(i)];
            Real* squares = logs.data();     // log1p's, each read before its square is written
            Real* ownWeights = exps.data();  // e's, likewise
            const Real activeCount = kernels.liftedPairRow(
                li, rowLog.data() + i + 1, exps.data(), logs.data(), distances + at, positiveMargin,
                1.0 / pairCount, count, squares, positiveSlope.data() + at, ownWeights, weights.data() + i + 1);
            total += detail::interleavedSum(count, [&](Eigen::Index k) { return squares[k]; });
            active += 2 * static_cast<Count>(activeCount);
            if (withGradient)
                weights[static_cast<std::size_t>(i)] +=
                    detail::interleavedSum(count, [&](Eigen::Index k) { return ownWeights[k]; });
        }
        chunkTotal[static_cast<std::size_t>(chunk)] = total;
        chunkActive[static_cast<std::size_t>(chunk)] = active;
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    Real total = 0.0;
    for (int c = 0; c < chunkCount; ++c) {
        total += chunkTotal[static_cast<std::size_t>(c)];
        out.stats.active += chunkActive[static_cast<std::size_t>(c)];
    }
    out.value = total / pairCount;  // J² per unordered pair = 0.5·J² for each of its two orders
    if (!withGradient) return out;

    // Pass 3: ∂L/∂M_ij for j > i — the pair's slope for a positive; through both rows' LSE for a
    // negative, −(w_i/S_i + w_j/S_j)·E_ij — straight into the backward pass.
    Vector share = Vector::Zero(n);  // w_i / S_i
    for (const std::vector<Real>& weights : partial)
        for (int i = 0; i < n; ++i) share(i) += weights[static_cast<std::size_t>(i)];
    share.array() /= rowSum.array();
    const detail::TriangleGradients grads =
        detail::accumulateOverTriangle(rows, labels, input.splitForces, [&](int i, Real* m, Real* g, Real* kind, Real* e) {
            const int first = i + 1, negativesFrom = classEnd[static_cast<std::size_t>(i)];
            if (negativesFrom < n) {
                Real sum = 0.0;
                // g = −(w_i/S_i + w_j/S_j)·E_ij, made as each E is
                const detail::simd::NegatedProduct product{share(i), share.data(), g};
                negativeExps(i, m, kind, e, nullptr, &sum, &product);
            }
            const auto from = static_cast<std::ptrdiff_t>(slot[static_cast<std::size_t>(i)]);
            const auto count = static_cast<std::ptrdiff_t>(laterCount(i));
            std::copy(positiveSlope.begin() + from, positiveSlope.begin() + from + count, g + first);
            std::copy(distances + from, distances + from + count, m + first);
        });
    out.gradEmbeddings = order.restore(grads.all);
    if (input.splitForces) out.gradFromPositives = order.restore(grads.sameLabel);
    if (callers.owned) out.gradOwned = Points::Zero(callers.owned->rows(), callers.owned->cols());
    return out;
}

}  // namespace

LiftedStructureLoss::LiftedStructureLoss(Real negativeMargin, Real positiveMargin,
                                         const DistanceSpec& distance)
    : m_negativeMargin(negativeMargin), m_positiveMargin(positiveMargin), m_distance(distance) {}

LossOutput LiftedStructureLoss::evaluate(const LossInput& input, bool withGradient) const {
    // Before the fused every-pair paths below: with a reference the pairs index the reference.
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0 || counts.negatives == 0)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");
    if (!m_distance.isSimilarity())
        if (auto out = liftedOverTriangle(input, withGradient, m_distance, m_negativeMargin, m_positiveMargin,
                                          counts.positives))
            return *out;

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
        Real sameLabel = 0.0, sum = 0.0;
        detail::splitShiftExpSum(shifted, shifted, kind, n, std::numeric_limits<Real>::infinity(), 0.0,
                                 &sameLabel, &sum);
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
        std::vector<Real> row(static_cast<std::size_t>(n)), shifted(static_cast<std::size_t>(n)),
            kind(static_cast<std::size_t>(n));
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
            rowWeight += g * (li >= lp ? larger : smaller);                // i as the pair's anchor
            rowWeight += g * (lp >= li ? smaller : larger);                // i as the positive of (p, i)
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

LossOutput LiftedStructureLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    // GenericPairLoss's early zero, then the loss's own (no positive or no negative pair).
    if ((positives.size() <= 1 && negatives.size() <= 1) || positives.empty() || negatives.empty()) {
        LossOutput zero = detail::zeroOutputWithKind(input, withGradient, "pairs");
        zero.stats.tuples = static_cast<Count>(positives.size());
        return zero;
    }
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& m = distance.matrix();
    const Eigen::Index n = m.rows();
    const Real sign = m_distance.orderSign();  // PML's margin(x, y): x − y for a distance, y − x else
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();
    // The listed negatives grouped by their batch anchor b: max and shifted sum of t = sign·(mn − M_bn).
    struct Group {
        Real top = minusInfinity, sum = 0.0,
             factor = 0.0;  // factor: ∂L/∂(e^{t − top}) summed, for the backward
    };
    std::vector<Group> groups(static_cast<std::size_t>(n));
    auto exponent = [&](const Pair& pair) { return sign * (m_negativeMargin - m(pair[0], pair[1])); };
    for (const Pair& pair : negatives) {
        Group& g = groups[static_cast<std::size_t>(pair[0])];
        g.top = std::max(g.top, exponent(pair));
    }
    for (const Pair& pair : negatives) {
        Group& g = groups[static_cast<std::size_t>(pair[0])];
        g.sum += std::exp(exponent(pair) - g.top);
    }
    // The groups of a positive pair: its anchor's and, by PML's index comparison, that of the batch
    // point numbered like its reference row (when it exists and differs).
    auto partnerGroup = [&](const Pair& pair) -> Group* {
        if (pair[1] == pair[0] || pair[1] >= n) return nullptr;
        return &groups[static_cast<std::size_t>(pair[1])];
    };
    auto unionShift = [&](const Group& a, const Group* b) { return b ? std::max(a.top, b->top) : a.top; };
    auto unionSum = [&](const Group& a, const Group* b, Real top) {
        Real sum = a.sum > 0.0 ? a.sum * std::exp(a.top - top) : 0.0;
        if (b && b->sum > 0.0) sum += b->sum * std::exp(b->top - top);
        return sum;
    };
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size());
    const Real count = static_cast<Real>(positives.size());
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, m.cols());
    Real total = 0.0;
    for (const Pair& pair : positives) {
        Group& own = groups[static_cast<std::size_t>(pair[0])];
        Group* other = partnerGroup(pair);
        const Real top = unionShift(own, other);
        const Real sum = top == minusInfinity ? 0.0 : unionSum(own, other, top);
        const Real logTerm = sum > 0.0 ? top + std::log(sum) : 0.0;  // lmu.logsumexp of nothing: 0
        const Real j = logTerm + sign * (m(pair[0], pair[1]) - m_positiveMargin);
        if (!(j > 0.0)) continue;
        total += 0.5 * j * j;
        ++out.stats.active;
        if (!withGradient) continue;
        // ∂(relu(J)²/2)/∂J = J, over the pair count; J's slope in M_ap is sign and in each negative
        // −sign times its softmax weight e^{t − top}/sum, kept per group until the groups are read.
        const Real slope = j / count;
        grad(pair[0], pair[1]) += sign * slope;
        if (sum > 0.0) {
            if (own.sum > 0.0) own.factor += slope * std::exp(own.top - top) / sum;
            if (other && other->sum > 0.0) other->factor += slope * std::exp(other->top - top) / sum;
        }
    }
    out.value = total / count;
    if (withGradient) {
        for (const Pair& pair : negatives) {
            const Group& g = groups[static_cast<std::size_t>(pair[0])];
            if (g.factor != 0.0) grad(pair[0], pair[1]) -= sign * g.factor * std::exp(exponent(pair) - g.top);
        }
        detail::finishReferenceOutput(input, distance, grad, &out);
    }
    return out;
}

}  // namespace marginlab

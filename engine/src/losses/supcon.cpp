// SPDX-License-Identifier: MIT
#include "marginlab/losses/supcon.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>

#include "losses/common.h"
#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/pair_rows.h"
#include "losses/reference_set.h"
#include "parallel.h"

namespace marginlab {

SupConLoss::SupConLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput SupConLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Eigen::Index n = input.embeddings.rows();
    auto zero = [&] {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats.tupleKind = "anchors";
        return out;
    };
    // Without a miner the pair kinds come from the labels row by row; mined pairs become masks.
    std::optional<detail::PairMasks> masks;
    const bool mined = input.tuples && (input.tuples->kind != Tuples::Kind::All || input.tuples->filter);
    if (mined) {
        std::vector<detail::WeightedPair> positives, negatives;
        detail::minedPairUses(*input.tuples, input.embeddings, input.labels, &positives, &negatives);
        if (detail::tooFewMinedPairs(positives, negatives)) return zero();
        masks = detail::listedPairMasks(n, positives, negatives);
        if (masks->positiveCount == 0 || masks->negativeCount == 0) return zero();
    } else {
        std::map<int, Count> classSizes;
        for (int value : input.labels) ++classSizes[value];
        bool anyPositive = false;
        for (const auto& [label, size] : classSizes) anyPositive = anyPositive || size >= 2;
        if (!anyPositive || classSizes.size() < 2) return zero();
    }

    // Row by row (no N×N buffer): D_i = LSE over the kept entries of z = s/τ (shifted by their
    // max), ℓ_i = D_i − mean_{p∈P(i)} z_ip, ∂ℓ_i/∂z_ik = softmax_ik − [k∈P(i)]/|P(i)|.
    // AvgNonZero: the gradient rows are added with weight 1 and scaled by 1/#(ℓ_i > 0) at the end.
    // Without a miner the rows go class by class (ClassOrder): an anchor's positives are then the
    // runs of its row on either side of it, summed and written as runs.
    std::optional<detail::ClassOrder> order;
    if (!masks) order.emplace(input);
    const LossInput& rows = order ? order->input() : input;
    detail::RowSimilarities similarities(m_distance, rows.embeddings);
    if (detail::splitsForces(input, withGradient)) similarities.trackSameLabel(rows.labels);
    const Real inverseTemperature = 1.0 / m_temperature;
    // All pairs: each row's class, P(i) = its rows but i.
    std::vector<detail::ClassOrder::Range> classOf;
    if (order)
        for (const detail::ClassOrder::Range& members : order->classes())
            classOf.insert(classOf.end(), static_cast<std::size_t>(members.end - members.begin), members);
    // Anchors in chunks fixed by N, each with its own sums and gradient, added in chunk order
    // (the same bits on any number of threads).
    const detail::AnchorChunks chunks(n);
    std::vector<detail::ChunkSums> parts(static_cast<std::size_t>(chunks.count()), detail::ChunkSums{similarities});
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int c) {
        detail::ChunkSums& part = parts[static_cast<std::size_t>(c)];
        Vector logits, keptExp, gradRow;
        Vector kind = Vector::Zero(n);  // 1 for the entries outside P(i) ∪ N(i), 0 for the kept ones
        std::vector<int> positiveList, droppedList;
        for (auto i = static_cast<int>(begin); i < end; ++i) {
            // The anchor's positives and the entries outside P(i) ∪ N(i) (itself included).
            positiveList.clear();
            droppedList.clear();
            detail::ClassOrder::Range members{0, 0};
            Eigen::Index positiveCount = 0;
            if (masks) {
                for (int k = 0; k < n; ++k) {
                    if (masks->isPositive(i, k)) positiveList.push_back(k);
                    else if (!masks->isNegative(i, k)) droppedList.push_back(k);
                }
                positiveCount = static_cast<Eigen::Index>(positiveList.size());
            } else {
                // All pairs: P(i) = the rest of i's class, N(i) = everything else.
                members = classOf[static_cast<std::size_t>(i)];
                positiveCount = members.end - members.begin - 1;
                droppedList.assign(1, i);
            }
            if (positiveCount == 0) continue;  // ℓ_i = 0
            // The row passes on the vector unit (pair_rows.h): z = s/τ and the top of the kept
            // entries (one pass with the similarities); e^{z − top} for them and e^{z − ∞} = 0 for
            // the dropped ones, summed in the unit's fixed lanes.
            for (int k : droppedList) kind(k) = 1.0;
            Real droppedTop = 0.0, top = 0.0;
            part.similarities.scaledRowWithMax(i, inverseTemperature, kind, logits, &droppedTop, &top);
            keptExp.resize(n);
            Real droppedSum = 0.0, sum = 0.0;
            detail::splitShiftExpSum(keptExp.data(), logits.data(), kind.data(), n,
                                     std::numeric_limits<Real>::infinity(), top, &droppedSum, &sum);
            for (int k : droppedList) kind(k) = 0.0;
            Real positiveSum = 0.0;
            if (masks) {
                for (int p : positiveList) positiveSum += logits(p);
            } else {
                // the runs before and after the anchor, each in interleaved partial sums
                const Real* z = logits.data();
                positiveSum = detail::interleavedSum(i - members.begin, [&](Eigen::Index k) { return z[members.begin + k]; }) +
                              detail::interleavedSum(members.end - i - 1, [&](Eigen::Index k) { return z[i + 1 + k]; });
            }
            const Real inversePositives = 1.0 / static_cast<Real>(positiveCount);
            const Real term = top + std::log(sum) - positiveSum * inversePositives;
            if (!(term > 0.0)) continue;
            ++part.active;
            part.total += term;
            if (!withGradient) continue;
            // ∂ℓ_i/∂s_i· = e^{z − top}·factor, minus 1/(τ|P|) at the positives. The positives' entries
            // are finished here and marked kind 1 with factor 1 (exact); the backward pass scales
            // the rest (the dropped entries' 0 stays 0).
            const Real factor = inverseTemperature / sum;
            const Real positiveShare = inverseTemperature * inversePositives;
            if (!masks) {
                // All pairs: the positives and the anchor (whose e^{−∞} = 0 stays 0) are its class,
                // whose same-label row the backward pass scales by from the labels.
                Real* e = keptExp.data();
                for (int p = members.begin; p < i; ++p) e[p] = e[p] * factor - positiveShare;
                for (int p = i + 1; p < members.end; ++p) e[p] = e[p] * factor - positiveShare;
                part.similarities.addLabelScaledRowGradient(i, keptExp, rows.labels, 1.0, factor, &gradRow);
                continue;
            }
            for (int p : positiveList) keptExp(p) = keptExp(p) * factor - positiveShare;
            for (int p : positiveList) kind(p) = 1.0;
            part.similarities.addScaledRowGradient(i, keptExp, kind, 1.0, factor, &gradRow);
            for (int p : positiveList) kind(p) = 0.0;
        }
    });
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    const Real total = detail::addChunkSums(parts, withGradient, &similarities, &out.stats.active);
    if (out.stats.active == 0) {
        LossOutput none = zero();
        none.stats = out.stats;
        return none;
    }
    const Real perAnchor = 1.0 / static_cast<Real>(out.stats.active);
    out.value = total * perAnchor;
    // back in the caller's row order when the rows went class by class
    auto callersOrder = [&](Points grad) { return order ? order->restore(grad) : grad; };
    if (withGradient) out.gradEmbeddings = callersOrder(perAnchor * similarities.gradient());
    if (detail::splitsForces(input, withGradient))
        out.gradFromPositives = callersOrder(perAnchor * similarities.sameLabelGradient());
    return out;
}

LossOutput SupConLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's mat-based SupConLoss with ref_emb: z = −δ/τ on the batch × reference matrix, the
    // listed pairs as masks (duplicates collapse), per anchor ℓ_i = LSE_{P(i) ∪ N(i)} z − mean_{P(i)} z,
    // AvgNonZero over the anchors; 0 unless some positive and some negative pair are listed.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    if ((positives.size() <= 1 && negatives.size() <= 1) || positives.empty() || negatives.empty()) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "anchors";
        zero.stats.tuples = input.embeddings.rows();
        return zero;
    }
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& matrix = distance.matrix();
    const Eigen::Index n = matrix.rows(), m = matrix.cols();
    Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic> positive =
        Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>::Zero(n, m);
    Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic> used = positive;
    for (const Pair& pair : positives) positive(pair[0], pair[1]) = used(pair[0], pair[1]) = 1;
    for (const Pair& pair : negatives) used(pair[0], pair[1]) = 1;
    const Real toLogit = -m_distance.orderSign() / m_temperature;
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, m);
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = n;
    Real total = 0.0;
    std::vector<Real> softmax(static_cast<std::size_t>(m));
    for (Eigen::Index a = 0; a < n; ++a) {
        Real top = -std::numeric_limits<Real>::infinity();
        Count positiveCount = 0;
        for (Eigen::Index j = 0; j < m; ++j) {
            if (used(a, j)) top = std::max(top, toLogit * matrix(a, j));
            positiveCount += positive(a, j);
        }
        if (positiveCount == 0) continue;  // ℓ = 0: no positive listed for this anchor
        Real sum = 0.0, positiveSum = 0.0;
        for (Eigen::Index j = 0; j < m; ++j) {
            const Real z = toLogit * matrix(a, j);
            softmax[static_cast<std::size_t>(j)] = used(a, j) ? std::exp(z - top) : 0.0;
            sum += softmax[static_cast<std::size_t>(j)];
            if (positive(a, j)) positiveSum += z;
        }
        const Real term = top + std::log(sum) - positiveSum / Real(positiveCount);
        if (term <= 0.0) continue;  // AvgNonZero: only the anchors with ℓ > 0 count
        total += term;
        ++out.stats.active;
        if (!withGradient) continue;
        for (Eigen::Index j = 0; j < m; ++j)
            grad(a, j) = softmax[static_cast<std::size_t>(j)] / sum -
                         (positive(a, j) ? 1.0 / Real(positiveCount) : 0.0);
    }
    if (out.stats.active == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
    const Real divisor = static_cast<Real>(out.stats.active);
    out.value = total / divisor;
    if (withGradient) detail::referenceBackward(input, distance, grad * (toLogit / divisor), &out);
    return out;
}

}  // namespace marginlab

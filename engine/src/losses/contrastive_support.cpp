// SPDX-License-Identifier: MIT
#include "losses/contrastive_support.h"

#include "losses/common.h"
#include "losses/exp_row.h"
#include "parallel.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

namespace marginlab::detail {

PairMasks listedPairMasks(Eigen::Index size, const std::vector<WeightedPair>& positives,
                          const std::vector<WeightedPair>& negatives) {
    PairMasks masks;
    masks.size = size;
    masks.positive.assign(static_cast<std::size_t>(size * size), 0);
    masks.negative.assign(static_cast<std::size_t>(size * size), 0);
    auto mark = [size](std::vector<std::uint8_t>& mask, const std::vector<WeightedPair>& pairs) {
        Count count = 0;
        for (const WeightedPair& pair : pairs) {
            std::uint8_t& entry = mask[static_cast<std::size_t>(pair.anchor * size + pair.other)];
            if (!entry) ++count;
            entry = 1;
        }
        return count;
    };
    masks.positiveCount = mark(masks.positive, positives);
    masks.negativeCount = mark(masks.negative, negatives);
    return masks;
}

RowSimilarities::RowSimilarities(const DistanceSpec& spec, const Points& x) : m_spec(spec) {
    if (spec.normalizes()) {
        m_embedded = normalizeRows(x, &m_norms);
    } else {
        m_embedded = x;
    }
    m_gradEmbedded = Points::Zero(x.rows(), x.cols());
}

void RowSimilarities::row(Eigen::Index a, Vector& out) const {
    if (m_spec.isSimilarity()) {
        out.noalias() = m_embedded * m_embedded.row(a).transpose();
        return;
    }
    // Differences, not the Gram trick: exact zeros on the diagonal, as SelfDistance.
    out = (m_embedded.rowwise() - m_embedded.row(a)).rowwise().squaredNorm();
    if (m_spec.power == 1) out = out.cwiseSqrt();
    out = -out;
}

void RowSimilarities::addRow(Eigen::Index a, const Vector& gradRow, Points& gradEmbedded) {
    if (m_spec.isSimilarity()) {
        // s_aj = e_a·e_j: ∂/∂e_a = Σ_j g_j e_j, ∂/∂e_j = g_j e_a.
        gradEmbedded.row(a).noalias() += gradRow.transpose() * m_embedded;
        gradEmbedded.noalias() += gradRow * m_embedded.row(a);
        return;
    }
    // s_aj = −d_aj^power; ∂s_aj/∂e_a = w_j (e_a − e_j) with w_j = −2 (power 2) or −1/d_aj (power 1).
    Vector weights;
    if (m_spec.power == 2) {
        weights = -2.0 * gradRow;
    } else {
        m_distances = (m_embedded.rowwise() - m_embedded.row(a)).rowwise().norm();
        weights = Vector::Zero(gradRow.size());
        for (Eigen::Index j = 0; j < gradRow.size(); ++j)
            if (m_distances(j) > 0.0) weights(j) = -gradRow(j) / m_distances(j);
    }
    const Real total = weights.sum();
    gradEmbedded.row(a) += total * m_embedded.row(a);
    gradEmbedded.row(a).noalias() -= weights.transpose() * m_embedded;
    gradEmbedded.noalias() -= weights * m_embedded.row(a);
    gradEmbedded.array() += (m_embedded.array().colwise() * weights.array());
}

void RowSimilarities::addRowGradient(Eigen::Index a, const Vector& gradRow) {
    addRow(a, gradRow, m_gradEmbedded);
    if (!m_sameLabels) return;
    const Labels& labels = *m_sameLabels;
    const int label = labels[static_cast<std::size_t>(a)];
    m_sameLabelRow = gradRow;
    for (Eigen::Index j = 0; j < m_sameLabelRow.size(); ++j)
        if (labels[static_cast<std::size_t>(j)] != label) m_sameLabelRow(j) = 0.0;
    addRow(a, m_sameLabelRow, m_gradSameLabel);
}

void RowSimilarities::trackSameLabel(const Labels& labels) {
    m_sameLabels = &labels;
    m_gradSameLabel = Points::Zero(m_embedded.rows(), m_embedded.cols());
}

Points RowSimilarities::throughNormalization(const Points& gradEmbedded) const {
    if (m_spec.normalizes()) return normalizeRowsBackward(m_embedded, m_norms, gradEmbedded);
    return gradEmbedded;
}

void RowSimilarities::addAccumulated(const RowSimilarities& part) {
    m_gradEmbedded += part.m_gradEmbedded;
    if (m_sameLabels) m_gradSameLabel += part.m_gradSameLabel;
}

Points RowSimilarities::gradient() const { return throughNormalization(m_gradEmbedded); }

Points RowSimilarities::sameLabelGradient() const {
    if (!m_sameLabels) return Points::Zero(m_embedded.rows(), m_embedded.cols());
    return throughNormalization(m_gradSameLabel);
}

Real addChunkSums(const std::vector<ChunkSums>& parts, bool withGradient, RowSimilarities* into, Count* active) {
    Real total = 0.0;
    for (const ChunkSums& part : parts) {
        total += part.total;
        *active += part.active;
        if (withGradient) into->addAccumulated(part.similarities);
    }
    return total;
}

std::vector<std::vector<int>> groupByLabel(const Labels& labels) {
    std::map<int, std::vector<int>> byLabel;
    for (int i = 0; i < static_cast<int>(labels.size()); ++i) byLabel[labels[static_cast<std::size_t>(i)]].push_back(i);
    std::vector<std::vector<int>> groups;
    groups.reserve(byLabel.size());
    for (auto& [label, members] : byLabel) groups.push_back(std::move(members));
    return groups;
}

Count orderedPositivePairs(const std::vector<std::vector<int>>& groups) {
    Count pairs = 0;
    for (const auto& members : groups) {
        const auto m = static_cast<Count>(members.size());
        pairs += m * (m - 1);
    }
    return pairs;
}

void minedPairUses(const Tuples& tuples, const Points& embeddings, const Labels& labels,
                   std::vector<WeightedPair>* positives, std::vector<WeightedPair>* negatives) {
    positives->clear();
    negatives->clear();
    if (!(tuples.kind == Tuples::Kind::All && tuples.filter)) {
        std::vector<Pair> positiveList, negativeList;
        materializePairs(tuples, embeddings, labels, &positiveList, &negativeList);
        for (const Pair& pair : positiveList) positives->push_back({pair[0], pair[1], 1});
        for (const Pair& pair : negativeList) negatives->push_back({pair[0], pair[1], 1});
        return;
    }
    const TripletGapFilter& filter = *tuples.filter;
    // The ordering distance of the miner's own distance, exactly as materializeTriplets builds it.
    const SelfDistance minerDistance(filter.distance, embeddings);
    const Real sign = filter.distance.orderSign();
    const auto n = static_cast<int>(labels.size());
    auto aboveLow = [&filter](Real gap) { return filter.includeLow ? gap >= filter.low : gap > filter.low; };
    auto belowHigh = [&filter](Real gap) { return filter.includeHigh ? gap <= filter.high : gap < filter.high; };
    std::vector<std::pair<Real, int>> positiveRow, negativeRow;  // (δ, index), sorted by δ
    {
        // At most every ordered pair once: reserve instead of growing through copies.
        std::map<int, Count> classSizes;
        for (int value : labels) ++classSizes[value];
        Count positivePairs = 0;
        for (const auto& [label, size] : classSizes) positivePairs += size * (size - 1);
        const auto all = static_cast<Count>(n);
        positives->reserve(static_cast<std::size_t>(positivePairs));
        negatives->reserve(static_cast<std::size_t>(all * (all - 1) - positivePairs));
    }
    for (int a = 0; a < n; ++a) {
        positiveRow.clear();
        negativeRow.clear();
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            const Real delta = sign * minerDistance.matrix()(a, j);
            (labels[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(a)] ? positiveRow : negativeRow)
                .emplace_back(delta, j);
        }
        if (positiveRow.empty() || negativeRow.empty()) continue;
        std::sort(positiveRow.begin(), positiveRow.end());
        std::sort(negativeRow.begin(), negativeRow.end());
        // Fixed p: gap = δ_an − δ_ap grows with δ_an, so the kept n form one run of negativeRow.
        for (const auto& positiveEntry : positiveRow) {
            // Not a structured binding: clang 14 (the fuzz build) cannot capture those in a lambda.
            const Real deltaPositive = positiveEntry.first;
            const auto p = positiveEntry.second;
            const auto first = std::partition_point(negativeRow.begin(), negativeRow.end(), [&](const auto& entry) {
                return !aboveLow(entry.first - deltaPositive);
            });
            const auto last = std::partition_point(first, negativeRow.end(), [&](const auto& entry) {
                return belowHigh(entry.first - deltaPositive);
            });
            if (last > first) positives->push_back({a, p, static_cast<Count>(last - first)});
        }
        // Fixed n: the gap falls as δ_ap grows, so the kept p form one run of positiveRow.
        for (const auto& negativeEntry : negativeRow) {
            const Real deltaNegative = negativeEntry.first;
            const auto m = negativeEntry.second;
            const auto first = std::partition_point(positiveRow.begin(), positiveRow.end(), [&](const auto& entry) {
                return !belowHigh(deltaNegative - entry.first);
            });
            const auto last = std::partition_point(first, positiveRow.end(), [&](const auto& entry) {
                return aboveLow(deltaNegative - entry.first);
            });
            if (last > first) negatives->push_back({a, m, static_cast<Count>(last - first)});
        }
    }
}

LossOutput negativeLogSumExpLoss(const LossInput& input, const DistanceSpec& distance, Real temperature,
                                 Real (*term)(Real gap, Real* slope), bool withGradient) {
    const auto n = static_cast<Eigen::Index>(input.labels.size());
    const auto groups = groupByLabel(input.labels);
    const Count positivePairs = orderedPositivePairs(groups);
    if (positivePairs == 0 || groups.size() < 2) {  // no positive or no negative pair
        LossOutput zero = zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }

    // Per anchor: L_a = LSE over its negatives of z, shifted by their max (no overflow whatever
    // the positives are). Adding −∞ on the anchor's own class turns the row into exactly N(a),
    // so max / exp / sum run vectorized without branches.
    RowSimilarities similarities(distance, input.embeddings);
    if (splitsForces(input, withGradient)) similarities.trackSameLabel(input.labels);
    const Real inverseTemperature = 1.0 / temperature;
    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    // The anchors with a positive, class by class; in chunks fixed by their number, each with its
    // own sums and gradient, added in chunk order (the same bits on any number of threads).
    struct Anchor {
        int index;
        const std::vector<int>* members;
    };
    std::vector<Anchor> anchors;
    for (const auto& members : groups)
        if (members.size() >= 2)
            for (int a : members) anchors.push_back({a, &members});
    const AnchorChunks chunks(static_cast<std::ptrdiff_t>(anchors.size()));
    std::vector<ChunkSums> parts(static_cast<std::size_t>(chunks.count()), ChunkSums{similarities});
    forEachRowChunk(static_cast<std::ptrdiff_t>(anchors.size()), [&](std::ptrdiff_t begin, std::ptrdiff_t end, int c) {
        ChunkSums& part = parts[static_cast<std::size_t>(c)];
        Vector logits, negativeExp, gradRow, classMask = Vector::Zero(n);
        std::vector<Real> slopes;
        const std::vector<int>* maskedClass = nullptr;
        for (std::ptrdiff_t t = begin; t < end; ++t) {
            const int a = anchors[static_cast<std::size_t>(t)].index;
            const std::vector<int>& members = *anchors[static_cast<std::size_t>(t)].members;
            if (maskedClass != &members) {
                if (maskedClass)
                    for (int i : *maskedClass) classMask(i) = 0.0;
                for (int i : members) classMask(i) = -std::numeric_limits<Real>::infinity();
                maskedClass = &members;
            }
            part.similarities.row(a, logits);
            logits *= inverseTemperature;
            negativeExp = logits + classMask;
            const Real top = negativeExp.maxCoeff();
            // The anchor's own class is set to the top before exp and zeroed after: Eigen's
            // exp(−∞) is a subnormal, and each subnormal costs a slow microcode assist (a
            // hundred per row made the exp the bulk of the loss).
            for (int i : members) negativeExp(i) = top;
            // Two lanes at a time (exp_row.h): faster than glibc's exp one value at a time, and
            // than Eigen's vectorized exp in the portable SSE2 build.
            negativeExp.array() -= top;
            expRowInPlace(negativeExp.data(), n);
            for (int i : members) negativeExp(i) = 0.0;
            const Real negativeSum = negativeExp.sum();
            const Real logNegatives = top + std::log(negativeSum);
            slopes.clear();
            Real slopeSum = 0.0;  // Σ_p f'(g_ap): how hard the anchor's negatives are pushed
            for (int p : members) {
                if (p == a) continue;
                Real slope = 0.0;
                const Real value = term(logNegatives - logits(p), &slope);
                part.total += value;
                if (value != 0.0) ++part.active;
                slopes.push_back(slope);
                slopeSum += slope;
            }
            if (!withGradient) continue;
            // Gradient in z, times 1/τ for s: negatives get the softmax share, positives −f'.
            gradRow = (inverseTemperature * slopeSum * perPair / negativeSum) * negativeExp;
            std::size_t next = 0;
            for (int p : members)
                if (p != a) gradRow(p) = -inverseTemperature * slopes[next++] * perPair;
            part.similarities.addRowGradient(a, gradRow);
        }
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    out.value = addChunkSums(parts, withGradient, &similarities, &out.stats.active) * perPair;
    if (withGradient) out.gradEmbeddings = similarities.gradient();
    if (splitsForces(input, withGradient)) out.gradFromPositives = similarities.sameLabelGradient();
    return out;
}

}  // namespace marginlab::detail

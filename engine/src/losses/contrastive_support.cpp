// SPDX-License-Identifier: MIT
#include "losses/contrastive_support.h"

#include <algorithm>
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

void RowSimilarities::addRowGradient(Eigen::Index a, const Vector& gradRow) {
    if (m_spec.isSimilarity()) {
        // s_aj = e_a·e_j: ∂/∂e_a = Σ_j g_j e_j, ∂/∂e_j = g_j e_a.
        m_gradEmbedded.row(a).noalias() += gradRow.transpose() * m_embedded;
        m_gradEmbedded.noalias() += gradRow * m_embedded.row(a);
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
    m_gradEmbedded.row(a) += total * m_embedded.row(a);
    m_gradEmbedded.row(a).noalias() -= weights.transpose() * m_embedded;
    m_gradEmbedded.noalias() -= weights * m_embedded.row(a);
    m_gradEmbedded.array() += (m_embedded.array().colwise() * weights.array());
}

Points RowSimilarities::gradient() const {
    if (m_spec.normalizes()) return normalizeRowsBackward(m_embedded, m_norms, m_gradEmbedded);
    return m_gradEmbedded;
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
        for (const auto& [deltaPositive, p] : positiveRow) {
            const auto first = std::partition_point(negativeRow.begin(), negativeRow.end(), [&](const auto& entry) {
                return !aboveLow(entry.first - deltaPositive);
            });
            const auto last = std::partition_point(first, negativeRow.end(), [&](const auto& entry) {
                return belowHigh(entry.first - deltaPositive);
            });
            if (last > first) positives->push_back({a, p, static_cast<Count>(last - first)});
        }
        // Fixed n: the gap falls as δ_ap grows, so the kept p form one run of positiveRow.
        for (const auto& [deltaNegative, m] : negativeRow) {
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

}  // namespace marginlab::detail

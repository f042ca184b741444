// SPDX-License-Identifier: MIT
#include "losses/contrastive_support.h"

#include <map>

namespace marginlab::detail {

PairMasks listedPairMasks(Eigen::Index size, const std::vector<Pair>& positives, const std::vector<Pair>& negatives) {
    PairMasks masks;
    masks.size = size;
    masks.positive.assign(static_cast<std::size_t>(size * size), 0);
    masks.negative.assign(static_cast<std::size_t>(size * size), 0);
    auto mark = [size](std::vector<std::uint8_t>& mask, const std::vector<Pair>& pairs) {
        Count count = 0;
        for (const Pair& pair : pairs) {
            std::uint8_t& entry = mask[static_cast<std::size_t>(pair[0] * size + pair[1])];
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

}  // namespace marginlab::detail

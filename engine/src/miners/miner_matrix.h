// SPDX-License-Identifier: MIT
// The matrix a pair miner reads, with or without a reference set (internal header).
#pragma once

#include <optional>

#include "marginlab/distance.h"
#include "marginlab/miner.h"

namespace marginlab::detail {

/**
 * M = distance(batch, others): the batch with itself (SelfDistance; a pair (a, a) is the anchor
 * itself and is skipped), or the batch against MinerInput's reference set (CrossDistance; PML's
 * get_all_pairs_indices(labels, ref_labels) skips nothing, so a memory's copy of the anchor is
 * a candidate like any other row). Anchors index the batch, "others" its columns.
 */
class MinerMatrix {
public:
    MinerMatrix(const DistanceSpec& spec, const MinerInput& input)
        : m_otherLabels(input.referenceEmbeddings ? *input.referenceLabels : input.labels),
          m_others(input.referenceEmbeddings ? *input.referenceEmbeddings : input.embeddings),
          m_hasReference(input.referenceEmbeddings != nullptr) {
        if (m_hasReference)
            m_cross.emplace(spec, input.embeddings, *input.referenceEmbeddings);
        else
            m_self.emplace(spec, input.embeddings);
    }

    const Matrix& values() const { return m_hasReference ? m_cross->matrix() : m_self->matrix(); }
    int anchors() const { return static_cast<int>(values().rows()); }
    int others() const { return static_cast<int>(values().cols()); }
    int otherLabel(int j) const { return m_otherLabels[static_cast<std::size_t>(j)]; }
    const Labels& otherLabels() const { return m_otherLabels; }
    /// The rows the columns stand for (the batch itself, or the reference).
    const Points& otherPoints() const { return m_others; }
    bool hasReference() const { return m_hasReference; }
    /// (a, j) pairs the anchor with itself: skipped by every pair rule.
    bool isSelf(int a, int j) const { return !m_hasReference && a == j; }

private:
    const Labels& m_otherLabels;
    const Points& m_others;
    bool m_hasReference;
    std::optional<SelfDistance> m_self;
    std::optional<CrossDistance> m_cross;
};

/// Every positive and negative pair of the batch against its others (PML's get_all_pairs_indices),
/// in lexicographic order.
inline void allMinerPairs(const MinerInput& input, std::vector<Pair>* positives,
                          std::vector<Pair>* negatives) {
    if (input.referenceEmbeddings)
        return allReferencePairs(input.labels, *input.referenceLabels, positives, negatives);
    *positives = allPositivePairs(input.labels);
    *negatives = allNegativePairs(input.labels);
}

}  // namespace marginlab::detail

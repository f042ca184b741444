// SPDX-License-Identifier: MIT
#include "marginlab/miners/pair_margin.h"

namespace marginlab {

Tuples PairMarginMiner::mine(const MinerInput& input) const {
    // PML compares the raw matrix with the margins (not δ): a similarity flips the inequalities
    // but keeps the margins' sign, so the user gives similarity-scale margins.
    const SelfDistance distance(m_distance, input.embeddings);
    const Matrix& m = distance.matrix();
    const bool similarity = m_distance.isSimilarity();
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    std::vector<Pair> positives, negatives;
    for (int a = 0; a < n; ++a)
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            if (labels[j] == labels[a]) {
                if (similarity ? m(a, j) < m_positiveMargin : m(a, j) > m_positiveMargin) positives.push_back({a, j});
            } else if (similarity ? m(a, j) > m_negativeMargin : m(a, j) < m_negativeMargin) {
                negatives.push_back({a, j});
            }
        }
    return Tuples::fromPairs(std::move(positives), std::move(negatives));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/miners/pair_margin.h"

#include "miners/miner_matrix.h"

namespace marginlab {

Tuples PairMarginMiner::mine(const MinerInput& input) const {
    // PML compares the raw matrix with the margins (not δ): a similarity flips the inequalities
    // but keeps the margins' sign, so the user gives similarity-scale margins.
    const detail::MinerMatrix matrix(m_distance, input);
    const Matrix& m = matrix.values();
    const bool similarity = m_distance.isSimilarity();
    const Labels& labels = input.labels;
    std::vector<Pair> positives, negatives;
    for (int a = 0; a < matrix.anchors(); ++a)
        for (int j = 0; j < matrix.others(); ++j) {
            if (matrix.isSelf(a, j)) continue;
            if (matrix.otherLabel(j) == labels[static_cast<std::size_t>(a)]) {
                if (similarity ? m(a, j) < m_positiveMargin : m(a, j) > m_positiveMargin) positives.push_back({a, j});
            } else if (similarity ? m(a, j) > m_negativeMargin : m(a, j) < m_negativeMargin) {
                negatives.push_back({a, j});
            }
        }
    return Tuples::fromPairs(std::move(positives), std::move(negatives));
}

}  // namespace marginlab

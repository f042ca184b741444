// SPDX-License-Identifier: MIT
#include "marginlab/miners/batch_easy_hard.h"

#include "miners/miner_common.h"

namespace marginlab {

std::optional<BatchEasyHardMiner::PositiveStrategy> BatchEasyHardMiner::positiveFromName(std::string_view name) {
    if (name == "easy") return PositiveStrategy::Easy;
    if (name == "hard") return PositiveStrategy::Hard;
    return std::nullopt;
}

std::optional<BatchEasyHardMiner::NegativeStrategy> BatchEasyHardMiner::negativeFromName(std::string_view name) {
    if (name == "semihard") return NegativeStrategy::SemiHard;
    if (name == "hard") return NegativeStrategy::Hard;
    if (name == "easy") return NegativeStrategy::Easy;
    return std::nullopt;
}

Tuples BatchEasyHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingDistances delta(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    // Strict comparisons throughout: the first index wins ties, as torch.min/max return it.
    auto better = [](Real candidate, Real best, bool smallest) { return smallest ? candidate < best : candidate > best; };
    std::vector<Triplet> triplets;
    for (int a = 0; a < n; ++a) {
        int positive = -1;
        const bool nearestPositive = m_positive == PositiveStrategy::Easy;
        for (int j = 0; j < n; ++j)
            if (j != a && labels[j] == labels[a] && (positive < 0 || better(delta(a, j), delta(a, positive), nearestPositive)))
                positive = j;
        if (positive < 0) continue;

        const bool nearestNegative = m_negative != NegativeStrategy::Easy;
        const Real threshold = delta(a, positive);
        int negative = -1;
        for (int j = 0; j < n; ++j) {
            if (labels[j] == labels[a]) continue;
            // Semi-hard: only negatives strictly farther than the chosen positive compete.
            if (m_negative == NegativeStrategy::SemiHard && !(delta(a, j) > threshold)) continue;
            if (negative < 0 || better(delta(a, j), delta(a, negative), nearestNegative)) negative = j;
        }
        if (negative >= 0) triplets.push_back({a, positive, negative});
    }
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

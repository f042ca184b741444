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
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    // Strict comparisons throughout: the first index wins ties, as torch.min/max return it.
    auto better = [](Real candidate, Real best, bool smallest) { return smallest ? candidate < best : candidate > best; };
    const bool nearestPositive = m_positive == PositiveStrategy::Easy;
    const bool nearestNegative = m_negative != NegativeStrategy::Easy;
    const bool semiHard = m_negative == NegativeStrategy::SemiHard;
    struct NoScratch {};
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, NoScratch*) {
        const int label = labels[static_cast<std::size_t>(a)];
        int positive = -1;
        for (int j = 0; j < n; ++j)
            if (j != a && labels[static_cast<std::size_t>(j)] == label &&
                (positive < 0 || better(delta[j], delta[positive], nearestPositive)))
                positive = j;
        if (positive < 0) return;

        const Real threshold = delta[positive];
        int negative = -1;
        for (int j = 0; j < n; ++j) {
            if (labels[static_cast<std::size_t>(j)] == label) continue;
            // Semi-hard: only negatives strictly farther than the chosen positive compete.
            if (semiHard && !(delta[j] > threshold)) continue;
            if (negative < 0 || better(delta[j], delta[negative], nearestNegative)) negative = j;
        }
        if (negative >= 0) out->push_back({a, positive, negative});
    };
    return Tuples::fromTriplets(detail::mineAnchors<NoScratch>(rows, mineAnchor));
}

}  // namespace marginlab

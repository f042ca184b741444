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
    const Labels& labels = input.labels;
    // Strict comparisons throughout: the first index wins ties, as torch.min/max return it.
    auto better = [](Real candidate, Real best, bool smallest) { return smallest ? candidate < best : candidate > best; };
    const bool nearestPositive = m_positive == PositiveStrategy::Easy;
    const bool nearestNegative = m_negative != NegativeStrategy::Easy;
    const bool semiHard = m_negative == NegativeStrategy::SemiHard;
    // One anchor's choice among `count` others (the batch with the anchor itself skipped, or a
    // reference set with nothing skipped) on its row of δ.
    auto choose = [&](int a, const Real* delta, const Labels& otherLabels, bool skipSelf,
                      std::vector<Triplet>* out) {
        const int label = labels[static_cast<std::size_t>(a)];
        const int count = static_cast<int>(otherLabels.size());
        int positive = -1;
        for (int j = 0; j < count; ++j)
            if (!(skipSelf && j == a) && otherLabels[static_cast<std::size_t>(j)] == label &&
                (positive < 0 || better(delta[j], delta[positive], nearestPositive)))
                positive = j;
        if (positive < 0) return;

        const Real threshold = delta[positive];
        int negative = -1;
        for (int j = 0; j < count; ++j) {
            if (otherLabels[static_cast<std::size_t>(j)] == label) continue;
            // Semi-hard: only negatives strictly farther than the chosen positive compete.
            if (semiHard && !(delta[j] > threshold)) continue;
            if (negative < 0 || better(delta[j], delta[negative], nearestNegative)) negative = j;
        }
        if (negative >= 0) out->push_back({a, positive, negative});
    };
    if (input.referenceEmbeddings) {
        // PML with ref_emb: the same choice on δ(batch, reference); the anchor's own copy in the
        // reference is a positive like any other (get_all_pairs_indices(labels, ref_labels)).
        const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
        const Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> delta =
            m_distance.orderSign() * distance.matrix();
        std::vector<Triplet> out;
        for (int a = 0; a < static_cast<int>(delta.rows()); ++a)
            choose(a, delta.row(a).data(), *input.referenceLabels, false, &out);
        return Tuples::fromTriplets(std::move(out));
    }
    const detail::OrderingRows rows(m_distance, input.embeddings);
    struct NoScratch {};
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, NoScratch*) {
        choose(a, delta, labels, true, out);
    };
    return Tuples::fromTriplets(detail::mineAnchors<NoScratch>(rows, mineAnchor));
}

}  // namespace marginlab

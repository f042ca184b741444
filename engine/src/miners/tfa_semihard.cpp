// SPDX-License-Identifier: MIT
#include "marginlab/miners/tfa_semihard.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "miners/miner_common.h"

namespace marginlab {

Tuples TfaSemiHardMiner::mine(const MinerInput& input) const {
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    struct Scratch {
        std::vector<std::pair<Real, int>> positives;
        detail::RankedValues ranked;
        std::vector<std::pair<Real, int>> best;  // per boundary b: the least (δ_an, n) placed there
        std::vector<int> chosen;                 // per sample: the negative of its pair (a, p)
        std::vector<int> negatives, ranks;       // the anchor's negatives (j ascending), their ranks
        std::vector<Real> values;                // and their values (NaN as +∞)
    };
    // Per anchor, without sorting its negatives: with the positives sorted by δ_ap, a negative
    // qualifies ("δ_an > δ_ap") exactly for the positives below its rank b = #{p : δ_ap < δ_an},
    // so the answer for the k-th positive is the least (δ_an, n) over the negatives with b > k: a
    // suffix minimum over the ranks. A NaN δ_an (diverged points) ranks as +∞, an infinitely far negative.
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, Scratch* scratch) {
        const int label = labels[static_cast<std::size_t>(a)];
        int farthest = -1;
        Real farthestValue = -infinity;
        scratch->positives.clear();
        for (int j = 0; j < n; ++j) {
            if (labels[static_cast<std::size_t>(j)] != label) {
                const Real value = std::isnan(delta[j]) ? infinity : delta[j];
                if (farthest < 0 || value > farthestValue) {  // strict: the lowest index among ties
                    farthest = j;
                    farthestValue = value;
                }
            } else if (j != a && !std::isnan(delta[j])) {
                scratch->positives.emplace_back(delta[j], j);
            }
        }
        if (farthest < 0) return;
        std::vector<int>& chosen = scratch->chosen;
        chosen.resize(static_cast<std::size_t>(n));
        detail::RankedValues& ranked = scratch->ranked;
        ranked.assign(&scratch->positives);
        const int p = ranked.size();
        std::vector<std::pair<Real, int>>& best = scratch->best;
        best.assign(static_cast<std::size_t>(p) + 1, {infinity, -1});
        // The negatives' values first, then all their ranks in one call (eight at a time on a
        // vector unit: the lookups were most of the miner's time).
        scratch->negatives.clear();
        scratch->values.clear();
        for (int j = 0; j < n; ++j) {
            if (labels[static_cast<std::size_t>(j)] == label) continue;
            scratch->negatives.push_back(j);
            scratch->values.push_back(std::isnan(delta[j]) ? infinity : delta[j]);
        }
        const int count = static_cast<int>(scratch->negatives.size());
        scratch->ranks.resize(static_cast<std::size_t>(count));
        ranked.countBelowMany(scratch->values.data(), count, scratch->ranks.data());
        for (int t = 0; t < count; ++t) {
            const Real value = scratch->values[static_cast<std::size_t>(t)];
            std::pair<Real, int>& slot =
                best[static_cast<std::size_t>(scratch->ranks[static_cast<std::size_t>(t)])];
            // j ascending: ties keep the first.
            if (slot.second < 0 || value < slot.first)
                slot = {value, scratch->negatives[static_cast<std::size_t>(t)]};
        }
        std::pair<Real, int> running{infinity, -1};
        for (int k = p - 1; k >= 0; --k) {
            const std::pair<Real, int>& candidate = best[static_cast<std::size_t>(k) + 1];
            if (candidate.second >= 0 && (running.second < 0 || candidate < running)) running = candidate;
            chosen[static_cast<std::size_t>(ranked.items()[static_cast<std::size_t>(k)].second)] =
                running.second >= 0 ? running.second : farthest;
        }
        for (int j = 0; j < n; ++j) {
            if (j == a || labels[static_cast<std::size_t>(j)] != label) continue;
            // A NaN δ_ap is farther than nothing: the farthest negative, as the sorted search gives.
            out->push_back({a, j, std::isnan(delta[j]) ? farthest : chosen[static_cast<std::size_t>(j)]});
        }
    };
    // One triplet per positive pair: anchor a adds (its class size − 1) at most.
    std::vector<int> byLabel(labels.begin(), labels.end());
    std::sort(byLabel.begin(), byLabel.end());
    auto capacity = [&](int a) {
        const int label = labels[static_cast<std::size_t>(a)];
        const auto range = std::equal_range(byLabel.begin(), byLabel.end(), label);
        return static_cast<std::size_t>(range.second - range.first) - 1;
    };
    return Tuples::fromTriplets(detail::mineAnchors<Scratch>(rows, mineAnchor, capacity));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/histogram.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"

namespace marginlab {

HistogramLoss::HistogramLoss(int bins) : m_bins(bins), m_delta(2.0 / bins) {}

LossOutput HistogramLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    std::map<int, Count> classSize;
    for (int label : y) ++classSize[label];
    // Unordered pairs i < j taken from the triplets: (a,p) needs a negative for a (or p: same
    // class, same answer); (a,n) needs a positive for a, and {a,n} also arises from anchor n.
    // With two classes or more every positive pair has a negative; a negative pair is left out
    // only when both of its points are alone in their class.
    Count positives = 0, singletons = 0, sameLabel = 0;
    for (const auto& [label, size] : classSize) {
        sameLabel += size * (size - 1) / 2;
        if (size == 1) ++singletons;
    }
    if (classSize.size() >= 2) positives = sameLabel;
    const Count total = static_cast<Count>(n) * (n - 1) / 2;
    const Count negatives = positives > 0 ? total - sameLabel - singletons * (singletons - 1) / 2 : 0;
    if (positives == 0 || negatives == 0) return detail::zeroOutputWithKind(input, withGradient, "pairs");
    std::vector<char> alone(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        alone[static_cast<std::size_t>(i)] = classSize[y[static_cast<std::size_t>(i)]] == 1;
    // Which list the pair {i, j}, i < j, is in: +1 positive, −1 negative, 0 neither.
    auto pairKind = [&](int i, int j) {
        if (y[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(j)]) return 1;
        return alone[static_cast<std::size_t>(i)] && alone[static_cast<std::size_t>(j)] ? 0 : -1;
    };

    const auto bins = static_cast<std::size_t>(m_bins);
    // PML takes ⌊(s + 1)/Δ⌋ on float32 values; the interpolation weights in double.
    auto binOf = [&](Real value) {
        const float position = (static_cast<float>(value) + 1.0f) / static_cast<float>(m_delta);
        const long r = static_cast<long>(std::floor(position));
        return static_cast<std::size_t>(std::clamp(r, 0L, static_cast<long>(m_bins) - 1));
    };
    // Fused passes over the rows of s (pair_rows.h), entries j > i: no pair lists, no N×N matrix.
    // The first adds both densities up per chunk of rows (in the pairs' order), then in chunk order.
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), input.embeddings);
    pairRows.setTallySize(2 * (bins + 1));  // h⁺ then h⁻
    const Real positiveCount = static_cast<Real>(positives), negativeCount = static_cast<Real>(negatives);
    pairRows.run(false, nullptr, [&](int i, detail::PairRowChunk& part) {
        for (int j = i + 1; j < n; ++j) {
            const int kind = pairKind(i, j);
            if (kind == 0) continue;
            const Real value = part.row[static_cast<std::size_t>(j)];
            const std::size_t bin = binOf(value);
            const Real above = (value + 1.0 - static_cast<Real>(bin) * m_delta) / m_delta;
            const Real below = (static_cast<Real>(bin + 1) * m_delta - 1.0 - value) / m_delta;
            Real* h = part.tally.data() + (kind > 0 ? 0 : bins + 1);
            const Real count = kind > 0 ? positiveCount : negativeCount;
            h[bin + 1] += above / count;
            h[bin] += below / count;
        }
        return false;
    });
    const std::vector<Real> positive(pairRows.tally().begin(),
                                     pairRows.tally().begin() + static_cast<long>(bins + 1));
    const std::vector<Real> negative(pairRows.tally().begin() + static_cast<long>(bins + 1),
                                     pairRows.tally().end());
    Real running = 0.0, value = 0.0;
    for (std::size_t r = 0; r <= bins; ++r) {
        running += positive[r];
        value += negative[r] * running;
    }
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positives + negatives;
    out.stats.active = value > 0.0 ? 1 : 0;
    out.value = value;
    if (!withGradient) return out;
    // Φ⁺[r+1] − Φ⁺[r] = h⁺[r+1]; the reverse cumulative sum of h⁻ differs by −h⁻[r] across a bin.
    pairRows.setTallySize(0);
    pairRows.run(true, input.splitForces ? &y : nullptr, [&](int i, detail::PairRowChunk& part) {
        Real* g = part.gradRow.data();
        std::fill(g, g + i + 1, 0.0);  // each unordered pair once, in the row of its smaller index
        for (int j = i + 1; j < n; ++j) {
            const int kind = pairKind(i, j);
            const Real s = part.row[static_cast<std::size_t>(j)];
            g[j] = kind > 0   ? -negative[binOf(s)] / (m_delta * positiveCount)
                   : kind < 0 ? positive[binOf(s) + 1] / (m_delta * negativeCount)
                              : 0.0;
        }
        return true;
    });
    out.gradEmbeddings = pairRows.gradient(1.0);
    if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(1.0);
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace marginlab

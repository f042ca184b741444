// SPDX-License-Identifier: MIT
#include "marginlab/losses/histogram.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"

namespace marginlab {

HistogramLoss::HistogramLoss(int bins) : m_bins(bins), m_delta(2.0 / bins) {}

LossOutput HistogramLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    std::map<int, int> classSize;
    for (int label : y) ++classSize[label];
    auto hasPositive = [&](int i) { return classSize[y[static_cast<std::size_t>(i)]] >= 2; };
    auto hasNegative = [&](int i) { return classSize[y[static_cast<std::size_t>(i)]] < n; };
    // Unordered pairs i < j taken from the triplets: (a,p) needs a negative for a (or p: same
    // class, same answer); (a,n) needs a positive for a, and {a,n} also arises from anchor n.
    std::vector<Pair> positives, negatives;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            if (y[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(j)]) {
                if (hasNegative(i)) positives.push_back({i, j});
            } else if (hasPositive(i) || hasPositive(j)) {
                negatives.push_back({i, j});
            }
        }
    if (positives.empty() || negatives.empty())
        return detail::zeroOutputWithKind(input, withGradient, "pairs");

    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    const auto bins = static_cast<std::size_t>(m_bins);
    // PML takes ⌊(s + 1)/Δ⌋ on float32 values; the interpolation weights in double.
    auto binOf = [&](Real value) {
        const float position = (static_cast<float>(value) + 1.0f) / static_cast<float>(m_delta);
        const long r = static_cast<long>(std::floor(position));
        return static_cast<std::size_t>(std::clamp(r, 0L, static_cast<long>(m_bins) - 1));
    };
    // Every pass runs on the engine's threads in runs of anchor rows (PairRuns); the densities
    // are added up per run, then in run order.
    const detail::PairRuns positiveRuns(positives, n), negativeRuns(negatives, n);
    auto density = [&](const std::vector<Pair>& pairs, const detail::PairRuns& runs) {
        std::vector<std::vector<Real>> partial(static_cast<std::size_t>(runs.count()), std::vector<Real>(bins + 1, 0.0));
        const Real count = static_cast<Real>(pairs.size());
        detail::sumOverPairRuns(runs, [&](int r, std::span<const Pair> run, detail::SampleTally&) {
            std::vector<Real>& h = partial[static_cast<std::size_t>(r)];
            for (const Pair& p : run) {
                const Real value = s(p[0], p[1]);
                const std::size_t bin = binOf(value);
                const Real above = (value + 1.0 - static_cast<Real>(bin) * m_delta) / m_delta;
                const Real below = (static_cast<Real>(bin + 1) * m_delta - 1.0 - value) / m_delta;
                h[bin + 1] += above / count;
                h[bin] += below / count;
            }
        });
        std::vector<Real> h(bins + 1, 0.0);
        for (const std::vector<Real>& part : partial)
            for (std::size_t r = 0; r <= bins; ++r) h[r] += part[r];
        return h;
    };
    const std::vector<Real> positive = density(positives, positiveRuns), negative = density(negatives, negativeRuns);
    std::vector<Real> cumulative(bins + 1);
    Real running = 0.0, value = 0.0;
    for (std::size_t r = 0; r <= bins; ++r) {
        running += positive[r];
        cumulative[r] = running;
        value += negative[r] * running;
    }
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(positives.size() + negatives.size());
    out.stats.active = value > 0.0 ? 1 : 0;
    out.value = value;
    if (!withGradient) return out;
    // Φ⁺[r+1] − Φ⁺[r] = h⁺[r+1]; the reverse cumulative sum of h⁻ differs by −h⁻[r] across a bin.
    Matrix& g = workspace.gradient();
    const Real positiveCount = static_cast<Real>(positives.size()),
               negativeCount = static_cast<Real>(negatives.size());
    detail::sumOverPairRuns(positiveRuns, [&](int, std::span<const Pair> run, detail::SampleTally&) {
        for (const Pair& p : run) g(p[0], p[1]) = -negative[binOf(s(p[0], p[1]))] / (m_delta * positiveCount);
    });
    detail::sumOverPairRuns(negativeRuns, [&](int, std::span<const Pair> run, detail::SampleTally&) {
        for (const Pair& p : run) g(p[0], p[1]) = positive[binOf(s(p[0], p[1])) + 1] / (m_delta * negativeCount);
    });
    out.gradEmbeddings = workspace.backward();
    if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(y);
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace marginlab

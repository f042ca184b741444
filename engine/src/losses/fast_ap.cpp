// SPDX-License-Identifier: MIT
#include "marginlab/losses/fast_ap.h"

#include <algorithm>
#include <cmath>

#include "losses/common.h"
#include "losses/pair_family_support.h"

namespace marginlab {

FastApLoss::FastApLoss(int bins, const DistanceSpec& distance) : m_bins(bins), m_distance(distance) {}

LossOutput FastApLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    // |P(i)| = the size of i's class − 1, from the sorted labels (a scan of every pair on the
    // calling thread was a serial N² part of the step).
    Labels sorted = y;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> positivesOf(static_cast<std::size_t>(n), 0);
    int anchors = 0;
    for (int i = 0; i < n; ++i) {
        const auto range = std::equal_range(sorted.begin(), sorted.end(), y[static_cast<std::size_t>(i)]);
        positivesOf[static_cast<std::size_t>(i)] = static_cast<int>(range.second - range.first) - 1;
        if (positivesOf[static_cast<std::size_t>(i)] > 0) ++anchors;
    }
    if (anchors == 0) return detail::zeroOutputWithKind(input, withGradient, "anchors");

    const Real top = m_distance.power == 2 ? 4.0 : 2.0;
    const Real delta = top / m_bins;
    // torch.linspace(0, top, R + 1) in float32 (PML converts the nodes to the input's dtype after).
    const auto nodes = static_cast<std::size_t>(m_bins + 1);
    std::vector<Real> t(nodes);
    {
        const float step = static_cast<float>(top) / static_cast<float>(m_bins);
        const int steps = m_bins + 1;
        for (int r = 0; r < steps; ++r)
            t[static_cast<std::size_t>(r)] =
                r < steps / 2
                    ? static_cast<Real>(0.0f + step * static_cast<float>(r))
                    : static_cast<Real>(static_cast<float>(top) - step * static_cast<float>(steps - 1 - r));
    }
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& d = workspace.matrix();
    LossOutput out;
    out.stats.tupleKind = "anchors";
    out.stats.tuples = anchors;
    // Anchors are independent (each writes its own row of ∂L/∂d): runs of them on the engine's
    // threads; anchors with a kept node are counted as `kept`.
    Matrix& g = workspace.gradient();
    // A pulse b_r(d) = relu(1 − |d − t_r|/Δ) is non-zero only for the nodes within Δ of d: at
    // most two. Skipping the others adds no term that is not exactly 0 (|d − t_r| ≥ Δ gives
    // 1 − |d − t_r|/Δ ≤ 0 exactly), so the sums keep their bits. The window is two nodes wider
    // each side than needed: the nodes are float32 values near r·Δ, not r·Δ itself.
    auto window = [&](Real value) -> std::pair<std::size_t, std::size_t> {
        if (!(std::abs(value) < 1e6)) return {0, nodes};  // NaN or far off: every node
        const long centre = static_cast<long>(std::floor(value / delta));
        const long low = std::clamp(centre - 2, 0L, static_cast<long>(nodes));
        const long high = std::clamp(centre + 3, 0L, static_cast<long>(nodes));
        return {static_cast<std::size_t>(low), static_cast<std::size_t>(high)};
    };
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, n, [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<Real> hp(nodes), hn(nodes), cp(nodes), ch(nodes), slopeP(nodes), slopeN(nodes);
            for (int i = static_cast<int>(begin); i < static_cast<int>(end); ++i) {
                const auto positives = positivesOf[static_cast<std::size_t>(i)];
                if (positives == 0) continue;
                std::fill(hp.begin(), hp.end(), 0.0);
                std::fill(hn.begin(), hn.end(), 0.0);
                for (int j = 0; j < n; ++j) {
                    if (j == i) continue;
                    auto& h = y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)] ? hp : hn;
                    const auto [low, high] = window(d(i, j));
                    for (std::size_t r = low; r < high; ++r)
                        h[r] += detail::relu(1.0 - std::abs(d(i, j) - t[r]) / delta);
                }
                Real runningP = 0.0, running = 0.0, ap = 0.0;
                bool anyNode = false;
                for (std::size_t r = 0; r < nodes; ++r) {
                    runningP += hp[r];
                    running += hp[r] + hn[r];
                    cp[r] = runningP;
                    ch[r] = running;
                    if (hp[r] * cp[r] > 0.0 && ch[r] > 0.0) {
                        ap += hp[r] * cp[r] / ch[r];
                        anyNode = true;
                    }
                }
                const Real term = 1.0 - ap / positives;
                part.total += term;
                part.kept += anyNode ? 1 : 0;
                if (term > 0.0) ++part.active;
                if (!withGradient) continue;
                // ∂AP/∂h⁺_r = [r kept] H⁺_r/H_r + Σ_{k ≥ r, kept} (h⁺_k/H_k − h⁺_k H⁺_k/H_k²),
                // ∂AP/∂h⁻_r = −Σ_{k ≥ r, kept} h⁺_k H⁺_k/H_k².
                Real tailP = 0.0, tailN = 0.0;
                for (std::size_t k = nodes; k-- > 0;) {
                    const bool kept = hp[k] * cp[k] > 0.0 && ch[k] > 0.0;
                    if (kept) {
                        tailP += hp[k] / ch[k] - hp[k] * cp[k] / (ch[k] * ch[k]);
                        tailN -= hp[k] * cp[k] / (ch[k] * ch[k]);
                    }
                    slopeP[k] = (kept ? cp[k] / ch[k] : 0.0) + tailP;
                    slopeN[k] = tailN;
                }
                // loss_i = 1 − AP_i/|P(i)|, averaged over the anchors; b_r'(d) = −sign(d − t_r)/Δ inside the pulse.
                const Real scale = -1.0 / (positives * static_cast<Real>(anchors));
                for (int j = 0; j < n; ++j) {
                    if (j == i) continue;
                    const auto& slope =
                        y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)] ? slopeP : slopeN;
                    Real sum = 0.0;
                    const auto [low, high] = window(d(i, j));
                    for (std::size_t r = low; r < high; ++r) {
                        const Real offset = d(i, j) - t[r];
                        if (std::abs(offset) < delta && offset != 0.0)
                            sum += slope[r] * (offset > 0.0 ? -1.0 : 1.0) / delta;
                    }
                    g(i, j) += scale * sum;
                }
            }
        });
    out.stats.active = tally.active;
    const Real total = tally.total;
    const bool anyNode = tally.kept > 0;
    if (!anyNode) return detail::zeroOutputWithKind(input, withGradient, "anchors");
    out.value = total / anchors;
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(y);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/fast_ap.h"

#include <cmath>

#include "losses/pair_family_support.h"

namespace marginlab {

FastApLoss::FastApLoss(int bins, const DistanceSpec& distance) : m_bins(bins), m_distance(distance) {}

LossOutput FastApLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const int n = static_cast<int>(y.size());
    std::vector<int> positivesOf(static_cast<std::size_t>(n), 0);
    int anchors = 0;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j)
            if (j != i && y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)])
                ++positivesOf[static_cast<std::size_t>(i)];
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
    std::vector<Real> hp(nodes), hn(nodes), cp(nodes), ch(nodes), slopeP(nodes), slopeN(nodes);
    Real total = 0.0;
    bool anyNode = false;
    for (int i = 0; i < n; ++i) {
        const auto positives = positivesOf[static_cast<std::size_t>(i)];
        if (positives == 0) continue;
        std::fill(hp.begin(), hp.end(), 0.0);
        std::fill(hn.begin(), hn.end(), 0.0);
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            auto& h = y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)] ? hp : hn;
            for (std::size_t r = 0; r < nodes; ++r)
                h[r] += detail::relu(1.0 - std::abs(d(i, j) - t[r]) / delta);
        }
        Real runningP = 0.0, running = 0.0, ap = 0.0;
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
        total += term;
        if (term > 0.0) ++out.stats.active;
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
        Matrix& g = workspace.gradient();
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            const auto& slope =
                y[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(i)] ? slopeP : slopeN;
            Real sum = 0.0;
            for (std::size_t r = 0; r < nodes; ++r) {
                const Real offset = d(i, j) - t[r];
                if (std::abs(offset) < delta && offset != 0.0)
                    sum += slope[r] * (offset > 0.0 ? -1.0 : 1.0) / delta;
            }
            g(i, j) += scale * sum;
        }
    }
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

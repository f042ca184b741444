// SPDX-License-Identifier: MIT
#include "marginlab/losses/subcenter_arcface.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>

#include "losses/common.h"

namespace marginlab {

SubCenterArcFaceLoss::SubCenterArcFaceLoss(Real marginDegrees, Real scale, int subCenters)
    : m_margin(marginDegrees * std::numbers::pi / 180.0), m_scale(scale), m_subCenters(subCenters) {}

LossOutput SubCenterArcFaceLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    Eigen::Index classes = 0;
    if (auto early = detail::perSampleEarlyOutput(input, withGradient, m_subCenters, &classes)) return *early;
    const Points& w = *input.owned;
    const Labels& y = input.labels;
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    const CrossDistance cosine(DistanceSpec::cosine(), input.embeddings, w);
    const Matrix& all = cosine.matrix();  // N × K·C
    Matrix g;
    if (withGradient) g = Matrix::Zero(n, w.rows());
    // Samples on the engine's threads, each run writing its own rows.
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, w.rows(), [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<Real> logits(static_cast<std::size_t>(classes)),
                grad(static_cast<std::size_t>(classes));
            std::vector<Eigen::Index> chosen(static_cast<std::size_t>(classes));
            for (Eigen::Index i = begin; i < end; ++i) {
                const int target = y[static_cast<std::size_t>(i)];
                for (Eigen::Index c = 0; c < classes; ++c) {
                    Eigen::Index best = c;
                    for (int k = 1; k < m_subCenters; ++k)
                        if (all(i, k * classes + c) > all(i, best)) best = k * classes + c;
                    chosen[static_cast<std::size_t>(c)] = best;
                    logits[static_cast<std::size_t>(c)] = m_scale * all(i, best);
                }
                // ArcFace's target logit and dφ/dc (sin θ from √((1−c)(1+c)); 0 where |c| ≥ 1).
                const Real c = all(i, chosen[static_cast<std::size_t>(target)]);
                const Real theta = std::acos(std::clamp(c, Real(-1), Real(1)));
                const Real sine = std::abs(c) < 1.0 ? std::sqrt((1.0 - c) * (1.0 + c)) : 0.0;
                Real phi = 0.0, slope = 0.0;
                if (theta <= std::numbers::pi - m_margin) {
                    phi = std::cos(theta + m_margin);
                    slope = sine > 0.0 ? std::sin(theta + m_margin) / sine : 0.0;
                } else {
                    phi = std::clamp(c, Real(-1), Real(1)) - m_margin * std::sin(m_margin);
                    slope = sine > 0.0 ? 1.0 : 0.0;
                }
                logits[static_cast<std::size_t>(target)] = m_scale * phi;
                const Real term = detail::crossEntropy(
                    logits, target, withGradient ? std::span<Real>(grad) : std::span<Real>());
                part.total += term;
                if (term > 0.0) ++part.active;
                if (!withGradient) continue;
                for (Eigen::Index k = 0; k < classes; ++k) {
                    const Real chain = k == target ? m_scale * slope : m_scale;
                    g(i, chosen[static_cast<std::size_t>(k)]) +=
                        grad[static_cast<std::size_t>(k)] * chain / Real(n);
                }
            }
        });
    out.stats.active = tally.active;
    const Real total = tally.total;
    out.value = total / Real(n);
    if (withGradient) {
        cosine.backward(g, &out.gradEmbeddings, &out.gradOwned);
        if (input.splitForces) {
            Labels rowClass(static_cast<std::size_t>(w.rows()));
            for (Eigen::Index r = 0; r < w.rows(); ++r)
                rowClass[static_cast<std::size_t>(r)] = static_cast<int>(r % classes);
            cosine.backwardSameLabel(g, y, rowClass, &out.gradFromPositives, nullptr);
        }
    }
    return out;
}

}  // namespace marginlab

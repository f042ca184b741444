// SPDX-License-Identifier: MIT
#include "marginlab/losses/soft_triple.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "losses/common.h"

namespace marginlab {

SoftTripleLoss::SoftTripleLoss(int centersPerClass, Real la, Real gamma, Real margin)
    : m_centersPerClass(centersPerClass), m_la(la), m_gamma(gamma), m_margin(margin) {}

LossOutput SoftTripleLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    Eigen::Index classes = 0;
    if (auto early = detail::perSampleEarlyOutput(input, withGradient, m_centersPerClass, &classes)) return *early;
    const Points& w = *input.owned;
    const Labels& y = input.labels;
    LossOutput out;
    out.stats.tupleKind = "samples";
    out.stats.tuples = n;
    const CrossDistance cosine(DistanceSpec::cosine(), input.embeddings, w);
    const Matrix& s = cosine.matrix();  // N × K·C
    Matrix g;
    if (withGradient) g.resize(n, w.rows());  // every entry written below
    const auto k = static_cast<std::size_t>(m_centersPerClass);
    // Samples on the engine's threads, each run writing its own rows. A center costs about three
    // units of kMinParallelWork (its exponential, its share of the log-sum-exp and of the
    // backward pass): counted as one, N = 1,024 with 10 classes ran on one thread (1.3 ms).
    const detail::SampleTally tally = detail::sumOverSampleRuns(
        n, 3 * w.rows(), [&](Eigen::Index begin, Eigen::Index end, int, detail::SampleTally& part) {
            std::vector<Real> logits(static_cast<std::size_t>(classes)),
                grad(static_cast<std::size_t>(classes));
            std::vector<Real> z(k), p(static_cast<std::size_t>(classes) * k),
                soft(static_cast<std::size_t>(classes));
            for (Eigen::Index i = begin; i < end; ++i) {
                const int target = y[static_cast<std::size_t>(i)];
                for (Eigen::Index c = 0; c < classes; ++c) {
                    for (std::size_t j = 0; j < k; ++j)
                        z[j] = s(i, static_cast<Eigen::Index>(j) * classes + c) / m_gamma;
                    std::span<Real> weights(p.data() + static_cast<std::size_t>(c) * k, k);
                    detail::logSumExp(z, false, weights);
                    Real value = 0.0;
                    for (std::size_t j = 0; j < k; ++j)
                        value += weights[j] * s(i, static_cast<Eigen::Index>(j) * classes + c);
                    soft[static_cast<std::size_t>(c)] = value;
                    logits[static_cast<std::size_t>(c)] = m_la * (value - (c == target ? m_margin : 0.0));
                }
                const Real term = detail::crossEntropy(
                    logits, target, withGradient ? std::span<Real>(grad) : std::span<Real>());
                part.total += term;
                if (term > 0.0) ++part.active;
                if (!withGradient) continue;
                for (Eigen::Index c = 0; c < classes; ++c) {
                    const Real upstream = grad[static_cast<std::size_t>(c)] * m_la / Real(n);  // ∂loss/∂S_ic
                    const Real mean = soft[static_cast<std::size_t>(c)];
                    for (std::size_t j = 0; j < k; ++j) {
                        const Eigen::Index column = static_cast<Eigen::Index>(j) * classes + c;
                        const Real weight = p[static_cast<std::size_t>(c) * k + j];
                        g(i, column) = upstream * weight * (1.0 + (s(i, column) - mean) / m_gamma);
                    }
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

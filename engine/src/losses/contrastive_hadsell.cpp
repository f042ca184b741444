// SPDX-License-Identifier: MIT
#include "marginlab/losses/contrastive_hadsell.h"

#include "losses/common.h"

namespace marginlab {

HadsellContrastiveLoss::HadsellContrastiveLoss(Real margin, bool normalize)
    : m_margin(margin), m_distance(DistanceSpec::lp(1, normalize)) {}

LossOutput HadsellContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    const Labels& y = input.labels;
    LossStats stats;
    stats.tupleKind = "pairs";
    if (n < 2) {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats = stats;
        return out;
    }
    const SelfDistance distance(m_distance, input.embeddings);
    const Matrix& d = distance.matrix();
    const Real pairs = Real(n) * Real(n - 1) / 2.0;
    Matrix grad;
    if (withGradient) grad = Matrix::Zero(n, n);
    Real sum = 0.0;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            ++stats.tuples;
            Real term = 0.0, slope = 0.0;  // slope = d term / d d_ij
            if (y[i] == y[j]) {
                term = 0.5 * d(i, j) * d(i, j);
                slope = d(i, j);
            } else {
                const Real shortfall = detail::relu(m_margin - d(i, j));
                term = 0.5 * shortfall * shortfall;
                slope = -shortfall;
            }
            if (term > 0.0) ++stats.active;
            sum += term;
            if (withGradient) grad(i, j) = slope / pairs;  // backward adds the (j,i) side (zero here)
        }
    LossOutput out;
    out.stats = stats;
    out.value = sum / pairs;
    if (withGradient) out.gradEmbeddings = distance.backward(grad);
    return out;
}

}  // namespace marginlab

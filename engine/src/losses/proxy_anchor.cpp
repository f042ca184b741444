// SPDX-License-Identifier: MIT
#include "marginlab/losses/proxy_anchor.h"

#include "losses/common.h"
#include "losses/proxy_support.h"

#include <vector>

namespace marginlab {

LossOutput ProxyAnchorLoss::evaluate(const LossInput& input, bool withGradient) const {
    const int classes = detail::ownedClassCount(input, 1, name());
    const Eigen::Index n = input.embeddings.rows();
    if (n == 0) return detail::zeroOutput(input, withGradient);

    const CrossDistance cosine(DistanceSpec::cosine(), input.embeddings, *input.owned);
    const Matrix& s = cosine.matrix();

    // The positive divisor counts the classes present in the batch (PML: proxies with a positive).
    std::vector<char> isPresent(static_cast<std::size_t>(classes), 0);
    for (int label : input.labels) isPresent[static_cast<std::size_t>(label)] = 1;
    int present = 0;
    for (char flag : isPresent) present += flag;

    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = static_cast<Count>(n) * classes;

    Matrix gradS;
    if (withGradient) gradS = Matrix::Zero(n, classes);
    std::vector<Real> z, weights;
    std::vector<Eigen::Index> rows;
    Real positiveSum = 0.0, negativeSum = 0.0;
    // Each column c is one proxy: its two LSE₁ terms and their softmax weights (∂LSE₁/∂z_i).
    // One O(N) pass per column and sign keeps the whole loss O(N·C).
    auto column = [&](int c, bool positive) {
        z.clear();
        rows.clear();
        for (Eigen::Index i = 0; i < n; ++i) {
            const bool same = input.labels[static_cast<std::size_t>(i)] == c;
            if (same != positive) continue;
            const Real exponent = positive ? -m_alpha * (s(i, c) - m_margin) : m_alpha * (s(i, c) + m_margin);
            if (exponent > 0.0) ++out.stats.active;
            z.push_back(exponent);
            rows.push_back(i);
        }
        weights.assign(z.size(), 0.0);
        const Real term = detail::logSumExp(z, true, weights);
        if (withGradient) {
            // ∂exponent/∂s is −α for positives, +α for negatives; the divisor is a constant.
            const Real factor = positive ? -m_alpha / present : m_alpha / classes;
            for (std::size_t k = 0; k < rows.size(); ++k) gradS(rows[k], c) += factor * weights[k];
        }
        return term;
    };
    for (int c = 0; c < classes; ++c) {
        positiveSum += column(c, true);
        negativeSum += column(c, false);
    }
    out.value = positiveSum / present + negativeSum / classes;

    if (withGradient) cosine.backward(gradS, &out.gradEmbeddings, &out.gradOwned);
    if (detail::splitsForces(input, withGradient))  // through the own-proxy similarities (the pos_c terms)
        cosine.backwardSameLabel(gradS, input.labels, detail::classRowLabels(classes), &out.gradFromPositives,
                                 nullptr);
    return out;
}

}  // namespace marginlab

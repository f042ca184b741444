// SPDX-License-Identifier: MIT
#include "marginlab/losses/proxy_anchor.h"

#include <vector>

#include "losses/common.h"
#include "losses/proxy_support.h"
#include "parallel.h"

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
    // Each column c is one proxy: its two LSE₁ terms and their softmax weights (∂LSE₁/∂z_i).
    // One O(N) pass per column and sign keeps the whole loss O(N·C). The columns run on the
    // engine's threads, each writing its own column of gradS; their terms are added in column
    // order afterwards, so the sums have the same bits on any thread count.
    std::vector<Real> positiveTerm(static_cast<std::size_t>(classes)), negativeTerm(positiveTerm.size());
    std::vector<Count> activeIn(positiveTerm.size(), 0);
    struct Scratch {
        std::vector<Real> z, weights;
        std::vector<Eigen::Index> rows;
    };
    const int workers = detail::chunkWorkers(classes, static_cast<std::int64_t>(n) * classes);
    std::vector<Scratch> scratch(static_cast<std::size_t>(workers));
    auto column = [&](int c, bool positive, Scratch& w) {
        w.z.clear();
        w.rows.clear();
        for (Eigen::Index i = 0; i < n; ++i) {
            const bool same = input.labels[static_cast<std::size_t>(i)] == c;
            if (same != positive) continue;
            const Real exponent = positive ? -m_alpha * (s(i, c) - m_margin) : m_alpha * (s(i, c) + m_margin);
            if (exponent > 0.0) ++activeIn[static_cast<std::size_t>(c)];
            w.z.push_back(exponent);
            w.rows.push_back(i);
        }
        w.weights.assign(w.z.size(), 0.0);
        const Real term = detail::logSumExp(w.z, true, w.weights);
        if (withGradient) {
            // ∂exponent/∂s is −α for positives, +α for negatives; the divisor is a constant.
            const Real factor = positive ? -m_alpha / present : m_alpha / classes;
            for (std::size_t k = 0; k < w.rows.size(); ++k) gradS(w.rows[k], c) += factor * w.weights[k];
        }
        return term;
    };
    detail::forEachChunk(classes, workers, [&](int c, int worker) {
        Scratch& w = scratch[static_cast<std::size_t>(worker)];
        positiveTerm[static_cast<std::size_t>(c)] = column(c, true, w);
        negativeTerm[static_cast<std::size_t>(c)] = column(c, false, w);
    });
    Real positiveSum = 0.0, negativeSum = 0.0;
    for (int c = 0; c < classes; ++c) {
        positiveSum += positiveTerm[static_cast<std::size_t>(c)];
        negativeSum += negativeTerm[static_cast<std::size_t>(c)];
        out.stats.active += activeIn[static_cast<std::size_t>(c)];
    }
    out.value = positiveSum / present + negativeSum / classes;

    if (withGradient) cosine.backward(gradS, &out.gradEmbeddings, &out.gradOwned);
    if (detail::splitsForces(input, withGradient))  // through the own-proxy similarities (the pos_c terms)
        cosine.backwardSameLabel(gradS, input.labels, detail::classRowLabels(classes), &out.gradFromPositives,
                                 nullptr);
    return out;
}

}  // namespace marginlab

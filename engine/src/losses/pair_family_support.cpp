// SPDX-License-Identifier: MIT
#include "losses/pair_family_support.h"

#include "losses/distance_rows.h"
#include "losses/pair_lists.h"
#include "parallel.h"

#include <algorithm>
#include <cmath>

namespace marginlab::detail {

void PairwiseWorkspace::compute(const DistanceSpec& spec, const Points& x, bool withGradient) {
    m_spec = spec;
    const Eigen::Index n = x.rows();
    if (spec.normalizes()) m_embedded = normalizeRows(x, &m_norms);
    else m_embedded = x;
    m_matrix.resize(n, n);  // keeps the buffer when the size is unchanged
    if (withGradient) m_gradient.resize(n, n);
    // Rows are independent: the matrix's rows and the gradient's zeros are made in runs of rows on
    // the engine's threads (the runs are fixed by n: the same bits on any thread count). At
    // N = 4096 the gradient is 128 MB, which one thread alone clears in a sizeable share of a
    // two-thread step; at N = 1,024 the similarity product alone on the calling thread was about
    // 40 % of threshold-consistent margin's step on two threads.
    forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int) {
        if (withGradient) m_gradient.middleRows(begin, end - begin).setZero();
        if (spec.isSimilarity()) {
            m_matrix.middleRows(begin, end - begin).noalias() =
                m_embedded.middleRows(begin, end - begin) * m_embedded.transpose();
            return;
        }
        for (Eigen::Index i = begin; i < end; ++i)
            lpRow(m_embedded.data(), n, m_embedded.cols(), i, spec.power, m_matrix.data() + i * n);
    });
}

Points PairwiseWorkspace::backward() {
    // Row by row of G, with the embeddings and the result stored column by column, so that every
    // step is a vectorizable dot product or axpy over a whole row (Eigen's G·E and Gᵀ·E spend their
    // time packing the N×N matrix when D = 2, and a scatter loop does not vectorize). For row j:
    //   similarity:  ∂(e_j·e_i)/∂e_j = e_i,  ∂/∂e_i = e_j
    //   Lp:          ∂M_ji/∂e_j = c_ji (e_j − e_i) = −∂M_ji/∂e_i, c = 1/‖e_j − e_i‖ (power 1; 0 for
    //                coinciding points, a subgradient) or 2 (power 2).
    using ColumnMajor = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
    const Eigen::Index n = m_embedded.rows();
    const Eigen::Index d = m_embedded.cols();
    const ColumnMajor columns = m_embedded;
    m_gradient.diagonal().setZero();  // M_jj is constant for every loss here
    // Rows of G in chunks fixed by n, each with its own partial sum, added in chunk order: the
    // same bits on any number of threads.
    const AnchorChunks chunks(n);
    std::vector<ColumnMajor> partial(static_cast<std::size_t>(chunks.count()));
    forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int chunk) {
        ColumnMajor& grad = partial[static_cast<std::size_t>(chunk)];
        grad = ColumnMajor::Zero(n, d);
        Eigen::ArrayXd weight(n);
        for (Eigen::Index j = begin; j < end; ++j) {
            const auto g = m_gradient.row(j).transpose().array();
            if (m_spec.isSimilarity()) {
                for (Eigen::Index k = 0; k < d; ++k) {
                    grad(j, k) += (g * columns.col(k).array()).sum();
                    grad.col(k).array() += g * columns(j, k);
                }
            } else {
                if (m_spec.power == 1) {
                    const auto distance = m_matrix.row(j).transpose().array();
                    weight = (distance > 0.0).select(g / distance, 0.0);
                } else {
                    weight = 2.0 * g;
                }
                const Real weightSum = weight.sum();
                for (Eigen::Index k = 0; k < d; ++k) {
                    grad(j, k) += columns(j, k) * weightSum - (weight * columns.col(k).array()).sum();
                    grad.col(k).array() += weight * (columns.col(k).array() - columns(j, k));
                }
            }
        }
    });
    ColumnMajor grad = ColumnMajor::Zero(n, d);
    for (const ColumnMajor& part : partial) grad += part;
    const Points gradEmbedded = grad;
    if (!m_spec.normalizes()) return gradEmbedded;
    return normalizeRowsBackward(m_embedded, m_norms, gradEmbedded);
}

Points PairwiseWorkspace::backwardSameLabel(const Labels& labels) {
    const Eigen::Index n = m_gradient.rows();
    for (Eigen::Index i = 0; i < n; ++i) {
        const int label = labels[static_cast<std::size_t>(i)];
        for (Eigen::Index j = 0; j < n; ++j)
            if (labels[static_cast<std::size_t>(j)] != label) m_gradient(i, j) = 0.0;
    }
    return backward();  // linear in ∂L/∂M: the masked matrix gives exactly its share of the gradient
}

PairwiseWorkspace& pairwiseWorkspace(const DistanceSpec& spec, const Points& x, bool withGradient) {
    thread_local PairwiseWorkspace workspace;
    workspace.compute(spec, x, withGradient);
    return workspace;
}

PairRuns::PairRuns(const std::vector<Pair>& pairs, Eigen::Index n) : m_pairs(&pairs) {
    const bool sorted = std::is_sorted(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a[0] < b[0]; });
    m_starts.push_back(0);
    if (sorted) {
        const AnchorChunks rows(n);
        for (int r = 1; r < rows.count(); ++r) {
            const auto boundary = std::lower_bound(pairs.begin(), pairs.end(), rows.begin(r),
                                                   [](const Pair& p, std::ptrdiff_t row) { return p[0] < row; });
            m_starts.push_back(static_cast<std::size_t>(boundary - pairs.begin()));
        }
    }
    m_starts.push_back(pairs.size());
}

SampleTally sumOverPairRuns(const PairRuns& runs,
                            const std::function<void(int run, std::span<const Pair> pairs, SampleTally& tally)>& body) {
    std::vector<SampleTally> tallies(static_cast<std::size_t>(runs.count()));
    forEachChunk(runs.count(), chunkWorkers(runs.count()),
                 [&](int r, int) { body(r, runs.run(r), tallies[static_cast<std::size_t>(r)]); });
    SampleTally sum;
    for (const SampleTally& t : tallies) sum += t;
    return sum;
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "losses/pair_family_support.h"

#include <cmath>

namespace marginlab::detail {

namespace {

/// ‖e_i − e_j‖ (power 1) or ‖e_i − e_j‖² (power 2) from the differences: exact zeros for equal
/// points and no cancellation for close ones (as SelfDistance, which the FD tests rely on).
template <int Dimension>
void fillLpMatrix(const Points& e, int power, Matrix* m) {
    const Eigen::Index n = e.rows();
    const Eigen::Index d = Dimension > 0 ? Dimension : e.cols();
    const Real* data = e.data();
    for (Eigen::Index i = 0; i < n; ++i) {
        const Real* row = data + i * d;
        Real* out = m->data() + i * n;
        for (Eigen::Index j = 0; j < n; ++j) {
            const Real* other = data + j * d;
            Real squared = 0.0;
            for (Eigen::Index k = 0; k < d; ++k) {
                const Real diff = row[k] - other[k];
                squared += diff * diff;
            }
            out[j] = squared;
        }
        // The square roots of a whole row at once: vectorized, and correctly rounded like std::sqrt.
        if (power == 1) Eigen::Map<Eigen::ArrayXd>(out, n) = Eigen::Map<Eigen::ArrayXd>(out, n).sqrt();
    }
}

}  // namespace

void PairwiseWorkspace::compute(const DistanceSpec& spec, const Points& x, bool withGradient) {
    m_spec = spec;
    const Eigen::Index n = x.rows();
    if (spec.normalizes()) m_embedded = normalizeRows(x, &m_norms);
    else m_embedded = x;
    m_matrix.resize(n, n);  // keeps the buffer when the size is unchanged
    if (spec.isSimilarity()) {
        m_matrix.noalias() = m_embedded * m_embedded.transpose();
    } else if (x.cols() == 2) {
        fillLpMatrix<2>(m_embedded, spec.power, &m_matrix);
    } else if (x.cols() == 3) {
        fillLpMatrix<3>(m_embedded, spec.power, &m_matrix);
    } else {
        fillLpMatrix<0>(m_embedded, spec.power, &m_matrix);
    }
    if (withGradient) {
        m_gradient.resize(n, n);
        m_gradient.setZero();
    }
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
    ColumnMajor grad = ColumnMajor::Zero(n, d);
    m_gradient.diagonal().setZero();  // M_jj is constant for every loss here
    Eigen::ArrayXd weight(n);
    for (Eigen::Index j = 0; j < n; ++j) {
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

}  // namespace marginlab::detail

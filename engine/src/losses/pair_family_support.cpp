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
            out[j] = power == 1 ? std::sqrt(squared) : squared;
        }
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

namespace {

/**
 * One pass over G (row-major) accumulating ∂L/∂e for every kind of matrix: for each entry,
 *   similarity:  ∂(e_i·e_j)/∂e_i = e_j,  ∂/∂e_j = e_i
 *   Lp:          ∂M_ij/∂e_i = c_ij (e_i − e_j) = −∂M_ij/∂e_j, c = 1/‖e_i − e_j‖ (power 1; 0 for
 *                coinciding points, a subgradient) or 2 (power 2).
 * Fused by hand: Eigen's G·E and Gᵀ·E with D = 2 spend their time packing the N×N matrix.
 */
template <int Dimension>
Points accumulateGradient(const Matrix& g, const Matrix& m, const Points& e, const DistanceSpec& spec) {
    const Eigen::Index n = e.rows();
    const Eigen::Index d = Dimension > 0 ? Dimension : e.cols();
    Points grad = Points::Zero(n, e.cols());
    const Real* data = e.data();
    Real* out = grad.data();
    const bool similarity = spec.isSimilarity();
    const bool euclidean = spec.power == 1;
    for (Eigen::Index i = 0; i < n; ++i) {
        const Real* row = data + i * d;
        const Real* gradientRow = g.data() + i * n;
        const Real* matrixRow = m.data() + i * n;
        Real* outRow = out + i * d;
        for (Eigen::Index j = 0; j < n; ++j) {
            const Real gij = gradientRow[j];
            if (gij == 0.0 || j == i) continue;  // the diagonal is constant for every loss here
            const Real* other = data + j * d;
            Real* outOther = out + j * d;
            if (similarity) {
                for (Eigen::Index k = 0; k < d; ++k) {
                    outRow[k] += gij * other[k];
                    outOther[k] += gij * row[k];
                }
            } else {
                Real weight = 2.0 * gij;
                if (euclidean) weight = matrixRow[j] > 0.0 ? gij / matrixRow[j] : 0.0;
                for (Eigen::Index k = 0; k < d; ++k) {
                    const Real step = weight * (row[k] - other[k]);
                    outRow[k] += step;
                    outOther[k] -= step;
                }
            }
        }
    }
    return grad;
}

}  // namespace

Points PairwiseWorkspace::backward() {
    Points gradEmbedded;
    if (m_embedded.cols() == 2) gradEmbedded = accumulateGradient<2>(m_gradient, m_matrix, m_embedded, m_spec);
    else if (m_embedded.cols() == 3) gradEmbedded = accumulateGradient<3>(m_gradient, m_matrix, m_embedded, m_spec);
    else gradEmbedded = accumulateGradient<0>(m_gradient, m_matrix, m_embedded, m_spec);
    if (!m_spec.normalizes()) return gradEmbedded;
    return normalizeRowsBackward(m_embedded, m_norms, gradEmbedded);
}

PairwiseWorkspace& pairwiseWorkspace(const DistanceSpec& spec, const Points& x, bool withGradient) {
    thread_local PairwiseWorkspace workspace;
    workspace.compute(spec, x, withGradient);
    return workspace;
}

}  // namespace marginlab::detail

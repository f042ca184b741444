// SPDX-License-Identifier: MIT
#include "losses/distance_rows.h"

#include <cmath>

namespace marginlab::detail {

namespace {

Points embedRows(const DistanceSpec& spec, const Points& x, Vector* norms) {
    if (spec.normalizes()) return normalizeRows(x, norms);
    return x;
}

}  // namespace

DistanceRows::DistanceRows(const DistanceSpec& spec, const Points& x)
    : m_spec(spec), m_embedded(embedRows(spec, x, &m_norms)) {}

void DistanceRows::row(Eigen::Index a, Real* out, Eigen::Index first) const {
    const Eigen::Index n = m_embedded.rows();
    const Eigen::Index dims = m_embedded.cols();
    const Real* base = m_embedded.data();
    const Real* anchor = base + a * dims;
    if (m_spec.isSimilarity()) {
        for (Eigen::Index j = first; j < n; ++j) {
            const Real* other = base + j * dims;
            Real dot = 0.0;
            for (Eigen::Index k = 0; k < dims; ++k) dot += anchor[k] * other[k];
            out[j] = dot;
        }
        return;
    }
    lpRow(base, n, dims, a, m_spec.power, out, first);
}

namespace {

template <int Dims>
void squaredRow(const Real* data, Eigen::Index n, Eigen::Index dims, Eigen::Index a, Real* out, Eigen::Index first) {
    const Eigen::Index d = Dims > 0 ? Dims : dims;
    const Real* anchor = data + a * d;
    for (Eigen::Index j = first; j < n; ++j) {
        const Real* other = data + j * d;
        Real squared = 0.0;
        for (Eigen::Index k = 0; k < d; ++k) {
            const Real difference = anchor[k] - other[k];
            squared += difference * difference;
        }
        out[j] = squared;
    }
}

}  // namespace

void lpRow(const Real* data, Eigen::Index n, Eigen::Index dims, Eigen::Index a, int power, Real* out,
           Eigen::Index first) {
    switch (dims) {
    case 2: squaredRow<2>(data, n, dims, a, out, first); break;
    case 3: squaredRow<3>(data, n, dims, a, out, first); break;
    default: squaredRow<0>(data, n, dims, a, out, first); break;
    }
    if (power == 1 && n > first) {
        Eigen::Map<Eigen::ArrayXd> row(out + first, n - first);
        row = row.sqrt();
    }
}

namespace {

// Σ_j g[j]·∂M_aj/∂e for one anchor. Branch-free in j (whether g[j] is zero is data-dependent);
// Dims > 0 fixes the dimension at compile time, 0 reads it from `dims`.
template <int Dims>
void accumulateRow(const DistanceSpec& spec, const Real* base, Eigen::Index n, Eigen::Index dims, Eigen::Index a,
                   const Real* g, const Real* row, Real* gradBase, Eigen::Index first) {
    const Eigen::Index d = Dims > 0 ? Dims : dims;
    const Real* anchor = base + a * d;
    Real* gradAnchor = gradBase + a * d;
    Real anchorSum[Dims > 0 ? Dims : 1] = {};
    if (spec.isSimilarity()) {
        // ∂(e_a·e_j) = e_j de_a + e_a de_j
        for (Eigen::Index j = first; j < n; ++j) {
            const Real* other = base + j * d;
            Real* gradOther = gradBase + j * d;
            const Real w = j == a ? 0.0 : g[j];
            for (Eigen::Index k = 0; k < d; ++k) {
                if constexpr (Dims > 0) anchorSum[k] += w * other[k];
                else gradAnchor[k] += w * other[k];
                gradOther[k] += w * anchor[k];
            }
        }
    } else {
        // ∂‖e_a − e_j‖ = (e_a − e_j)/‖e_a − e_j‖ (subgradient 0 at 0), ∂‖e_a − e_j‖² = 2(e_a − e_j)
        const bool squared = spec.power == 2;
        for (Eigen::Index j = first; j < n; ++j) {
            const Real* other = base + j * d;
            Real* gradOther = gradBase + j * d;
            const Real r = row[j];
            // g/r for r > 0 and 0 for r = 0 through a 0/1 factor: exact, and no branch (a
            // select here was compiled into one around the division).
            const Real positive = static_cast<Real>(r > 0.0);
            const Real w = squared ? 2.0 * g[j] : positive * (g[j] / (r + (1.0 - positive)));
            for (Eigen::Index k = 0; k < d; ++k) {
                const Real step = w * (anchor[k] - other[k]);  // zero for j == a
                if constexpr (Dims > 0) anchorSum[k] += step;
                else gradAnchor[k] += step;
                gradOther[k] -= step;
            }
        }
    }
    if constexpr (Dims > 0)
        for (Eigen::Index k = 0; k < d; ++k) gradAnchor[k] += anchorSum[k];
}

}  // namespace

void DistanceRows::accumulate(Eigen::Index a, const Real* g, const Real* row, Points* gradEmbedded,
                              Eigen::Index first) const {
    const Eigen::Index n = m_embedded.rows();
    const Eigen::Index dims = m_embedded.cols();
    switch (dims) {
    case 2: accumulateRow<2>(m_spec, m_embedded.data(), n, dims, a, g, row, gradEmbedded->data(), first); break;
    case 3: accumulateRow<3>(m_spec, m_embedded.data(), n, dims, a, g, row, gradEmbedded->data(), first); break;
    default: accumulateRow<0>(m_spec, m_embedded.data(), n, dims, a, g, row, gradEmbedded->data(), first); break;
    }
}

void DistanceRows::accumulateSameLabel(Eigen::Index a, const Real* g, const Real* row, const Labels& labels,
                                       Points* gradEmbedded, std::vector<Real>* scratch, Eigen::Index first) const {
    const Eigen::Index n = m_embedded.rows();
    scratch->assign(static_cast<std::size_t>(n), 0.0);
    const int label = labels[static_cast<std::size_t>(a)];
    for (Eigen::Index j = first; j < n; ++j)
        if (labels[static_cast<std::size_t>(j)] == label) (*scratch)[static_cast<std::size_t>(j)] = g[j];
    accumulate(a, scratch->data(), row, gradEmbedded, first);
}

Points DistanceRows::finish(const Points& gradEmbedded) const {
    if (m_spec.normalizes()) return normalizeRowsBackward(m_embedded, m_norms, gradEmbedded);
    return gradEmbedded;
}

}  // namespace marginlab::detail

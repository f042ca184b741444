// SPDX-License-Identifier: MIT
#include "marginlab/distance.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "parallel.h"

namespace marginlab {

namespace {

constexpr Real kNormFloor = 1e-12;  // torch.nn.functional.normalize's eps

Points embed(const DistanceSpec& spec, const Points& x, Vector* norms) {
    if (spec.normalizes()) return normalizeRows(x, norms);
    if (norms) norms->resize(0);
    return x;
}

Points unembed(const DistanceSpec& spec, const Points& embedded, const Vector& norms, const Points& grad) {
    if (spec.normalizes()) return normalizeRowsBackward(embedded, norms, grad);
    return grad;
}

// Lp entries computed from differences (not the Gram trick): exact zeros for equal points and
// no cancellation for close ones, which the finite-difference tests depend on.
Real lpEntry(const Points& a, Eigen::Index i, const Points& b, Eigen::Index j, int power) {
    const Real squared = (a.row(i) - b.row(j)).squaredNorm();
    return power == 2 ? squared : std::sqrt(squared);
}

// Weight W_ij such that the Lp gradient is Σ_j W_ij (a_i − b_j).
Real lpWeight(Real gradEntry, Real distance, int power) {
    if (power == 2) return 2.0 * gradEntry;
    return distance > 0.0 ? gradEntry / distance : 0.0;
}

// G with every entry (i, j) whose labels differ set to 0.
Matrix sameLabelEntries(const Matrix& gradMatrix, const Labels& rowLabels, const Labels& columnLabels) {
    Matrix kept = gradMatrix;
    for (Eigen::Index i = 0; i < kept.rows(); ++i)
        for (Eigen::Index j = 0; j < kept.cols(); ++j)
            if (rowLabels[static_cast<std::size_t>(i)] != columnLabels[static_cast<std::size_t>(j)])
                kept(i, j) = 0.0;
    return kept;
}

}  // namespace

std::string DistanceSpec::describe() const {
    const std::string norm = normalize ? "True" : "False";
    switch (kind) {
    case DistanceKind::Lp:
        return "LpDistance(p=2, power=" + std::to_string(power) + ", normalize_embeddings=" + norm + ")";
    case DistanceKind::Cosine:
        return "CosineSimilarity()";
    case DistanceKind::DotProduct:
        return "DotProductSimilarity(normalize_embeddings=" + norm + ")";
    }
    return {};
}

Points normalizeRows(const Points& x, Vector* norms) {
    Points out(x.rows(), x.cols());
    Vector n(x.rows());
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        n(i) = x.row(i).norm();
        out.row(i) = x.row(i) / std::max(n(i), kNormFloor);
    }
    if (norms) *norms = std::move(n);
    return out;
}

Points normalizeRowsBackward(const Points& normalized, const Vector& norms, const Points& gradNormalized) {
    Points out(gradNormalized.rows(), gradNormalized.cols());
    for (Eigen::Index i = 0; i < normalized.rows(); ++i) {
        if (norms(i) > kNormFloor) {
            const Real along = normalized.row(i).dot(gradNormalized.row(i));
            out.row(i) = (gradNormalized.row(i) - along * normalized.row(i)) / norms(i);
        } else {
            out.row(i) = gradNormalized.row(i) / kNormFloor;  // the clamp is a constant divisor
        }
    }
    return out;
}

SelfDistance::SelfDistance(const DistanceSpec& spec, const Points& x)
    : m_spec(spec), m_embedded(embed(spec, x, &m_norms)) {
    const Eigen::Index n = m_embedded.rows();
    if (spec.isSimilarity()) {
        m_matrix.noalias() = m_embedded * m_embedded.transpose();
        return;
    }
    m_matrix.resize(n, n);
    for (Eigen::Index i = 0; i < n; ++i) {
        m_matrix(i, i) = 0.0;
        for (Eigen::Index j = i + 1; j < n; ++j) {
            const Real d = lpEntry(m_embedded, i, m_embedded, j, spec.power);
            m_matrix(i, j) = d;
            m_matrix(j, i) = d;
        }
    }
}

Points SelfDistance::backward(const Matrix& gradMatrix) const {
    const Eigen::Index n = m_embedded.rows();
    Points gradEmbedded;
    if (m_spec.isSimilarity()) {
        gradEmbedded.noalias() = (gradMatrix + gradMatrix.transpose()) * m_embedded;
    } else {
        Matrix weights(n, n);
        for (Eigen::Index i = 0; i < n; ++i) {
            weights(i, i) = 0.0;
            for (Eigen::Index j = i + 1; j < n; ++j) {
                const Real w = lpWeight(gradMatrix(i, j) + gradMatrix(j, i), m_matrix(i, j), m_spec.power);
                weights(i, j) = w;
                weights(j, i) = w;
            }
        }
        const Vector rowSums = weights.rowwise().sum();
        gradEmbedded = rowSums.asDiagonal() * m_embedded;
        gradEmbedded.noalias() -= weights * m_embedded;
    }
    return unembed(m_spec, m_embedded, m_norms, gradEmbedded);
}

Points SelfDistance::backwardSameLabel(const Matrix& gradMatrix, const Labels& labels) const {
    // The backward pass is linear in G, so masking G splits ∂L/∂X exactly.
    return backward(sameLabelEntries(gradMatrix, labels, labels));
}

CrossDistance::CrossDistance(const DistanceSpec& spec, const Points& queries, const Points& references)
    : m_spec(spec),
      m_queries(embed(spec, queries, &m_queryNorms)),
      m_references(embed(spec, references, &m_referenceNorms)) {
    m_matrix.resize(m_queries.rows(), m_references.rows());
    // Query rows are independent: each run of rows fills its own rows of the matrix.
    forEachQueryRun([&](Eigen::Index begin, Eigen::Index rows, int) {
        if (spec.isSimilarity()) {
            m_matrix.middleRows(begin, rows).noalias() =
                m_queries.middleRows(begin, rows) * m_references.transpose();
            return;
        }
        for (Eigen::Index i = begin; i < begin + rows; ++i)
            for (Eigen::Index c = 0; c < m_references.rows(); ++c)
                m_matrix(i, c) = lpEntry(m_queries, i, m_references, c, spec.power);
    });
}

void CrossDistance::forEachQueryRun(const std::function<void(Eigen::Index, Eigen::Index, int)>& work) const {
    // Runs fixed by the number of queries alone (AnchorChunks), so that the per-run sums of
    // backward() add up to the same bits on any thread count. The work of one entry is about D
    // multiply-adds: small sets (a few proxies, one anchor) stay on the calling thread.
    const detail::AnchorChunks runs(m_queries.rows());
    const auto entries = static_cast<std::int64_t>(m_queries.rows()) * m_references.rows() * m_queries.cols();
    detail::forEachChunk(runs.count(), detail::chunkWorkers(runs.count(), entries),
                         [&](int run, int) { work(runs.begin(run), runs.end(run) - runs.begin(run), run); });
}

void CrossDistance::backward(const Matrix& gradMatrix, Points* gradQueries, Points* gradReferences) const {
    const Eigen::Index n = m_queries.rows(), c = m_references.rows(), d = m_queries.cols();
    // ∂L/∂Q row by row; ∂L/∂R is a sum over the queries, kept per run and added in run order.
    Points gq(n, d);
    std::vector<Points> partial(static_cast<std::size_t>(detail::AnchorChunks(n).count()));
    forEachQueryRun([&](Eigen::Index begin, Eigen::Index rows, int run) {
        const auto grad = gradMatrix.middleRows(begin, rows);
        const auto queries = m_queries.middleRows(begin, rows);
        Points& gr = partial[static_cast<std::size_t>(run)];
        if (m_spec.isSimilarity()) {
            gq.middleRows(begin, rows).noalias() = grad * m_references;
            gr.noalias() = grad.transpose() * queries;
            return;
        }
        // The Lp gradient is Σ_c W_ic (q_i − r_c) for a query and Σ_i W_ic (r_c − q_i) for a reference.
        Matrix weights(rows, c);
        for (Eigen::Index i = 0; i < rows; ++i)
            for (Eigen::Index k = 0; k < c; ++k)
                weights(i, k) = lpWeight(grad(i, k), m_matrix(begin + i, k), m_spec.power);
        const Vector rowSums = weights.rowwise().sum();
        const Vector colSums = weights.colwise().sum().transpose();
        gq.middleRows(begin, rows) = rowSums.asDiagonal() * queries;
        gq.middleRows(begin, rows).noalias() -= weights * m_references;
        gr = colSums.asDiagonal() * m_references;
        gr.noalias() -= weights.transpose() * queries;
    });
    Points gr = partial.empty() ? Points::Zero(c, d) : std::move(partial.front());
    for (std::size_t run = 1; run < partial.size(); ++run) gr += partial[run];
    if (gradQueries) *gradQueries = unembed(m_spec, m_queries, m_queryNorms, gq);
    if (gradReferences) *gradReferences = unembed(m_spec, m_references, m_referenceNorms, gr);
}

void CrossDistance::backwardSameLabel(const Matrix& gradMatrix, const Labels& queryLabels,
                                      const Labels& referenceLabels, Points* gradQueries,
                                      Points* gradReferences) const {
    backward(sameLabelEntries(gradMatrix, queryLabels, referenceLabels), gradQueries, gradReferences);
}

}  // namespace marginlab

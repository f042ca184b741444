// SPDX-License-Identifier: MIT
/**
 * Distances between embeddings, as pytorch-metric-learning (PML) defines them, with exact
 * gradients (including through the normalization onto the unit sphere).
 *
 *   Lp, power 1:  M_ij = ‖e_i − e_j‖₂            (a distance: smaller = closer)
 *   Lp, power 2:  M_ij = ‖e_i − e_j‖₂²
 *   Cosine:       M_ij = ê_i · ê_j                (a similarity: larger = closer; always normalizes)
 *   DotProduct:   M_ij = e_i · e_j                (PML's default normalizes, making it cosine)
 *
 * where e_i = x̂_i = x_i / max(‖x_i‖, 1e-12) when `normalize` is set, else e_i = x_i.
 *
 * Tuple losses work with an "ordering distance" δ: δ = M for a distance and δ = −M for a
 * similarity, so that "closer" is always "smaller δ" and margins read the same way
 * (PML's margin(x, y) is x − y for a distance and y − x for a similarity).
 */
#pragma once

#include <functional>
#include <string>

#include "marginlab/types.h"

namespace marginlab {

enum class DistanceKind { Lp, Cosine, DotProduct };

struct DistanceSpec {
    DistanceKind kind = DistanceKind::Lp;
    int power = 1;          ///< Lp only: 1 (Euclidean) or 2 (squared Euclidean).
    bool normalize = true;  ///< PML's `normalize_embeddings` (ignored by Cosine, which always normalizes).

    bool isSimilarity() const { return kind != DistanceKind::Lp; }
    bool normalizes() const { return normalize || kind == DistanceKind::Cosine; }
    /// Sign that turns the matrix into an ordering distance δ (+1 distance, −1 similarity).
    Real orderSign() const { return isSimilarity() ? -1.0 : 1.0; }
    /// PML-style description, e.g. "LpDistance(p=2, power=1, normalize_embeddings=True)".
    std::string describe() const;
    bool operator==(const DistanceSpec&) const = default;

    static DistanceSpec lp(int power, bool normalize) { return {DistanceKind::Lp, power, normalize}; }
    static DistanceSpec cosine() { return {DistanceKind::Cosine, 1, true}; }
    static DistanceSpec dot(bool normalize) { return {DistanceKind::DotProduct, 1, normalize}; }
};

/// Row-wise x / max(‖x‖, 1e-12) (torch.nn.functional.normalize). `norms` receives ‖x_i‖ if given.
Points normalizeRows(const Points& x, Vector* norms = nullptr);

/// Backward of normalizeRows: given dL/dx̂ returns dL/dx = (I − x̂x̂ᵀ) g / ‖x‖ (g / 1e-12 if clamped).
Points normalizeRowsBackward(const Points& normalized, const Vector& norms, const Points& gradNormalized);

/**
 * The pairwise matrix of one set of points with itself (N×N), remembering what the backward
 * pass needs. backward(G) takes G_ij = ∂L/∂M_ij and returns ∂L/∂X (N×D). Diagonal entries of G
 * are allowed (a zero-distance pair contributes no gradient for Lp power 1: a subgradient 0).
 */
class SelfDistance {
public:
    SelfDistance(const DistanceSpec& spec, const Points& x);

    const Matrix& matrix() const { return m_matrix; }
    const Points& embedded() const { return m_embedded; }  ///< e_i (normalized rows if normalizing)
    const DistanceSpec& spec() const { return m_spec; }
    Points backward(const Matrix& gradMatrix) const;
    /// backward() of G restricted to the entries with labels[i] == labels[j]: the part of ∂L/∂X
    /// that flows through same-label pairs (LossOutput::gradFromPositives).
    Points backwardSameLabel(const Matrix& gradMatrix, const Labels& labels) const;

private:
    DistanceSpec m_spec;
    Vector m_norms;  // declared before m_embedded: the constructor fills both at once
    Points m_embedded;
    Matrix m_matrix;
};

/**
 * The matrix between queries Q (N×D) and references R (C×D), e.g. embeddings and proxies.
 * backward(G) returns ∂L/∂Q and ∂L/∂R for G_ic = ∂L/∂M_ic.
 */
class CrossDistance {
public:
    CrossDistance(const DistanceSpec& spec, const Points& queries, const Points& references);

    const Matrix& matrix() const { return m_matrix; }
    const Points& embeddedQueries() const { return m_queries; }
    const Points& embeddedReferences() const { return m_references; }
    void backward(const Matrix& gradMatrix, Points* gradQueries, Points* gradReferences) const;
    /// backward() of G restricted to the entries with queryLabels[i] == referenceLabels[c], e.g.
    /// each point's own class row (LossOutput::gradFromPositives). Either output may be null.
    void backwardSameLabel(const Matrix& gradMatrix, const Labels& queryLabels, const Labels& referenceLabels,
                           Points* gradQueries, Points* gradReferences) const;

private:
    /// work(begin, rows, run) for each fixed run of query rows, on the engine's threads.
    void forEachQueryRun(
        const std::function<void(Eigen::Index begin, Eigen::Index rows, int run)>& work) const;

    DistanceSpec m_spec;
    Vector m_queryNorms, m_referenceNorms;  // before the embedded rows (filled together)
    Points m_queries, m_references;
    Matrix m_matrix;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// Internal helpers of the pair-family losses (lifted structure, circle, multi-similarity, soft
// nearest neighbor, NCE): pair counting, pair masks and stable scalar functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "losses/common.h"
#include "losses/reference_set.h"
#include "marginlab/tuples.h"

namespace marginlab::detail {

/// Numbers of ordered positive pairs (a ≠ p, same label) and ordered negative pairs, in O(N log N).
struct PairCounts {
    Count positives = 0;
    Count negatives = 0;
};

inline PairCounts countPairs(const Labels& labels) {
    std::map<int, Count> perClass;
    for (int label : labels) ++perClass[label];
    const Count n = static_cast<Count>(labels.size());
    PairCounts counts;
    Count sameLabel = 0;  // ordered pairs with equal labels, the diagonal included
    for (const auto& [label, members] : perClass) sameLabel += members * members;
    counts.positives = sameLabel - n;
    counts.negatives = n * n - sameLabel;
    return counts;
}

/**
 * e^v for a shifted exponent v ≤ 0 (v = z − max z), flushing v < −700 to exactly 0: such terms
 * are below double precision relative to the row's largest term (e^0 = 1), and the subnormal
 * results e^v would otherwise make every later multiplication with them slow (microcode assists;
 * circle loss with γ = 80 produces them by the hundred thousand).
 */
inline Real shiftedExp(Real v) { return v < -700.0 ? 0.0 : std::exp(v); }

/// log(e^a + e^b) for finite a, b without overflow.
inline Real logAddExp(Real a, Real b) {
    const Real top = std::max(a, b);
    return top + std::log1p(std::exp(-std::abs(a - b)));
}

/**
 * An N×N pair mask: bit 1 = (i,j) is a positive pair, bit 2 = a negative pair. Built from the
 * labels (all pairs) or from explicit pair lists, where a pair listed twice is simply set twice
 * (PML writes the mined lists into masks the same way).
 */
class PairMask {
public:
    static constexpr std::uint8_t positiveBit = 1;
    static constexpr std::uint8_t negativeBit = 2;

    static PairMask fromLabels(const Labels& labels) {
        const int n = static_cast<int>(labels.size());
        PairMask mask(n);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                if (labels[i] != labels[j]) mask.m_bits[mask.index(i, j)] = negativeBit;
                else if (i != j) mask.m_bits[mask.index(i, j)] = positiveBit;
            }
        return mask;
    }

    static PairMask fromPairs(int n, const std::vector<Pair>& positives, const std::vector<Pair>& negatives) {
        PairMask mask(n);
        for (const Pair& pair : positives) mask.m_bits[mask.index(pair[0], pair[1])] |= positiveBit;
        for (const Pair& pair : negatives) mask.m_bits[mask.index(pair[0], pair[1])] |= negativeBit;
        return mask;
    }

    bool positive(int i, int j) const { return (m_bits[index(i, j)] & positiveBit) != 0; }
    bool negative(int i, int j) const { return (m_bits[index(i, j)] & negativeBit) != 0; }

private:
    explicit PairMask(int n) : m_size(n), m_bits(static_cast<std::size_t>(n) * static_cast<std::size_t>(n), 0) {}
    std::size_t index(int i, int j) const {
        return static_cast<std::size_t>(i) * static_cast<std::size_t>(m_size) + static_cast<std::size_t>(j);
    }

    int m_size;
    std::vector<std::uint8_t> m_bits;
};

/**
 * The pairwise matrix of the pair-family losses: the same entries and gradients as SelfDistance
 * (distance.h), computed into buffers that are reused across calls on the same thread.
 *
 * Why not SelfDistance directly: at N = 1024 every fresh N×N buffer (8 MB) costs more in page
 * faults than the whole loss arithmetic on this machine, and SelfDistance allocates its matrix
 * plus an N×N temporary in each backward pass. Here the matrix and the gradient matrix live in a
 * thread_local workspace (O(N²) memory kept per thread between calls) and backward() needs no
 * further N×N temporary.
 *
 * Usage: `PairwiseWorkspace& w = pairwiseWorkspace(spec, x, withGradient);` then read w.matrix(),
 * accumulate ∂L/∂M into w.gradient() (zeroed when withGradient) and call w.backward() (then,
 * for the force split, w.backwardSameLabel(labels)).
 * Not re-entrant: one loss evaluation per thread at a time (evaluate() never nests).
 */
class PairwiseWorkspace {
public:
    void compute(const DistanceSpec& spec, const Points& x, bool withGradient);
    const Matrix& matrix() const { return m_matrix; }
    Matrix& gradient() { return m_gradient; }
    /// ∂L/∂x from gradient() = ∂L/∂M (the diagonal is ignored: no loss here uses M_ii).
    Points backward();
    /// The part of backward() that flows through the same-label entries of ∂L/∂M
    /// (LossOutput::gradFromPositives). Call it after backward(): it zeroes the other entries of
    /// gradient() in place (no N×N copy) and runs the backward pass again.
    Points backwardSameLabel(const Labels& labels);

private:
    DistanceSpec m_spec;
    Vector m_norms;
    Points m_embedded;
    Matrix m_matrix;
    Matrix m_gradient;
};

/// This thread's workspace, filled for `spec` and `x`.
PairwiseWorkspace& pairwiseWorkspace(const DistanceSpec& spec, const Points& x, bool withGradient);

/**
 * A loss over listed pairs whose terms read M and accumulate ∂L/∂M into G: `terms(M, G)` (G null
 * without the gradient) gives the value and statistics. M is the batch's own matrix (this
 * thread's workspace), or the batch × reference matrix when the input has a reference set, where
 * the gradient stops at the reference. This runs the backward pass and the force split, and gives
 * owned rows a zero gradient.
 */
template <class Terms>
LossOutput overListedPairs(const LossInput& input, bool withGradient, const DistanceSpec& spec,
                           Terms&& terms) {
    if (input.hasReference()) {
        const CrossDistance distance(spec, input.embeddings, *input.referenceEmbeddings);
        Matrix grad;
        if (withGradient) grad = Matrix::Zero(distance.matrix().rows(), distance.matrix().cols());
        LossOutput out = terms(distance.matrix(), withGradient ? &grad : nullptr);
        if (withGradient) finishReferenceOutput(input, distance, grad, &out);
        return out;
    }
    PairwiseWorkspace& workspace = pairwiseWorkspace(spec, input.embeddings, withGradient);
    LossOutput out = terms(workspace.matrix(), withGradient ? &workspace.gradient() : nullptr);
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(input.labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

/// The "no valid tuples" output with the statistics header filled in.
inline LossOutput zeroOutputWithKind(const LossInput& input, bool withGradient, const char* tupleKind) {
    LossOutput out = zeroOutput(input, withGradient);
    out.stats.tupleKind = tupleKind;
    return out;
}

}  // namespace marginlab::detail

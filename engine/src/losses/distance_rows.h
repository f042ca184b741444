// SPDX-License-Identifier: MIT
// Distance matrix rows computed on demand, with a row-wise backward pass (internal header).
#pragma once

#include "marginlab/distance.h"
#include "marginlab/types.h"

#include <optional>
#include <utility>
#include <vector>

namespace marginlab::detail {

namespace simd {
struct NegatedProduct;
}

/**
 * One row of the distance matrix at a time, and the matching backward pass accumulated row by
 * row: what SelfDistance does with an N×N matrix, in O(N·D) memory. Lp entries use
 * SelfDistance's arithmetic (bit-identical for D ≤ 2; for larger D the sum of squares may be
 * ordered differently); similarity entries are plain dot products in coordinate order, which a
 * matrix product may round differently in the last bit. That matters only for exact ties
 * compared across the two. Used by the all-pairs and all-triplets losses, where fresh N×N
 * buffers (their page faults) would cost more than the arithmetic.
 */
/**
 * out[j] = ‖e_a − e_j‖ (power 1) or ‖e_a − e_j‖² (power 2) for j in [first, n), e = the n×dims
 * row-major `data`: from the differences (exact zeros for equal points, no cancellation for close
 * ones, as SelfDistance), with the square roots of the row taken at once (vectorized, and
 * correctly rounded like std::sqrt).
 */
void lpRow(const Real* data, Eigen::Index n, Eigen::Index dims, Eigen::Index a, int power, Real* out,
           Eigen::Index first = 0);

/// Its const members may be called from several threads at once.
class DistanceRows {
public:
    DistanceRows(const DistanceSpec& spec, const Points& x);

    Eigen::Index size() const { return m_embedded.rows(); }
    Eigen::Index dims() const { return m_embedded.cols(); }
    /// out[j] = M_aj for every j in [first, end) (end < 0: the last row; M_aa = 0 for Lp); the
    /// other entries are untouched. M_aj and M_ja are computed by the same arithmetic, so they are
    /// equal bit for bit.
    void row(Eigen::Index a, Real* out, Eigen::Index first = 0, Eigen::Index end = -1) const;
    /// For a similarity: out[j] = M_aj × factor for every j, and the largest out[j] with kind[j] = 1
    /// (*maxOnes) and with kind[j] = 0 (*maxZeros), in one pass (simd::Kernels::dotRowScaledMax).
    void scaledDotRowWithMax(Eigen::Index a, Real factor, const Real* kind, Real* out, Real* maxOnes,
                             Real* maxZeros) const;
    /// For a similarity: logits[j] = M_aj × factor and out[j] = rowExp(logits[j] − kind[j]'s shift),
    /// with out's sums by kind, in one pass (simd::Kernels::dotRowScaledExpSum).
    void scaledDotRowExpSum(Eigen::Index a, Real factor, const Real* kind, Real shiftOnes, Real shiftZeros,
                            Real* logits, Real* out, Real* sumOnes, Real* sumZeros) const;
    /// kind = sameLabelRow(labels, labels[a]) and out[j] = rowExp(z_j − kind[j]'s shift) with
    /// z_j = (M_aj − kind's shift) × kind's factor (affine = shiftOnes, factorOnes, shiftZeros,
    /// factorZeros; z_skip = −∞, skip < 0: none), and out's sums by kind, in one pass; M_a· goes to
    /// `row` and addTo[j] += out[j] unless they are null. Entries j ≥ first only (the sums' lanes
    /// counted from first); the others are untouched (simd::Kernels::rowAffineExpSum).
    /// With `labels` null, every entry is of kind 0 (no label compares; kind is scratch). With
    /// end ≥ 0 the row stops before entry `end` (the same bits as rows of the first `end` points).
    /// With `product` set, also product->out[j] = −((product->offset + product->factors[j])·out[j])
    /// for those j, in the same pass (simd::NegatedProduct; its arrays indexed like the row).
    void rowAffineExpSum(Eigen::Index a, const Real* affine, const Labels* labels, Real* kind, Eigen::Index skip,
                         Real shiftOnes, Real shiftZeros, Real* row, Real* out, Real* addTo, Real* sumOnes,
                         Real* sumZeros, Eigen::Index first = 0, const simd::NegatedProduct* product = nullptr,
                         Eigen::Index end = -1) const;
    /// Where every entry of M lies when the spec normalizes: [0, 2] for the distance of unit
    /// vectors, [0, 4] for its square, [−1, 1] for their similarity (up to rounding); none when
    /// it does not normalize.
    std::optional<std::pair<Real, Real>> bounds() const { return boundsOf(m_spec); }
    /// bounds() of the rows a spec would make, known before any point is embedded.
    static std::optional<std::pair<Real, Real>> boundsOf(const DistanceSpec& spec);
    /// For a similarity: kind = sameLabelRow(labels, labels[a]), circle's z (into out, then
    /// rowExp(z_j − kind[j]'s shift) in place) and slope × that exp of row a, with out's sums by
    /// kind, in one pass (simd::Kernels::dotRowCircleExpSum).
    void dotRowCircleExpSum(Eigen::Index a, const Real* parameters, const Labels& labels, Real* kind,
                            Eigen::Index skip, Real shiftOnes, Real shiftZeros, Real* out, Real* slope, Real* sumOnes,
                            Real* sumZeros) const;
    /// Adds the gradient of Σ_{j ≥ first} g[j]·M_aj w.r.t. the embedded points to `gradEmbedded`
    /// (`row` = the values row(a) returned; a zero distance gets the subgradient 0).
    void accumulate(Eigen::Index a, const Real* g, const Real* row, Points* gradEmbedded,
                    Eigen::Index first = 0) const;
    /// accumulate() of `count` rows in turn, the same bits: row k is anchors[k] with g[k] and
    /// M_anchors[k]· in rows[k], entries j ≥ first (every anchor ≥ first; its lanes counted from
    /// first). Faster than one at a time in 2D (simd accumulateRows).
    void accumulateRows(int count, const Eigen::Index* anchors, const Real* const* g, const Real* const* rows,
                        Points* gradEmbedded, Eigen::Index first = 0) const;
    /// accumulateRows() of the rows values[k][j] × (labels[j] = labels[anchors[k]] ? ofOnes[k] :
    /// ofZeros[k]), the same bits, without writing them out (simd accumulateScaledRows).
    void accumulateScaledRows(int count, const Eigen::Index* anchors, const Real* const* values,
                              const Labels& labels, const Real* ofOnes, const Real* ofZeros,
                              const Real* const* rows, Points* gradEmbedded) const;
    /// accumulate() with g[j] taken as 0 wherever labels[j] ≠ labels[a]: only the same-label
    /// pairs of row a (for LossOutput::gradFromPositives). `scratch` holds the masked row: one
    /// per thread, so that threads can share this object.
    void accumulateSameLabel(Eigen::Index a, const Real* g, const Real* row, const Labels& labels,
                             Points* gradEmbedded, std::vector<Real>* scratch, Eigen::Index first = 0) const;
    /// ∂L/∂x from the accumulated ∂L/∂e (through the normalization when the spec normalizes).
    Points finish(const Points& gradEmbedded) const;
    /// The spec the rows follow.
    const DistanceSpec& spec() const { return m_spec; }

private:
    int kernelMode() const;
    DistanceSpec m_spec;
    Vector m_norms;  // filled together with m_embedded
    Points m_embedded;
};

}  // namespace marginlab::detail

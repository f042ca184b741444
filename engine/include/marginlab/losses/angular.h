// SPDX-License-Identifier: MIT
/**
 * Angular loss (Wang et al. 2017) as PML computes it, PML `AngularLoss(alpha=40)`.
 *
 * Shapes: embeddings N×D, labels N; no owned parameters. α is in DEGREES; t = tan²(α·π/180).
 * Requires PML's default distance (normalized L2; only its normalization is used). For every
 * ordered positive pair (a,p), a ≠ p, y_a = y_p:
 *
 *     f_apn = 4t · (x̂_a + x̂_p) · x_n − 2(1+t) · x̂_a · x̂_p      for each n with y_n ≠ y_a
 *     ℓ_ap  = log(1 + Σ_n exp(f_apn))                            (LSE₁)
 *
 * Loss = mean of ℓ_ap over all |P| ordered positive pairs (MeanReducer); 0 with zero gradient
 * if there is no positive or no negative pair. PML quirk kept on purpose: x_n is the RAW
 * embedding (anchor and positive are normalized), so the gradient reaches a negative directly,
 * not through the normalization, and grows with ‖x_n‖.
 *
 * Cost: the definition has |P|·|N(a)| terms (≈ N³/C). Because exp(4t(x̂_a + x̂_p)·x_n) =
 * E_an·E_pn with E_in = exp(4t x̂_i·x_n), the sums over n are matrix products per class
 * (K = E Eᵀ), which is what runs when the exponents are small enough to be multiplied without
 * under/overflow (16·t·max‖x‖ ≤ 600); otherwise an explicit per-pair log-sum-exp runs. The
 * factorized path costs 1.5·m²·(N − m) multiply-adds per class of m (K's lower triangle, then
 * C·E' for the gradient), in the vector units' kernels (simd::Kernels::gramLowerUpdate,
 * productRows): about 1.5·N³/C for C equal classes.
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): over
 * the listed positive pairs (a, p), a in the batch and p a reference row (every batch × reference
 * positive pair without tuples, no self pair removed; duplicates kept), with r the reference rows:
 *
 *     f_apj = 4t · (x̂_a + r̂_p) · r_j − 2(1+t) · x̂_a · r̂_p    for EVERY reference row j with ry_j ≠ y_a
 *
 * (PML's keep_mask is by label: the listed negatives only decide whether there is any, as PML's
 * `len(a2) == 0` test does); ℓ_ap = LSE₁ as above, mean over the listed positive pairs. r_j is
 * raw and r̂_p normalized as above; no gradient reaches the reference (only x̂_a moves).
 * O(|P|·M·D) time, no N×M buffer.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the only quantity
 * that involves two same-label points, the cosine x̂_a·x̂_p; the midpoint products
 * (x̂_a + x̂_p)·x_n pair a point with a negative and count as repulsion, even where they move a and p.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class AngularLoss final : public Loss {
public:
    /// `allowFactorized = false` forces the explicit per-pair path (used by tests to compare both).
    explicit AngularLoss(Real alphaDegrees, bool allowFactorized = true);
    std::string_view name() const override { return "angular"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    /// The factorized path builds E' for a class of `classSize` members in blocks of this many
    /// negatives (tests use it to make sure they span several blocks).
    static Eigen::Index negativesPerBlock(Eigen::Index classSize);

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_alphaDegrees;
    bool m_allowFactorized;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Signal-to-noise-ratio contrastive loss (Yuan et al., "Signal-to-Noise Ratio: A Robust Distance
 * Metric for Deep Metric Learning", CVPR 2019), pytorch-metric-learning's
 * SignalToNoiseRatioContrastiveLoss(pos_margin=0, neg_margin=1) with its SNRDistance.
 *
 * Shapes: embeddings N×D (D ≥ 2), labels N. No owned parameters.
 * e_i = x̂_i (SNRDistance normalizes by default, as every PML distance) or x_i. The distance is
 * asymmetric: for an ordered pair (a, j), with var the variance over the D coordinates,
 *
 *     SNR_aj = var(e_a − e_j) / var(e_a)          (torch.var is unbiased; the ratio is not affected)
 *     pos terms over listed positive pairs: relu(SNR_ap − pos_margin)
 *     neg terms over listed negative pairs: relu(neg_margin − SNR_an)
 *     loss = AvgNonZero(pos terms) + AvgNonZero(neg terms)     (+ regularizer, below)
 *
 * regularizer_weight w > 0 adds w · mean_i |Σ_d x_id| (PML's ZeroMeanRegularizer on the raw
 * embeddings, the `embedding_regularizer` that replaced the loss's own `regularizer_weight` in
 * PML 0.9.90; default 0 = PML's default loss). Its gradient (w·sign(Σ_d x_id)/N, 0 where the sum
 * is 0) is neither attraction nor repulsion and is reported with the repulsion.
 * Lists: every ordered pair without a miner; mined pairs (or the pairs of mined triplets) with
 * one. 0 with zero gradients when both lists have at most one entry (GenericPairLoss).
 * var(e_a) = 0 (all coordinates of e_a equal, e.g. x̂ = (1,1)/√2 in 2D) divides by zero, as in PML.
 * Statistics: tuples = pairs, active = non-zero pair terms. Cost: O(N²·D) time, O(N·D) memory (all pairs:
 * fused row by row, no pair list).
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): PML's
 * SNRDistance(batch, reference), SNR_aj = var(e_a − r_j) / var(e_a) with r_j the reference row
 * (normalized like the batch), over the listed pairs (every batch × reference pair without
 * tuples, no self pair removed; duplicates kept); the same halves and regularizer (on the batch).
 * No gradient reaches the reference. O(N·M·D) time without an N×M buffer.
 *
 * Force split: the attraction is the gradient through the positive pairs' SNR terms.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class SnrContrastiveLoss final : public Loss {
public:
    SnrContrastiveLoss(Real positiveMargin, Real negativeMargin, Real regularizerWeight, bool normalize);

    std::string_view name() const override { return "snr_contrastive"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Real m_positiveMargin;
    Real m_negativeMargin;
    Real m_regularizerWeight;
    bool m_normalize;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Margin loss (Wu et al., "Sampling Matters in Deep Embedding Learning", ICCV 2017),
 * pytorch-metric-learning's MarginLoss(margin, nu, beta, triplets_per_anchor="all",
 * learn_beta, num_classes).
 *
 * Shapes: embeddings N×D, labels N. With σ = +1 for a distance and −1 for a similarity (PML's
 * distance.margin), β_a = β (fixed) or β_{y_a} (learned, see below), per triplet (a, p, n),
 * y_a = y_p ≠ y_n, a ≠ p:
 *
 *     pos_t = relu(σ(M_ap − β_a) + margin)        (distance: relu(d_ap − β + margin))
 *     neg_t = relu(σ(β_a − M_an) + margin)        (distance: relu(β − d_an + margin))
 *     divisor = #(pos_t > 0) + #(neg_t > 0)
 *     loss = ( Σ_t (pos_t + neg_t) + [learn_beta] ν Σ_t β_{y_a} ) / divisor   (DivisorReducer)
 *
 * 0 (zero gradients, β included) when there is no triplet or the divisor is 0. Every triplet
 * repeats its two pairs: an (a,p) pair counts |N(a)| times and an (a,n) pair |P(a)| times, as
 * PML's triplets make them count. Tuples: all triplets without a miner; mined triplets (or
 * mined pairs joined into (a1[i], p[i], n[j]) for a1[i] = a2[j]) with one.
 *
 * Learned β (catalogue entry `margin_learn_beta`, PML learn_beta=True, num_classes=C): the loss
 * owns one C×D block whose first column holds β_c (row c, column 0); the other columns are unused
 * and get a zero gradient. β_c starts at `beta` (1.2) for every class, as PML's
 * Parameter(ones(num_classes)·beta) does; the trainer asks LossInfo::initialOwned for it, so
 * only an explicit TrainerConfig::owned starts elsewhere. ∂loss/∂β_c = (Σ_{t: y_a=c} (−σ[pos_t>0] +
 * σ[neg_t>0] + ν)) / divisor. PML's single shared learned β (num_classes=None) has no place in C-row blocks
 * and is not offered. With learn_beta false, ν has no effect (PML adds no regularizer then).
 *
 * Defaults (PML): margin 0.2, nu 0, beta 1.2, distance LpDistance(p=2, power=1, normalized).
 * Statistics: tuples = triplets, active = triplets with pos_t + neg_t > 0.
 * Cost: all triplets O(N²) time (each pair term weighted by its count, never enumerating the
 * N³ triplets) and O(N·D) memory per thread (one distance row at a time, no N×N matrix); mined
 * triplets O(N² + |T|) with the N×N matrix (a TripletMarginMiner's gap filter is enumerated, O(N³)).
 *
 * Reference set (LossInput::referenceEmbeddings, PML's ref_emb through CrossBatchMemory): the
 * triplets are (a, p, n) with a in the batch and p, n reference rows (every such triplet without
 * tuples, no self pair removed; listed pairs joined as above, listed triplets as listed), M the
 * batch × reference matrix, β_a that of the batch anchor's class; the same sums and divisor. No
 * gradient reaches the reference. O(N·M + |T|) time, the N×M matrix and the triplet list.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through every M_ap
 * (anchor–positive), the repulsion through M_an.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class MarginLoss final : public Loss {
public:
    struct Options {
        Real margin = 0.2;
        Real nu = 0.0;
        Real beta = 1.2;
        bool learnBeta = false;  ///< β_c is column 0 of the owned C×D block
    };

    MarginLoss(const Options& options, const DistanceSpec& distance);

    std::string_view name() const override { return m_options.learnBeta ? "margin_learn_beta" : "margin"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Options m_options;
    DistanceSpec m_distance;
};

}  // namespace marginlab

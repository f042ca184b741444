// SPDX-License-Identifier: MIT
/**
 * Ranked list loss (Wang et al., "Ranked List Loss for Deep Metric Learning", CVPR 2019),
 * pytorch-metric-learning's RankedListLoss(margin, Tn, imbalance=0.5, alpha=None, Tp=0).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters, no miner. Distance M (default
 * LpDistance(normalized), configurable; PML zeroes the diagonal). Per anchor i, with α the
 * boundary of the negatives and α − m that of the positives:
 *
 *   positives j (y_j = y_i, j ≠ i) with M_ij > α − m:  u_j = M_ij − (α − m),  w_j = e^{Tp·u_j}
 *   negatives j (y_j ≠ y_i) with 0 < M_ij < α:         z_j = α − M_ij,        v_j = e^{Tn·z_j}
 *   L_P = Σ w u / Σ w,   L_N = Σ v z / Σ v           (0 when the set is empty)
 *   loss = mean_i ((1 − imbalance)·L_P + imbalance·L_N)                       (MeanReducer)
 *
 * The weights are differentiated too (PML does not detach them): ∂L_P/∂u_j = w_j/Σw·(1 + Tp(u_j − L_P)).
 * PML's alpha=None means 1 + margin/2; the catalogue's default alpha 1.2 is that for the default
 * margin 0.4 (PML has no default margin or Tn; 0.4 and 10 are the paper's). PML replaces an empty
 * negative set's 0/0 by 0 but leaves an empty positive set's 0/0 as NaN (the whole loss is then
 * NaN); the engine takes 0 for both.
 * Statistics: tuples = anchors, active = anchors with a non-zero term. Cost: O(N²) time.
 *
 * Force split: the attraction is the gradient through the positive distances (L_P).
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class RankedListLoss final : public Loss {
public:
    struct Options {
        Real margin = 0.4;
        Real negativeTemperature = 10.0;  ///< Tn
        Real imbalance = 0.5;
        Real alpha = 1.2;
        Real positiveTemperature = 0.0;  ///< Tp
    };

    RankedListLoss(const Options& options, const DistanceSpec& distance);

    std::string_view name() const override { return "ranked_list"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Options m_options;
    DistanceSpec m_distance;
};

}  // namespace marginlab

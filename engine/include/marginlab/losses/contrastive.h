// SPDX-License-Identifier: MIT
/**
 * Contrastive loss, pytorch-metric-learning's ContrastiveLoss (loss-conventions.md §2).
 *
 * Shapes: embeddings N×D, labels N. No owned parameters.
 * Over the ordered positive pairs (a,p) and negative pairs (a,n) (each unordered pair twice):
 *
 *     distance:    pos term relu(d_ap − m_pos),   neg term relu(m_neg − d_an)
 *     similarity:  pos term relu(m_pos − s_ap),   neg term relu(s_an − m_neg)
 *
 * Not squared (unlike Hadsell et al., see contrastive_hadsell.h).
 * Reduction "avg_non_zero" (PML default): each sub-loss averaged over its own terms that are
 * > 0 (0 if none), the two results summed; "mean": mean over all positive pairs plus mean over
 * all negative pairs. Defaults (PML): pos_margin 0, neg_margin 1, distance
 * LpDistance(p=2, power=1, normalize_embeddings=True).
 * With a miner: the mined pairs; mined triplets give (a,p) and (a,n) per triplet, duplicates
 * kept. PML's GenericPairLoss returns 0 when both pair lists have at most one entry.
 * Statistics: tuples = pairs, active = non-zero terms. Without a miner O(N²) time and O(N·D)
 * extra memory (distance rows on demand); mined lists use the N×N matrix.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient of the positive sub-loss,
 * i.e. through the same-label pairs' M_ap, at both ends of each pair.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class ContrastiveLoss final : public Loss {
public:
    enum class Reduction { AverageNonZero, Mean };

    struct Options {
        Real positiveMargin = 0.0;
        Real negativeMargin = 1.0;
        Reduction reduction = Reduction::AverageNonZero;
    };

    ContrastiveLoss(const Options& options, const DistanceSpec& distance);

    std::string_view name() const override { return "contrastive"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    /// Against LossInput's reference set (CrossBatchMemory): batch anchors, reference partners.
    LossOutput evaluateWithReference(const LossInput& input, bool withGradient) const;

    Options m_options;
    DistanceSpec m_distance;
};

}  // namespace marginlab

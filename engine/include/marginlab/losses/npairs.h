// SPDX-License-Identifier: MIT
/**
 * N-pair loss as PML computes it, PML `NPairsLoss()` (no parameters).
 *
 * Shapes: embeddings N×D, labels N; no owned parameters. Distance DotProductSimilarity with
 * PML's default normalization, i.e. cosine. For each label value (ascending) with ≥ 2 samples:
 * anchor a_k = its lowest-index sample, positive p_k = its second-lowest-index sample; all other
 * samples of the class are ignored. With K such pairs:
 *
 *     S_kl = x̂_{a_k} · x̂_{p_l}     (K×K),     ℓ_k = CE(S_k·, k) = −S_kk + log Σ_l exp(S_kl)
 *
 * Loss = mean_k ℓ_k (MeanReducer). No temperature and no L2 embedding penalty (unlike Sohn's
 * paper). 0 with zero gradient if no class has two samples (K = 1 gives CE of a single logit: 0).
 *
 * Cost: O(N + K²·D).
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the diagonal S_kk
 * (anchor and positive of one class, the only same-label entries of S), at both rows; the
 * off-diagonal S_kl carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"

namespace marginlab {

class NPairsLoss final : public Loss {
public:
    std::string_view name() const override { return "npairs"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
};

}  // namespace marginlab

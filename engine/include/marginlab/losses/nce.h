// SPDX-License-Identifier: MIT
/**
 * Noise-contrastive estimation with sampled noise, binary logistic form (Gutmann & Hyvärinen
 * 2010; the negative-sampling form of Mikolov et al. 2013, "Distributed Representations of Words
 * and Phrases"). Not in pytorch-metric-learning.
 *
 * Input: embeddings N×D, labels N, a sample seed. Cosine similarity s (fixed), temperature τ
 * (default 0.1), number of noise samples K (integer ≥ 1, default 5). For every ordered positive
 * pair (a,p), a ≠ p, y_a = y_p:
 *
 *     ℓ_ap = −log σ(s_ap/τ) − Σ_{k=1..K} log σ(−s_{a n_k}/τ)
 *
 * where n_1..n_K are K negatives of a (y_n ≠ y_a) drawn uniformly WITH replacement.
 * Loss = mean of ℓ_ap over all |P| ordered positive pairs; 0 (zero gradient) if there is no
 * positive or no negative pair. log σ is evaluated stably (min(v,0) − log1p(e^{−|v|})).
 *
 * STOCHASTIC in the batch (each evaluation with a new seed sees other noise) but DETERMINISTIC
 * given LossInput::sampleSeed: the same seed gives the same samples, value and gradient.
 * Sampling (see NoiseContrastiveSampler, noiseContrastiveNegatives): anchor a has its own
 * random stream derived from (seed, a); it visits its positives p in increasing index
 * order and for each draws K indices uniformly from a's negatives listed in increasing index
 * order (Rng: the draws do not depend on the standard library).
 * O(N²) time and memory (samples are drawn on the fly, nothing of size |P|·K is stored). evaluate()
 * takes the sampler's very draws in bulk (internal losses/nce_draws.h: the engine's words 312 at a
 * time on the vector unit, the bounded draw by multiplication): the same draws, in the same order.
 *
 * Force split (LossInput::splitForces): the attraction is the gradient through the data terms'
 * s_ap; the sampled noise terms carry the repulsion.
 */
#pragma once

#include "marginlab/loss.h"
#include "marginlab/random.h"

#include <cstdint>
#include <vector>

namespace marginlab {

/**
 * The noise stream of one anchor: an Rng seeded with Rng::deriveSeed(seed, anchor), so streams of
 * different anchors are independent and reproducible from the batch seed alone.
 */
class NoiseContrastiveSampler {
public:
    NoiseContrastiveSampler(std::uint64_t seed, int anchor);
    /// A uniform index in [0, count), count ≥ 1.
    int drawIndex(int count);

private:
    Rng m_random;
    // Rng::uniformInt's rejection threshold for the last count (one division per draw, not two).
    std::uint64_t m_count = 0;
    std::uint64_t m_threshold = 0;
};

/**
 * The noise samples the loss draws: for every ordered positive pair (a,p) in lexicographic order
 * (as allPositivePairs lists them) the K negative indices n_1..n_K. For tests and for showing
 * which negatives were used; evaluate() draws exactly these on the fly without storing them.
 */
std::vector<std::vector<int>> noiseContrastiveNegatives(const Labels& labels, std::uint64_t seed,
                                                        int negativesPerPair);

class NoiseContrastiveEstimationLoss final : public Loss {
public:
    NoiseContrastiveEstimationLoss(Real temperature, int negativesPerPair);
    std::string_view name() const override { return "nce"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;

private:
    Real m_temperature;
    int m_negativesPerPair;
};

}  // namespace marginlab

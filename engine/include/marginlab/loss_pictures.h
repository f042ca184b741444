// SPDX-License-Identifier: MIT
/**
 * The numbers behind the loss-specific pictures of the views (the "what to show" of each loss),
 * computed here, Qt-free and tested, from a snapshot's points and the loss's distance. The
 * catalogue says which picture a loss has (LossInfo::picture → RunInfo::picture); the renderer
 * only draws these numbers.
 *
 * Shapes: x N×D, labels N, anchor in [0, N). M is the loss's distance matrix (DistanceSpec) and
 * δ = orderSign·M its ordering distance (small = near, for distances and similarities alike).
 */
#pragma once

#include <string>
#include <vector>

#include "marginlab/distance.h"
#include "marginlab/types.h"

namespace marginlab {

/// A mark on a pair histogram: `value` in the histogram's units, or, with `scalesMean`, a factor
/// of the mean of its side's pairs (IntraPairVariance's (1 − pos_eps)·μ⁺).
struct PairThreshold {
    std::string label;
    Real value = 0.0;
    bool positiveSide = true;  ///< the threshold positive pairs must clear (else the negatives')
    bool scalesMean = false;
};

/// Which picture a loss has, with what it needs (the catalogue fills it from the parameters).
struct LossPicture {
    enum class Kind {
        None,
        RankedList,      ///< the chosen anchor's neighbours by distance, positives marked (FastAP, PNP,
                         ///< RankedList)
        PairHistograms,  ///< positive and negative pair values as histograms, with thresholds
        SoftNeighbours,  ///< the chosen anchor's soft-neighbour probabilities (NCA)
        SnrPair,         ///< the SNR distance of the chosen pair beside the Euclidean one
    };
    Kind kind = Kind::None;
    Real softmaxScale = 1.0;                ///< SoftNeighbours: p_j ∝ exp(−scale·δ_aj)
    bool angles = false;                    ///< PairHistograms of the pair angle in degrees (TupletMargin)
    std::vector<PairThreshold> thresholds;  ///< PairHistograms: the loss's thresholds
    bool snrNormalize = true;               ///< SnrPair: SNRDistance normalizes the embeddings first
};

struct RankedNeighbour {
    int index = 0;
    Real value = 0.0;  ///< M_aj in the distance's own units
    bool positive = false;
};

/// Every other point, nearest first (ascending δ_aj, lower index on ties). O(N·D + N log N).
std::vector<RankedNeighbour> rankedNeighbours(const Points& x, const Labels& labels, int anchor,
                                              const DistanceSpec& spec);

/// p_j = exp(−scale·δ_aj) / Σ_{k≠a} exp(−scale·δ_ak), p_a = 0: NCA's soft neighbours (PML: softmax
/// of scale·(−M) for a distance, scale·M for a similarity, the diagonal excluded). O(N·D).
std::vector<Real> softNeighbourProbabilities(const Points& x, int anchor, const DistanceSpec& spec,
                                             Real scale);

/// SNR_aj = var(e_a − e_j) / var(e_a) over the D coordinates (e = x̂ when normalizing).
Real snrDistance(const Points& x, int anchor, int other, bool normalize);

struct PairHistograms {
    Real low = 0.0, high = 1.0;   ///< the range the bins split evenly
    std::vector<Count> positive;  ///< pairs i < j with equal labels, per bin
    std::vector<Count> negative;  ///< pairs i < j with different labels, per bin
    Real positiveMean = 0.0, negativeMean = 0.0;
    Count positivePairs = 0, negativePairs = 0;
    int stride = 1;  ///< every stride-th point was used (1: all)
};

/**
 * Histograms of M_ij (or, with `angles`, of the angle between e_i and e_j in degrees) over the
 * pairs i < j, split into positive and negative pairs. Range: [−1, 1] for a normalized
 * similarity, [0, 180] for angles, else [0, the largest value]. Above `maxPoints` points every
 * stride-th point (stride = ⌈N / maxPoints⌉) is used, so a frame stays O(maxPoints²·D).
 */
PairHistograms pairHistograms(const Points& x, const Labels& labels, const DistanceSpec& spec, int bins,
                              bool angles, int maxPoints = 600);

}  // namespace marginlab

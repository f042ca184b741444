// SPDX-License-Identifier: MIT
/**
 * Easy / semi-hard / hard negatives, as the views colour them.
 *
 * For an anchor a and a positive p, every negative n (y_n ≠ y_a) is classified by its gap
 * gap = δ_an − δ_ap, δ the ordering distance of `spec` (δ = M for a distance, −M for a
 * similarity) and m the margin:
 *
 *   Pml (pytorch-metric-learning's TripletMarginMiner):  hard gap ≤ 0, semi-hard 0 < gap ≤ m,
 *       easy gap > m. No single negative is chosen (chosenNegative = −1).
 *   FaceNet (Schroff et al. 2015):  hard gap ≤ 0, semi-hard 0 < gap < m, easy gap ≥ m;
 *       chosenNegative = the semi-hard negative closest to the anchor (−1 if none).
 *   TfAddons (tfa.losses.TripletSemiHardLoss):  regions as FaceNet; chosenNegative = the nearest
 *       negative with δ_an > δ_ap, else the farthest negative.
 *
 * Ties between candidates go to the lowest index. The FaceNet bounds are evaluated on the gap,
 * i.e. δ_an < δ_ap + m is read as fl(δ_an − δ_ap) < m, so the batch counts below agree exactly
 * with the per-pair classification.
 */
#pragma once

#include "marginlab/distance.h"
#include "marginlab/types.h"

#include <vector>

namespace marginlab {

enum class SemiHardRule { Pml, FaceNet, TfAddons };
enum class Region { Easy, SemiHard, Hard, NotNegative };

struct RegionQuery {
    std::vector<Region> regions;  ///< per point; NotNegative for the anchor's own class
    int chosenNegative = -1;      ///< the rule's single negative (see above), −1 if none
    Real apValue = 0.0;           ///< M_ap in the distance's own units (a similarity for cosine)
    Real margin = 0.0;
    Count easy = 0, semiHard = 0, hard = 0;
};

/**
 * Classifies every negative of `anchor` against the pair (anchor, positive). O(N·D).
 * If anchor or positive is out of range, or positive == anchor, every point is NotNegative.
 */
RegionQuery queryRegions(const Points& x, const Labels& y, int anchor, int positive, Real margin,
                         const DistanceSpec& spec, SemiHardRule rule);

/// The positive farthest from the anchor (largest δ_ap; lowest index on ties), −1 if none. O(N·D).
int hardestPositive(const Points& x, const Labels& y, int anchor, const DistanceSpec& spec);

struct RegionCounts {
    Count easy = 0, semiHard = 0, hard = 0;
};

/// Region counts over all triplets (a,p,n) of the batch, without enumerating them: O(N² log N).
RegionCounts countRegions(const Points& x, const Labels& y, Real margin, const DistanceSpec& spec, SemiHardRule rule);

}  // namespace marginlab

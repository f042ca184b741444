// SPDX-License-Identifier: MIT
#include "marginlab/regions.h"

#include "losses/distance_rows.h"
#include "losses/triplet_sweep.h"

namespace marginlab {

namespace {

/// M_aj for every j: one row of the distance matrix, computed as a 1×N cross distance.
Vector anchorRow(const Points& x, int anchor, const DistanceSpec& spec) {
    const Points anchorPoint = x.row(anchor);
    const CrossDistance distance(spec, anchorPoint, x);
    return distance.matrix().row(0).transpose();
}

bool validIndex(int i, const Points& x, const Labels& y) {
    return i >= 0 && i < x.rows() && static_cast<std::size_t>(i) < y.size();
}

}  // namespace

RegionQuery queryRegions(const Points& x, const Labels& y, int anchor, int positive, Real margin,
                         const DistanceSpec& spec, SemiHardRule rule) {
    RegionQuery query;
    query.margin = margin;
    const int n = static_cast<int>(x.rows());
    query.regions.assign(static_cast<std::size_t>(n), Region::NotNegative);
    if (!validIndex(anchor, x, y) || !validIndex(positive, x, y) || anchor == positive) return query;

    const Vector row = anchorRow(x, anchor, spec);
    const Real sign = spec.orderSign();
    query.apValue = row(positive);
    const Real ap = sign * row(positive);
    const int anchorLabel = y[static_cast<std::size_t>(anchor)];
    const bool marginIsSemiHard = rule == SemiHardRule::Pml;  // PML: gap == m is semi-hard

    int closestSemiHard = -1, closestOutside = -1, farthest = -1;
    for (int j = 0; j < n; ++j) {
        if (y[static_cast<std::size_t>(j)] == anchorLabel) continue;
        const Real an = sign * row(j);
        const Real gap = an - ap;
        Region region = Region::Easy;
        if (gap <= 0.0) region = Region::Hard;
        else if (marginIsSemiHard ? gap <= margin : gap < margin) region = Region::SemiHard;
        query.regions[static_cast<std::size_t>(j)] = region;
        switch (region) {
        case Region::Easy: ++query.easy; break;
        case Region::SemiHard: ++query.semiHard; break;
        case Region::Hard: ++query.hard; break;
        case Region::NotNegative: break;
        }
        // Strict comparisons keep the lowest index on ties.
        if (region == Region::SemiHard && (closestSemiHard < 0 || an < sign * row(closestSemiHard))) closestSemiHard = j;
        if (gap > 0.0 && (closestOutside < 0 || an < sign * row(closestOutside))) closestOutside = j;
        if (farthest < 0 || an > sign * row(farthest)) farthest = j;
    }
    switch (rule) {
    case SemiHardRule::Pml: break;
    case SemiHardRule::FaceNet: query.chosenNegative = closestSemiHard; break;
    case SemiHardRule::TfAddons: query.chosenNegative = closestOutside >= 0 ? closestOutside : farthest; break;
    }
    return query;
}

int hardestPositive(const Points& x, const Labels& y, int anchor, const DistanceSpec& spec) {
    if (!validIndex(anchor, x, y)) return -1;
    const Vector row = anchorRow(x, anchor, spec);
    const Real sign = spec.orderSign();
    int best = -1;
    for (int j = 0; j < static_cast<int>(x.rows()); ++j) {
        if (j == anchor || y[static_cast<std::size_t>(j)] != y[static_cast<std::size_t>(anchor)]) continue;
        if (best < 0 || sign * row(j) > sign * row(best)) best = j;
    }
    return best;
}

RegionCounts countRegions(const Points& x, const Labels& y, Real margin, const DistanceSpec& spec, SemiHardRule rule) {
    // Row by row, as the batch-all loss does: O(N) extra memory for any N.
    const detail::DistanceRows distance(spec, x);
    detail::TripletSweepOptions options;
    options.margin = margin;
    options.semiHardIncludesMargin = rule == SemiHardRule::Pml;
    detail::TripletSweep sweep(options, y);
    detail::TripletSweepTotals totals;
    std::vector<Real> row(static_cast<std::size_t>(x.rows()));
    for (Eigen::Index a = 0; a < x.rows(); ++a) {
        distance.row(a, row.data());
        sweep.anchor(static_cast<int>(a), row.data(), spec.orderSign(), y, &totals, nullptr);
    }
    return {totals.easy, totals.semiHard, totals.hard};
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/miners/distance_weighted.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "marginlab/random.h"
#include "miners/miner_common.h"
#include "miners/miner_matrix.h"

namespace marginlab {

bool DistanceWeightedMiner::anchorWeights(const Matrix& distances, const Labels& labels,
                                          const Labels& otherLabels, Real dimension, int anchor,
                                          std::vector<Real>* out) const {
    const int n = static_cast<int>(otherLabels.size());
    out->assign(static_cast<std::size_t>(n), 0.0);
    std::vector<char> usable(static_cast<std::size_t>(n), 0);
    Real largest = -std::numeric_limits<Real>::infinity();
    for (int j = 0; j < n; ++j) {
        if (otherLabels[j] == labels[anchor]) continue;
        // The cutoff bounds the weight of near-duplicates (high variance in the paper).
        const Real d = std::max(distances(anchor, j), m_cutoff);
        if (!(d < m_nonzeroLossCutoff)) continue;
        const Real insideLog = 1.0 - 0.25 * d * d;
        // d → 2 (or rounding past it): the density vanishes, PML's log gives ±inf/NaN and a
        // zero weight; skip before taking the log.
        if (!(insideLog > 0.0)) continue;
        const Real logWeight = (2.0 - dimension) * std::log(d) - ((dimension - 3.0) / 2.0) * std::log(insideLog);
        // PML zeroes non-finite log-weights (e.g. 0·log 0 when the cutoff is 0 and D = 2).
        if (!std::isfinite(logWeight)) continue;
        (*out)[static_cast<std::size_t>(j)] = logWeight;
        usable[static_cast<std::size_t>(j)] = 1;
        largest = std::max(largest, logWeight);
    }
    Real total = 0.0;
    for (int j = 0; j < n; ++j) {
        Real& w = (*out)[static_cast<std::size_t>(j)];
        // Subtracting the row maximum keeps exp in range; normalising cancels it.
        w = usable[static_cast<std::size_t>(j)] ? std::exp(w - largest) : 0.0;
        total += w;
    }
    if (!(total > 0.0)) return false;
    for (Real& w : *out) w /= total;
    return true;
}

Matrix DistanceWeightedMiner::weights(const Points& embeddings, const Labels& labels) const {
    const SelfDistance distance(DistanceSpec::lp(1, true), embeddings);
    const int n = static_cast<int>(labels.size());
    Matrix out = Matrix::Zero(n, n);
    std::vector<Real> row;
    for (int a = 0; a < n; ++a)
        if (anchorWeights(distance.matrix(), labels, labels, static_cast<Real>(embeddings.cols()), a, &row))
            out.row(a) = Eigen::Map<const Eigen::RowVectorXd>(row.data(), n);
    return out;
}

Tuples DistanceWeightedMiner::mine(const MinerInput& input) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::MinerMatrix distance(DistanceSpec::lp(1, true), input);
    const Labels& otherLabels = distance.otherLabels();
    const int others = distance.others();
    const Real dimension = static_cast<Real>(input.embeddings.cols());
    Rng random(input.seed);
    std::vector<Triplet> triplets;
    std::vector<Real> weight, cumulative(static_cast<std::size_t>(others));
    for (int a = 0; a < n; ++a) {
        auto isPositive = [&](int p) { return !distance.isSelf(a, p) && otherLabels[p] == labels[a]; };
        bool hasPositive = false;
        for (int p = 0; p < others && !hasPositive; ++p) hasPositive = isPositive(p);
        if (!hasPositive) continue;
        // No weight: no negative can be drawn, skip the anchor's pairs (PML drops those rows).
        if (!anchorWeights(distance.values(), labels, otherLabels, dimension, a, &weight)) continue;
        Real total = 0.0;
        int lastWeighted = -1;
        for (int j = 0; j < others; ++j) {
            total += weight[static_cast<std::size_t>(j)];
            cumulative[static_cast<std::size_t>(j)] = total;
            if (weight[static_cast<std::size_t>(j)] > 0.0) lastWeighted = j;
        }
        for (int p = 0; p < others; ++p) {
            if (!isPositive(p)) continue;
            const Real target = random.uniform() * total;
            // First index whose cumulative weight exceeds the target: zero-weight entries repeat
            // the previous cumulative value and so can never be the first to exceed it.
            const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
            int negative = static_cast<int>(it - cumulative.begin());
            // target < total mathematically; rounding of u·total may reach total.
            if (negative > lastWeighted) negative = lastWeighted;
            triplets.push_back({a, p, negative});
        }
    }
    return Tuples::fromTriplets(std::move(triplets));
}

}  // namespace marginlab

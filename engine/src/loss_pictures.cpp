// SPDX-License-Identifier: MIT
#include "marginlab/loss_pictures.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace marginlab {

namespace {

/// M between rows i and j of the (already normalized, when the distance normalizes) points.
Real pairValue(const Points& e, Eigen::Index i, Eigen::Index j, const DistanceSpec& spec) {
    if (spec.kind != DistanceKind::Lp) return e.row(i).dot(e.row(j));
    const Real squared = (e.row(i) - e.row(j)).squaredNorm();
    return spec.power == 2 ? squared : std::sqrt(squared);
}

Points embedded(const Points& x, const DistanceSpec& spec) {
    return spec.normalizes() ? normalizeRows(x) : x;
}

}  // namespace

std::vector<RankedNeighbour> rankedNeighbours(const Points& x, const Labels& labels, int anchor,
                                              const DistanceSpec& spec) {
    std::vector<RankedNeighbour> out;
    if (anchor < 0 || anchor >= x.rows()) return out;
    const Points e = embedded(x, spec);
    for (Eigen::Index j = 0; j < e.rows(); ++j) {
        if (j == anchor) continue;
        out.push_back({static_cast<int>(j), pairValue(e, anchor, j, spec),
                       labels[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(anchor)]});
    }
    const Real sign = spec.orderSign();
    std::stable_sort(out.begin(), out.end(), [sign](const RankedNeighbour& a, const RankedNeighbour& b) {
        return sign * a.value < sign * b.value;
    });
    return out;
}

std::vector<Real> softNeighbourProbabilities(const Points& x, int anchor, const DistanceSpec& spec,
                                             Real scale) {
    std::vector<Real> p(static_cast<std::size_t>(x.rows()), 0.0);
    if (anchor < 0 || anchor >= x.rows() || x.rows() < 2) return p;
    const Points e = embedded(x, spec);
    // Log-sum-exp with the largest logit subtracted, as torch's softmax does.
    Real largest = -std::numeric_limits<Real>::infinity();
    for (Eigen::Index j = 0; j < e.rows(); ++j) {
        if (j == anchor) continue;
        p[static_cast<std::size_t>(j)] = -scale * spec.orderSign() * pairValue(e, anchor, j, spec);
        largest = std::max(largest, p[static_cast<std::size_t>(j)]);
    }
    Real sum = 0.0;
    for (Eigen::Index j = 0; j < e.rows(); ++j) {
        if (j == anchor) continue;
        Real& v = p[static_cast<std::size_t>(j)];
        v = std::exp(v - largest);
        sum += v;
    }
    for (Real& v : p) v /= sum;
    return p;
}

Real snrDistance(const Points& x, int anchor, int other, bool normalize) {
    // Two rows only (normalized as normalizeRows does), so a view can ask for every j in O(N·D).
    auto row = [&](int i) -> Eigen::Matrix<Real, 1, Eigen::Dynamic> {
        if (!normalize) return x.row(i);
        return x.row(i) / std::max(x.row(i).norm(), Real(1e-12));
    };
    auto variance = [](const Eigen::Matrix<Real, 1, Eigen::Dynamic>& v) {
        const Real mean = v.mean();
        return (v.array() - mean).square().sum() / static_cast<Real>(std::max<Eigen::Index>(1, v.size() - 1));
    };
    const Eigen::Matrix<Real, 1, Eigen::Dynamic> a = row(anchor), j = row(other);
    return variance(a - j) / variance(a);
}

PairHistograms pairHistograms(const Points& x, const Labels& labels, const DistanceSpec& spec, int bins,
                              bool angles, int maxPoints) {
    PairHistograms h;
    bins = std::max(bins, 1);
    h.positive.assign(static_cast<std::size_t>(bins), 0);
    h.negative.assign(static_cast<std::size_t>(bins), 0);
    if (x.rows() < 2) return h;
    h.stride = static_cast<int>((x.rows() + maxPoints - 1) / std::max(maxPoints, 1));
    h.stride = std::max(h.stride, 1);
    const Points e = embedded(x, angles ? DistanceSpec::cosine() : spec);
    std::vector<Real> values;
    std::vector<char> same;
    for (Eigen::Index i = 0; i < e.rows(); i += h.stride)
        for (Eigen::Index j = i + h.stride; j < e.rows(); j += h.stride) {
            Real v;
            if (angles)
                v = std::acos(std::clamp(e.row(i).dot(e.row(j)), Real(-1), Real(1))) * 180.0 /
                    std::numbers::pi;
            else
                v = pairValue(e, i, j, spec);
            values.push_back(v);
            same.push_back(labels[static_cast<std::size_t>(i)] == labels[static_cast<std::size_t>(j)]);
        }
    if (angles)
        h.low = 0.0, h.high = 180.0;
    else if (spec.isSimilarity() && spec.normalizes())
        h.low = -1.0, h.high = 1.0;
    else {
        h.low = 0.0;
        h.high = values.empty() ? 1.0 : std::max(*std::max_element(values.begin(), values.end()), 1e-12);
    }
    Real positiveSum = 0.0, negativeSum = 0.0;
    for (std::size_t k = 0; k < values.size(); ++k) {
        const Real t = (values[k] - h.low) / (h.high - h.low);
        const auto bin =
            static_cast<std::size_t>(std::clamp(static_cast<int>(std::floor(t * bins)), 0, bins - 1));
        if (same[k])
            ++h.positive[bin], positiveSum += values[k], ++h.positivePairs;
        else
            ++h.negative[bin], negativeSum += values[k], ++h.negativePairs;
    }
    if (h.positivePairs) h.positiveMean = positiveSum / static_cast<Real>(h.positivePairs);
    if (h.negativePairs) h.negativeMean = negativeSum / static_cast<Real>(h.negativePairs);
    return h;
}

}  // namespace marginlab

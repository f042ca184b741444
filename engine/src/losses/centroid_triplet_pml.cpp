// SPDX-License-Identifier: MIT
#include "marginlab/losses/centroid_triplet_pml.h"

#include <algorithm>
#include <map>
#include <utility>

#include "losses/common.h"

namespace marginlab {

PmlCentroidTripletLoss::PmlCentroidTripletLoss(const Options& options, const DistanceSpec& distance)
    : m_options(options), m_distance(distance) {}

namespace {

using Row = Eigen::Matrix<Real, 1, Eigen::Dynamic>;

/// A row of PML's concatenated embeddings: an input point (a query), or the mean of a class's
/// members, all of them or all but one: weight · (Σ_class x − x_excluded). Kept in that form, a
/// mean costs O(D) to form and to differentiate, not O(class size).
struct VirtualRow {
    int point = -1;  ///< the query's index, or −1 for a mean
    std::size_t classIndex = 0;
    int excluded = -1;  ///< the member a mean leaves out, −1 for none
    Real weight = 1.0;
    int label = 0;
};

Eigen::Index ceilDivide(Eigen::Index a, Eigen::Index b) {
    return (a + b - 1) / b;
}

/**
 * The triplets PML's index arithmetic keeps for one instance row, as offsets into `labels`
 * (the row's [anchors, c⁺, c⁻] labels, V anchors): the first third of all triplets in
 * lexicographic order, viewed as V rows, chunk(2)[0], then chunk(V)[−1], flattened.
 * False when PML's view() would fail (the count is not a multiple of V).
 */
bool pmlRowTriplets(const std::vector<int>& labels, int anchors, std::vector<Triplet>* out) {
    const int size = static_cast<int>(labels.size());
    std::map<int, Eigen::Index> count;
    for (int label : labels) ++count[label];
    Eigen::Index total = 0;
    for (int label : labels) total += (count[label] - 1) * (size - count[label]);
    const Eigen::Index third = total / 3;
    if (third % anchors != 0) return false;
    std::vector<Triplet> first;
    first.reserve(static_cast<std::size_t>(third));
    for (int a = 0; a < size && static_cast<Eigen::Index>(first.size()) < third; ++a)
        for (int p = 0; p < size && static_cast<Eigen::Index>(first.size()) < third; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            for (int n = 0; n < size && static_cast<Eigen::Index>(first.size()) < third; ++n)
                if (labels[n] != labels[a]) first.push_back({a, p, n});
        }
    const Eigen::Index width = third / anchors;
    const Eigen::Index half = ceilDivide(width, 2);  // chunk(2, dim=1)[0]
    if (half == 0) return true;
    const Eigen::Index piece = ceilDivide(half, anchors);  // chunk(V, dim=1): the last chunk
    const Eigen::Index lastStart = (ceilDivide(half, piece) - 1) * piece;
    for (int v = 0; v < anchors; ++v)
        for (Eigen::Index column = lastStart; column < half; ++column)
            out->push_back(first[static_cast<std::size_t>(v * width + column)]);
    return true;
}

}  // namespace

LossOutput PmlCentroidTripletLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    const Points& x = input.embeddings;
    const int n = static_cast<int>(y.size());
    LossOutput out;
    out.stats.tupleKind = "triplets";

    // Classes in order of first appearance, singletons left out.
    std::vector<int> order;
    std::map<int, std::vector<int>> members;
    for (int i = 0; i < n; ++i) {
        if (members[y[i]].empty()) order.push_back(y[i]);
        members[y[i]].push_back(i);
    }
    std::vector<std::vector<int>> classes;
    for (int label : order)
        if (members[label].size() >= 2) classes.push_back(members[label]);
    std::size_t rows = 0;
    for (const auto& c : classes) rows = std::max(rows, c.size());

    std::vector<VirtualRow> virtualRows;
    std::vector<Triplet> triplets;
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<std::size_t> valid;
        for (std::size_t k = 0; k < classes.size(); ++k)
            if (r < classes[k].size()) valid.push_back(k);
        if (valid.size() <= 1) continue;
        const int base = static_cast<int>(virtualRows.size());
        std::vector<VirtualRow> block;
        for (std::size_t k : valid) block.push_back({classes[k][r], k, -1, 1.0, y[classes[k][r]]});
        for (std::size_t k : valid)
            block.push_back(
                {-1, k, classes[k][r], 1.0 / static_cast<Real>(classes[k].size() - 1), y[classes[k][r]]});
        for (std::size_t k = 0; k < classes.size(); ++k) {
            // PML labels this centroid with its query's label, the query list padded with index 0.
            block.push_back({-1, k, -1, 1.0 / static_cast<Real>(classes[k].size()),
                             y[r < classes[k].size() ? classes[k][r] : 0]});
        }
        std::vector<int> labels;
        for (const VirtualRow& v : block) labels.push_back(v.label);
        std::vector<Triplet> local;
        if (!pmlRowTriplets(labels, static_cast<int>(valid.size()), &local)) continue;
        for (const Triplet& t : local) triplets.push_back({t[0] + base, t[1] + base, t[2] + base});
        std::move(block.begin(), block.end(), std::back_inserter(virtualRows));
    }
    out.stats.tuples = static_cast<Count>(triplets.size());
    if (triplets.empty()) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }

    // The concatenated embeddings, embedded by the distance (normalized after averaging).
    const auto virtualCount = static_cast<Eigen::Index>(virtualRows.size());
    Points classSums = Points::Zero(static_cast<Eigen::Index>(classes.size()), x.cols());
    for (std::size_t k = 0; k < classes.size(); ++k)
        for (int member : classes[k]) classSums.row(static_cast<Eigen::Index>(k)) += x.row(member);
    Points raw(virtualCount, x.cols());
    for (Eigen::Index v = 0; v < virtualCount; ++v) {
        const VirtualRow& row = virtualRows[static_cast<std::size_t>(v)];
        if (row.point >= 0) {
            raw.row(v) = x.row(row.point);
        } else {
            raw.row(v) = classSums.row(static_cast<Eigen::Index>(row.classIndex));
            if (row.excluded >= 0) raw.row(v) -= x.row(row.excluded);
            raw.row(v) *= row.weight;
        }
    }
    Vector norms;
    const Points e = m_distance.normalizes() ? normalizeRows(raw, &norms) : raw;
    const Real sigma = m_distance.orderSign();
    auto value = [&](int i, int j) {
        if (m_distance.isSimilarity()) return e.row(i).dot(e.row(j));
        const Real d = (e.row(i) - e.row(j)).norm();
        return m_distance.power == 2 ? d * d : d;
    };
    // ∂M_ij/∂e_i (∂M_ij/∂e_j is its negative for Lp, e_i for a similarity).
    auto slopeAt = [&](int i, int j) -> Row {
        if (m_distance.isSimilarity()) return e.row(j);
        const Row difference = e.row(i) - e.row(j);
        if (m_distance.power == 2) return 2.0 * difference;
        const Real d = difference.norm();
        return d > 0.0 ? Row(difference / d) : Row(Row::Zero(difference.size()));
    };
    auto slopeOther = [&](int i, int j) -> Row {
        if (m_distance.isSimilarity()) return e.row(i);
        return -slopeAt(i, j);
    };

    struct Term {
        Real slope;  // ∂t/∂v
        bool swapped;
    };
    std::vector<Term> terms(triplets.size());
    Real sum = 0.0;
    for (std::size_t k = 0; k < triplets.size(); ++k) {
        const auto [a, p, q] = triplets[k];
        Real negative = value(a, q);
        bool swapped = false;
        if (m_options.swap) {
            const Real other = value(p, q);
            // distance: min(d_an, d_pn); similarity: max(s_an, s_pn).
            if (sigma * other < sigma * negative) {
                negative = other;
                swapped = true;
            }
        }
        const Real v = sigma * (value(a, p) - negative) + m_options.margin;
        const Real t = m_options.smoothLoss ? detail::softplus(v) : detail::relu(v);
        sum += t;
        if (t > 0.0) ++out.stats.active;
        const Real slope = m_options.smoothLoss ? detail::softplusDerivative(v) : (v > 0.0 ? 1.0 : 0.0);
        terms[k] = {slope, swapped};
    }
    if (out.stats.active == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
    const Real count = static_cast<Real>(out.stats.active);
    out.value = sum / count;
    if (!withGradient) return out;

    Points gradPositive = Points::Zero(virtualCount, x.cols()), gradNegative = gradPositive;
    for (std::size_t k = 0; k < triplets.size(); ++k) {
        if (terms[k].slope == 0.0) continue;
        const auto [a, p, q] = triplets[k];
        const Real c = terms[k].slope * sigma / count;  // ∂loss/∂M_ap; ∂loss/∂M_an = −c
        gradPositive.row(a) += c * slopeAt(a, p);
        gradPositive.row(p) += c * slopeOther(a, p);
        const int from = terms[k].swapped ? p : a;
        gradNegative.row(from) -= c * slopeAt(from, q);
        gradNegative.row(q) -= c * slopeOther(from, q);
    }
    auto toPoints = [&](const Points& gradEmbedded) {
        const Points gradRaw =
            m_distance.normalizes() ? normalizeRowsBackward(e, norms, gradEmbedded) : gradEmbedded;
        // A mean's share reaches every member of its class (gathered per class, then spread) and,
        // negatively, the member it leaves out.
        Points grad = Points::Zero(x.rows(), x.cols());
        Points classGrad = Points::Zero(static_cast<Eigen::Index>(classes.size()), x.cols());
        for (Eigen::Index v = 0; v < virtualCount; ++v) {
            const VirtualRow& row = virtualRows[static_cast<std::size_t>(v)];
            if (row.point >= 0) {
                grad.row(row.point) += gradRaw.row(v);
                continue;
            }
            classGrad.row(static_cast<Eigen::Index>(row.classIndex)) += row.weight * gradRaw.row(v);
            if (row.excluded >= 0) grad.row(row.excluded) -= row.weight * gradRaw.row(v);
        }
        for (std::size_t k = 0; k < classes.size(); ++k)
            for (int member : classes[k]) grad.row(member) += classGrad.row(static_cast<Eigen::Index>(k));
        return grad;
    };
    const Points positivePart = toPoints(gradPositive);
    out.gradEmbeddings = positivePart + toPoints(gradNegative);
    if (input.splitForces) out.gradFromPositives = positivePart;
    if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    return out;
}

}  // namespace marginlab

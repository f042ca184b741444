// SPDX-License-Identifier: MIT
#include "marginlab/losses/centroid_triplet.h"

#include "losses/common.h"

#include <map>

namespace marginlab {

CentroidTripletLoss::CentroidTripletLoss(bool normalize) : m_normalize(normalize) {}

LossOutput CentroidTripletLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    const Eigen::Index dims = input.embeddings.cols();
    const Labels& y = input.labels;
    LossStats stats;
    stats.tupleKind = "samples";
    stats.tuples = n;

    // Classes in label order, each sample's class slot and the class sizes.
    std::map<int, int> slotOf;
    for (int label : y) slotOf.emplace(label, 0);
    int next = 0;
    for (auto& [label, slot] : slotOf) slot = next++;
    const int classes = next;
    if (classes < 2) {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats = stats;
        return out;
    }
    std::vector<int> slots(static_cast<std::size_t>(n));
    Vector sizes = Vector::Zero(classes);
    for (Eigen::Index i = 0; i < n; ++i) {
        slots[static_cast<std::size_t>(i)] = slotOf[y[static_cast<std::size_t>(i)]];
        sizes(slots[static_cast<std::size_t>(i)]) += 1.0;
    }

    Vector norms;
    const Points embedded = m_normalize ? normalizeRows(input.embeddings, &norms) : input.embeddings;
    Points centers = Points::Zero(classes, dims);
    for (Eigen::Index i = 0; i < n; ++i) centers.row(slots[static_cast<std::size_t>(i)]) += embedded.row(i);
    for (int c = 0; c < classes; ++c) centers.row(c) /= sizes(c);

    // The embeddings are already normalized if asked: the distance itself must not renormalize.
    const CrossDistance distance(DistanceSpec::lp(1, false), embedded, centers);
    const Matrix& d = distance.matrix();
    const Real otherWeight = 1.0 / (3.0 * Real(classes - 1));
    Matrix grad;
    if (withGradient) grad.resize(n, classes);
    Real sum = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const int own = slots[static_cast<std::size_t>(i)];
        Real others = 0.0;
        for (int c = 0; c < classes; ++c)
            if (c != own) others += d(i, c);
        const Real term = d(i, own) - otherWeight * others;
        if (term > 0.0) ++stats.active;
        sum += term;
        if (withGradient)
            for (int c = 0; c < classes; ++c) grad(i, c) = (c == own ? 1.0 : -otherWeight) / Real(n);
    }
    LossOutput out;
    out.stats = stats;
    out.value = sum / Real(n);
    if (!withGradient) return out;
    Points gradEmbedded, gradCenters;
    distance.backward(grad, &gradEmbedded, &gradCenters);
    // c_m = mean of its members: each member receives ∂L/∂c_m / |m|.
    for (Eigen::Index i = 0; i < n; ++i) {
        const int own = slots[static_cast<std::size_t>(i)];
        gradEmbedded.row(i) += gradCenters.row(own) / sizes(own);
    }
    out.gradEmbeddings = m_normalize ? normalizeRowsBackward(embedded, norms, gradEmbedded) : gradEmbedded;
    if (input.splitForces) {
        // Through ‖e_i − c_{y_i}‖ alone: to e_i, and through the mean c_{y_i} to its classmates.
        Points ownEmbedded, ownCenters;
        distance.backwardSameLabel(grad, slots, detail::classRowLabels(classes), &ownEmbedded, &ownCenters);
        for (Eigen::Index i = 0; i < n; ++i) {
            const int own = slots[static_cast<std::size_t>(i)];
            ownEmbedded.row(i) += ownCenters.row(own) / sizes(own);
        }
        out.gradFromPositives =
            m_normalize ? normalizeRowsBackward(embedded, norms, ownEmbedded) : ownEmbedded;
    }
    return out;
}

}  // namespace marginlab

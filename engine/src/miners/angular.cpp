// SPDX-License-Identifier: MIT
#include "marginlab/miners/angular.h"

#include <cmath>

namespace marginlab {

AngularMiner::AngularMiner(Real angleDegrees) : m_angle(angleDegrees * std::acos(-1.0) / 180.0) {}

Tuples AngularMiner::mine(const MinerInput& input) const {
    // Anchors from the batch; positives and negatives from the reference set when there is one
    // (PML's get_all_triplets_indices(labels, ref_labels): no positive skipped as the anchor's
    // own row), else from the batch without the anchor itself.
    const bool reference = input.referenceEmbeddings != nullptr;
    const Points& x = input.embeddings;
    const Points& others = reference ? *input.referenceEmbeddings : x;
    const Labels& labels = input.labels;
    const Labels& otherLabels = reference ? *input.referenceLabels : labels;
    const int n = static_cast<int>(labels.size());
    const int m = static_cast<int>(otherLabels.size());
    constexpr Real epsilon = 1e-6;  // torch.nn.functional.pairwise_distance adds it to the difference
    std::vector<Triplet> kept;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < m; ++p) {
            if ((!reference && p == a) || otherLabels[p] != labels[a]) continue;
            const Eigen::RowVectorXd centre = (x.row(a) + others.row(p)) / 2.0;
            const Real anchorPositive = ((x.row(a) - others.row(p)).array() + epsilon).matrix().norm();
            for (int q = 0; q < m; ++q) {
                if (otherLabels[q] == labels[a]) continue;
                const Real negativeCentre = ((others.row(q) - centre).array() + epsilon).matrix().norm();
                if (std::atan(anchorPositive / (2.0 * negativeCentre)) > m_angle) kept.push_back({a, p, q});
            }
        }
    return Tuples::fromTriplets(std::move(kept));
}

}  // namespace marginlab

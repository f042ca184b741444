// SPDX-License-Identifier: MIT
#include "marginlab/miners/angular.h"

#include <cmath>

namespace marginlab {

AngularMiner::AngularMiner(Real angleDegrees) : m_angle(angleDegrees * std::acos(-1.0) / 180.0) {}

Tuples AngularMiner::mine(const MinerInput& input) const {
    const Points& x = input.embeddings;
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    constexpr Real epsilon = 1e-6;  // torch.nn.functional.pairwise_distance adds it to the difference
    std::vector<Triplet> kept;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            const Eigen::RowVectorXd centre = (x.row(a) + x.row(p)) / 2.0;
            const Real anchorPositive = ((x.row(a) - x.row(p)).array() + epsilon).matrix().norm();
            for (int q = 0; q < n; ++q) {
                if (labels[q] == labels[a]) continue;
                const Real negativeCentre = ((x.row(q) - centre).array() + epsilon).matrix().norm();
                if (std::atan(anchorPositive / (2.0 * negativeCentre)) > m_angle) kept.push_back({a, p, q});
            }
        }
    return Tuples::fromTriplets(std::move(kept));
}

}  // namespace marginlab

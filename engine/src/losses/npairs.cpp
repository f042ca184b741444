// SPDX-License-Identifier: MIT
#include "marginlab/losses/npairs.h"

#include "losses/common.h"

#include <map>
#include <utility>

namespace marginlab {

LossOutput NPairsLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& y = input.labels;
    // Ascending labels → (lowest index, second-lowest index); −1 while not yet seen.
    std::map<int, std::pair<int, int>> firstTwo;
    for (int i = 0; i < static_cast<int>(y.size()); ++i) {
        auto [it, inserted] = firstTwo.try_emplace(y[static_cast<std::size_t>(i)], i, -1);
        if (!inserted && it->second.second < 0) it->second.second = i;
    }
    std::vector<int> anchors, positives;
    for (const auto& [label, members] : firstTwo)
        if (members.second >= 0) {
            anchors.push_back(members.first);
            positives.push_back(members.second);
        }
    const auto k = static_cast<Eigen::Index>(anchors.size());
    if (k == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        return zero;
    }

    // Only the 2K selected rows matter: normalize those and differentiate through x̂ by hand.
    const Eigen::Index d = input.embeddings.cols();
    Points anchorRows(k, d), positiveRows(k, d);
    for (Eigen::Index i = 0; i < k; ++i) {
        anchorRows.row(i) = input.embeddings.row(anchors[static_cast<std::size_t>(i)]);
        positiveRows.row(i) = input.embeddings.row(positives[static_cast<std::size_t>(i)]);
    }
    const CrossDistance similarity(DistanceSpec::dot(true), anchorRows, positiveRows);
    const Matrix& s = similarity.matrix();

    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = k;
    Matrix gradS(k, k);
    std::vector<Real> row(static_cast<std::size_t>(k)), grad(static_cast<std::size_t>(k));
    Real total = 0.0;
    for (Eigen::Index r = 0; r < k; ++r) {
        for (Eigen::Index c = 0; c < k; ++c) row[static_cast<std::size_t>(c)] = s(r, c);
        const Real term = detail::crossEntropy(row, static_cast<int>(r), grad);
        total += term;
        if (term > 0.0) ++out.stats.active;
        for (Eigen::Index c = 0; c < k; ++c) gradS(r, c) = grad[static_cast<std::size_t>(c)] / static_cast<Real>(k);
    }
    out.value = total / static_cast<Real>(k);
    if (withGradient) {
        Points gradAnchors, gradPositives;
        similarity.backward(gradS, &gradAnchors, &gradPositives);
        out.gradEmbeddings = Points::Zero(input.embeddings.rows(), d);
        for (Eigen::Index i = 0; i < k; ++i) {
            out.gradEmbeddings.row(anchors[static_cast<std::size_t>(i)]) += gradAnchors.row(i);
            out.gradEmbeddings.row(positives[static_cast<std::size_t>(i)]) += gradPositives.row(i);
        }
        if (input.splitForces) {
            // Row r and column r of S belong to the same class: the same-label entries are S_kk.
            const Labels pairClass = detail::classRowLabels(k);
            similarity.backwardSameLabel(gradS, pairClass, pairClass, &gradAnchors, &gradPositives);
            out.gradFromPositives = Points::Zero(input.embeddings.rows(), d);
            for (Eigen::Index i = 0; i < k; ++i) {
                out.gradFromPositives.row(anchors[static_cast<std::size_t>(i)]) += gradAnchors.row(i);
                out.gradFromPositives.row(positives[static_cast<std::size_t>(i)]) += gradPositives.row(i);
            }
        }
    }
    return out;
}

}  // namespace marginlab

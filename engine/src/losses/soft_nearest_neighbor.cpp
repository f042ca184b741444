// SPDX-License-Identifier: MIT
#include "marginlab/losses/soft_nearest_neighbor.h"

#include "losses/pair_family_support.h"
#include "parallel.h"

#include <cmath>
#include <limits>
#include <vector>

namespace marginlab {

SoftNearestNeighborLoss::SoftNearestNeighborLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput SoftNearestNeighborLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0) return detail::zeroOutputWithKind(input, withGradient, "anchors");

    detail::PairwiseWorkspace& workspace = detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    // logits z_ik = −δ_ik / T with δ the ordering distance (δ = d, or −s for a similarity)
    const Real factor = -m_distance.orderSign() / m_temperature;
    constexpr Real minusInfinity = -std::numeric_limits<Real>::infinity();

    LossOutput out;
    out.stats.tupleKind = "anchors";
    Matrix& gradMatrix = workspace.gradient();  // zeroed by the workspace when withGradient
    // Rows in chunks fixed by N on the engine's threads; each chunk keeps its own sums, added in
    // chunk order (the same bits on any number of threads). Gradient rows are written, not added.
    struct Chunk {
        Real total = 0.0;
        Count tuples = 0, active = 0;
    };
    std::vector<Chunk> parts(static_cast<std::size_t>(detail::AnchorChunks(n).count()));
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int c) {
        Chunk& part = parts[static_cast<std::size_t>(c)];
        std::vector<Real> shiftedAll(static_cast<std::size_t>(n)), shiftedPositive(static_cast<std::size_t>(n));
        for (int i = static_cast<int>(begin); i < end; ++i) {
            Real topAll = minusInfinity, topPositive = minusInfinity;
            bool anyNegative = false;
            for (int k = 0; k < n; ++k) {
                if (k == i) continue;
                const Real z = factor * m(i, k);
                topAll = std::max(topAll, z);
                if (labels[k] == labels[i]) topPositive = std::max(topPositive, z);
                else anyNegative = true;
            }
            if (topPositive == minusInfinity) continue;  // no positive: the anchor is not counted
            ++part.tuples;
            if (!anyNegative) continue;  // numerator = denominator: ℓ_i = 0 exactly
            // Numerator and denominator each get their own shift, so a far-away class cannot
            // underflow the numerator to 0 (and the loss to ∞) at small temperatures.
            Real sumAll = 0.0, sumPositive = 0.0;
            for (int k = 0; k < n; ++k) {
                if (k == i) continue;
                const auto index = static_cast<std::size_t>(k);
                const Real z = factor * m(i, k);
                shiftedAll[index] = detail::shiftedExp(z - topAll);
                sumAll += shiftedAll[index];
                if (labels[k] == labels[i]) {
                    shiftedPositive[index] = detail::shiftedExp(z - topPositive);
                    sumPositive += shiftedPositive[index];
                }
            }
            const Real term = (topAll + std::log(sumAll)) - (topPositive + std::log(sumPositive));
            part.total += term;
            if (term > 0.0) ++part.active;
            if (withGradient) {
                // ∂ℓ_i/∂z_ik = softmax over all k − softmax over the positives; × ∂z/∂M = factor
                const Real allFactor = factor / sumAll, positiveFactor = factor / sumPositive;
                for (int k = 0; k < n; ++k) {
                    if (k == i) continue;
                    const auto index = static_cast<std::size_t>(k);
                    Real g = shiftedAll[index] * allFactor;
                    if (labels[k] == labels[i]) g -= shiftedPositive[index] * positiveFactor;
                    gradMatrix(i, k) = g;
                }
            }
        }
    });
    Real total = 0.0;
    for (const Chunk& part : parts) {
        total += part.total;
        out.stats.tuples += part.tuples;
        out.stats.active += part.active;
    }
    if (out.stats.tuples == 0) return detail::zeroOutputWithKind(input, withGradient, "anchors");
    const Real anchorCount = static_cast<Real>(out.stats.tuples);
    out.value = total / anchorCount;
    if (withGradient) {
        gradMatrix /= anchorCount;
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

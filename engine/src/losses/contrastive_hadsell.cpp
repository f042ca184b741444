// SPDX-License-Identifier: MIT
#include "marginlab/losses/contrastive_hadsell.h"

#include <vector>

#include "losses/common.h"
#include "losses/distance_rows.h"
#include "parallel.h"
#include "simd/dispatch.h"

namespace marginlab {

HadsellContrastiveLoss::HadsellContrastiveLoss(Real margin, bool normalize)
    : m_margin(margin), m_distance(DistanceSpec::lp(1, normalize)) {}

LossOutput HadsellContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows();
    const Labels& y = input.labels;
    LossStats stats;
    stats.tupleKind = "pairs";
    if (n < 2) {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats = stats;
        return out;
    }
    // One distance row at a time (pairs b > a of row a): O(N) extra memory, no N×N buffers.
    const detail::DistanceRows distance(m_distance, input.embeddings);
    const Real pairs = Real(n) * Real(n - 1) / 2.0;
    const bool split = detail::splitsForces(input, withGradient);
    const Eigen::Index dims = input.embeddings.cols();
    // Anchor rows in chunks fixed by N on the engine's threads, each with its own sums and
    // gradients, added in chunk order: the same bits on any number of threads.
    struct Chunk {
        Real sum = 0.0;
        Count tuples = 0, active = 0;
        Points grad, gradSameLabel;
    };
    std::vector<Chunk> parts(static_cast<std::size_t>(detail::AnchorChunks(n).count()));
    detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int c) {
        Chunk& part = parts[static_cast<std::size_t>(c)];
        std::vector<Real> row(static_cast<std::size_t>(n)), slopes;
        std::vector<Real> masked;  // accumulateSameLabel's scratch
        if (withGradient) {
            slopes.assign(static_cast<std::size_t>(n), 0.0);
            part.grad = Points::Zero(n, dims);
        }
        if (split) part.gradSameLabel = Points::Zero(n, dims);
        const detail::simd::Kernels& kernels = detail::simd::kernels();
        for (Eigen::Index a = begin; a < end; ++a) {
            distance.row(a, row.data(), a + 1);
            // Both kinds computed, one kept by a select (the label test is data-dependent).
            Real sum = 0.0;
            std::int64_t active = 0;
            kernels.hadsellRow(row.data(), y.data(), y[static_cast<std::size_t>(a)], a + 1, n, m_margin,
                               withGradient ? slopes.data() : nullptr, &sum, &active);
            part.sum += sum;
            part.active += active;
            part.tuples += n - 1 - a;
            if (withGradient) distance.accumulate(a, slopes.data(), row.data(), &part.grad, a + 1);
            if (split) distance.accumulateSameLabel(a, slopes.data(), row.data(), y, &part.gradSameLabel, &masked, a + 1);
        }
    });
    Points gradEmbedded, gradSameLabel;
    if (withGradient) gradEmbedded = Points::Zero(n, dims);
    if (split) gradSameLabel = Points::Zero(n, dims);
    Real sum = 0.0;
    for (const Chunk& part : parts) {
        sum += part.sum;
        stats.tuples += part.tuples;
        stats.active += part.active;
        if (withGradient) gradEmbedded += part.grad;
        if (split) gradSameLabel += part.gradSameLabel;
    }
    LossOutput out;
    out.stats = stats;
    out.value = sum / pairs;
    if (withGradient) out.gradEmbeddings = distance.finish(gradEmbedded / pairs);
    if (split) out.gradFromPositives = distance.finish(gradSameLabel / pairs);
    return out;
}

}  // namespace marginlab

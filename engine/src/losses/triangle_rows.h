// SPDX-License-Identifier: MIT
// The backward pass of a loss whose pair terms are symmetric, taken over the upper triangle of
// its pair matrix (internal header).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "losses/contrastive_support.h"
#include "losses/distance_rows.h"
#include "parallel.h"

namespace marginlab::detail {

/// Row buffers of a thread, kept between chunks and steps: a chunk's fresh zeroed rows cost 6 %
/// of a step at N = 4,096 in memset alone. Every entry a pass reads it has written first.
struct TriangleScratch {
    static constexpr int kBlock = 4;  // rows per backward pass
    // two spare rows, then the m and g rows of a block
    std::array<std::vector<Real>, 3 + 2 * kBlock> rows;
};
inline TriangleScratch& triangleScratch(Eigen::Index n) {
    thread_local TriangleScratch scratch;
    for (std::vector<Real>& row : scratch.rows) row.resize(static_cast<std::size_t>(n));
    return scratch;
}

/// A loss's points class by class (ClassOrder) with their distance rows: row i's part j > i is
/// then its classmates up to classEnd[i] and after them only other classes.
struct ClassOrderedRows {
    ClassOrderedRows(const LossInput& callers, const DistanceSpec& spec)
        : order(callers), rows(spec, order.input().embeddings), classEnd(order.classEnds()),
          n(static_cast<int>(order.input().labels.size())) {}
    const LossInput& input() const { return order.input(); }
    const Labels& labels() const { return order.input().labels; }

    ClassOrder order;
    DistanceRows rows;
    std::vector<int> classEnd;
    int n;
};

struct TriangleGradients {
    Points all;        ///< ∂L/∂x
    Points sameLabel;  ///< through the same-label pairs only (with splitForces)
};

/**
 * ∂L/∂x of a loss given ∂L/∂M_ij for j > i only (each unordered pair once, both of its rows'
 * shares in it): rowWeights(i, m, g, spare0, spare1) writes M_ij into m[j] and ∂L/∂M_ij into g[j]
 * for every j > i (the spares: two scratch rows of N). Rows in AnchorChunks on the engine's
 * threads, each chunk with its own gradient, added in chunk order: the same bits on any thread
 * count. Within a chunk rows go four at a time: one backward pass reads each point and gradient
 * entry once for the block (DistanceRows::accumulateRows) instead of once per row. It starts at
 * the block's first anchor; a row's entries before its own j > i are zero weights (and zero
 * distances, so that a zero over a zero distance stays 0). With splitForces the same-label
 * entries also go to a gradient of their own, row by row.
 */
template <class RowWeights>
TriangleGradients accumulateOverTriangle(const DistanceRows& rows, const Labels& labels, bool splitForces,
                                         RowWeights rowWeights) {
    const auto n = static_cast<int>(labels.size());
    const Eigen::Index dims = rows.dims();
    const int chunkCount = AnchorChunks(n).count();
    std::vector<Points> grads(static_cast<std::size_t>(chunkCount)), sameLabelGrads(static_cast<std::size_t>(chunkCount));
    forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int chunk) {
        Points& grad = grads[static_cast<std::size_t>(chunk)];
        grad = Points::Zero(n, dims);
        Points* sameLabel = nullptr;
        if (splitForces) {
            sameLabelGrads[static_cast<std::size_t>(chunk)] = Points::Zero(n, dims);
            sameLabel = &sameLabelGrads[static_cast<std::size_t>(chunk)];
        }
        TriangleScratch& scratch = triangleScratch(n);
        constexpr int kBlock = TriangleScratch::kBlock;
        Real* ms[kBlock];
        Real* gs[kBlock];
        Eigen::Index anchors[kBlock];
        for (int k = 0; k < kBlock; ++k) {
            ms[k] = scratch.rows[static_cast<std::size_t>(3 + 2 * k)].data();
            gs[k] = scratch.rows[static_cast<std::size_t>(4 + 2 * k)].data();
        }
        for (auto blockStart = static_cast<int>(begin); blockStart < end; blockStart += kBlock) {
            const int size = std::min(kBlock, static_cast<int>(end) - blockStart);
            for (int k = 0; k < size; ++k) {
                const int i = blockStart + k, first = std::min(i + 1, n);
                anchors[k] = i;
                std::fill(ms[k] + blockStart, ms[k] + first, 0.0);
                std::fill(gs[k] + blockStart, gs[k] + first, 0.0);
                if (first == n) continue;
                rowWeights(i, ms[k], gs[k], scratch.rows[0].data(), scratch.rows[1].data());
                if (sameLabel) rows.accumulateSameLabel(i, gs[k], ms[k], labels, sameLabel, &scratch.rows[2], first);
            }
            rows.accumulateRows(size, anchors, gs, ms, &grad, blockStart);
        }
    });
    TriangleGradients out;
    Points grad = Points::Zero(n, dims);
    for (const Points& part : grads) grad += part;
    out.all = rows.finish(grad);
    if (splitForces) {
        Points sameLabel = Points::Zero(n, dims);
        for (const Points& part : sameLabelGrads) sameLabel += part;
        out.sameLabel = rows.finish(sameLabel);
    }
    return out;
}

}  // namespace marginlab::detail

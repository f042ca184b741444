// SPDX-License-Identifier: MIT
// Building blocks shared by the miners (internal header): ordering distances (as a matrix, or
// row by row on the engine's threads), per-anchor mining, and exact ranks among sorted values.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "losses/distance_rows.h"
#include "losses/triplet_sweep.h"
#include "marginlab/distance.h"
#include "marginlab/tuples.h"
#include "marginlab/types.h"
#include "parallel.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

/**
 * δ = orderSign · M of the miner's distance, so that "closer" is always "smaller δ". Read through
 * the sign instead of copied: large fresh matrices are expensive to touch. Negation is exact, so
 * comparisons on δ give the same answers as PML's flipped comparisons on M.
 */
class OrderingDistances {
public:
    OrderingDistances(const DistanceSpec& spec, const Points& embeddings)
        : m_distance(spec, embeddings), m_sign(spec.orderSign()) {}

    Real operator()(Eigen::Index i, Eigen::Index j) const { return m_sign * m_distance.matrix()(i, j); }
    const Matrix& matrix() const { return m_distance.matrix(); }  ///< M itself
    Real sign() const { return m_sign; }

private:
    SelfDistance m_distance;
    Real m_sign;
};

/**
 * The rows of OrderingDistances one anchor at a time, in O(N·D) memory: the per-step miners never
 * build the N×N matrix (at N = 4096 its page faults alone cost about as much as a whole batch-all
 * triplet step). The values are OrderingDistances' bit for bit for Lp distances (DistanceRows
 * uses SelfDistance's arithmetic; a test checks it for D = 2 and 3), so the miners choose exactly
 * the same tuples as the matrix-based definitions. Thread-safe: row() may run on several threads.
 */
class OrderingRows {
public:
    OrderingRows(const DistanceSpec& spec, const Points& embeddings)
        : m_spec(spec), m_sign(spec.orderSign()) {
        if (spec.isSimilarity())
            m_rows.emplace(spec, embeddings);
        else
            m_embedded = spec.normalizes() ? normalizeRows(embeddings) : embeddings;
    }

    Eigen::Index size() const { return m_rows ? m_rows->size() : m_embedded.rows(); }
    /// out[j] = δ_aj for every j (N values).
    void row(Eigen::Index a, Real* out) const {
        if (m_rows) {
            m_rows->row(a, out);
            for (Eigen::Index j = 0; j < m_rows->size(); ++j) out[j] = m_sign * out[j];  // exact negation
            return;
        }
        // Lp: the vector unit's kernels (simd/dispatch.h), the same bits as SelfDistance's entries.
        const simd::Kernels& kernels = simd::kernels();
        if (m_spec.power == 1)
            kernels.distanceRow(m_embedded.data(), m_embedded.rows(), m_embedded.cols(), a, out, 0);
        else
            kernels.squaredDistanceRow(m_embedded.data(), m_embedded.rows(), m_embedded.cols(), a, out, 0);
    }

private:
    DistanceSpec m_spec;
    Real m_sign;
    std::optional<DistanceRows> m_rows;  // similarities
    Points m_embedded;                   // Lp: the (normalized) points
};

/**
 * Per-anchor mining on the engine's threads: mineAnchor(a, δ_a·, &out, &scratch) appends anchor
 * a's triplets to `out`. Anchors run in AnchorChunks; each chunk's list is joined in chunk order,
 * so the result is the sequential list (anchors ascending) whatever the thread count. `Scratch`
 * is per worker (default-constructed), for buffers reused across anchors. capacity(a) bounds the
 * number of triplets anchor a adds (each chunk's list is reserved from it).
 */
template <class Scratch, class MineAnchor, class Capacity>
std::vector<Triplet> mineAnchors(const OrderingRows& rows, const MineAnchor& mineAnchor,
                                 const Capacity& capacity) {
    const Eigen::Index n = rows.size();
    const AnchorChunks chunks(n);
    std::vector<std::vector<Triplet>> found(static_cast<std::size_t>(chunks.count()));
    const int workerCount = chunkWorkers(chunks.count());
    std::vector<Scratch> scratch(static_cast<std::size_t>(workerCount));
    std::vector<std::vector<Real>> deltas(static_cast<std::size_t>(workerCount));
    forEachChunk(chunks.count(), workerCount, [&](int chunk, int worker) {
        std::vector<Real>& delta = deltas[static_cast<std::size_t>(worker)];
        delta.resize(static_cast<std::size_t>(n));
        // The chunk's list reserved once from the miner's bound: no reallocation (each one copies
        // the list and touches fresh pages) while it grows.
        std::size_t bound = 0;
        for (Eigen::Index a = chunks.begin(chunk); a < chunks.end(chunk); ++a)
            bound += capacity(static_cast<int>(a));
        found[static_cast<std::size_t>(chunk)].reserve(bound);
        for (Eigen::Index a = chunks.begin(chunk); a < chunks.end(chunk); ++a) {
            rows.row(a, delta.data());
            mineAnchor(static_cast<int>(a), delta.data(), &found[static_cast<std::size_t>(chunk)],
                       &scratch[static_cast<std::size_t>(worker)]);
        }
    });
    std::size_t total = 0;
    for (const auto& part : found) total += part.size();
    std::vector<Triplet> out;
    out.reserve(total);
    for (const auto& part : found) out.insert(out.end(), part.begin(), part.end());
    return out;
}

/// Per anchor, its positives (its class's size − 1): the capacity bound of the miners that keep at
/// most one triplet per positive pair.
class PositiveCounts {
public:
    explicit PositiveCounts(const Labels& labels) : m_labels(labels), m_sorted(labels) {
        std::sort(m_sorted.begin(), m_sorted.end());
    }
    std::size_t operator()(int a) const {
        const auto range =
            std::equal_range(m_sorted.begin(), m_sorted.end(), m_labels[static_cast<std::size_t>(a)]);
        return static_cast<std::size_t>(range.second - range.first) - 1;
    }

private:
    const Labels& m_labels;
    Labels m_sorted;
};

/// mineAnchors without a capacity bound (lists that stay short: a triplet or two per anchor).
template <class Scratch, class MineAnchor>
std::vector<Triplet> mineAnchors(const OrderingRows& rows, const MineAnchor& mineAnchor) {
    return mineAnchors<Scratch>(rows, mineAnchor, [](int) { return std::size_t{0}; });
}

/// Each class's members in index order, grouped once per call: what an anchor's row leaves out
/// of its negatives (BucketSorter::arrangeRow), or the bounds of the runs of negatives between them.
class ClassMembers {
public:
    explicit ClassMembers(const Labels& labels);
    /// The members of a's class, ascending (a among them); *count gets how many.
    const int* of(int a, int* count) const {
        const int c = m_classOf[static_cast<std::size_t>(a)];
        *count = m_classStart[static_cast<std::size_t>(c) + 1] - m_classStart[static_cast<std::size_t>(c)];
        return m_members.data() + m_classStart[static_cast<std::size_t>(c)];
    }

private:
    std::vector<int> m_members, m_classStart, m_classOf;
};

/// A negative of an anchor with its ordering distance: (δ_an, n). Sorted lexicographically, ties
/// in δ are ordered by index, so every "first of the ties" choice picks the lowest index.
using RankedNegative = std::pair<Real, int>;

/**
 * Orders (value, index) items by value then index as far as a few counts and picks need: a
 * counting sort into kCellsPerItem equal-width cells per item (O(n) for values spread over their
 * range), after which count(z) (the values below z) and at(rank) (the item of that rank in the
 * full order) are O(1) expected from the cells. Within a cell of at most kSorted items the order
 * is left as it came (an eighth of an item per cell on average: finishing the order took an
 * insertion pass of mispredicted branches over every item, while the callers read a few hundred
 * ranks); larger cells are sorted. Falls back to std::sort and binary searches when the values'
 * range is empty or not finite.
 */
class BucketSorter {
public:
    /// Arranges `items` (no NaN values) in place; the queries below refer to them until they change.
    void arrange(std::vector<RankedNegative>* items);
    /// The same, given the values' std::min and std::max over the items in order (the caller
    /// that lists them can take both on the way).
    void arrange(std::vector<RankedNegative>* items, Real low, Real high);
    /**
     * Arranges the items (row[j], j) of one anchor's row but those j in `excluded` (its own class,
     * each index once), straight from the row: its range and its cells on the vector unit, and no
     * list of the items made first. Returns false, arranging nothing, when the row holds a NaN,
     * its range is empty or not finite, or fewer than 16 items remain: the caller then lists
     * them for arrange(). The queries then answer as arrange() of those items would.
     */
    bool arrangeRow(const Real* row, int n, const int* excluded, int excludedCount);
    /// #{k : value_k < z}, or ≤ z if `inclusive` (z not NaN).
    int count(Real z, bool inclusive) const;
    /// The item at `rank` (0-based) of the items sorted by (value, index).
    const RankedNegative& at(int rank) const;

private:
    template <bool Inclusive>
    int countBelow(Real z) const;

    // FaceNet's step at N = 4096 on Zen 5 (twenty-eighth session, per T): 2 cells per item 1.50, 3
    // 1.31–1.38, 4 1.28–1.31, 6 1.18–1.26, 8 1.16–1.18, 12 1.15–1.19; and after the counts' first
    // slots lost their loop, 4 1.22–1.24, 6 1.18–1.23, 8 1.15–1.17: the queries' work in a crowded
    // cell costs more than the larger count array.
    static constexpr int kCellsPerItem = 8;
    static constexpr int kSorted = 8;  // cells holding more are sorted outright
    const RankedNegative* m_items = nullptr;
    int m_size = 0;
    int m_cells = 0;  // 0: no cells, sorted outright
    Real m_low = 0.0, m_high = 0.0, m_scale = 0.0;
    std::vector<int> m_start;    // per cell: its first item (and the cell of each item, while arranging)
    std::vector<int> m_crowded;  // the cells of more than kSorted items
    std::vector<RankedNegative> m_scratch;
    std::vector<int> m_cellOf;  // arrangeRow: per j, its cell (the excluded in a cell past the last)

    int cellOf(Real value) const {
        return static_cast<int>(std::min((value - m_low) * m_scale, Real(m_cells - 1)));
    }
};

inline int BucketSorter::count(Real z, bool inclusive) const {
    return inclusive ? countBelow<true>(z) : countBelow<false>(z);
}

template <bool Inclusive>
[[gnu::always_inline]] inline int BucketSorter::countBelow(Real z) const {
    auto holds = [z](const RankedNegative& item) { return Inclusive ? item.first <= z : item.first < z; };
    if (m_cells == 0)
        return static_cast<int>(std::partition_point(m_items, m_items + m_size, holds) - m_items);
    if (z < m_low) return 0;
    if (z > m_high) return m_size;
    // Cells before z's hold only values below it, cells after it only values above (cellOf is
    // non-decreasing): only z's own cell is compared, every item of it, as it is not in order.
    const int cell = cellOf(z);
    int k = m_start[static_cast<std::size_t>(cell)];
    const int stop = m_start[static_cast<std::size_t>(cell) + 1];
    if (stop - k > kSorted)
        return static_cast<int>(std::partition_point(m_items + k, m_items + stop, holds) - m_items);
    // Added as 0 or 1, not branched on: the items of a cell are in no order. The first two
    // slots are read always (most cells hold none or one item, so a loop over them mispredicted
    // its exit); a slot past the cell reads item 0 (m_size ≥ 16 here) and adds nothing.
    const int last = stop - 1;
    int below = k;
    below += static_cast<int>((k <= last) & holds(m_items[k <= last ? k : 0]));
    below += static_cast<int>((k + 1 <= last) & holds(m_items[k + 1 <= last ? k + 1 : 0]));
    for (k += 2; k < stop; ++k) below += static_cast<int>(holds(m_items[k]));
    return below;
}

inline const RankedNegative& BucketSorter::at(int rank) const {
    if (m_cells == 0) return m_items[rank];
    // Any item at `rank` lies in the cell that holds that position: its value names the cell.
    const int cell = cellOf(m_items[rank].first);
    const int begin = m_start[static_cast<std::size_t>(cell)];
    const int stop = m_start[static_cast<std::size_t>(cell) + 1];
    if (stop - begin > kSorted || stop - begin == 1) return m_items[rank];
    // The cell's item with the most of the cell's items below it, at most rank − begin of them:
    // exactly that many for distinct items (the callers' indices differ), and right for repeats.
    const int want = rank - begin;
    int found = begin, foundBelow = -1;
    for (int k = begin; k < stop; ++k) {
        int below = 0;
        for (int i = begin; i < stop; ++i) below += m_items[i] < m_items[k] ? 1 : 0;
        if (below <= want && below > foundBelow) {
            found = k;
            foundBelow = below;
        }
    }
    return m_items[found];
}

/**
 * Values sorted ascending with their indices, and exact rank queries in O(1) expected time (the
 * triplet sweep's GapTable): per anchor, the miners sort its few positives and place each of its
 * many negatives among them, instead of sorting the negatives. Values must not be NaN.
 */
class RankedValues {
public:
    /// Sorts `items` (value, index) by value then index; they stay readable through items().
    void assign(std::vector<std::pair<Real, int>>* items);
    const std::vector<std::pair<Real, int>>& items() const { return m_items; }
    int size() const { return static_cast<int>(m_items.size()); }
    /// #{k : value_k < z}, exactly (any z but NaN).
    int countBelow(Real z) const {
        if (std::isfinite(z) && m_locator.table().cells != 0) return m_locator.table().countBelow(z);
        return static_cast<int>(std::lower_bound(m_sorted.begin() + 1, m_sorted.begin() + 1 + size(), z) -
                                (m_sorted.begin() + 1));
    }
    /// ranks[t] = countBelow(values[t]) for t in [0, n): eight at a time on a vector unit that
    /// has the kernel (the same answers), one by one otherwise.
    void countBelowMany(const Real* values, int n, int* ranks) const;

private:
    std::vector<std::pair<Real, int>> m_items, m_scratch;
    std::vector<Real> m_sorted;  // −∞, the values, +∞ × (kPadding + 1): GapTable's sentinels
    GapLocator m_locator;
};

}  // namespace marginlab::detail

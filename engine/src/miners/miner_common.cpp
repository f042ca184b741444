// SPDX-License-Identifier: MIT
#include "miners/miner_common.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab::detail {

ClassMembers::ClassMembers(const Labels& labels) : m_members(labels.size()), m_classOf(labels.size()) {
    const std::size_t n = labels.size();
    std::vector<std::pair<int, int>> byLabel(n);
    for (std::size_t i = 0; i < n; ++i) byLabel[i] = {labels[i], static_cast<int>(i)};
    std::sort(byLabel.begin(), byLabel.end());
    for (std::size_t k = 0; k < n; ++k) {
        if (k == 0 || byLabel[k].first != byLabel[k - 1].first) m_classStart.push_back(static_cast<int>(k));
        m_members[k] = byLabel[k].second;
        m_classOf[static_cast<std::size_t>(byLabel[k].second)] = static_cast<int>(m_classStart.size()) - 1;
    }
    m_classStart.push_back(static_cast<int>(n));
}

void BucketSorter::arrange(std::vector<RankedNegative>* items) {
    if (items->empty()) return arrange(items, 0.0, 0.0);
    Real low = (*items)[0].first, high = low;
    for (const auto& item : *items) {
        low = std::min(low, item.first);
        high = std::max(high, item.first);
    }
    arrange(items, low, high);
}

void BucketSorter::arrange(std::vector<RankedNegative>* items, Real low, Real high) {
    const std::size_t n = items->size();
    m_items = items->data();
    m_size = static_cast<int>(n);
    m_cells = 0;
    if (n == 0) return;
    m_low = low;
    m_high = high;
    const Real range = m_high - m_low;
    m_scale = Real(kCellsPerItem * n) / range;
    if (n < 16 || !(range > 0.0) || !std::isfinite(range) || !std::isfinite(m_scale)) {
        std::sort(items->begin(), items->end());
        return;
    }
    // cellOf is non-decreasing in the value (a rounded product of a non-negative difference), so
    // after a stable counting sort by cell every item is out of place only within its cell.
    m_cells = kCellsPerItem * m_size;
    const int cells = m_cells;  // a local: stores through `end` could otherwise change a member
    m_start.resize(static_cast<std::size_t>(cells) + 1 + n);
    int* end = m_start.data();  // per cell: its end, then (after the scatter) its start
    int* cellOfItem = end + cells + 1;
    std::fill(end, end + cells + 1, 0);
    // The cells that outgrow kSorted are listed as they do (n items) rather than looked for
    // over the 4n cells afterwards.
    m_crowded.clear();
    for (std::size_t k = 0; k < n; ++k) {
        const int cell = cellOf((*items)[k].first);
        cellOfItem[k] = cell;
        if (++end[cell] == kSorted + 1) m_crowded.push_back(cell);
    }
    runningSums(end, cells);
    end[cells] = m_size;
    m_scratch.resize(n);
    RankedNegative* out = m_scratch.data();
    for (std::size_t k = n; k-- > 0;) out[--end[cellOfItem[k]]] = (*items)[k];
    for (const int c : m_crowded) std::sort(out + end[c], out + end[c + 1]);
    items->swap(m_scratch);
    m_items = items->data();
}

bool BucketSorter::arrangeRow(const Real* row, int n, const int* excluded, int excludedCount) {
    const int size = n - excludedCount;
    if (size < 16) return false;
    const simd::Kernels& kernels = simd::kernels();
    // The whole row's range, the excluded included: a wider range than the items' own only
    // spreads them over the cells differently, and the queries are exact for any cells.
    Real low = 0.0, high = 0.0;
    if (kernels.rowRange(row, n, &low, &high)) return false;
    const Real range = high - low;
    const Real scale = Real(kCellsPerItem * size) / range;
    if (!(range > 0.0) || !std::isfinite(range) || !std::isfinite(scale)) return false;
    m_low = low;
    m_high = high;
    m_scale = scale;
    m_cells = kCellsPerItem * size;
    m_size = size;
    const int cells = m_cells;
    m_cellOf.resize(static_cast<std::size_t>(n));
    int* const cellOf = m_cellOf.data();
    kernels.bucketCells(row, n, low, scale, Real(cells - 1), cellOf);
    for (int k = 0; k < excludedCount; ++k) cellOf[excluded[k]] = cells;
    // As arrange(): counts, starts, a stable scatter (the excluded land past the items), and the
    // crowded cells sorted; every j is placed, without a test of whether it is an item.
    m_start.resize(static_cast<std::size_t>(cells) + 2);
    int* end = m_start.data();
    std::fill(end, end + cells + 2, 0);
    m_crowded.clear();
    for (int j = 0; j < n; ++j)
        if (++end[cellOf[j]] == kSorted + 1) m_crowded.push_back(cellOf[j]);
    runningSums(end, cells + 2);
    m_scratch.resize(static_cast<std::size_t>(n));
    RankedNegative* out = m_scratch.data();
    for (int j = n; j-- > 0;) out[--end[cellOf[j]]] = {row[j], j};
    for (const int c : m_crowded)
        if (c < cells) std::sort(out + end[c], out + end[c + 1]);
    m_items = out;
    return true;
}

void RankedValues::assign(std::vector<std::pair<Real, int>>* items) {
    m_items.swap(*items);
    const bool table = m_locator.sortWithTable(&m_items, &m_scratch);
    if (!table) std::sort(m_items.begin(), m_items.end());
    const int n = size();
    constexpr Real infinity = std::numeric_limits<Real>::infinity();
    m_sorted.assign(static_cast<std::size_t>(n + GapLocator::kPadding + 2), infinity);
    m_sorted[0] = -infinity;
    for (int k = 0; k < n; ++k)
        m_sorted[static_cast<std::size_t>(k) + 1] = m_items[static_cast<std::size_t>(k)].first;
    if (table)
        m_locator.bind(m_sorted.data() + 1);
    else
        m_locator.assign(m_sorted.data() + 1, n);
}

void RankedValues::countBelowMany(const Real* values, int n, int* ranks) const {
    const GapTable& table = m_locator.table();
    // With a table every value is finite (sortWithTable refuses an infinite range), which the
    // kernel's binary search for unsettled lanes needs; an infinite query it handles itself.
    if (const auto kernel = simd::kernels().countBelow; kernel && table.cells != 0) {
        kernel(simd::CellTable{table.sorted, table.size, table.low, table.scale, table.top, table.cellStart},
               values, n, ranks);
        return;
    }
    for (int t = 0; t < n; ++t) ranks[t] = countBelow(values[t]);
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "miners/miner_common.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab::detail {

void BucketSorter::sort(std::vector<RankedNegative>* items) {
    const std::size_t n = items->size();
    m_items = items->data();
    m_size = static_cast<int>(n);
    m_cells = 0;
    if (n == 0) return;
    m_low = m_high = (*items)[0].first;
    for (const auto& item : *items) {
        m_low = std::min(m_low, item.first);
        m_high = std::max(m_high, item.first);
    }
    const Real range = m_high - m_low;
    m_scale = Real(n) / range;
    if (n < 16 || !(range > 0.0) || !std::isfinite(range) || !std::isfinite(m_scale)) {
        std::sort(items->begin(), items->end());
        return;
    }
    // cellOf is non-decreasing in the value (a rounded product of a non-negative difference), so
    // after a stable counting sort by cell every item is out of place only within its cell.
    m_cells = m_size;
    m_start.resize(2 * n + 1);
    int* end = m_start.data();  // per cell: its end, then (after the scatter) its start
    int* cellOfItem = end + n + 1;
    std::fill(end, end + n + 1, 0);
    for (std::size_t k = 0; k < n; ++k) {
        const int cell = cellOf((*items)[k].first);
        cellOfItem[k] = cell;
        ++end[cell];
    }
    int crowded = end[0];
    for (int c = 1; c < m_cells; ++c) {
        crowded = std::max(crowded, end[c]);
        end[c] += end[c - 1];
    }
    end[m_cells] = m_size;
    m_scratch.resize(n);
    RankedNegative* out = m_scratch.data();
    for (std::size_t k = n; k-- > 0;) out[--end[cellOfItem[k]]] = (*items)[k];
    // Crowded cells (clustered values) sorted on their own, so that the insertion pass below
    // moves no item further than kSmall places: O(n · kSmall) at worst.
    constexpr int kSmall = 32;
    if (crowded > kSmall)
        for (int c = 0; c < m_cells; ++c)
            if (end[c + 1] - end[c] > kSmall) std::sort(out + end[c], out + end[c + 1]);
    // One insertion pass over the whole list finishes the cells: with about one item per cell
    // few items move, and it avoids a branchy walk over the cells' bounds.
    for (std::size_t i = 1; i < n; ++i) {
        if (!(out[i] < out[i - 1])) continue;
        const RankedNegative held = out[i];
        std::size_t j = i;
        for (; j > 0 && held < out[j - 1]; --j) out[j] = out[j - 1];
        out[j] = held;
    }
    items->swap(m_scratch);
    m_items = items->data();
}

int BucketSorter::count(Real z, bool inclusive) const {
    auto holds = [&](const RankedNegative& item) { return inclusive ? item.first <= z : item.first < z; };
    if (m_cells == 0)
        return static_cast<int>(std::partition_point(m_items, m_items + m_size, holds) - m_items);
    if (z < m_low) return 0;
    if (z > m_high) return m_size;
    // Cells before z's hold only values below it, cells after it only values above: only z's
    // own cell (about one item) is compared.
    const int cell = cellOf(z);
    int k = m_start[static_cast<std::size_t>(cell)];
    const int stop = m_start[static_cast<std::size_t>(cell) + 1];
    while (k < stop && holds(m_items[k])) ++k;
    return k;
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

}  // namespace marginlab::detail

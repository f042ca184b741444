// SPDX-License-Identifier: MIT
#include "miners/miner_common.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab::detail {

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

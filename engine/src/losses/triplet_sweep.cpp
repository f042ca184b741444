// SPDX-License-Identifier: MIT
#include "losses/triplet_sweep.h"

#include <algorithm>
#include <cmath>

namespace marginlab::detail {

void TripletSweep::anchor(int a, const Real* row, Real sign, const Labels& labels, TripletSweepTotals* totals,
                          Real* coefficients) {
    const int n = static_cast<int>(labels.size());
    const int anchorLabel = labels[static_cast<std::size_t>(a)];
    if (coefficients) std::fill(coefficients, coefficients + n, Real(0));

    m_positives.clear();
    for (int j = 0; j < n; ++j)
        if (j != a && labels[static_cast<std::size_t>(j)] == anchorLabel) m_positives.emplace_back(sign * row[j], j);
    const int p = static_cast<int>(m_positives.size());
    if (p == 0) return;
    std::sort(m_positives.begin(), m_positives.end());
    m_sorted.resize(static_cast<std::size_t>(p));
    m_prefix.resize(static_cast<std::size_t>(p) + 1);
    m_prefix[0] = 0.0;
    for (int k = 0; k < p; ++k) {
        m_sorted[static_cast<std::size_t>(k)] = m_positives[static_cast<std::size_t>(k)].first;
        m_prefix[static_cast<std::size_t>(k) + 1] = m_prefix[static_cast<std::size_t>(k)] + m_sorted[static_cast<std::size_t>(k)];
    }
    m_difference.assign(static_cast<std::size_t>(p) + 1, 0);

    const TripletGapFilter* filter = m_options.filter;
    // An infinite bound keeps every finite gap: skip its search.
    const bool hasHigh = filter && !(std::isinf(filter->high) && filter->high > 0);
    const bool hasLow = filter && !(std::isinf(filter->low) && filter->low < 0);
    const Real margin = m_options.margin;
    const Real* x = m_sorted.data();

    for (int j = 0; j < n; ++j) {
        if (labels[static_cast<std::size_t>(j)] == anchorLabel) continue;
        const Real z = sign * row[j];
        // The kept positives form [keptBegin, keptEnd): "gap ≤ high" holds on a suffix, "gap ≥ low"
        // on a prefix (its negation "gap < low" on a suffix).
        const int keptBegin = hasHigh ? firstGapBelow(x, p, z, filter->high, filter->includeHigh) : 0;
        const int keptEnd = hasLow ? firstGapBelow(x, p, z, filter->low, !filter->includeLow) : p;
        if (keptEnd <= keptBegin) continue;
        const int activeFrom = firstGapBelow(x, p, z, margin, false);
        int semiFrom = activeFrom;  // FaceNet: semi-hard starts where gap < m
        if (m_options.semiHardIncludesMargin && activeFrom > 0 && z - x[activeFrom - 1] <= margin)
            semiFrom = firstGapBelow(x, activeFrom, z, margin, true);  // only exact ties gap == m differ
        const int hardFrom = std::max(firstGapBelow(x, p, z, 0.0, true), keptBegin);
        semiFrom = std::max(semiFrom, keptBegin);
        const int activeBegin = std::max(activeFrom, keptBegin);

        totals->tuples += keptEnd - keptBegin;
        totals->hard += std::max(0, keptEnd - hardFrom);
        totals->semiHard += std::max(0, std::min(hardFrom, keptEnd) - semiFrom);
        totals->easy += std::max(0, std::min({semiFrom, hardFrom, keptEnd}) - keptBegin);
        const int activeCount = keptEnd - activeBegin;
        if (activeCount <= 0) continue;
        totals->active += activeCount;
        totals->violation += (m_prefix[static_cast<std::size_t>(keptEnd)] - m_prefix[static_cast<std::size_t>(activeBegin)]) +
                             activeCount * (margin - z);
        ++m_difference[static_cast<std::size_t>(activeBegin)];
        --m_difference[static_cast<std::size_t>(keptEnd)];
        if (coefficients) coefficients[j] = -Real(activeCount);
    }
    if (!coefficients) return;
    Count running = 0;
    for (int k = 0; k < p; ++k) {
        running += m_difference[static_cast<std::size_t>(k)];
        coefficients[m_positives[static_cast<std::size_t>(k)].second] = Real(running);
    }
}

}  // namespace marginlab::detail

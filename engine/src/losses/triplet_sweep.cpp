// SPDX-License-Identifier: MIT
#include "losses/triplet_sweep.h"

#include <algorithm>
#include <cmath>

namespace marginlab::detail {

void GapLocator::assign(const Real* sorted, int n) {
    m_sorted = sorted;
    m_size = n;
    m_cells = 0;
    if (n < 16) return;  // a binary search over a few values is as fast as the table
    m_low = sorted[0];
    const Real range = sorted[n - 1] - m_low;
    if (!(range > 0.0) || !std::isfinite(range)) return;
    m_cells = 2 * n;
    m_scale = Real(m_cells) / range;
    if (!std::isfinite(m_scale)) {
        m_cells = 0;
        return;
    }
    m_cellStart.assign(static_cast<std::size_t>(m_cells) + 1, n);
    // cellOf is non-decreasing along the sorted values: fill each cell's first index.
    int cell = 0;
    for (int k = 0; k < n; ++k) {
        const int c = cellOf(sorted[k]);
        while (cell <= c) m_cellStart[static_cast<std::size_t>(cell++)] = k;
    }
}

bool GapLocator::sortWithTable(std::vector<std::pair<Real, int>>* items, std::vector<std::pair<Real, int>>* scratch) {
    const int n = static_cast<int>(items->size());
    m_cells = 0;
    m_size = n;
    if (n < 16) return false;
    Real low = (*items)[0].first, high = low;
    for (const auto& item : *items) {
        low = std::min(low, item.first);
        high = std::max(high, item.first);
    }
    const Real range = high - low;
    if (!(range > 0.0) || !std::isfinite(range)) return false;
    const Real scale = Real(2 * n) / range;
    if (!std::isfinite(scale)) return false;
    m_cells = 2 * n;
    m_low = low;
    m_scale = scale;
    // Counting sort by cell (cellOf is non-decreasing in the value), then each cell on its own.
    m_cellStart.assign(static_cast<std::size_t>(m_cells) + 1, 0);
    for (const auto& item : *items) ++m_cellStart[static_cast<std::size_t>(cellOf(item.first)) + 1];
    for (int c = 0; c < m_cells; ++c) m_cellStart[static_cast<std::size_t>(c) + 1] += m_cellStart[static_cast<std::size_t>(c)];
    scratch->resize(items->size());
    for (const auto& item : *items) {
        // m_cellStart[c] is cell c's fill cursor; afterwards it holds the cell's end.
        const int c = cellOf(item.first);
        (*scratch)[static_cast<std::size_t>(m_cellStart[static_cast<std::size_t>(c)]++)] = item;
    }
    // The cursors now hold each cell's end = the next cell's start: shift them back by one cell.
    for (int c = m_cells; c > 0; --c) m_cellStart[static_cast<std::size_t>(c)] = m_cellStart[static_cast<std::size_t>(c) - 1];
    m_cellStart[0] = 0;
    for (int c = 0; c < m_cells; ++c) {
        const auto begin = scratch->begin() + m_cellStart[static_cast<std::size_t>(c)];
        const auto end = scratch->begin() + m_cellStart[static_cast<std::size_t>(c) + 1];
        if (end - begin < 2) continue;
        if (end - begin > 16) {
            std::sort(begin, end);
            continue;
        }
        for (auto i = begin + 1; i < end; ++i)  // insertion sort: cells hold ~½ item on average
            for (auto j = i; j > begin && *j < *(j - 1); --j) std::iter_swap(j, j - 1);
    }
    items->swap(*scratch);
    return true;
}

TripletSweep::TripletSweep(const TripletSweepOptions& options, const Labels& labels) : m_options(options) {
    const int n = static_cast<int>(labels.size());
    m_byLabel.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) m_byLabel[static_cast<std::size_t>(i)] = i;
    std::stable_sort(m_byLabel.begin(), m_byLabel.end(), [&](int i, int j) {
        return labels[static_cast<std::size_t>(i)] < labels[static_cast<std::size_t>(j)];
    });
    m_classBegin.resize(static_cast<std::size_t>(n));
    m_classEnd.resize(static_cast<std::size_t>(n));
    for (int begin = 0; begin < n;) {
        int end = begin;
        const int label = labels[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(begin)])];
        while (end < n && labels[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(end)])] == label) ++end;
        for (int t = begin; t < end; ++t) {
            m_classBegin[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(t)])] = begin;
            m_classEnd[static_cast<std::size_t>(m_byLabel[static_cast<std::size_t>(t)])] = end;
        }
        begin = end;
    }
}

void TripletSweep::anchor(int a, const Real* row, Real sign, const Labels& labels, TripletSweepTotals* totals,
                          Real* coefficients) {
    const int n = static_cast<int>(labels.size());
    if (coefficients) std::fill(coefficients, coefficients + n, Real(0));
    const int classBegin = m_classBegin[static_cast<std::size_t>(a)];
    const int classEnd = m_classEnd[static_cast<std::size_t>(a)];
    const int* byLabel = m_byLabel.data();

    m_positives.clear();
    for (int t = classBegin; t < classEnd; ++t)
        if (byLabel[t] != a) m_positives.emplace_back(sign * row[byLabel[t]], byLabel[t]);
    const int p = static_cast<int>(m_positives.size());
    if (p == 0 || classEnd - classBegin == n) return;
    const bool table = m_locator.sortWithTable(&m_positives, &m_scratch);
    if (!table) std::sort(m_positives.begin(), m_positives.end());
    m_sorted.resize(static_cast<std::size_t>(p + GapLocator::kPadding));
    m_prefix.resize(static_cast<std::size_t>(p) + 1);
    m_prefix[0] = 0.0;
    for (int k = 0; k < p; ++k) {
        m_sorted[static_cast<std::size_t>(k)] = m_positives[static_cast<std::size_t>(k)].first;
        m_prefix[static_cast<std::size_t>(k) + 1] = m_prefix[static_cast<std::size_t>(k)] + m_sorted[static_cast<std::size_t>(k)];
    }
    std::fill(m_sorted.begin() + p, m_sorted.end(), m_sorted[static_cast<std::size_t>(p) - 1]);
    m_difference.assign(static_cast<std::size_t>(p) + 1, 0);
    if (table) m_locator.bind(m_sorted.data());
    else m_locator.assign(m_sorted.data(), p);
    const GapLocator& locate = m_locator;

    const TripletGapFilter* filter = m_options.filter;
    // An infinite bound keeps every finite gap: skip its search.
    const bool hasHigh = filter && !(std::isinf(filter->high) && filter->high > 0);
    const bool hasLow = filter && !(std::isinf(filter->low) && filter->low < 0);
    const Real margin = m_options.margin;
    const Real* prefix = m_prefix.data();
    Count* difference = m_difference.data();
    Count tuples = 0, active = 0, easy = 0, semiHard = 0, hard = 0;
    Real violation = 0.0;

    auto visitNegative = [&](int j) {
        const Real z = sign * row[j];
        // The kept positives form [keptBegin, keptEnd): "gap ≤ high" holds on a suffix, "gap ≥ low"
        // on a prefix (its negation "gap < low" on a suffix).
        const int keptBegin = hasHigh ? locate.firstGapBelow(z, filter->high, filter->includeHigh) : 0;
        const int keptEnd = std::max(keptBegin, hasLow ? locate.firstGapBelow(z, filter->low, !filter->includeLow) : p);
        // Active: gap < m. Semi-hard starts at gap ≤ m (PML) or gap < m (FaceNet).
        int activeFrom = 0, marginFrom = 0;
        locate.firstGapBelowBoth(z, margin, &activeFrom, &marginFrom);
        int semiFrom = m_options.semiHardIncludesMargin ? marginFrom : activeFrom;
        const int hardFrom = std::clamp(locate.firstGapBelow<true>(z, 0.0), keptBegin, keptEnd);
        semiFrom = std::clamp(semiFrom, keptBegin, keptEnd);
        const int activeBegin = std::clamp(activeFrom, keptBegin, keptEnd);

        tuples += keptEnd - keptBegin;
        hard += keptEnd - hardFrom;
        semiHard += std::max(0, hardFrom - semiFrom);
        easy += std::min(semiFrom, hardFrom) - keptBegin;
        // Branch-free on purpose: whether a negative is active is a coin flip for the predictor.
        const int activeCount = keptEnd - activeBegin;
        active += activeCount;
        violation += (prefix[keptEnd] - prefix[activeBegin]) + activeCount * (margin - z);
        ++difference[activeBegin];
        --difference[keptEnd];
        if (coefficients) coefficients[j] = -Real(activeCount);
    };
    for (int t = 0; t < classBegin; ++t) visitNegative(byLabel[t]);
    for (int t = classEnd; t < n; ++t) visitNegative(byLabel[t]);
    totals->tuples += tuples;
    totals->active += active;
    totals->easy += easy;
    totals->semiHard += semiHard;
    totals->hard += hard;
    totals->violation += violation;

    if (!coefficients) return;
    Count running = 0;
    for (int k = 0; k < p; ++k) {
        running += difference[k];
        coefficients[m_positives[static_cast<std::size_t>(k)].second] = Real(running);
    }
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "marginlab/history.h"

#include <algorithm>

namespace marginlab {

HistoryPoint HistoryPoint::of(const Snapshot& snapshot) {
    HistoryPoint point;
    point.step = snapshot.step;
    point.revision = snapshot.revision;
    if (std::isfinite(snapshot.loss)) point.loss = snapshot.loss;
    for (std::size_t k = 0; k < snapshot.lossComponents.size() && k < std::size(kComponentFields); ++k)
        if (std::isfinite(snapshot.lossComponents[k]))
            point.*kComponentFields[k] = snapshot.lossComponents[k];
    const LossStats& stats = snapshot.stats;
    if (stats.tuples > 0) {
        const auto total = static_cast<Real>(stats.tuples);
        point.activeFraction = static_cast<Real>(stats.active) / total;
        if (stats.hasRegions) {
            point.easy = static_cast<Real>(stats.easy) / total;
            point.semiHard = static_cast<Real>(stats.semiHard) / total;
            point.hard = static_cast<Real>(stats.hard) / total;
        }
    }
    if (snapshot.metrics.step == snapshot.step) {
        point.precisionAt1 = snapshot.metrics.precisionAt1;
        point.mapAtR = snapshot.metrics.mapAtR;
        point.rPrecision = snapshot.metrics.rPrecision;
        point.collapse = snapshot.metrics.collapse;
        point.uniformity = snapshot.metrics.uniformity;
        point.alignment = snapshot.metrics.alignment;
    }
    return point;
}

void RunHistory::append(const Snapshot& snapshot) {
    if (!m_points.empty()) {
        const HistoryPoint& last = m_points.back();
        if (snapshot.step < last.step) return;
        if (snapshot.step == last.step && snapshot.revision <= last.revision) return;
    }
    HistoryPoint point = HistoryPoint::of(snapshot);
    if (m_stride > 1) mergeIntoOpenBucket(std::move(point));
    else m_points.push_back(std::move(point));
    if (m_points.size() >= m_capacity) thin();
}

void RunHistory::mergeIntoOpenBucket(HistoryPoint point) {
    // The tail points in the same stretch of m_stride steps as the new point.
    const long bucket = point.step / m_stride;
    std::size_t begin = m_points.size();
    while (begin > 0 && m_points[begin - 1].step / m_stride == bucket) --begin;
    if (begin == m_points.size()) {
        m_points.push_back(std::move(point));
        return;
    }
    std::vector<HistoryPoint> candidates(m_points.begin() + static_cast<std::ptrdiff_t>(begin), m_points.end());
    candidates.push_back(std::move(point));
    // Keep the stretch's lowest and highest loss, its last metrics point and its newest point
    // (the current state): the rule of decimated(), applied as the points arrive.
    const std::size_t n = candidates.size(), none = n;
    std::size_t low = none, high = none, metrics = none;
    for (std::size_t i = 0; i < n; ++i) {
        const Real loss = candidates[i].loss;
        if (!std::isnan(loss)) {
            if (low == none || loss < candidates[low].loss) low = i;
            if (high == none || loss > candidates[high].loss) high = i;
        }
        if (candidates[i].hasMetrics()) metrics = i;
    }
    std::size_t chosen[] = {low, high, metrics, n - 1};
    std::sort(std::begin(chosen), std::end(chosen));
    m_points.resize(begin);
    for (std::size_t k = 0; k < 4; ++k)
        if (chosen[k] != none && (k == 0 || chosen[k] != chosen[k - 1])) m_points.push_back(candidates[chosen[k]]);
}

void RunHistory::thin() {
    // Half the points, the same rule over the whole run (decimated()), so old and recent steps
    // keep the same resolution; later points then merge in stretches of the same length.
    m_points = decimated(std::max<std::size_t>(m_capacity / 2, 5));
    const long span = m_points.back().step - m_points.front().step + 1;
    const long buckets = static_cast<long>(std::max<std::size_t>(m_points.size() / 3, 1));
    m_stride = std::max({m_stride, 1L, (span + buckets - 1) / buckets});
}

bool HistoryPoint::isValid(const HistoryPoint* previous, std::string* error) const {
    auto fail = [&](const std::string& message) {
        if (error) *error = message;
        return false;
    };
    if (step < 0) return fail("the step must be ≥ 0");
    if (previous && step < previous->step) return fail("steps must not decrease");
    for (Real fraction : {activeFraction, easy, semiHard, hard, precisionAt1, mapAtR, rPrecision})
        if (!std::isnan(fraction) && !(fraction >= 0.0 && fraction <= 1.0))
            return fail("fractions and retrieval metrics must be in [0, 1]");
    if (!std::isnan(collapse) && !(collapse >= 0.0 && std::isfinite(collapse)))
        return fail("the collapse indicator must be finite and ≥ 0");
    // Uniformity is a log of a mean of values in (0, 1]: ≤ 0; alignment a mean of squared chords: in [0, 4].
    if (!std::isnan(uniformity) && !(uniformity <= 0.0 && std::isfinite(uniformity)))
        return fail("the uniformity must be finite and ≤ 0");
    if (!std::isnan(alignment) && !(alignment >= 0.0 && alignment <= 4.0))
        return fail("the alignment must be in [0, 4]");
    if (std::isinf(loss)) return fail("the loss must be finite (or missing)");
    for (Real HistoryPoint::*field : kComponentFields)
        if (std::isinf(this->*field)) return fail("a loss component must be finite (or missing)");
    return true;
}

bool RunHistory::assign(std::vector<HistoryPoint> points, std::string* error) {
    std::string message;
    for (std::size_t i = 0; i < points.size(); ++i)
        if (!points[i].isValid(i ? &points[i - 1] : nullptr, &message)) {
            if (error) *error = "history point " + std::to_string(i) + ": " + message;
            return false;
        }
    m_points = std::move(points);
    m_stride = 1;
    while (m_points.size() >= m_capacity) thin();
    return true;
}

std::vector<HistoryPoint> RunHistory::decimated(std::size_t maxPoints) const {
    const std::size_t n = m_points.size();
    if (n <= maxPoints) return m_points;
    std::vector<HistoryPoint> out;
    if (maxPoints == 0) return out;
    out.reserve(maxPoints);
    out.push_back(m_points.front());
    if (maxPoints == 1) return out;

    const std::size_t interior = n - 2;  // points 1 … n−2
    const std::size_t room = maxPoints - 2;
    std::vector<std::size_t> keep;
    if (room < 3) {
        for (std::size_t k = 0; k < room; ++k) keep.push_back(1 + (k + 1) * interior / (room + 1));
    } else {
        const std::size_t buckets = room / 3;
        for (std::size_t b = 0; b < buckets; ++b) {
            const std::size_t begin = 1 + b * interior / buckets;
            const std::size_t end = 1 + (b + 1) * interior / buckets;
            std::size_t low = end, high = end, metrics = end;
            for (std::size_t i = begin; i < end; ++i) {
                const Real loss = m_points[i].loss;
                if (!std::isnan(loss)) {
                    if (low == end || loss < m_points[low].loss) low = i;
                    if (high == end || loss > m_points[high].loss) high = i;
                }
                if (m_points[i].hasMetrics()) metrics = i;
            }
            // Buckets without a finite loss still keep a point, so the tuple fractions go on.
            if (low == end && metrics == end && begin < end) low = begin;
            std::size_t chosen[] = {low, high, metrics};
            std::sort(std::begin(chosen), std::end(chosen));
            for (std::size_t k = 0; k < 3; ++k)
                if (chosen[k] != end && (k == 0 || chosen[k] != chosen[k - 1])) keep.push_back(chosen[k]);
        }
    }
    for (std::size_t i : keep) out.push_back(m_points[i]);
    out.push_back(m_points.back());
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * The history of a run, one point per snapshot: what the charts show on screen (Qt Charts) and
 * what a recorded chart strip draws, from one model.
 *
 * A point holds the loss of the snapshot, the fraction of the loss's tuples that are active
 * (non-zero term) and, for losses with a triplet margin, the fractions that are easy, semi-hard
 * and hard; the retrieval metrics (precision@1, MAP@R, R-precision) and the collapse indicator
 * only on the steps where they were computed (Metrics::step == step); for multiple_losses, the
 * weighted value w_i·L_i of each component (component1…component4, Snapshot::lossComponents). Every value
 * that does not exist is NaN: fractions without tuples or regions, metrics between their steps, a non-finite
 * loss.
 *
 * Points come in snapshot order: steps never decrease. A step appears twice when a snapshot was
 * published again at the same step with a new configuration revision (point edits, new settings):
 * the first point is what the step reported, the second the re-evaluation under the change.
 */
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "marginlab/trainer.h"
#include "marginlab/types.h"

namespace marginlab {

struct HistoryPoint {
    static constexpr Real kMissing = std::numeric_limits<Real>::quiet_NaN();

    long step = 0;
    std::uint64_t revision = 0;  ///< the snapshot's configuration revision (0 for points read from a file)
    Real loss = kMissing;        ///< NaN when the loss was not finite
    Real activeFraction = kMissing;  ///< active / tuples; NaN without tuples
    Real easy = kMissing;            ///< easy / tuples; NaN without tuples or when the loss has no regions
    Real semiHard = kMissing;
    Real hard = kMissing;
    Real precisionAt1 = kMissing;  ///< retrieval metrics: NaN unless computed at this step
    Real mapAtR = kMissing;
    Real rPrecision = kMissing;
    Real collapse = kMissing;  ///< mean pairwise distance relative to step 0, with the metrics
    Real uniformity = kMissing;  ///< Wang & Isola's uniformity of the directions, with the metrics
    Real alignment = kMissing;   ///< and their alignment of same-class directions
    /// multiple_losses: w_i·L_i of components 1…4 (NaN for other losses, missing components or a
    /// non-finite value); kComponentFields lists them in order.
    Real component1 = kMissing;
    Real component2 = kMissing;
    Real component3 = kMissing;
    Real component4 = kMissing;

    bool hasMetrics() const { return !std::isnan(precisionAt1); }
    bool hasRegions() const { return !std::isnan(easy); }

    /// The point of one snapshot.
    static HistoryPoint of(const Snapshot& snapshot);
    /// Whether the point can follow `previous` (nullptr for the first): step ≥ 0 and not before
    /// the previous one, fractions and metrics in [0, 1], collapse ≥ 0, no infinite value.
    bool isValid(const HistoryPoint* previous, std::string* error) const;
};

/// The component fields of a HistoryPoint in component order (kMaxLossComponents of them).
inline constexpr Real HistoryPoint::*kComponentFields[] = {
    &HistoryPoint::component1, &HistoryPoint::component2, &HistoryPoint::component3,
    &HistoryPoint::component4};
static_assert(std::size(kComponentFields) == static_cast<std::size_t>(kMaxLossComponents));

/**
 * The points of a run, bounded: a run of any length keeps fewer than `capacity()` points. When
 * an append reaches the capacity the whole history is thinned to half with decimated()'s rule
 * (per stretch: the lowest and the highest loss and the last metrics point), and from then on
 * the points of each stretch of `stride()` steps are merged as they arrive (lowest and highest
 * loss, last metrics point and the newest point kept), the stride growing with the run. So the
 * charts keep the same resolution over the whole run, spikes, dips and the metrics curve
 * survive, and memory stays flat however long the app trains.
 */
class RunHistory {
public:
    /// 100,000 points × 144 bytes ≈ 14 MB; a chart draws at most a few thousand of them.
    static constexpr std::size_t kDefaultCapacity = 100'000;

    /// `capacity` is raised to at least 16.
    explicit RunHistory(std::size_t capacity = kDefaultCapacity) : m_capacity(capacity < 16 ? 16 : capacity) {}

    /**
     * Adds the point of `snapshot` after the last one when its step is later, or equal with a
     * higher revision (a re-evaluation at the same step); otherwise (the same snapshot again, a
     * cancelled copy, a stale one, the first snapshot of a run reopened at the history's last
     * step) it adds nothing. A new run starts with clear(). Merges and thins as said above.
     */
    void append(const Snapshot& snapshot);
    std::size_t capacity() const { return m_capacity; }
    /// Steps per merged stretch: 1 until the first thinning (every point kept).
    long stride() const { return m_stride; }
    void clear() {
        m_points.clear();
        m_stride = 1;
    }
    const std::vector<HistoryPoint>& points() const { return m_points; }
    bool empty() const { return m_points.empty(); }
    std::size_t size() const { return m_points.size(); }

    /**
     * Replaces the points (e.g. read from a scene file). Refused with a message, changing
     * nothing, when steps are negative or decrease, or a fraction is outside [0, 1]. More points
     * than the capacity are thinned as append() does.
     */
    bool assign(std::vector<HistoryPoint> points, std::string* error);

    /**
     * At most `maxPoints` points for a chart, in order. Short histories come back whole. Otherwise
     * the first and the last point are kept, and the points between are cut into equal runs
     * (buckets) of consecutive points; each bucket keeps its lowest and its highest loss (so
     * spikes and dips survive) and its last point with metrics (so the retrieval curves keep a
     * point per bucket however sparse they are): up to three points per bucket, at most
     * (maxPoints − 2) / 3 buckets. With room for fewer than three points between first and last,
     * evenly spaced points are kept instead. O(n) time.
     */
    std::vector<HistoryPoint> decimated(std::size_t maxPoints) const;

private:
    void mergeIntoOpenBucket(HistoryPoint point);
    void thin();

    std::size_t m_capacity;
    long m_stride = 1;
    std::vector<HistoryPoint> m_points;
};

}  // namespace marginlab

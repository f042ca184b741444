// SPDX-License-Identifier: MIT
#include "nearestindex.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace marginlab {

NearestIndex::NearestIndex(const std::vector<QPointF>& points, QRectF bounds) : m_points(points), m_bounds(bounds) {
    const double width = std::max(bounds.width(), 1e-12), height = std::max(bounds.height(), 1e-12);
    // About two points per bucket, at most 256 buckets a side.
    const double area = width * height;
    m_cell = std::sqrt(area * 2.0 / std::max<double>(1.0, static_cast<double>(points.size())));
    m_cell = std::max({m_cell, width / 256.0, height / 256.0});
    m_columns = std::max(1, static_cast<int>(std::ceil(width / m_cell)));
    m_rows = std::max(1, static_cast<int>(std::ceil(height / m_cell)));
    // Counting sort of the points into buckets.
    const std::size_t buckets = static_cast<std::size_t>(m_columns) * static_cast<std::size_t>(m_rows);
    m_start.assign(buckets + 1, 0);
    std::vector<int> bucket(points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
        const int b = bucketOf(points[i].y(), m_bounds.top(), m_rows) * m_columns +
                      bucketOf(points[i].x(), m_bounds.left(), m_columns);
        bucket[i] = b;
        ++m_start[static_cast<std::size_t>(b) + 1];
    }
    for (std::size_t b = 0; b < buckets; ++b) m_start[b + 1] += m_start[b];
    m_order.resize(points.size());
    std::vector<int> fill(m_start.begin(), m_start.end() - 1);
    for (std::size_t i = 0; i < points.size(); ++i) m_order[static_cast<std::size_t>(fill[static_cast<std::size_t>(bucket[i])]++)] = static_cast<int>(i);
}

int NearestIndex::bucketOf(double value, double origin, int count) const {
    return std::clamp(static_cast<int>(std::floor((value - origin) / m_cell)), 0, count - 1);
}

int NearestIndex::nearest(QPointF query) const {
    if (m_points.empty()) return -1;
    const int cx = bucketOf(query.x(), m_bounds.left(), m_columns), cy = bucketOf(query.y(), m_bounds.top(), m_rows);
    int best = -1;
    double bestSquared = std::numeric_limits<double>::infinity();
    const int maxRing = std::max(m_columns, m_rows);
    for (int ring = 0; ring <= maxRing; ++ring) {
        // Every bucket at Chebyshev distance `ring` from the query's bucket.
        for (int y = cy - ring; y <= cy + ring; ++y) {
            if (y < 0 || y >= m_rows) continue;
            const bool edgeRow = y == cy - ring || y == cy + ring;
            for (int x = cx - ring; x <= cx + ring; x += edgeRow ? 1 : 2 * ring) {
                if (x >= 0 && x < m_columns) {
                    const std::size_t b = static_cast<std::size_t>(y) * static_cast<std::size_t>(m_columns) + static_cast<std::size_t>(x);
                    for (int k = m_start[b]; k < m_start[b + 1]; ++k) {
                        const QPointF d = m_points[static_cast<std::size_t>(m_order[static_cast<std::size_t>(k)])] - query;
                        const double squared = d.x() * d.x() + d.y() * d.y();
                        if (squared < bestSquared) bestSquared = squared, best = m_order[static_cast<std::size_t>(k)];
                    }
                }
                if (ring == 0) break;
            }
        }
        // Buckets beyond this ring are at least ring·cell away from a query inside the grid.
        const double reach = ring * m_cell;
        if (best >= 0 && bestSquared <= reach * reach) break;
    }
    return best;
}

NearestIndex3D::NearestIndex3D(std::vector<Eigen::Vector3d> points) : m_points(std::move(points)) {
    if (m_points.empty()) return;
    Eigen::Vector3d high = m_points.front();
    m_low = high;
    for (const Eigen::Vector3d& p : m_points) m_low = m_low.cwiseMin(p), high = high.cwiseMax(p);
    const Eigen::Vector3d extent = (high - m_low).cwiseMax(1e-12);
    // Points on a sphere fill a surface, not the volume: about two points per cell of the surface
    // (area ~ the box's largest face), at most 64 cells a side.
    const double face = std::max({extent.x() * extent.y(), extent.y() * extent.z(), extent.x() * extent.z()});
    m_cell = std::sqrt(face * 2.0 / static_cast<double>(m_points.size()));
    m_cell = std::max(m_cell, extent.maxCoeff() / 64.0);
    for (int a = 0; a < 3; ++a) m_cells[a] = std::max(1, static_cast<int>(std::ceil(extent(a) / m_cell)));
    const std::size_t cells = static_cast<std::size_t>(m_cells[0]) * static_cast<std::size_t>(m_cells[1]) *
                              static_cast<std::size_t>(m_cells[2]);
    m_start.assign(cells + 1, 0);
    std::vector<int> cell(m_points.size());
    for (std::size_t i = 0; i < m_points.size(); ++i) {
        const Eigen::Vector3d& p = m_points[i];
        cell[i] = (cellOf(p.z(), 2) * m_cells[1] + cellOf(p.y(), 1)) * m_cells[0] + cellOf(p.x(), 0);
        ++m_start[static_cast<std::size_t>(cell[i]) + 1];
    }
    for (std::size_t c = 0; c < cells; ++c) m_start[c + 1] += m_start[c];
    m_order.resize(m_points.size());
    std::vector<int> fill(m_start.begin(), m_start.end() - 1);
    for (std::size_t i = 0; i < m_points.size(); ++i)
        m_order[static_cast<std::size_t>(fill[static_cast<std::size_t>(cell[i])]++)] = static_cast<int>(i);
}

int NearestIndex3D::cellOf(double value, int axis) const {
    return std::clamp(static_cast<int>(std::floor((value - m_low(axis)) / m_cell)), 0, m_cells[axis] - 1);
}

int NearestIndex3D::nearest(const Eigen::Vector3d& query) const {
    if (m_points.empty()) return -1;
    // A query outside the box searches from its projection on the box: projecting onto a convex
    // set never lengthens a distance to a point inside it, so the ring bound below still holds.
    const int cx = cellOf(query.x(), 0), cy = cellOf(query.y(), 1), cz = cellOf(query.z(), 2);
    int best = -1;
    double bestSquared = std::numeric_limits<double>::infinity();
    const int maxRing = std::max({m_cells[0], m_cells[1], m_cells[2]});
    for (int ring = 0; ring <= maxRing; ++ring) {
        for (int z = std::max(0, cz - ring); z <= std::min(m_cells[2] - 1, cz + ring); ++z)
            for (int y = std::max(0, cy - ring); y <= std::min(m_cells[1] - 1, cy + ring); ++y) {
                const bool shellFace = std::abs(z - cz) == ring || std::abs(y - cy) == ring;
                // Inside the shell's faces only the two cells at x = cx ± ring are on the shell.
                for (int x = cx - ring; x <= cx + ring; x += shellFace || ring == 0 ? 1 : 2 * ring) {
                    if (x < 0 || x >= m_cells[0]) continue;
                    const std::size_t c = (static_cast<std::size_t>(z) * static_cast<std::size_t>(m_cells[1]) +
                                           static_cast<std::size_t>(y)) *
                                              static_cast<std::size_t>(m_cells[0]) +
                                          static_cast<std::size_t>(x);
                    for (int k = m_start[c]; k < m_start[c + 1]; ++k) {
                        const int i = m_order[static_cast<std::size_t>(k)];
                        const double squared = (m_points[static_cast<std::size_t>(i)] - query).squaredNorm();
                        if (squared < bestSquared || (squared == bestSquared && i < best))
                            bestSquared = squared, best = i;
                    }
                }
            }
        // Cells beyond this ring are at least ring·cell away from the (projected) query.
        const double reach = ring * m_cell;
        if (best >= 0 && bestSquared < reach * reach) break;
    }
    return best;
}

}  // namespace marginlab

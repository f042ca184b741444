// SPDX-License-Identifier: MIT
// NearestIndex: exact nearest-point queries in the plane through a uniform bucket grid, so that the
// 1-NN background (one query per 4×4-pixel cell, tens of thousands per frame) stays cheap; and
// NearestIndex3D, the same in space for the sphere's 1-NN surface (points and queries on it).
#pragma once

#include <Eigen/Core>
#include <QPointF>
#include <QRectF>

#include <vector>

namespace marginlab {

class NearestIndex {
public:
    /// Indexes `points`; queries must lie inside `bounds` (which must contain the points too).
    NearestIndex(const std::vector<QPointF>& points, QRectF bounds);
    /// Index of the point closest to `query` (Euclidean), −1 when there are no points.
    int nearest(QPointF query) const;

private:
    int bucketOf(double value, double origin, int count) const;

    std::vector<QPointF> m_points;
    QRectF m_bounds;
    double m_cell = 1.0;
    int m_columns = 1, m_rows = 1;
    std::vector<int> m_start;  // bucket b holds m_order[m_start[b] .. m_start[b+1])
    std::vector<int> m_order;
};

class NearestIndex3D {
public:
    /// Indexes `points` (any finite positions; a uniform grid over their bounding box).
    explicit NearestIndex3D(std::vector<Eigen::Vector3d> points);
    /// Index of the point closest to `query` (Euclidean; ties: the lowest index), −1 when empty.
    int nearest(const Eigen::Vector3d& query) const;

private:
    int cellOf(double value, int axis) const;

    std::vector<Eigen::Vector3d> m_points;
    Eigen::Vector3d m_low = Eigen::Vector3d::Zero();
    double m_cell = 1.0;
    int m_cells[3] = {1, 1, 1};
    std::vector<int> m_start;  // cell c holds m_order[m_start[c] .. m_start[c+1])
    std::vector<int> m_order;
};

}  // namespace marginlab

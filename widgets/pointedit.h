// SPDX-License-Identifier: MIT
// Point editing: one edit of the data (add, move, remove or re-insert a point). SceneDocument
// applies it to the scene's data and sends it to the running trainer; both go through
// applyPointEdit, so the two can never disagree.
#pragma once

#include "marginlab/types.h"


namespace marginlab {

struct PointEdit {
    enum class Kind { Append, Insert, Move, Remove };
    Kind kind = Kind::Append;
    int index = -1;       ///< Insert / Move / Remove: the row
    Eigen::RowVectorXd position;  ///< Append / Insert / Move: where the point goes
    int label = 0;        ///< Append / Insert: its class

    static PointEdit append(Eigen::RowVectorXd position, int label) { return {Kind::Append, -1, std::move(position), label}; }
    static PointEdit insert(int index, Eigen::RowVectorXd position, int label) { return {Kind::Insert, index, std::move(position), label}; }
    static PointEdit move(int index, Eigen::RowVectorXd position) { return {Kind::Move, index, std::move(position), 0}; }
    static PointEdit remove(int index) { return {Kind::Remove, index, {}, 0}; }
};

/// Applies `edit` to the rows of `positions` and `labels`; false (nothing changed) if its index or
/// dimension does not fit.
bool applyPointEdit(const PointEdit& edit, Points& positions, Labels& labels);

}  // namespace marginlab

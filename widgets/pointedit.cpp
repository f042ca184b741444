// SPDX-License-Identifier: MIT
#include "pointedit.h"


namespace marginlab {

bool applyPointEdit(const PointEdit& edit, Points& positions, Labels& labels) {
    const Eigen::Index n = positions.rows();
    const bool carriesPoint = edit.kind != PointEdit::Kind::Remove;
    if (carriesPoint && edit.position.size() != positions.cols()) return false;
    switch (edit.kind) {
    case PointEdit::Kind::Append:
        positions.conservativeResize(n + 1, Eigen::NoChange);
        positions.row(n) = edit.position;
        labels.push_back(edit.label);
        return true;
    case PointEdit::Kind::Insert: {
        if (edit.index < 0 || edit.index > n) return false;
        Points grown(n + 1, positions.cols());
        grown.topRows(edit.index) = positions.topRows(edit.index);
        grown.row(edit.index) = edit.position;
        grown.bottomRows(n - edit.index) = positions.bottomRows(n - edit.index);
        positions = std::move(grown);
        labels.insert(labels.begin() + edit.index, edit.label);
        return true;
    }
    case PointEdit::Kind::Move:
        if (edit.index < 0 || edit.index >= n) return false;
        positions.row(edit.index) = edit.position;
        return true;
    case PointEdit::Kind::Remove: {
        if (edit.index < 0 || edit.index >= n) return false;
        Points shrunk(n - 1, positions.cols());
        shrunk.topRows(edit.index) = positions.topRows(edit.index);
        shrunk.bottomRows(n - 1 - edit.index) = positions.bottomRows(n - 1 - edit.index);
        positions = std::move(shrunk);
        labels.erase(labels.begin() + edit.index);
        return true;
    }
    }
    return false;
}

}  // namespace marginlab

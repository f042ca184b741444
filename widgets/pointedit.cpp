// SPDX-License-Identifier: MIT
#include "pointedit.h"

#include "trainingcontroller.h"

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

PointEditCommand::PointEditCommand(TrainingController* controller, PointEdit forward, PointEdit backward,
                                   const QString& text)
    : QUndoCommand(text), m_controller(controller), m_forward(std::move(forward)), m_backward(std::move(backward)) {}

void PointEditCommand::redo() {
    // An edit that does not fit never lands; marked obsolete, the stack drops it on push, so its
    // undo can never run against rows it did not create.
    if (!m_controller->editPoints(m_forward)) setObsolete(true);
}

void PointEditCommand::undo() { m_controller->editPoints(m_backward); }

PointEditor::PointEditor(TrainingController* controller, QObject* parent)
    : QObject(parent), m_controller(controller) {}

void PointEditor::addPoint(QPointF world, int label) {
    const Points& points = m_controller->config().points;
    Eigen::RowVectorXd position = Eigen::RowVectorXd::Zero(points.cols());
    position(0) = world.x();
    if (points.cols() > 1) position(1) = world.y();
    const int index = static_cast<int>(points.rows());
    m_stack.push(new PointEditCommand(m_controller, PointEdit::append(position, label), PointEdit::remove(index),
                                      tr("Add a point of class %1").arg(label)));
}

void PointEditor::movePoint(int index, QPointF world) {
    const auto snapshot = m_controller->snapshot();
    if (!snapshot || index < 0 || index >= snapshot->positions.rows()) return;
    // Undo puts the point back where it was when it was grabbed (as far as the picture knew).
    const Eigen::RowVectorXd from = snapshot->positions.row(index);
    Eigen::RowVectorXd to = from;
    to(0) = world.x();
    if (to.size() > 1) to(1) = world.y();
    m_stack.push(new PointEditCommand(m_controller, PointEdit::move(index, to), PointEdit::move(index, from),
                                      tr("Move point %1").arg(index)));
}

void PointEditor::removePoint(int index) {
    const auto snapshot = m_controller->snapshot();
    const Labels& labels = m_controller->config().labels;
    if (!snapshot || index < 0 || index >= snapshot->positions.rows() || index >= static_cast<int>(labels.size())) return;
    const int label = labels[static_cast<std::size_t>(index)];
    m_stack.push(new PointEditCommand(m_controller, PointEdit::remove(index),
                                      PointEdit::insert(index, snapshot->positions.row(index), label),
                                      tr("Remove point %1").arg(index)));
}

}  // namespace marginlab

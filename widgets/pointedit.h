// SPDX-License-Identifier: MIT
// Point editing: one edit of the data (add, move, remove or re-insert a point), applied the same
// way to the running trainer's positions and to the configuration, and the undo command that
// pairs an edit with its inverse for the QUndoStack.
#pragma once

#include "marginlab/types.h"

#include <QObject>
#include <QPointF>
#include <QUndoCommand>
#include <QUndoStack>

namespace marginlab {

class TrainingController;

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

/// An undoable edit: redo() applies `forward` through the controller, undo() applies `backward`.
/// Undo and redo run in stack order, so the row indices they carry are valid when they run.
class PointEditCommand : public QUndoCommand {
public:
    PointEditCommand(TrainingController* controller, PointEdit forward, PointEdit backward, const QString& text);
    void redo() override;
    void undo() override;

private:
    TrainingController* m_controller;
    PointEdit m_forward;
    PointEdit m_backward;
};

/**
 * PointEditor: turns the view's requests (add at a place, move to a place, remove) into undoable
 * commands on the run. Positions of 3D data keep their third coordinate (the view shows x, y).
 */
class PointEditor : public QObject {
    Q_OBJECT
public:
    explicit PointEditor(TrainingController* controller, QObject* parent = nullptr);
    QUndoStack* undoStack() { return &m_stack; }

public slots:
    void addPoint(QPointF world, int label);
    void movePoint(int index, QPointF world);
    void removePoint(int index);
    /// A new scene: earlier edits no longer apply.
    void forgetHistory() { m_stack.clear(); }

private:
    TrainingController* m_controller;
    QUndoStack m_stack;
};

}  // namespace marginlab

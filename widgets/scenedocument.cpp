// SPDX-License-Identifier: MIT
#include "scenedocument.h"

#include "trainingcontroller.h"

namespace marginlab {

namespace {

class PointEditCommand : public QUndoCommand {
public:
    PointEditCommand(SceneDocument* document, PointEdit forward, PointEdit backward, const QString& text)
        : QUndoCommand(text), m_document(document), m_forward(std::move(forward)), m_backward(std::move(backward)) {}
    void redo() override {
        // An edit that does not fit never lands; marked obsolete, the stack drops it on push, so its
        // undo can never run against rows it did not create.
        if (!m_document->applyEdit(m_forward)) setObsolete(true);
    }
    void undo() override { m_document->applyEdit(m_backward); }

private:
    SceneDocument* m_document;
    PointEdit m_forward;
    PointEdit m_backward;
};

}  // namespace

SceneDocument::SceneDocument(TrainingController* controller, QObject* parent)
    : QObject(parent), m_controller(controller) {}

bool SceneDocument::open(SceneFile scene, QString* error) {
    std::string message;
    if (!scene.trainer.isValid(&message)) {
        if (error) *error = QString::fromStdString(message);
        return false;
    }
    m_scene = std::move(scene);
    m_run = describeRun(m_scene.trainer.loss, m_scene.trainer.miner);
    m_hasScene = true;
    m_undo.clear();
    m_controller->restart(m_scene.trainer);
    emit changed(Change::Opened);
    return true;
}

SceneFile SceneDocument::sceneAt(const TrainerStart& state, std::vector<HistoryPoint> history) const {
    SceneFile out = m_scene;
    out.trainer.start = state;
    out.history = std::move(history);
    return out;
}

bool SceneDocument::sameData(const SceneFile& other) const {
    const TrainerConfig& a = m_scene.trainer;
    const TrainerConfig& b = other.trainer;
    return a.seed == b.seed && a.numClasses == b.numClasses && a.labels == b.labels &&
           a.points.rows() == b.points.rows() && a.points.cols() == b.points.cols() && a.points == b.points &&
           m_scene.data == other.data;
}

bool SceneDocument::edit(SceneFile scene, QString* error) {
    std::string message;
    if (!scene.trainer.isValid(&message)) {
        if (error) *error = QString::fromStdString(message);
        return false;
    }
    if (!m_hasScene || !sameData(scene)) {
        m_scene = std::move(scene);
        // New data: a saved moment of the old data no longer applies.
        m_scene.trainer.start.reset();
        m_scene.history.clear();
        m_run = describeRun(m_scene.trainer.loss, m_scene.trainer.miner);
        m_undo.clear();  // earlier point edits refer to rows of the old data
        m_controller->restart(m_scene.trainer);
        emit changed(Change::Restarted);
        return true;
    }
    m_scene = std::move(scene);
    m_run = describeRun(m_scene.trainer.loss, m_scene.trainer.miner);
    m_controller->reconfigure(m_scene.trainer);
    emit changed(Change::Training);
    return true;
}

void SceneDocument::reset() {
    if (!m_hasScene) return;
    m_controller->restart(m_scene.trainer);
    emit changed(Change::Restarted);
}

bool SceneDocument::applyEdit(const PointEdit& edit) {
    if (!m_hasScene) return false;
    TrainerConfig next = m_scene.trainer;
    next.start.reset();
    if (!applyPointEdit(edit, next.points, next.labels) || !next.isValid(nullptr)) return false;
    m_scene.trainer.points = std::move(next.points);
    m_scene.trainer.labels = std::move(next.labels);
    // A saved moment holds the old rows (positions, optimizer memory): Reset now starts at step 0
    // with the edited data.
    m_scene.trainer.start.reset();
    m_scene.history.clear();
    // The scene now holds its points explicitly (a generator would not make the edited data).
    m_scene.data = {{"points", json::toJson(m_scene.trainer.points)}, {"labels", json::toJson(m_scene.trainer.labels)},
                    {"classes", m_scene.trainer.numClasses}};
    m_controller->editPoints(edit);
    emit changed(Change::PointsEdited);
    return true;
}

void SceneDocument::addPoint(QPointF world, int label) {
    const Points& points = m_scene.trainer.points;
    Eigen::RowVectorXd position = Eigen::RowVectorXd::Zero(points.cols());
    position(0) = world.x();
    if (points.cols() > 1) position(1) = world.y();
    const int index = static_cast<int>(points.rows());
    m_undo.push(new PointEditCommand(this, PointEdit::append(position, label), PointEdit::remove(index),
                                     tr("Add a point of class %1").arg(label)));
}

void SceneDocument::movePoint(int index, QPointF world) {
    const auto snapshot = m_controller->snapshot();
    if (!snapshot || index < 0 || index >= snapshot->positions.rows()) return;
    // Undo puts the point back where it was when it was grabbed (as far as the picture knew).
    const Eigen::RowVectorXd from = snapshot->positions.row(index);
    Eigen::RowVectorXd to = from;
    to(0) = world.x();
    if (to.size() > 1) to(1) = world.y();
    m_undo.push(new PointEditCommand(this, PointEdit::move(index, to), PointEdit::move(index, from),
                                     tr("Move point %1").arg(index)));
}

void SceneDocument::removePoint(int index) {
    const auto snapshot = m_controller->snapshot();
    if (!snapshot || index < 0 || index >= snapshot->positions.rows() ||
        index >= static_cast<int>(snapshot->labels.size()))
        return;
    const int label = snapshot->labels[static_cast<std::size_t>(index)];
    m_undo.push(new PointEditCommand(this, PointEdit::remove(index),
                                     PointEdit::insert(index, snapshot->positions.row(index), label),
                                     tr("Remove point %1").arg(index)));
}

}  // namespace marginlab

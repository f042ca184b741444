// SPDX-License-Identifier: MIT
#include "scenedocument.h"

#include "trainingcontroller.h"

#include "marginlab/generators.h"
#include "sceneio.h"

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

bool SceneDocument::setDimension(int dimension, QString* error) {
    auto fail = [&](const QString& message) {
        if (error) *error = message;
        return false;
    };
    if (dimension != 2 && dimension != 3) return fail(tr("the dimension must be 2 or 3"));
    if (!m_hasScene || dimension == this->dimension()) return true;
    SceneFile next = m_scene;
    next.trainer.owned.reset();  // class weights of the other dimension mean nothing here
    next.trainer.start.reset();
    const json::Json& data = m_scene.data;
    const bool generated = data.is_object() && data.contains("generator") && data["generator"].is_string();
    const GeneratorInfo* counterpart = generated ? counterpartGenerator(data["generator"].get<std::string>()) : nullptr;
    if (counterpart) {
        // The same kind of data in the other dimension, with the parameters both generators share.
        ParamValues params;
        if (data.contains("params")) {
            try {
                const ParamValues old = json::readParams(data["params"], "data.params");
                for (const ParamInfo& p : counterpart->params)
                    if (const auto it = old.numbers.find(p.name); it != old.numbers.end()) params.numbers[p.name] = it->second;
            } catch (const json::Error&) {
                // parseScene validated them; nothing to carry over otherwise
            }
        }
        auto regenerated = sceneio::withGenerator(next, counterpart->name, params, error);
        if (!regenerated) return false;
        next = std::move(*regenerated);
    } else {
        // Explicit points (or data with no natural form in the other dimension): z = 0 added or dropped.
        Points points = Points::Zero(m_scene.trainer.points.rows(), dimension);
        const Eigen::Index shared = std::min<Eigen::Index>(dimension, m_scene.trainer.points.cols());
        points.leftCols(shared) = m_scene.trainer.points.leftCols(shared);
        next.trainer.points = std::move(points);
        next.data = {{"points", json::toJson(next.trainer.points)}, {"labels", json::toJson(next.trainer.labels)},
                     {"classes", next.trainer.numClasses}};
    }
    return edit(std::move(next), error);
}

void SceneDocument::addPointAt(const Eigen::RowVectorXd& position, int label) {
    const int index = static_cast<int>(m_scene.trainer.points.rows());
    m_undo.push(new PointEditCommand(this, PointEdit::append(position, label), PointEdit::remove(index),
                                     tr("Add a point of class %1").arg(label)));
}

void SceneDocument::movePointTo(int index, const Eigen::RowVectorXd& position) {
    const auto snapshot = m_controller->snapshot();
    if (!snapshot || index < 0 || index >= snapshot->positions.rows()) return;
    const Eigen::RowVectorXd from = snapshot->positions.row(index);
    m_undo.push(new PointEditCommand(this, PointEdit::move(index, position), PointEdit::move(index, from),
                                     tr("Move point %1").arg(index)));
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

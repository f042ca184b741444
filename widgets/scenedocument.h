// SPDX-License-Identifier: MIT
/**
 * SceneDocument: the one owner of the scene in the app (Tiled's Document). The controls, the
 * view and the menus read it; every edit goes through it, and it announces each with one
 * signal, `changed`. It decides what an edit means for the running training:
 *
 *  - new data (generator, its parameters, explicit points, CSV) or a new seed: the run restarts
 *    at step 0 (Change::Restarted, and it says so);
 *  - a new loss, miner, optimizer or batch setting: applied to the running state, the points stay
 *    where they are and training continues (Change::Training);
 *  - a point edit: an undoable command, applied to the scene's data (so Reset and Save keep it)
 *    and to the running state (Change::PointsEdited).
 *
 * The training itself runs in the TrainingController's worker; the document only sends it
 * requests.
 */
#pragma once

#include "pointedit.h"

#include "marginlab/runinfo.h"
#include "marginlab/scene/scenefile.h"

#include <QObject>
#include <QPointF>
#include <QUndoStack>

namespace marginlab {

class TrainingController;

class SceneDocument : public QObject {
    Q_OBJECT
public:
    enum class Change {
        Opened,     ///< a whole new scene
        Restarted,  ///< new data or seed: back to step 0
        Training,   ///< loss / miner / optimizer / batch applied to the running state
        PointsEdited,  ///< a point edit
    };
    Q_ENUM(Change)

    SceneDocument(TrainingController* controller, QObject* parent = nullptr);

    const SceneFile& scene() const { return m_scene; }
    const RunInfo& run() const { return m_run; }
    QUndoStack* undoStack() { return &m_undo; }
    bool hasScene() const { return m_hasScene; }

    /// Replaces the scene (file, resource or built-in) and restarts; nothing changes on error.
    bool open(SceneFile scene, QString* error);
    /// An edit from the controls: restarts for new data or seed, otherwise applies live.
    bool edit(SceneFile scene, QString* error);
    /// The scene with a trained moment and its chart history, to save ("step 200 of batch-hard").
    SceneFile sceneAt(const TrainerStart& state, std::vector<HistoryPoint> history) const;
    /// The scene with the same loss, miner, optimizer, classes and seed in D = 2 or 3: a generator
    /// is swapped for its counterpart of the other dimension (same shared parameters); explicit
    /// points gain z = 0 or lose z. New data, so the run restarts. False + message when impossible.
    bool setDimension(int dimension, QString* error);
    int dimension() const { return static_cast<int>(m_scene.trainer.points.cols()); }
    // Point edits in 3D (the 3D view drags on the sphere and adds in space).
    void addPointAt(const Eigen::RowVectorXd& position, int label);
    void movePointTo(int index, const Eigen::RowVectorXd& position);
    /// Back to the start of the scene (step 0, or the saved moment it was opened at), data edits kept.
    void reset();

    // Point edits, undoable (Ctrl+Z).
    void addPoint(QPointF world, int label);
    void movePoint(int index, QPointF world);
    void removePoint(int index);
    /// Applies one edit to the scene's data and the running state; false (nothing changed) when
    /// the edit does not fit. Used by the undo commands.
    bool applyEdit(const PointEdit& edit);

signals:
    void changed(marginlab::SceneDocument::Change change);

private:
    bool sameData(const SceneFile& other) const;

    TrainingController* m_controller;
    SceneFile m_scene;
    RunInfo m_run;
    QUndoStack m_undo;
    bool m_hasScene = false;
};

}  // namespace marginlab

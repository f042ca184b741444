// SPDX-License-Identifier: MIT
// TrainingController: the GUI-thread side of training. It owns the worker thread, asks for the
// next chunk only when the previous one has arrived (the back-pressure, so the GUI never queues
// up work it cannot show), paces requests to about one per display frame, and drops stale
// answers by generation after pause, reset or a new configuration. It never waits for training.
#pragma once

#include "marginlab/trainer.h"
#include "pointedit.h"

#include <QElapsedTimer>
#include <QObject>
#include <QThread>
#include <QTimer>

#include <memory>
#include <optional>

namespace marginlab {

class TrainingWorker;

class TrainingController : public QObject {
    Q_OBJECT
public:
    explicit TrainingController(QObject* parent = nullptr);

    /// Caps Qt's global thread pool (which QPainter uses to blend large images in parallel) at
    /// one thread fewer than the machine has, so painting does not compete with the training
    /// thread; on two cores painting then runs on one (measured faster: docs/benchmarks.md).
    static void leaveACoreForTraining();
    ~TrainingController() override;  // stops the worker: request stop, quit(), wait()

    /// Starts a new run of `config` (which must be valid) at step 0; playing goes on. The
    /// controller keeps no copy: SceneDocument owns the scene and says when to restart.
    void restart(const TrainerConfig& config);
    /// Applies `config`'s loss, miner, optimizer and batch settings to the running state: the
    /// points stay where they are, the step count goes on, playing goes on.
    void reconfigure(const TrainerConfig& config);
    bool hasRun() const { return m_hasRun; }

    std::shared_ptr<const Snapshot> snapshot() const { return m_snapshot; }
    bool isPlaying() const { return m_playing; }
    bool isBusy() const { return m_inFlight; }
    long currentStep() const { return m_snapshot ? m_snapshot->step : 0; }
    int stepsPerFrame() const { return m_stepsPerFrame; }
    bool slowMotion() const { return m_slowMotion; }
    /// Training speed measured over the last second or so of playing.
    double stepsPerSecond() const { return m_stepsPerSecond; }
    quint64 generation() const { return m_generation; }

    /// The moment the running trainer is at (to save a trained scene). Pauses first; waits for
    /// the worker to finish the chunk it is on (a few milliseconds). Empty without a run.
    std::optional<TrainerStart> savedState();
    /// Applies a point edit to the running trainer at its current step; playing goes on.
    void editPoints(const PointEdit& edit);

public slots:
    void play();
    void pause();
    void togglePlay();
    /// Advances exactly one step (pauses first).
    void step();
    void setStepsPerFrame(int steps);
    void setSlowMotion(bool on);
    /// Steps also report each force's part from positives (Snapshot::gradientFromPositives);
    /// applies from the next step, never changes the trajectory.
    void setSplitForces(bool on);

signals:
    void snapshotChanged(std::shared_ptr<const marginlab::Snapshot> snapshot);
    /// A new run started at step 0 (after a restart): clear histories.
    void runRestarted();
    void playingChanged(bool playing);
    void diverged(const QString& message);

private:
    void onChunkDone(quint64 generation, std::shared_ptr<const Snapshot> snapshot);
    void requestChunk(int steps);
    void scheduleNext();
    void bumpGeneration();

    QThread m_thread;
    TrainingWorker* m_worker = nullptr;  // lives on m_thread, deleted when it finishes
    QTimer m_pacer;
    QElapsedTimer m_sinceRequest;
    QElapsedTimer m_rateClock;
    long m_rateSteps = 0;
    double m_stepsPerSecond = 0.0;

    bool m_hasRun = false;
    std::shared_ptr<const Snapshot> m_snapshot;
    quint64 m_generation = 0;
    bool m_inFlight = false;
    bool m_awaitingReset = false;
    int m_pendingSteps = 0;
    bool m_playing = false;
    int m_stepsPerFrame = 5;
    bool m_slowMotion = false;
};

}  // namespace marginlab

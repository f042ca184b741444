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

    /// Validates and installs a new configuration (back to step 0; playing goes on). On an invalid
    /// configuration returns false with the message and keeps the current run untouched.
    bool setConfig(const TrainerConfig& config, QString* error = nullptr);
    const TrainerConfig& config() const { return m_config; }
    bool hasConfig() const { return m_hasConfig; }

    std::shared_ptr<const Snapshot> snapshot() const { return m_snapshot; }
    bool isPlaying() const { return m_playing; }
    bool isBusy() const { return m_inFlight; }
    long currentStep() const { return m_snapshot ? m_snapshot->step : 0; }
    int stepsPerFrame() const { return m_stepsPerFrame; }
    bool slowMotion() const { return m_slowMotion; }
    /// Training speed measured over the last second or so of playing.
    double stepsPerSecond() const { return m_stepsPerSecond; }
    quint64 generation() const { return m_generation; }

    /// Applies a point edit to the configuration (so Reset and Save keep it) and to the running
    /// trainer at its current step; playing goes on. False, changing nothing, when the edit does
    /// not fit (an index out of range, fewer than two points left, a label outside the classes).
    bool editPoints(const PointEdit& edit);

public slots:
    void play();
    void pause();
    void togglePlay();
    /// Advances exactly one step (pauses first).
    void step();
    /// Rebuilds the trainer from the configuration and seed: step 0, same trajectory again.
    void reset();
    void setStepsPerFrame(int steps);
    void setSlowMotion(bool on);
    /// Steps also report each force's part from positives (Snapshot::gradientFromPositives);
    /// applies from the next step, never changes the trajectory.
    void setSplitForces(bool on);

signals:
    void snapshotChanged(std::shared_ptr<const marginlab::Snapshot> snapshot);
    /// A new run started at step 0 (after reset or a new configuration): clear histories.
    void runRestarted();
    void playingChanged(bool playing);
    void diverged(const QString& message);
    /// config().points / labels changed by a point edit.
    void pointsEdited();

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

    TrainerConfig m_config;
    bool m_hasConfig = false;
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

// SPDX-License-Identifier: MIT
// ComparisonController: the GUI-thread side of a comparison, TrainingController's pattern for a
// TrainerGroup. It owns the worker thread, asks for the next chunk only when the previous one has
// arrived (back-pressure), paces requests to about one per display frame, and drops stale answers
// by generation after pause, restart or a new panel configuration. "Run to step N" sizes the last
// chunk so that every panel stops exactly at N.
#pragma once

#include "comparisonworker.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QThread>
#include <QTimer>

#include <memory>
#include <vector>

namespace marginlab {

class ComparisonController : public QObject {
    Q_OBJECT
public:
    explicit ComparisonController(QObject* parent = nullptr);
    ~ComparisonController() override;  // stops the worker: request stop, quit(), wait()

    /// Starts the panels (which must pass TrainerGroup::isValid) at step 0; playing goes on.
    void restart(const std::vector<TrainerConfig>& panels);
    /// New loss, miner and optimizer for one panel at the current step; playing goes on.
    void reconfigurePanel(int panel, const TrainerConfig& config);
    bool hasRun() const { return m_hasRun; }
    int panelCount() const { return m_panelCount; }

    std::shared_ptr<const ComparisonState> state() const { return m_state; }
    long currentStep() const { return m_state ? m_state->step : 0; }
    bool isPlaying() const { return m_playing; }
    bool isBusy() const { return m_inFlight; }
    int stepsPerFrame() const { return m_stepsPerFrame; }
    /// The step "run to step" stops at (−1: none).
    long stopStep() const { return m_stopAt; }
    quint64 generation() const { return m_generation; }

public slots:
    void play();
    void pause();
    void togglePlay();
    /// Advances exactly one step (pauses first).
    void step();
    /// Plays until every panel is at step `target` and pauses there (nothing when already past it).
    void runToStep(long target);
    void setStepsPerFrame(int steps);
    void setSplitForces(bool on);

signals:
    void stateChanged(std::shared_ptr<const marginlab::ComparisonState> state);
    /// A new run started at step 0 (after restart): clear histories.
    void runRestarted();
    void playingChanged(bool playing);
    /// A panel stopped on a non-finite value (or could not start); the others go on.
    void panelDiverged(int panel, const QString& message);
    /// "Run to step" arrived: every panel is at `step`, paused.
    void reachedStep(long step);

private:
    void onChunkDone(quint64 generation, std::shared_ptr<const ComparisonState> state);
    void requestChunk(int steps);
    void scheduleNext();
    void bumpGeneration();
    int nextChunkSize() const;
    bool allDiverged() const;

    QThread m_thread;
    ComparisonWorker* m_worker = nullptr;  // lives on m_thread, deleted when it finishes
    QTimer m_pacer;
    QElapsedTimer m_sinceRequest;

    bool m_hasRun = false;
    int m_panelCount = 0;
    std::shared_ptr<const ComparisonState> m_state;
    std::vector<bool> m_reportedDivergence;
    quint64 m_generation = 0;
    bool m_inFlight = false;
    bool m_awaitingReset = false;
    int m_pendingSteps = 0;
    bool m_playing = false;
    int m_stepsPerFrame = 5;
    long m_stopAt = -1;
};

}  // namespace marginlab

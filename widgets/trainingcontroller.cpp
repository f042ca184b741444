// SPDX-License-Identifier: MIT
#include "trainingcontroller.h"

#include "trainingworker.h"

#include <QThreadPool>

#include <algorithm>
#include <cassert>

namespace marginlab {

namespace {

constexpr int kFrameMilliseconds = 16;        // about one request per display frame
constexpr int kSlowMotionMilliseconds = 250;  // one step every quarter second

}  // namespace

TrainingController::TrainingController(QObject* parent) : QObject(parent) {
    registerTrainingMetaTypes();
    m_worker = new TrainingWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &TrainingWorker::chunkDone, this, &TrainingController::onChunkDone, Qt::QueuedConnection);
    m_thread.setObjectName(QStringLiteral("MarginLab training"));
    m_thread.start();

    m_pacer.setSingleShot(true);
    connect(&m_pacer, &QTimer::timeout, this, [this] {
        if (m_playing && !m_inFlight) requestChunk(m_slowMotion ? 1 : m_stepsPerFrame);
    });
}

void TrainingController::leaveACoreForTraining() {
    QThreadPool::globalInstance()->setMaxThreadCount(std::max(1, QThread::idealThreadCount() - 1));
}

TrainingController::~TrainingController() {
    m_worker->requestStop();
    m_thread.quit();
    m_thread.wait();
}

void TrainingController::restart(const TrainerConfig& config) {
    assert(config.isValid(nullptr));
    // Editing while playing keeps playing: the new run starts at step 0 and goes on.
    const bool wasPlaying = m_playing;
    if (m_playing) {
        m_playing = false;
        emit playingChanged(false);
    }
    m_hasRun = true;
    bumpGeneration();
    m_pendingSteps = 0;
    m_inFlight = true;
    m_awaitingReset = true;
    m_stepsPerSecond = 0.0;
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, generation, config] { worker->reset(generation, config); });
    if (wasPlaying) play();
}

void TrainingController::reconfigure(const TrainerConfig& config) {
    if (!m_hasRun) return restart(config);
    // Like an edit: the answer to anything in flight is dropped, the worker applies the change
    // after it and answers with the state at the same step; playing goes on from there.
    bumpGeneration();
    m_inFlight = true;
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(m_worker,
                              [worker = m_worker, generation, config] { worker->reconfigure(generation, config); });
}

std::optional<TrainerStart> TrainingController::savedState() {
    if (!m_hasRun) return std::nullopt;
    pause();
    std::optional<TrainerStart> state;
    // Queued behind whatever the worker has been asked already, so it is the trainer's latest state.
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, &state] { state = worker->savedState(); }, Qt::BlockingQueuedConnection);
    return state;
}

void TrainingController::editPoints(const PointEdit& edit) {
    if (!m_hasRun) return;
    bumpGeneration();
    m_inFlight = true;
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, generation, edit] { worker->edit(generation, edit); });
}

void TrainingController::bumpGeneration() {
    ++m_generation;
    m_pacer.stop();
}

void TrainingController::play() {
    if (!m_hasRun || m_playing) return;
    if (!m_awaitingReset && m_snapshot && m_snapshot->status == TrainStatus::Diverged) return;  // reset first
    m_playing = true;
    m_rateClock.start();
    m_rateSteps = currentStep();
    emit playingChanged(true);
    scheduleNext();
}

void TrainingController::pause() {
    if (!m_playing) return;
    m_playing = false;
    bumpGeneration();
    // The chunk in flight will be dropped, but the trainer did advance: a 0-step request queued
    // behind it reports where the trainer really is, so the views stay in step with it.
    if (m_inFlight) requestChunk(0);
    m_stepsPerSecond = 0.0;
    emit playingChanged(false);
}

void TrainingController::togglePlay() { m_playing ? pause() : play(); }

void TrainingController::step() {
    if (!m_hasRun) return;
    pause();
    if (m_snapshot && m_snapshot->status == TrainStatus::Diverged) return;
    // One request at a time even when stepping: a step asked for while a chunk is out waits for it.
    if (m_inFlight) ++m_pendingSteps;
    else requestChunk(1);
}

void TrainingController::setStepsPerFrame(int steps) { m_stepsPerFrame = std::max(1, steps); }

void TrainingController::setSlowMotion(bool on) { m_slowMotion = on; }

void TrainingController::setSplitForces(bool on) {
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, on] { worker->setSplitForces(on); });
}

void TrainingController::requestChunk(int steps) {
    m_inFlight = true;
    m_sinceRequest.start();
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, generation, steps] { worker->runChunk(generation, steps); });
}

void TrainingController::scheduleNext() {
    if (!m_playing || m_inFlight) return;
    // Back-pressure: called only once the last chunk is in. Pacing: no faster than one chunk per
    // frame, so steps-per-frame means what it says and the GUI thread keeps time to paint.
    const int interval = m_slowMotion ? kSlowMotionMilliseconds : kFrameMilliseconds;
    const qint64 elapsed = m_sinceRequest.isValid() ? m_sinceRequest.elapsed() : interval;
    m_pacer.start(static_cast<int>(std::max<qint64>(0, interval - elapsed)));
}

void TrainingController::onChunkDone(quint64 generation, std::shared_ptr<const Snapshot> snapshot) {
    if (generation != m_generation) return;  // stale: asked for before a pause / reset / new config
    m_inFlight = false;
    m_snapshot = std::move(snapshot);
    if (m_awaitingReset) {
        m_awaitingReset = false;
        emit runRestarted();
    }
    emit snapshotChanged(m_snapshot);

    if (m_playing && m_rateClock.elapsed() > 500) {
        const double seconds = static_cast<double>(m_rateClock.restart()) / 1000.0;
        m_stepsPerSecond = static_cast<double>(m_snapshot->step - m_rateSteps) / seconds;
        m_rateSteps = m_snapshot->step;
    }
    if (m_snapshot->status == TrainStatus::Diverged) {
        if (m_playing) {
            m_playing = false;
            bumpGeneration();
            emit playingChanged(false);
        }
        m_pendingSteps = 0;
        emit diverged(QString::fromStdString(m_snapshot->message));
        return;
    }
    if (!m_playing && m_pendingSteps > 0) {
        const int steps = m_pendingSteps;
        m_pendingSteps = 0;
        requestChunk(steps);
        return;
    }
    scheduleNext();
}

}  // namespace marginlab

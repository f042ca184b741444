// SPDX-License-Identifier: MIT
#include "comparisoncontroller.h"

#include <algorithm>
#include <cassert>

namespace marginlab {

namespace {

constexpr int kFrameMilliseconds = 16;  // about one request per display frame

}  // namespace

ComparisonController::ComparisonController(QObject* parent) : QObject(parent) {
    registerComparisonMetaTypes();
    m_worker = new ComparisonWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &ComparisonWorker::chunkDone, this, &ComparisonController::onChunkDone, Qt::QueuedConnection);
    m_thread.setObjectName(QStringLiteral("MarginLab comparison"));
    m_thread.start();

    m_pacer.setSingleShot(true);
    connect(&m_pacer, &QTimer::timeout, this, [this] {
        if (m_playing && !m_inFlight) requestChunk(nextChunkSize());
    });
}

ComparisonController::~ComparisonController() {
    m_worker->requestStop();
    m_thread.quit();
    m_thread.wait();
}

void ComparisonController::restart(const std::vector<TrainerConfig>& panels) {
    assert(TrainerGroup::isValid(panels, nullptr));
    const bool wasPlaying = m_playing;
    if (m_playing) {
        m_playing = false;
        emit playingChanged(false);
    }
    m_hasRun = true;
    m_panelCount = static_cast<int>(panels.size());
    m_reportedDivergence.assign(panels.size(), false);
    m_stopAt = -1;
    bumpGeneration();
    m_pendingSteps = 0;
    m_inFlight = true;
    m_awaitingReset = true;
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, generation, panels] { worker->reset(generation, panels); });
    if (wasPlaying) play();
}

void ComparisonController::reconfigurePanel(int panel, const TrainerConfig& config) {
    if (!m_hasRun || panel < 0 || panel >= m_panelCount) return;
    // Like TrainingController::reconfigure: the answer in flight is dropped, the worker applies
    // the change after it and answers with every panel at the same step.
    bumpGeneration();
    m_inFlight = true;
    m_reportedDivergence[static_cast<std::size_t>(panel)] = false;  // a reconfigured panel may recover
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, generation, panel, config] { worker->reconfigure(generation, panel, config); });
}

void ComparisonController::bumpGeneration() {
    ++m_generation;
    m_pacer.stop();
}

bool ComparisonController::allDiverged() const {
    if (!m_state || m_state->group.panels.empty()) return false;
    return std::all_of(m_state->group.panels.begin(), m_state->group.panels.end(),
                       [](const auto& s) { return s->status == TrainStatus::Diverged; });
}

void ComparisonController::play() {
    if (!m_hasRun || m_playing) return;
    if (!m_awaitingReset && allDiverged()) return;  // restart first
    if (m_stopAt >= 0 && currentStep() >= m_stopAt && !m_awaitingReset) m_stopAt = -1;  // a finished "run to"
    m_playing = true;
    emit playingChanged(true);
    scheduleNext();
}

void ComparisonController::pause() {
    if (!m_playing) return;
    m_playing = false;
    bumpGeneration();
    // The chunk in flight will be dropped but the group did advance: a 0-step request queued
    // behind it reports where the panels really are.
    if (m_inFlight) requestChunk(0);
    emit playingChanged(false);
}

void ComparisonController::togglePlay() { m_playing ? pause() : play(); }

void ComparisonController::step() {
    if (!m_hasRun) return;
    pause();
    m_stopAt = -1;
    if (allDiverged()) return;
    if (m_inFlight) ++m_pendingSteps;
    else requestChunk(1);
}

void ComparisonController::runToStep(long target) {
    if (!m_hasRun) return;
    if (!m_awaitingReset && !m_inFlight && target <= currentStep()) {
        pause();
        emit reachedStep(currentStep());
        return;
    }
    m_stopAt = target;
    play();
}

void ComparisonController::setStepsPerFrame(int steps) { m_stepsPerFrame = std::max(1, steps); }

void ComparisonController::setSplitForces(bool on) {
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, on] { worker->setSplitForces(on); });
}

int ComparisonController::nextChunkSize() const {
    if (m_stopAt < 0) return m_stepsPerFrame;
    // The last chunk is cut short so that every panel lands exactly on the target step.
    return static_cast<int>(std::clamp<long>(m_stopAt - currentStep(), 0, m_stepsPerFrame));
}

void ComparisonController::requestChunk(int steps) {
    m_inFlight = true;
    m_sinceRequest.start();
    const quint64 generation = m_generation;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, generation, steps] { worker->runChunk(generation, steps); });
}

void ComparisonController::scheduleNext() {
    if (!m_playing || m_inFlight) return;
    const qint64 elapsed = m_sinceRequest.isValid() ? m_sinceRequest.elapsed() : kFrameMilliseconds;
    m_pacer.start(static_cast<int>(std::max<qint64>(0, kFrameMilliseconds - elapsed)));
}

void ComparisonController::onChunkDone(quint64 generation, std::shared_ptr<const ComparisonState> state) {
    if (generation != m_generation) return;  // stale: asked for before a pause / restart / new config
    m_inFlight = false;
    m_state = std::move(state);
    if (m_awaitingReset) {
        m_awaitingReset = false;
        emit runRestarted();
    }
    emit stateChanged(m_state);

    const auto& panels = m_state->group.panels;
    for (std::size_t p = 0; p < panels.size() && p < m_reportedDivergence.size(); ++p) {
        const bool diverged = panels[p]->status == TrainStatus::Diverged;
        if (diverged && !m_reportedDivergence[p])
            emit panelDiverged(static_cast<int>(p), QString::fromStdString(panels[p]->message));
        m_reportedDivergence[p] = diverged;
    }
    if (allDiverged()) {
        if (m_playing) {
            m_playing = false;
            bumpGeneration();
            emit playingChanged(false);
        }
        m_pendingSteps = 0;
        return;
    }
    if (m_playing && m_stopAt >= 0 && m_state->step >= m_stopAt) {
        const long reached = m_state->step;
        m_stopAt = -1;
        m_playing = false;
        bumpGeneration();
        emit playingChanged(false);
        emit reachedStep(reached);
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

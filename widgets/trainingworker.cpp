// SPDX-License-Identifier: MIT
#include "trainingworker.h"

#include <exception>

namespace marginlab {

void registerTrainingMetaTypes() { qRegisterMetaType<std::shared_ptr<const Snapshot>>(); }

TrainingWorker::TrainingWorker(QObject* parent) : QObject(parent) {}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::reset(quint64 generation, const TrainerConfig& config) {
    // Exceptions must not cross the thread boundary: report them as a diverged snapshot instead.
    try {
        m_trainer = std::make_unique<Trainer>(config);
        m_trainer->setSplitForces(m_splitForces);
        emit chunkDone(generation, m_trainer->snapshot());
    } catch (const std::exception& e) {
        m_trainer.reset();
        auto failed = std::make_shared<Snapshot>();
        failed->positions = config.points;
        failed->status = TrainStatus::Diverged;
        failed->message = std::string("could not start training: ") + e.what();
        emit chunkDone(generation, failed);
    }
}

void TrainingWorker::edit(quint64 generation, const PointEdit& edit) {
    if (!m_trainer) return;
    // The edit lands where the trainer is now, which may be a few steps past the picture the user
    // edited: indices and target positions are absolute, so that does not matter.
    Points positions = m_trainer->snapshot()->positions;
    Labels labels = m_trainer->config().labels;
    std::string error;
    if (applyPointEdit(edit, positions, labels)) m_trainer->editPoints(std::move(positions), std::move(labels), &error);
    emit chunkDone(generation, m_trainer->snapshot());
}

void TrainingWorker::reconfigure(quint64 generation, const TrainerConfig& config) {
    if (!m_trainer) return reset(generation, config);
    std::string error;
    if (!m_trainer->reconfigure(config, &error)) {
        auto failed = std::make_shared<Snapshot>(*m_trainer->snapshot());
        failed->message = "the new settings could not be applied: " + error;
        emit chunkDone(generation, failed);
        return;
    }
    emit chunkDone(generation, m_trainer->snapshot());
}

std::optional<TrainerStart> TrainingWorker::savedState() const {
    if (!m_trainer) return std::nullopt;
    return m_trainer->savedState();
}

void TrainingWorker::setSplitForces(bool on) {
    m_splitForces = on;
    if (m_trainer) m_trainer->setSplitForces(on);
}

void TrainingWorker::runChunk(quint64 generation, int steps) {
    if (!m_trainer) return;
    try {
        emit chunkDone(generation, m_trainer->step(steps, m_stop.get_token()));
    } catch (const std::exception& e) {
        auto failed = std::make_shared<Snapshot>(*m_trainer->snapshot());
        failed->status = TrainStatus::Diverged;
        failed->message = std::string("training failed: ") + e.what();
        emit chunkDone(generation, failed);
    }
}

}  // namespace marginlab

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

// SPDX-License-Identifier: MIT
// TrainingWorker: owns the Trainer and lives on a worker QThread. The GUI thread never calls it
// directly; it queues requests with QMetaObject::invokeMethod and receives snapshots through
// chunkDone. Every request carries the controller's generation, echoed back so that the
// controller can drop answers to requests it no longer wants.
#pragma once

#include "marginlab/trainer.h"
#include "pointedit.h"

#include <QObject>

#include <memory>
#include <optional>
#include <stop_token>

namespace marginlab {

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    explicit TrainingWorker(QObject* parent = nullptr);
    ~TrainingWorker() override;

    /// The trainer's current moment (call on the worker's thread); empty without a trainer.
    std::optional<TrainerStart> savedState() const;
    /// Thread-safe: makes a running chunk return early (used on shutdown).
    void requestStop() { m_stop.request_stop(); }

public slots:
    /// Rebuilds the trainer from `config` (which must be valid) and answers with its step-0 snapshot.
    void reset(quint64 generation, const marginlab::TrainerConfig& config);
    /// Advances `steps` steps (0: just report the current snapshot) and answers with the snapshot.
    void runChunk(quint64 generation, int steps);
    /// Applies new loss / miner / optimizer / batch settings to the running state and answers
    /// with the snapshot at the same step (a failure keeps the old settings and says why).
    void reconfigure(quint64 generation, const marginlab::TrainerConfig& config);
    /// Applies a point edit to the trainer's current state and answers with the snapshot.
    void edit(quint64 generation, const marginlab::PointEdit& edit);
    /// Whether steps also report the force from positives (kept for the next trainers too).
    void setSplitForces(bool on);

signals:
    void chunkDone(quint64 generation, std::shared_ptr<const marginlab::Snapshot> snapshot);

private:
    std::unique_ptr<Trainer> m_trainer;
    bool m_splitForces = false;
    std::stop_source m_stop;
};

/// Registers the snapshot pointer for queued connections (idempotent; Qt 6 needs no Q_DECLARE_METATYPE).
void registerTrainingMetaTypes();

}  // namespace marginlab

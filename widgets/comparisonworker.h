// SPDX-License-Identifier: MIT
// ComparisonWorker: owns the TrainerGroup of a comparison and lives on a worker QThread, like
// TrainingWorker for one trainer. The GUI thread queues requests with QMetaObject::invokeMethod;
// every answer echoes the request's generation so that the controller can drop stale ones.
#pragma once

#include "marginlab/trainer_group.h"

#include <QObject>

#include <memory>
#include <stop_token>
#include <vector>

namespace marginlab {

/// What the worker answers: the group's common step and each panel's snapshot (immutable, shared).
struct ComparisonState {
    long step = 0;  ///< the step every panel was advanced to (a diverged panel stays behind it)
    GroupSnapshot group;
};

class ComparisonWorker : public QObject {
    Q_OBJECT
public:
    explicit ComparisonWorker(QObject* parent = nullptr);
    ~ComparisonWorker() override;

    /// Thread-safe: makes a running chunk return early (used on shutdown).
    void requestStop() { m_stop.request_stop(); }

public slots:
    /// Rebuilds the group from `panels` (which must pass TrainerGroup::isValid) and answers with step 0.
    void reset(quint64 generation, const std::vector<marginlab::TrainerConfig>& panels);
    /// Advances every panel `steps` steps (0: report where they are) and answers.
    void runChunk(quint64 generation, int steps);
    /// New loss / miner / optimizer for one panel at the current step (a failure keeps the old
    /// settings and says why in that panel's message).
    void reconfigure(quint64 generation, int panel, const marginlab::TrainerConfig& config);
    void setSplitForces(bool on);

signals:
    void chunkDone(quint64 generation, std::shared_ptr<const marginlab::ComparisonState> state);

private:
    void answer(quint64 generation, GroupSnapshot group);

    std::unique_ptr<TrainerGroup> m_group;
    bool m_splitForces = false;
    std::stop_source m_stop;
};

/// Registers the state pointer for queued connections (idempotent).
void registerComparisonMetaTypes();

}  // namespace marginlab

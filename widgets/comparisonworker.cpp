// SPDX-License-Identifier: MIT
#include "comparisonworker.h"

#include <exception>

namespace marginlab {

void registerComparisonMetaTypes() {
    qRegisterMetaType<std::shared_ptr<const ComparisonState>>();
}

ComparisonWorker::ComparisonWorker(QObject* parent) : QObject(parent) {}

ComparisonWorker::~ComparisonWorker() = default;

void ComparisonWorker::answer(quint64 generation, GroupSnapshot group) {
    auto state = std::make_shared<ComparisonState>();
    state->step = m_group ? m_group->step() : 0;
    state->group = std::move(group);
    emit chunkDone(generation, std::move(state));
}

namespace {

// A group that could not be built or stepped: one diverged snapshot per panel, with the reason.
GroupSnapshot failedGroup(const std::vector<TrainerConfig>& panels, const std::string& message) {
    GroupSnapshot group;
    for (const TrainerConfig& config : panels) {
        auto failed = std::make_shared<Snapshot>();
        failed->positions = config.points;
        failed->labels = config.labels;
        failed->numClasses = config.numClasses;
        failed->status = TrainStatus::Diverged;
        failed->message = message;
        group.panels.push_back(std::move(failed));
    }
    return group;
}

}  // namespace

void ComparisonWorker::reset(quint64 generation, const std::vector<TrainerConfig>& panels) {
    // Exceptions must not cross the thread boundary: report them as diverged panels instead.
    try {
        m_group = std::make_unique<TrainerGroup>(panels);
        m_group->setSplitForces(m_splitForces);
        answer(generation, m_group->snapshot());
    } catch (const std::exception& e) {
        m_group.reset();
        answer(generation, failedGroup(panels, std::string("could not start training: ") + e.what()));
    }
}

void ComparisonWorker::runChunk(quint64 generation, int steps) {
    if (!m_group) return;
    try {
        answer(generation, m_group->step(steps, m_stop.get_token()));
    } catch (const std::exception& e) {
        GroupSnapshot group = m_group->snapshot();
        for (auto& panel : group.panels) {
            auto failed = std::make_shared<Snapshot>(*panel);
            failed->status = TrainStatus::Diverged;
            failed->message = std::string("training failed: ") + e.what();
            panel = std::move(failed);
        }
        answer(generation, std::move(group));
    }
}

void ComparisonWorker::reconfigure(quint64 generation, int panel, const TrainerConfig& config) {
    if (!m_group) return;
    std::string error;
    GroupSnapshot group;
    const bool ok = panel >= 0 &&
                    m_group->reconfigure(static_cast<std::size_t>(panel), config.loss, config.miner, config.optimizer, &error);
    group = m_group->snapshot();
    if (!ok && panel >= 0 && static_cast<std::size_t>(panel) < group.panels.size()) {
        auto failed = std::make_shared<Snapshot>(*group.panels[static_cast<std::size_t>(panel)]);
        failed->message = "the new settings could not be applied: " + error;
        group.panels[static_cast<std::size_t>(panel)] = std::move(failed);
    }
    answer(generation, std::move(group));
}

void ComparisonWorker::setSplitForces(bool on) {
    m_splitForces = on;
    if (m_group) m_group->setSplitForces(on);
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/trainer_group.h"

#include <cassert>
#include <cstring>

namespace marginlab {

namespace {

bool sameBits(const Points& a, const Points& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 ||
            std::memcmp(a.data(), b.data(), sizeof(Real) * static_cast<std::size_t>(a.size())) == 0);
}

bool sameBatch(const BatchConfig& a, const BatchConfig& b) {
    if (a.mode != b.mode) return false;
    return a.mode == BatchConfig::Mode::Full ||
           (a.classesPerBatch == b.classesPerBatch && a.samplesPerClass == b.samplesPerClass);
}

std::string panelName(std::size_t index) {
    return "panel " + std::to_string(index + 1);
}

}  // namespace

bool TrainerGroup::isValid(const std::vector<TrainerConfig>& panels, std::string* error) {
    auto fail = [&](const std::string& message) {
        if (error) *error = message;
        return false;
    };
    if (panels.empty()) return fail("a comparison needs at least one panel");
    if (panels.size() > kMaxPanels)
        return fail("a comparison has at most " + std::to_string(kMaxPanels) + " panels, not " +
                    std::to_string(panels.size()));
    std::string message;
    for (std::size_t i = 0; i < panels.size(); ++i)
        if (!panels[i].isValid(&message)) return fail(panelName(i) + ": " + message);
    const TrainerConfig& first = panels.front();
    for (std::size_t i = 1; i < panels.size(); ++i) {
        const TrainerConfig& other = panels[i];
        const std::string which = panelName(i) + " and panel 1 ";
        if (!sameBits(other.points, first.points) || other.labels != first.labels ||
            other.numClasses != first.numClasses)
            return fail(which + "have different data: panels compare settings on the same points");
        if (other.seed != first.seed)
            return fail(which + "have different seeds: they would see different batches");
        if (!sameBatch(other.batch, first.batch))
            return fail(which + "have different batch settings: the batch sequence is shared");
        const bool startsAlike = other.start.has_value() == first.start.has_value() &&
                                 (!first.start || (other.start->step == first.start->step &&
                                                   sameBits(other.start->positions, first.start->positions)));
        if (!startsAlike) return fail(which + "start from different moments");
    }
    // Panels with the same owned shape share their initial owned parameters.
    for (std::size_t i = 0; i < panels.size(); ++i)
        for (std::size_t j = 0; j < i; ++j) {
            const int a = ownedBlocksOf(panels[i].loss);
            if (a == 0 || a != ownedBlocksOf(panels[j].loss)) continue;
            auto initial = [](const TrainerConfig& config) -> const Points* {
                if (config.start && config.start->owned) return &*config.start->owned;
                return config.owned ? &*config.owned : nullptr;
            };
            const Points* x = initial(panels[i]);
            const Points* y = initial(panels[j]);
            if ((x == nullptr) != (y == nullptr) || (x && !sameBits(*x, *y)))
                return fail(panelName(i) + " and " + panelName(j) + " start from different loss parameters");
        }
    return true;
}

TrainerGroup::TrainerGroup(std::vector<TrainerConfig> panels) {
    std::string error;
    [[maybe_unused]] const bool valid = isValid(panels, &error);
    assert(valid && "TrainerGroup needs valid, matching panels");
    m_target = panels.front().start ? panels.front().start->step : 0;
    for (TrainerConfig& config : panels) m_panels.push_back(std::make_unique<Trainer>(std::move(config)));
}

TrainerGroup::~TrainerGroup() = default;

GroupSnapshot TrainerGroup::step(int steps, std::stop_token stop) {
    if (steps > 0) m_target += steps;
    for (auto& trainer : m_panels) {
        if (stop.stop_requested()) break;
        const long behind = m_target - trainer->snapshot()->step;
        if (behind > 0) trainer->step(static_cast<int>(behind), stop);
    }
    return snapshot();
}

GroupSnapshot TrainerGroup::snapshot() const {
    GroupSnapshot out;
    out.panels.reserve(m_panels.size());
    for (const auto& trainer : m_panels) out.panels.push_back(trainer->snapshot());
    return out;
}

bool TrainerGroup::reconfigure(std::size_t panel, const LossConfig& loss,
                               const std::optional<MinerConfig>& miner, const OptimizerConfig& optimizer,
                               std::string* error) {
    if (panel >= m_panels.size()) {
        if (error)
            *error = "there is no " + panelName(panel) + " in a group of " + std::to_string(m_panels.size());
        return false;
    }
    Trainer& trainer = *m_panels[panel];
    return trainer.reconfigure(loss, miner, optimizer, trainer.config().batch, error);
}

bool TrainerGroup::setBatch(const BatchConfig& batch, std::string* error) {
    // The batch settings do not depend on the loss: if the first panel accepts them, all do.
    for (auto& trainer : m_panels) {
        const TrainerConfig& config = trainer->config();
        if (!trainer->reconfigure(config.loss, config.miner, config.optimizer, batch, error)) {
            assert(trainer == m_panels.front() && "panels disagree on valid batch settings");
            return false;
        }
    }
    return true;
}

bool TrainerGroup::editPoints(const Points& positions, const Labels& labels, std::string* error) {
    // The checks depend only on the shared data's dimension and classes: the first panel decides.
    for (auto& trainer : m_panels) {
        if (!trainer->editPoints(positions, labels, error)) {
            assert(trainer == m_panels.front() && "panels disagree on a valid edit");
            return false;
        }
    }
    return true;
}

void TrainerGroup::setSplitForces(bool on) {
    for (auto& trainer : m_panels) trainer->setSplitForces(on);
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/optimizer.h"

#include <cassert>
#include <cmath>

namespace marginlab {

bool OptimizerConfig::isValid(std::string* error) const {
    auto fail = [&](const std::string& message) {
        if (error) *error = "optimizer: " + message;
        return false;
    };
    if (!(learningRate >= 0.0) || !std::isfinite(learningRate)) return fail("learning rate must be ≥ 0");
    if (!(ownedLearningRate >= 0.0) || !std::isfinite(ownedLearningRate))
        return fail("learning rate of the loss parameters must be ≥ 0");
    if (!(momentum >= 0.0 && momentum < 1.0)) return fail("momentum must be in [0, 1)");
    if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0)) return fail("Adam betas must be in [0, 1)");
    if (!(epsilon > 0.0)) return fail("Adam epsilon must be > 0");
    if (!(weightDecay >= 0.0) || !std::isfinite(weightDecay)) return fail("weight decay must be ≥ 0");
    if (!(dampening >= 0.0 && dampening <= 1.0)) return fail("dampening must be in [0, 1]");
    // torch.optim.SGD refuses the same: Nesterov needs momentum and no dampening.
    if (nesterov && dampening != 0.0) return fail("Nesterov momentum needs dampening 0");
    return true;
}

std::string optimizerName(OptimizerKind kind) {
    switch (kind) {
    case OptimizerKind::Sgd: return "sgd";
    case OptimizerKind::Momentum: return "momentum";
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::AdamW: return "adamw";
    }
    return "adam";
}

bool parseOptimizerKind(const std::string& name, OptimizerKind* kind) {
    for (OptimizerKind k : {OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::Adam, OptimizerKind::AdamW})
        if (optimizerName(k) == name) {
            *kind = k;
            return true;
        }
    return false;
}

Optimizer::Optimizer(const OptimizerConfig& config, int groups) : m_config(config), m_state(groups) {}

void Optimizer::step(int group, Points& parameters, const Points& gradient) {
    assert(group >= 0 && group < static_cast<int>(m_state.size()));
    assert(parameters.rows() == gradient.rows() && parameters.cols() == gradient.cols());
    OptimizerGroupState& state = m_state[static_cast<std::size_t>(group)];
    const Real rate = group == 0 ? m_config.learningRate : m_config.ownedLearningRate;
    Points g = gradient;
    const bool decoupled = m_config.kind == OptimizerKind::AdamW;
    if (m_config.weightDecay != 0.0) {
        if (decoupled) parameters *= 1.0 - rate * m_config.weightDecay;  // AdamW decays before the update
        else g += m_config.weightDecay * parameters;
    }
    ++state.steps;

    switch (m_config.kind) {
    case OptimizerKind::Sgd:
        parameters -= rate * g;
        return;
    case OptimizerKind::Momentum:
        // PyTorch initialises the buffer with the first gradient (not with μ·0 + g, which is the same).
        if (state.first.size() == 0) state.first = g;
        else if (m_config.dampening == 0.0) state.first = m_config.momentum * state.first + g;
        else state.first = m_config.momentum * state.first + (1.0 - m_config.dampening) * g;
        if (m_config.nesterov) parameters -= rate * (g + m_config.momentum * state.first);
        else parameters -= rate * state.first;
        return;
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW: {
        if (state.first.size() == 0) {
            state.first = Points::Zero(g.rows(), g.cols());
            state.second = Points::Zero(g.rows(), g.cols());
        }
        state.first = m_config.beta1 * state.first + (1.0 - m_config.beta1) * g;
        state.second = m_config.beta2 * state.second + (1.0 - m_config.beta2) * g.cwiseProduct(g);
        const Real correction1 = 1.0 - std::pow(m_config.beta1, static_cast<Real>(state.steps));
        const Real correction2 = 1.0 - std::pow(m_config.beta2, static_cast<Real>(state.steps));
        const auto denominator = (state.second.array() / correction2).sqrt() + m_config.epsilon;
        parameters.array() -= rate * (state.first.array() / correction1) / denominator;
        return;
    }
    }
}

void Optimizer::resetGroup(int group) {
    assert(group >= 0 && group < static_cast<int>(m_state.size()));
    m_state[static_cast<std::size_t>(group)] = OptimizerGroupState{};
}

void Optimizer::setConfig(const OptimizerConfig& config) {
    assert(config.kind == m_config.kind && "a different optimizer kind needs a new Optimizer");
    m_config = config;
}

OptimizerState Optimizer::state() const { return OptimizerState{m_config.kind, m_state}; }

void Optimizer::restore(OptimizerState state) {
    assert(state.kind == m_config.kind && state.groups.size() == m_state.size());
    m_state = std::move(state.groups);
}

bool OptimizerState::isValid(OptimizerKind expectedKind,
                             const std::vector<std::pair<Eigen::Index, Eigen::Index>>& shapes,
                             std::string* error) const {
    auto fail = [&](const std::string& message) {
        if (error) *error = message;
        return false;
    };
    if (kind != expectedKind)
        return fail("the optimizer state is " + optimizerName(kind) + "'s but the optimizer is " +
                    optimizerName(expectedKind));
    if (groups.size() != shapes.size())
        return fail("the optimizer state has " + std::to_string(groups.size()) + " parameter groups, expected " +
                    std::to_string(shapes.size()));
    const char* names[] = {"points", "owned"};
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const OptimizerGroupState& group = groups[g];
        const std::string name = std::string("optimizer state of the ") + (g < 2 ? names[g] : "group") + ": ";
        const auto [rows, cols] = shapes[g];
        auto checkBuffer = [&](const Points& buffer, const char* what) {
            if (buffer.rows() != rows || buffer.cols() != cols)
                return fail(name + what + " is " + std::to_string(buffer.rows()) + "×" + std::to_string(buffer.cols()) +
                            ", expected " + std::to_string(rows) + "×" + std::to_string(cols));
            if (!buffer.allFinite()) return fail(name + what + " contains a non-finite value");
            return true;
        };
        if (group.steps < 0) return fail(name + "the step count must be ≥ 0");
        const bool stepped = group.steps > 0;
        switch (kind) {
        case OptimizerKind::Sgd:
            if (group.first.size() || group.second.size()) return fail(name + "SGD keeps no buffers");
            break;
        case OptimizerKind::Momentum:
            if (group.second.size()) return fail(name + "momentum keeps no second moment");
            if (stepped != (group.first.size() > 0))
                return fail(name + (stepped ? "the momentum buffer is missing" : "a momentum buffer before any step"));
            if (stepped && !checkBuffer(group.first, "the momentum buffer")) return false;
            break;
        case OptimizerKind::Adam:
        case OptimizerKind::AdamW:
            if (stepped != (group.first.size() > 0) || stepped != (group.second.size() > 0))
                return fail(name + (stepped ? "Adam's moments are missing" : "Adam moments before any step"));
            if (stepped) {
                if (!checkBuffer(group.first, "the first moment") || !checkBuffer(group.second, "the second moment"))
                    return false;
                if (group.second.minCoeff() < 0.0) return fail(name + "the second moment must be ≥ 0");
            }
            break;
        }
    }
    return true;
}

}  // namespace marginlab

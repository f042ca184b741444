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
    return true;
}

std::string optimizerName(OptimizerKind kind) {
    switch (kind) {
    case OptimizerKind::Sgd: return "sgd";
    case OptimizerKind::Momentum: return "momentum";
    case OptimizerKind::Adam: return "adam";
    }
    return "adam";
}

bool parseOptimizerKind(const std::string& name, OptimizerKind* kind) {
    for (OptimizerKind k : {OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::Adam})
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
    GroupState& state = m_state[static_cast<std::size_t>(group)];
    const Real rate = group == 0 ? m_config.learningRate : m_config.ownedLearningRate;
    Points g = gradient;
    if (m_config.weightDecay != 0.0) g += m_config.weightDecay * parameters;
    ++state.steps;

    switch (m_config.kind) {
    case OptimizerKind::Sgd:
        parameters -= rate * g;
        return;
    case OptimizerKind::Momentum:
        // PyTorch initialises the buffer with the first gradient (not with μ·0 + g, which is the same).
        if (state.first.size() == 0) state.first = g;
        else state.first = m_config.momentum * state.first + g;
        if (m_config.nesterov) parameters -= rate * (g + m_config.momentum * state.first);
        else parameters -= rate * state.first;
        return;
    case OptimizerKind::Adam: {
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
    m_state[static_cast<std::size_t>(group)] = GroupState{};
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * First-order optimizers over parameter groups (PyTorch's update rules, so that a learning rate
 * means the same thing as in a training script):
 *
 *   SGD:       θ ← θ − η (g + λθ)
 *   Momentum:  v ← μ v + (g + λθ);  θ ← θ − η v              (Nesterov: θ ← θ − η (g + λθ + μ v))
 *   Adam:      m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η m̂ / (√v̂ + ε)   (bias-corrected)
 *
 * g is the gradient, λ the weight decay. Each parameter group (the points; the loss's own
 * parameters) has its own learning rate and its own state.
 */
#pragma once

#include "marginlab/params.h"
#include "marginlab/types.h"

#include <string>
#include <vector>

namespace marginlab {

enum class OptimizerKind { Sgd, Momentum, Adam };

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::Adam;
    Real learningRate = 0.01;       ///< for the points
    Real ownedLearningRate = 0.01;  ///< for the loss's own parameters (class weights, proxies, centers)
    Real momentum = 0.9;
    bool nesterov = false;
    Real beta1 = 0.9;
    Real beta2 = 0.999;
    Real epsilon = 1e-8;
    Real weightDecay = 0.0;

    bool isValid(std::string* error) const;
};

std::string optimizerName(OptimizerKind kind);
bool parseOptimizerKind(const std::string& name, OptimizerKind* kind);

class Optimizer {
public:
    /// `groups` = number of parameter groups (0: points, 1: owned parameters).
    explicit Optimizer(const OptimizerConfig& config, int groups = 2);

    /// One update of group `group` in place. Shapes must stay the same between calls.
    void step(int group, Points& parameters, const Points& gradient);
    /// Forgets the momentum / moments of `group` (its parameters changed shape or meaning).
    void resetGroup(int group);
    const OptimizerConfig& config() const { return m_config; }

private:
    struct GroupState {
        Points first;   ///< momentum buffer or Adam's first moment
        Points second;  ///< Adam's second moment
        long steps = 0;
    };
    OptimizerConfig m_config;
    std::vector<GroupState> m_state;
};

}  // namespace marginlab

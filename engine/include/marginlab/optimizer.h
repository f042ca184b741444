// SPDX-License-Identifier: MIT
/**
 * First-order optimizers over parameter groups (PyTorch's update rules, so that a learning rate
 * means the same thing as in a training script):
 *
 *   SGD:       θ ← θ − η (g + λθ)
 *   Momentum:  b ← μ b + (1 − τ)(g + λθ)  (b = g + λθ on the first step);  θ ← θ − η b
 *              Nesterov: θ ← θ − η (g + λθ + μ b)
 *   Adam:      g ← g + λθ;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η m̂ / (√v̂ + ε)
 *   AdamW:     θ ← θ (1 − ηλ);  then Adam's update with g (decoupled weight decay)
 *
 * g is the gradient, λ the weight decay, τ the dampening, m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ)
 * (bias-corrected), ε outside the square root — torch.optim.SGD (momentum, dampening, nesterov,
 * weight_decay), torch.optim.Adam and torch.optim.AdamW with their defaults otherwise
 * (docs/optimizers.md lays the correspondence side by side). Each parameter group (the points; the loss's own
 * parameters) has its own learning rate and its own state.
 */
#pragma once

#include "marginlab/params.h"
#include "marginlab/types.h"

#include <string>
#include <utility>
#include <vector>

namespace marginlab {

enum class OptimizerKind { Sgd, Momentum, Adam, AdamW };

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::Adam;
    Real learningRate = 0.01;       ///< for the points
    Real ownedLearningRate = 0.01;  ///< for the loss's own parameters (class weights, proxies, centers)
    Real momentum = 0.9;
    Real dampening = 0.0;           ///< τ of torch.optim.SGD (momentum only; 0 with Nesterov)
    bool nesterov = false;
    Real beta1 = 0.9;
    Real beta2 = 0.999;
    Real epsilon = 1e-8;
    Real weightDecay = 0.0;         ///< λ: added to the gradient (SGD, momentum, Adam); decoupled (AdamW)

    bool isValid(std::string* error) const;
};

std::string optimizerName(OptimizerKind kind);
bool parseOptimizerKind(const std::string& name, OptimizerKind* kind);

/// What an optimizer remembers about one parameter group: enough to continue a run bit for bit.
struct OptimizerGroupState {
    Points first;    ///< momentum buffer / Adam's first moment (PyTorch: momentum_buffer / exp_avg)
    Points second;   ///< Adam's second moment (exp_avg_sq)
    long steps = 0;  ///< updates taken so far (Adam's bias correction counts them)
};

/// The state of every group, in group order (0: points, 1: owned parameters).
struct OptimizerState {
    OptimizerKind kind = OptimizerKind::Adam;
    std::vector<OptimizerGroupState> groups;

    /**
     * Checks that the state can belong to an optimizer of `kind` whose groups have the given
     * shapes (rows × cols of group g): SGD keeps no buffers; a momentum buffer exists exactly when
     * steps > 0 and Adam's two moments likewise; buffers have the group's shape and are finite,
     * Adam's second moment is ≥ 0, steps ≥ 0. `shapes` has one (rows, cols) pair per group.
     */
    bool isValid(OptimizerKind expectedKind, const std::vector<std::pair<Eigen::Index, Eigen::Index>>& shapes,
                 std::string* error) const;
};

class Optimizer {
public:
    /// `groups` = number of parameter groups (0: points, 1: owned parameters).
    explicit Optimizer(const OptimizerConfig& config, int groups = 2);

    /// One update of group `group` in place. Shapes must stay the same between calls.
    void step(int group, Points& parameters, const Points& gradient);
    /// Forgets the momentum / moments of `group` (its parameters changed shape or meaning).
    void resetGroup(int group);
    const OptimizerConfig& config() const { return m_config; }
    /**
     * New settings for the following steps, keeping every group's state; the kind must stay the
     * same (a different kind means a new Optimizer). Momentum buffers and Adam moments carry on
     * as they are: a new learning rate scales the next update, new betas / momentum weigh the
     * old buffers from the next step on, and Adam's bias correction keeps counting its steps.
     */
    void setConfig(const OptimizerConfig& config);
    /// A copy of every group's state (for saving a run).
    OptimizerState state() const;
    /// Replaces the state; it must be of this optimizer's kind with one entry per group (see
    /// OptimizerState::isValid, which the caller runs first).
    void restore(OptimizerState state);

private:
    OptimizerConfig m_config;
    std::vector<OptimizerGroupState> m_state;
};

}  // namespace marginlab

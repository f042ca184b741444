// SPDX-License-Identifier: MIT
// The optimizers against PyTorch's update rules, written out by hand for two steps.
#include "marginlab/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace marginlab {
namespace {

Points single(Real v) {
    Points p(1, 1);
    p(0, 0) = v;
    return p;
}

TEST(Optimizer, SgdWithWeightDecay) {
    OptimizerConfig config;
    config.kind = OptimizerKind::Sgd;
    config.learningRate = 0.1;
    config.weightDecay = 0.5;
    Optimizer opt(config);
    Points theta = single(2.0);
    opt.step(0, theta, single(1.0));  // θ − η (g + λθ) = 2 − 0.1·(1 + 1) = 1.8
    EXPECT_DOUBLE_EQ(theta(0, 0), 1.8);
}

TEST(Optimizer, MomentumAndNesterov) {
    OptimizerConfig config;
    config.kind = OptimizerKind::Momentum;
    config.learningRate = 0.1;
    config.momentum = 0.9;
    Optimizer heavyBall(config);
    Points theta = single(0.0);
    heavyBall.step(0, theta, single(1.0));  // v = 1, θ = −0.1
    heavyBall.step(0, theta, single(2.0));  // v = 0.9 + 2 = 2.9, θ = −0.1 − 0.29 = −0.39
    EXPECT_NEAR(theta(0, 0), -0.39, 1e-15);

    config.nesterov = true;
    Optimizer nesterov(config);
    theta = single(0.0);
    nesterov.step(0, theta, single(1.0));  // v = 1, θ = −0.1·(1 + 0.9·1) = −0.19
    nesterov.step(0, theta, single(2.0));  // v = 2.9, θ = −0.19 − 0.1·(2 + 0.9·2.9) = −0.651
    EXPECT_NEAR(theta(0, 0), -0.651, 1e-15);
}

TEST(Optimizer, AdamBiasCorrection) {
    OptimizerConfig config;
    config.kind = OptimizerKind::Adam;
    config.learningRate = 0.01;
    Optimizer opt(config);
    Points theta = single(1.0);
    opt.step(0, theta, single(0.5));
    // Step 1: m̂ = g, v̂ = g², update = η·g/(|g| + ε) ≈ η.
    EXPECT_NEAR(theta(0, 0), 1.0 - 0.01 * 0.5 / (0.5 + 1e-8), 1e-15);
    opt.step(0, theta, single(-1.0));
    const Real m = 0.9 * 0.05 + 0.1 * -1.0;         // β₁·(0.1·0.5) + (1−β₁)·g
    const Real v = 0.999 * 0.00025 + 0.001 * 1.0;   // β₂·(0.001·0.25) + (1−β₂)·g²
    const Real mHat = m / (1 - 0.81);
    const Real vHat = v / (1 - 0.999 * 0.999);
    const Real expected = 1.0 - 0.01 * 0.5 / (0.5 + 1e-8) - 0.01 * mHat / (std::sqrt(vHat) + 1e-8);
    EXPECT_NEAR(theta(0, 0), expected, 1e-14);
}

TEST(Optimizer, MomentumWithDampeningAsTorch) {
    // torch.optim.SGD(momentum=0.9, dampening=0.5): the first buffer is the gradient itself, later
    // ones add (1 − dampening)·g.
    OptimizerConfig config;
    config.kind = OptimizerKind::Momentum;
    config.learningRate = 0.1;
    config.momentum = 0.9;
    config.dampening = 0.5;
    Optimizer opt(config);
    Points theta = single(0.0);
    opt.step(0, theta, single(1.0));  // b = 1, θ = −0.1
    opt.step(0, theta, single(2.0));  // b = 0.9 + 0.5·2 = 1.9, θ = −0.1 − 0.19 = −0.29
    EXPECT_NEAR(theta(0, 0), -0.29, 1e-15);
    config.nesterov = true;  // torch refuses Nesterov with dampening, and so do we
    std::string error;
    EXPECT_FALSE(config.isValid(&error));
    EXPECT_NE(error.find("dampening"), std::string::npos);
}

TEST(Optimizer, AdamWDecaysTheWeightsApartFromTheGradient) {
    // torch.optim.AdamW: θ ← θ(1 − ηλ), then the Adam step with the plain gradient.
    OptimizerConfig config;
    config.kind = OptimizerKind::AdamW;
    config.learningRate = 0.01;
    config.weightDecay = 0.5;
    Optimizer adamw(config);
    Points theta = single(2.0);
    adamw.step(0, theta, single(0.5));
    const Real expected = 2.0 * (1.0 - 0.01 * 0.5) - 0.01 * 0.5 / (0.5 + 1e-8);
    EXPECT_NEAR(theta(0, 0), expected, 1e-15);
    // Adam with the same weight decay adds λθ to the gradient instead: another number.
    config.kind = OptimizerKind::Adam;
    Optimizer adam(config);
    Points coupled = single(2.0);
    adam.step(0, coupled, single(0.5));
    EXPECT_NEAR(coupled(0, 0), 2.0 - 0.01 * 1.5 / (1.5 + 1e-8), 1e-15);
    EXPECT_GT(std::abs(coupled(0, 0) - theta(0, 0)), 1e-3);
}

TEST(Optimizer, GroupsHaveTheirOwnRatesAndState) {
    OptimizerConfig config;
    config.kind = OptimizerKind::Sgd;
    config.learningRate = 0.1;
    config.ownedLearningRate = 1.0;
    Optimizer opt(config);
    Points a = single(0.0), b = single(0.0);
    opt.step(0, a, single(1.0));
    opt.step(1, b, single(1.0));
    EXPECT_DOUBLE_EQ(a(0, 0), -0.1);
    EXPECT_DOUBLE_EQ(b(0, 0), -1.0);
}

TEST(Optimizer, InvalidSettingsAreRejectedWithAMessage) {
    OptimizerConfig config;
    std::string error;
    config.learningRate = -1;
    EXPECT_FALSE(config.isValid(&error));
    EXPECT_NE(error.find("learning rate"), std::string::npos);
    config = {};
    config.momentum = 1.0;
    EXPECT_FALSE(config.isValid(&error));
    config = {};
    EXPECT_TRUE(config.isValid(&error));
}

}  // namespace
}  // namespace marginlab

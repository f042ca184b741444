// SPDX-License-Identifier: MIT
// The shared machinery of the margin-softmax family (internal header): every loss of the family is
// a cross-entropy over N×C logits built from the embeddings X (N×D) and the owned class-weight
// matrix W (C×D); the losses differ only in how a logit is made from a cosine (or dot product).
#pragma once

#include "marginlab/loss.h"

#include <functional>

namespace marginlab::detail {

/// A target-class logit φ(c) (before the scale) and its derivative dφ/dc.
struct TargetLogit {
    Real value = 0.0;
    Real derivative = 0.0;
};

using TargetFunction = std::function<TargetLogit(Real cosine)>;

/// The value part of a target function (what MarginLogits::target exposes to the views).
inline std::function<Real(Real)> targetValue(TargetFunction target) {
    return [target = std::move(target)](Real cosine) { return target(cosine).value; };
}

/**
 * sin θ for c = cos θ, from √((1−c)(1+c)) (accurate near |c| = 1, where 1 − c² cancels);
 * 0 when |c| ≥ 1 (the clamp of θ = arccos(clamp(c, −1, 1))).
 */
Real sineFromCosine(Real cosine);

/// θ = arccos(clamp(c, −1, 1)), PML's get_angles.
Real angleFromCosine(Real cosine);

/**
 * True when labels has one entry per embedding row and every label is in [0, C), C = owned->rows().
 * The losses assert it: the Trainer and the command line validate labels before a run starts.
 */
bool classLabelsMatch(const LossInput& input);

/// What evaluate() returns in a release build when classLabelsMatch() fails (the assert is off):
/// value NaN (so the Trainer's finiteness check stops the run), all-zero gradients, no tuples.
LossOutput invalidLabelsOutput(const LossInput& input, bool withGradient);

/**
 * Cosine logits: ℓ_ic = s·c_ic for c ≠ y_i and ℓ_{i,y_i} = s·φ(c_{i,y_i}), c_ic = x̂_i·ŵ_c;
 * loss = mean_i CE(ℓ_i, y_i). Gradients for X and W flow through both normalizations.
 * `hasRegions`: φ is a margin, so the statistics sort samples into easy / semi-hard / hard.
 */
LossOutput cosineMarginSoftmax(const LossInput& input, bool withGradient, Real scale, const TargetFunction& target,
                               bool hasRegions);

/**
 * L-Softmax's target function: ψ(c) = (−1)^k·cos(mθ) − 2k with cos(mθ) the multiple-angle
 * polynomial of the un-clamped c and k = ⌊θ/(π/m)⌋ (piecewise constant, no derivative).
 */
TargetLogit largeMarginTarget(Real cosine, int margin);

/**
 * L-Softmax (useWeightNorms) and SphereFace (not): ℓ_ic = s·‖x_i‖·(‖w_c‖ or 1)·(c_ic or ψ_i);
 * loss = mean_i CE(ℓ_i, y_i). The raw norms are differentiated too.
 */
LossOutput largeMarginSoftmax(const LossInput& input, bool withGradient, int margin, Real scale,
                              bool useWeightNorms);

}  // namespace marginlab::detail

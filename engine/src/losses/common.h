// SPDX-License-Identifier: MIT
// Small numeric building blocks shared by the loss implementations (internal header).
#pragma once

#include <cmath>
#include <functional>
#include <optional>
#include <span>

#include "marginlab/loss.h"

namespace marginlab::detail {

/// A zero loss with zero gradients of the right shapes (PML's "no valid tuples" result),
/// gradFromPositives included when the input asks for the split.
LossOutput zeroOutput(const LossInput& input, bool withGradient);

/**
 * The opening shared by the losses that own `rowsPerClass` rows of class vectors per class
 * (sub-centers, soft-triple centers, P2SGrad's weights): a label outside the classes answers
 * NaN in release builds (the Trainer stops, as for the other classification losses; debug builds
 * assert), an empty batch answers zeros. Returns that early answer, or nothing to go on;
 * `classes` receives owned rows / rowsPerClass.
 */
std::optional<LossOutput> perSampleEarlyOutput(const LossInput& input, bool withGradient, Eigen::Index rowsPerClass,
                                               Eigen::Index* classes);

/// Whether evaluate() must fill LossOutput::gradFromPositives.
inline bool splitsForces(const LossInput& input, bool withGradient) { return withGradient && input.splitForces; }

/// 0, 1, …, C−1: the label of each row of a per-class matrix (W, proxies, centers), so that
/// CrossDistance::backwardSameLabel keeps the entry of every point's own class.
Labels classRowLabels(Eigen::Index classes);

inline Real relu(Real v) { return v > 0.0 ? v : 0.0; }

/// torch.nn.functional.softplus (beta 1, threshold 20): exactly v above 20.
inline Real softplus(Real v) { return v > 20.0 ? v : std::log1p(std::exp(v)); }
/// d softplus / dv as torch computes it (1 above the threshold).
inline Real softplusDerivative(Real v) { return v > 20.0 ? 1.0 : 1.0 / (1.0 + std::exp(-v)); }

/**
 * log Σ exp(z_j) (or log(1 + Σ exp(z_j)) with addOne), 0 for an empty set as PML's helper
 * returns; if `weights` is given it receives ∂/∂z_j (the softmax weights), same size as z.
 */
Real logSumExp(std::span<const Real> z, bool addOne, std::span<Real> weights = {});

/// torch cross-entropy of one row: −ℓ_y + log Σ_c exp(ℓ_c); `grad` (if given) gets softmax − onehot.
Real crossEntropy(std::span<const Real> logits, int target, std::span<Real> grad = {});

/// What a run of samples adds to a per-sample loss: the sum of its terms and its counts.
struct SampleTally {
    Real total = 0.0;
    Count kept = 0;  ///< samples whose term counts (losses that drop some, as Proxy-NCA)
    Count active = 0;
    Count easy = 0;
    Count semiHard = 0;
    Count hard = 0;

    SampleTally& operator+=(const SampleTally& other) {
        total += other.total;
        kept += other.kept;
        active += other.active;
        easy += other.easy;
        semiHard += other.semiHard;
        hard += other.hard;
        return *this;
    }
};

/**
 * body(begin, end, run, tally) for every AnchorChunks run of the samples [0, n) on the engine's
 * threads, each run with its own tally; the tallies are added in run order, and the runs depend
 * on n alone, so the sum has the same bits on any thread count (one run below 512 samples: the
 * plain loop's). A body writes only its own rows of shared outputs; sums across samples go in
 * its tally or in per-run buffers indexed by `run`. `workPerSample` (e.g. the number of classes,
 * or N for a loss over every pair) keeps small problems on the calling thread (kMinParallelWork).
 */
SampleTally sumOverSampleRuns(
    Eigen::Index n, Eigen::Index workPerSample,
    const std::function<void(Eigen::Index begin, Eigen::Index end, int run, SampleTally& tally)>& body);

/// How many runs sumOverSampleRuns cuts n samples into (to size per-run buffers).
int sampleRuns(Eigen::Index n);

}  // namespace marginlab::detail

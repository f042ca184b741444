// SPDX-License-Identifier: MIT
/**
 * The trainer: data, free points, the loss and its own parameters, an optional miner, the
 * optimizer, the batch sampler and the random stream, advanced k steps at a time.
 *
 * Every point is a parameter (the embedding *is* the point), so a step is: pick a batch
 * (all points, or P classes × K samples), mine (if a miner is set), evaluate the loss and its
 * gradients, update points and owned parameters. Each step's random draws come from
 * (seed, step), so the same configuration and seed give the same trajectory bit for bit.
 *
 * A non-finite loss, gradient or update stops training with status Diverged and keeps the last
 * finite state; step() never throws for numeric trouble.
 */
#pragma once

#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "marginlab/optimizer.h"
#include "marginlab/types.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace marginlab {

struct BatchConfig {
    enum class Mode { Full, ClassesTimesSamples };
    Mode mode = Mode::Full;
    int classesPerBatch = 4;   ///< P
    int samplesPerClass = 8;   ///< K (drawn with replacement when a class is smaller)
};

struct TrainerConfig {
    Points points;               ///< N×D initial positions, D ∈ {2, 3}
    Labels labels;               ///< N labels in [0, numClasses)
    int numClasses = 0;
    LossConfig loss;
    std::optional<MinerConfig> miner;
    OptimizerConfig optimizer;
    BatchConfig batch;
    std::uint64_t seed = 1;
    std::optional<Points> owned;  ///< initial owned parameters; random N(0,1) rows when empty
    int metricsEvery = 10;        ///< retrieval metrics every k steps (they cost O(N² log N))

    /// Checks shapes, labels, loss / miner names and parameters; a message on the first problem.
    bool isValid(std::string* error) const;
};

enum class TrainStatus { Running, Diverged, Cancelled };
std::string statusName(TrainStatus status);

struct Metrics {
    long step = -1;          ///< the step they were computed at (−1: never)
    Real precisionAt1 = 0.0;
    Real rPrecision = 0.0;
    Real mapAtR = 0.0;
    Real meanIntra = 0.0;
    Real meanInter = 0.0;
    Real collapse = 1.0;     ///< mean pairwise distance now / at step 0 (→ 0 when points collapse)
};

/// An immutable picture of the trainer after some step (cheap to share between threads).
struct Snapshot {
    long step = 0;
    Points positions;        ///< N×D
    Labels labels;           ///< N labels in [0, numClasses): a snapshot describes its own points
    int numClasses = 0;
    /// Bumped by the trainer whenever its configuration changes (point edits, new loss / miner /
    /// optimizer settings), so a view knows when to ask the catalogue again.
    std::uint64_t revision = 0;
    Points owned;            ///< the loss's own parameters (empty if none)
    Points gradient;         ///< ∂L/∂x of the last step for every point (zero rows outside the batch)
    /// The part of `gradient` through same-class terms (LossOutput::gradFromPositives), laid out
    /// like `gradient`; gradient − gradientFromPositives is the part through other-class terms.
    /// Empty unless the step was taken with Trainer::setSplitForces(true).
    Points gradientFromPositives;
    Real loss = 0.0;
    LossStats stats;
    MinerCounts minerCounts;
    Metrics metrics;
    bool deadGradient = false;  ///< the last step moved nothing: no active tuple / zero gradient
    TrainStatus status = TrainStatus::Running;
    std::string message;        ///< why training stopped, for Diverged
};

class Trainer {
public:
    /// `config` must be valid (see TrainerConfig::isValid); asserts otherwise.
    explicit Trainer(TrainerConfig config);
    ~Trainer();

    /// Advances up to `steps` steps (fewer if diverged or stop requested) and returns the snapshot.
    std::shared_ptr<const Snapshot> step(int steps, std::stop_token stop = {});
    std::shared_ptr<const Snapshot> snapshot() const { return m_snapshot; }
    /// The configuration; after editPoints() its points and labels are the edited ones.
    const TrainerConfig& config() const { return m_config; }

    /**
     * Replaces the points in the middle of a run (the app's point editing): new positions and
     * labels, possibly a different number of points. Keeps the step count, the loss's own
     * parameters and their optimizer state, and the reference spread of the collapse metric;
     * the points' optimizer state starts afresh (an added point has no history, and removing
     * one shifts the rows). Publishes a snapshot at the same step. Returns false with a message
     * (and changes nothing) on a wrong dimension or a label outside [0, numClasses).
     */
    bool editPoints(Points positions, Labels labels, std::string* error);
    const Loss& loss() const { return *m_loss; }
    /// Whether the following steps also split each force into its same-class part
    /// (Snapshot::gradientFromPositives). Costs one more backward pass per step and never
    /// changes the trajectory; may be switched between step() calls.
    void setSplitForces(bool on) { m_splitForces = on; }
    bool splitForces() const { return m_splitForces; }

private:
    void stepOnce();
    std::vector<int> sampleBatch(std::uint64_t stepSeed) const;
    void publish(Real loss, const LossStats& stats, const MinerCounts& counts, const Points& gradient,
                 Points gradientFromPositives, bool metricsDue, bool deadGradient);

    TrainerConfig m_config;
    std::unique_ptr<Loss> m_loss;
    std::unique_ptr<Miner> m_miner;
    std::unique_ptr<Optimizer> m_optimizer;
    Points m_positions;
    Points m_owned;
    long m_step = 0;
    std::uint64_t m_revision = 0;
    bool m_splitForces = false;
    TrainStatus m_status = TrainStatus::Running;
    std::string m_message;
    Real m_initialSpread = 0.0;
    DistanceSpec m_metricDistance;
    std::shared_ptr<const Snapshot> m_snapshot;
};

}  // namespace marginlab

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
 *
 * The snapshot of step k reports the loss, statistics and gradient of the update that led to it
 * (evaluated at the points of step k − 1). The snapshot published without a step (at the start,
 * after editPoints() or reconfigure()) evaluates exactly what the next step will evaluate — the
 * same batch, the miner with that step's seed, the loss's sample seed — so its loss, statistics,
 * miner counts and gradient equal those the next snapshot reports.
 *
 * Cross-batch memory (TrainerConfig::crossBatchMemory, PML's CrossBatchMemory): the trainer keeps
 * a queue of the last memory_size batch rows and labels (detached copies, a ring buffer written
 * at queue_idx as PML's add_to_memory). A step enqueues its batch first, then mines and evaluates
 * the loss with the batch as anchors and the filled part of the queue as the reference set
 * (LossInput::referenceEmbeddings), every positive pair or triplet whose positive is the anchor's
 * own fresh copy removed (PML's remove_self_comparisons). Gradients reach the batch only.
 *
 * A run can start from a saved moment (TrainerConfig::start): the step count, positions, owned
 * parameters and optimizer state of step k. Every random draw of a step derives from
 * (seed, step), so such a run continues bit for bit as the uninterrupted one.
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
#include <vector>

namespace marginlab {

struct BatchConfig {
    enum class Mode { Full, ClassesTimesSamples };
    Mode mode = Mode::Full;
    int classesPerBatch = 4;   ///< P
    int samplesPerClass = 8;   ///< K (drawn with replacement when a class is smaller)
};

/// PML's CrossBatchMemory(memory_size): the queue of past batch rows the loss compares with.
struct CrossBatchMemoryConfig {
    int memorySize = 1024;  ///< rows kept, ≥ the batch size (PML's default 1024)
    bool operator==(const CrossBatchMemoryConfig&) const = default;
};

/// The queue of a cross-batch memory as PML keeps it: `embeddings` and `labels` are the filled
/// slots 0..rows−1 (all memory_size of them once the ring has wrapped), `queueIndex` the next
/// slot to write, `filled` whether it has wrapped (PML's has_been_filled).
struct MemoryQueue {
    Points embeddings;
    Labels labels;
    int queueIndex = 0;
    bool filled = false;
    bool operator==(const MemoryQueue&) const = default;
};

/// A saved moment of a run (Trainer::savedState()), to continue it from there.
struct TrainerStart {
    long step = 0;                            ///< steps already taken, ≥ 0
    Points positions;                         ///< N×D positions at that step (the shape of TrainerConfig::points)
    std::optional<Points> owned;              ///< the loss's parameters then; empty: TrainerConfig::owned or the seeded ones
    /// The optimizer's memory (moments, buffers, step counters); empty: a fresh optimizer, so the
    /// run goes on from the positions but not bit for bit as the uninterrupted one.
    std::optional<OptimizerState> optimizer;
    /// The cross-batch memory's queue then (with TrainerConfig::crossBatchMemory); empty: an empty
    /// queue, so the run goes on but not bit for bit as the uninterrupted one.
    std::optional<MemoryQueue> memory;
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
    /// Initial owned parameters; when empty, seeded N(0,1) rows with the loss's own initial values
    /// written over them (LossInfo::initialOwned).
    std::optional<Points> owned;
    int metricsEvery = 10;        ///< retrieval metrics every k steps (they cost O(N² log N))
    /// Where the run starts when it continues a saved one; empty: step 0 at `points`. `points`
    /// stay the data of step 0 (the collapse metric measures against them).
    std::optional<TrainerStart> start;
    /// PML's CrossBatchMemory around the loss; empty: none. Needs P×K batches (a full batch would
    /// compare every point with stale copies of itself), a loss and miner that take a reference
    /// set (LossInfo / MinerInfo::acceptsReference), a batch of ≥ 2 rows and memorySize ≥ the batch.
    std::optional<CrossBatchMemoryConfig> crossBatchMemory;

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
    /// Wang & Isola on the unit sphere (metrics.h): how evenly the directions spread (lower = more
    /// uniform) and how close same-class directions are (lower = tighter), for any D.
    Real uniformity = 0.0;
    Real alignment = 0.0;
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
    /// ∂L/∂x of the last step for every point (zero rows outside the batch); in a snapshot
    /// published without a step (start, edit, new settings) the one the next step will apply.
    Points gradient;
    /// The part of `gradient` through same-class terms (LossOutput::gradFromPositives), laid out
    /// like `gradient`; gradient − gradientFromPositives is the part through other-class terms.
    /// Empty unless the step was taken with Trainer::setSplitForces(true).
    Points gradientFromPositives;
    Real loss = 0.0;
    /// multiple_losses: the weighted value w_i·L_i of each component (LossOutput::components),
    /// in order; empty for every other loss.
    std::vector<Real> lossComponents;
    LossStats stats;
    MinerCounts minerCounts;
    Metrics metrics;
    bool deadGradient = false;  ///< `gradient` is all zero: no active tuple, nothing moves
    TrainStatus status = TrainStatus::Running;
    std::string message;        ///< why training stopped, for Diverged
    /// The cross-batch memory after the last step: its filled rows (positions as they were when
    /// enqueued) and labels, in slot order; empty without a memory or before the first step.
    Points memoryPositions;
    Labels memoryLabels;
};

class Trainer {
public:
    /// `config` must be valid (see TrainerConfig::isValid); asserts otherwise.
    explicit Trainer(TrainerConfig config);
    ~Trainer();

    /**
     * Advances up to `steps` steps (fewer if diverged or stop requested) and returns one snapshot
     * of where it got to; a chunk builds its snapshot once, at its end. Retrieval metrics are
     * computed at the end of the chunk when the chunk crossed a step that is a multiple of
     * metricsEvery (Metrics::step says where they were computed); stepping one at a time gives
     * them at exactly those steps.
     */
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

    /**
     * New loss, miner, optimizer and batch settings for the running state (the app changes a
     * setting while playing): the points stay where they are and training goes on from the same
     * step. Kept: positions, labels, step, the reference of the collapse metric, the owned
     * parameters when the new loss owns the same shape (otherwise they start as the constructor
     * starts them: seeded N(0,1), with a fresh optimizer state for them), and the optimizer's
     * state when its kind is unchanged (Optimizer::setConfig: buffers and moments carry on, the
     * new rates and betas apply from the next step; a different kind starts afresh). A diverged
     * run resumes from its last finite state. Bumps the revision and publishes a snapshot of the
     * same step evaluated with the new settings. Returns false with a message (and changes
     * nothing) when the settings are invalid.
     */
    bool reconfigure(const LossConfig& loss, const std::optional<MinerConfig>& miner, const OptimizerConfig& optimizer,
                     const BatchConfig& batch, std::string* error);
    /**
     * reconfigure() with the loss, miner, optimizer, batch and cross-batch memory of `settings`
     * (its data, seed and start are ignored). The memory's queue is kept when its size is
     * unchanged and starts empty otherwise (or when the memory is switched on).
     */
    bool reconfigure(const TrainerConfig& settings, std::string* error);

    /// The moment the run is at (step, positions, owned parameters, optimizer state): put it in
    /// TrainerConfig::start, with this trainer's config(), to continue the run bit for bit.
    TrainerStart savedState() const;
    const Loss& loss() const { return *m_loss; }
    /// Whether the following steps also split each force into its same-class part
    /// (Snapshot::gradientFromPositives). Costs one more backward pass per step and never
    /// changes the trajectory; may be switched between step() calls.
    void setSplitForces(bool on) { m_splitForces = on; }
    bool splitForces() const { return m_splitForces; }

private:
    bool stepOnce();
    void prepareBatches();
    void sampleBatch(std::uint64_t seed);
    LossOutput evaluateStep();
    void keepStepInputs();
    void scatter(const Points& batchRows, Points& target) const;
    void previewNextStep();
    void publish(bool metricsDue);
    /// The seeded N(0,1) owned rows, with the loss's own initial values written over them
    /// (LossInfo::initialOwned).
    Points initialOwned(const LossConfig& loss) const;
    void measureGeometry();
    /// The queue with this step's batch enqueued (into m_nextMemory) and the tuples against it
    /// with the self comparisons removed (into m_tuples).
    void mineWithMemory(const Points& x, const Labels& y, std::uint64_t minerSeed);
    bool applySettings(const LossConfig& loss, const std::optional<MinerConfig>& miner,
                       const OptimizerConfig& optimizer, const BatchConfig& batch,
                       const std::optional<CrossBatchMemoryConfig>& memory, std::string* error);

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
    Points m_referencePoints;                 ///< the data of step 0, the collapse metric's reference
    std::optional<Real> m_initialSpread[2];   ///< their mean pairwise distance, raw / normalized (when needed)
    DistanceSpec m_metricDistance;
    std::shared_ptr<const Snapshot> m_snapshot;

    // Buffers reused from step to step, so that a step allocates little beyond the loss's own work.
    bool m_fullBatch = true;
    std::vector<std::vector<int>> m_classMembers;  ///< P×K batches: point indices of each class, by label
    std::vector<int> m_classOrder, m_pool;
    std::vector<int> m_batch;                      ///< batch row → point index
    Points m_batchX;                               ///< P×K batches: the batch's rows
    Labels m_batchY;
    std::optional<Tuples> m_tuples;
    Points m_stepGradient, m_stepGradientFromPositives, m_nextPositions, m_nextOwned;
    std::optional<Optimizer> m_savedOptimizer;
    MemoryQueue m_memory;      ///< the cross-batch memory's queue (empty without one)
    MemoryQueue m_nextMemory;  ///< the queue with the evaluated step's batch enqueued

    // What the last evaluated step (or the preview of the next one) gave, for the next snapshot.
    // The miner counts are computed only when a snapshot is built, from the kept tuples and batch.
    Real m_lastLoss = 0.0;
    std::vector<Real> m_lastComponents;
    LossStats m_lastStats;
    Points m_lastGradient, m_lastGradientFromPositives;
    bool m_lastSplit = false;
    std::optional<Tuples> m_lastTuples;
    Points m_lastBatchX;
    Labels m_lastBatchY;
};

}  // namespace marginlab

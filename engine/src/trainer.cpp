// SPDX-License-Identifier: MIT
#include "marginlab/trainer.h"

#include "marginlab/limits.h"
#include "marginlab/losses/class_labels.h"
#include "marginlab/metrics.h"
#include "marginlab/random.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>
#include <utility>

namespace marginlab {

namespace {

constexpr std::uint64_t kBatchStream = 1;
constexpr std::uint64_t kMinerStream = 2;
constexpr std::uint64_t kLossStream = 3;
constexpr std::uint64_t kInitStream = 4;

bool allFinite(const Points& p) { return p.size() == 0 || p.allFinite(); }

// Beyond this a squared distance overflows to infinity, and ∞ − ∞ = NaN can hide behind a relu as
// a zero loss: such a state is as lost as a non-finite one.
constexpr Real kLargestCoordinate = 1e150;

bool usable(const Points& p) { return allFinite(p) && (p.size() == 0 || p.cwiseAbs().maxCoeff() <= kLargestCoordinate); }

}  // namespace

std::string statusName(TrainStatus status) {
    switch (status) {
    case TrainStatus::Running: return "running";
    case TrainStatus::Diverged: return "diverged";
    case TrainStatus::Cancelled: return "cancelled";
    }
    return "running";
}

bool TrainerConfig::isValid(std::string* error) const {
    auto fail = [&](const std::string& message) {
        if (error) *error = message;
        return false;
    };
    if (points.rows() < 2) return fail("the data needs at least 2 points");
    if (points.cols() < 1) return fail("points need at least one coordinate");
    if (!points.allFinite()) return fail("the data contains a non-finite coordinate");
    if (static_cast<Eigen::Index>(labels.size()) != points.rows())
        return fail("there are " + std::to_string(labels.size()) + " labels for " + std::to_string(points.rows()) +
                    " points");
    if (numClasses < 1) return fail("the number of classes must be at least 1");
    std::string message;
    if (!validateClassLabels(labels, numClasses, &message)) return fail(message);
    if (!makeLoss(this->loss, &message)) return fail(message);
    if (miner) {
        if (!acceptsMinerOf(this->loss)) return fail("loss " + this->loss.name + " does not use a miner");
        if (!makeMiner(*miner, &message)) return fail(message);
    }
    const Eigen::Index ownedRows = static_cast<Eigen::Index>(ownedBlocksOf(this->loss)) * numClasses;
    auto checkOwned = [&](const Points& matrix, const std::string& what) {
        if (matrix.rows() != ownedRows || matrix.cols() != points.cols())
            return fail(what + " must be " + std::to_string(ownedRows) + "×" + std::to_string(points.cols()));
        if (!matrix.allFinite()) return fail(what + " contain a non-finite value");
        return true;
    };
    if (owned && !checkOwned(*owned, "the loss parameters")) return false;
    if (!optimizer.isValid(&message)) return fail(message);
    if (batch.mode == BatchConfig::Mode::ClassesTimesSamples && (batch.classesPerBatch < 1 || batch.samplesPerClass < 1))
        return fail("a P×K batch needs P ≥ 1 classes and K ≥ 1 samples");
    if (metricsEvery < 1) return fail("metrics interval must be at least 1 step");
    if (crossBatchMemory) {
        const int size = crossBatchMemory->memorySize;
        if (size < 1 || size > limits::kMaxMemorySize)
            return fail("the cross-batch memory size must be between 1 and " +
                        std::to_string(limits::kMaxMemorySize));
        const LossInfo* info = findLoss(loss.name);
        if (!info || !info->acceptsReference)
            return fail("loss " + loss.name + " cannot compare with a cross-batch memory (those that can: " +
                        lossesAcceptingReference() + ")");
        if (miner && !findMiner(miner->name)->acceptsReference)
            return fail("miner " + miner->name + " cannot mine a cross-batch memory (those that can: " +
                        minersAcceptingReference() + ")");
        if (batch.mode != BatchConfig::Mode::ClassesTimesSamples)
            return fail(
                "a cross-batch memory needs P×K batches: with the full batch every point would be compared "
                "with stale copies of itself");
        // The batch holds min(P, classes present) classes (prepareBatches()).
        std::vector<bool> seen(static_cast<std::size_t>(numClasses), false);
        long classes = 0;
        for (int label : labels)
            if (!seen[static_cast<std::size_t>(label)]) {
                seen[static_cast<std::size_t>(label)] = true;
                ++classes;
            }
        const long batchSize = std::min<long>(batch.classesPerBatch, classes) * batch.samplesPerClass;
        if (batchSize < 2) return fail("a cross-batch memory needs batches of at least 2 points");
        if (size < batchSize)
            return fail("the cross-batch memory (" + std::to_string(size) +
                        ") must hold at least one batch (" + std::to_string(batchSize) + " points)");
    }
    if (start && start->memory) {
        if (!crossBatchMemory)
            return fail("the start has a memory queue but the run has no cross-batch memory");
        const MemoryQueue& queue = *start->memory;
        const int size = crossBatchMemory->memorySize;
        const Eigen::Index rows = queue.embeddings.rows();
        if (queue.queueIndex < 0 || queue.queueIndex >= size)
            return fail("the memory queue's index must be in [0, " + std::to_string(size) + ")");
        if (rows != (queue.filled ? size : queue.queueIndex) ||
            (rows > 0 && queue.embeddings.cols() != points.cols()))
            return fail(
                "the memory queue must hold " + std::to_string(queue.filled ? size : queue.queueIndex) + "×" +
                std::to_string(points.cols()) + " rows (its index and whether it is filled say how many)");
        if (static_cast<Eigen::Index>(queue.labels.size()) != rows)
            return fail("the memory queue needs one label per row");
        if (!usable(queue.embeddings))
            return fail("the memory queue contains a non-finite or too large value");
        if (!validateClassLabels(queue.labels, numClasses, &message))
            return fail("the memory queue: " + message);
    }
    if (start) {
        if (start->step < 0) return fail("the start step must be ≥ 0");
        if (start->positions.rows() != points.rows() || start->positions.cols() != points.cols())
            return fail("the start positions must be " + std::to_string(points.rows()) + "×" +
                        std::to_string(points.cols()) + " like the data");
        if (!usable(start->positions)) return fail("the start positions contain a non-finite or too large value");
        if (start->owned && !checkOwned(*start->owned, "the start's loss parameters")) return false;
        if (start->optimizer &&
            !start->optimizer->isValid(optimizer.kind, {{points.rows(), points.cols()}, {ownedRows, points.cols()}},
                                       &message))
            return fail(message);
    }
    return true;
}

Trainer::Trainer(TrainerConfig config) : m_config(std::move(config)) {
    std::string error;
    [[maybe_unused]] const bool valid = m_config.isValid(&error);
    assert(valid && "Trainer needs a valid configuration");
    m_loss = makeLoss(m_config.loss, &error);
    if (m_config.miner) m_miner = makeMiner(*m_config.miner, &error);
    m_optimizer = std::make_unique<Optimizer>(m_config.optimizer);
    m_positions = m_config.start ? m_config.start->positions : m_config.points;
    m_referencePoints = m_config.points;

    if (m_config.start && m_config.start->owned) m_owned = *m_config.start->owned;
    else if (m_config.owned) m_owned = *m_config.owned;
    else m_owned = initialOwned(m_config.loss);
    if (m_config.start) {
        m_step = m_config.start->step;
        if (m_config.start->optimizer) m_optimizer->restore(*m_config.start->optimizer);
        if (m_config.start->memory) m_memory = *m_config.start->memory;
    }
    measureGeometry();
    prepareBatches();
    previewNextStep();
    publish(true);
}

Trainer::~Trainer() = default;

Points Trainer::initialOwned(const LossConfig& loss) const {
    const Eigen::Index rows = static_cast<Eigen::Index>(ownedBlocksOf(loss)) * m_config.numClasses;
    Points owned;
    if (rows == 0) return owned;
    Rng rng(Rng::deriveSeed(m_config.seed, kInitStream));
    owned.resize(rows, m_positions.cols());
    for (Eigen::Index i = 0; i < owned.rows(); ++i)
        for (Eigen::Index j = 0; j < owned.cols(); ++j) owned(i, j) = rng.normal();
    // The configuration was validated, so the parameters complete without error.
    writeInitialOwned(loss, owned);
    return owned;
}

void Trainer::measureGeometry() {
    // Retrieval and collapse are measured in the geometry the loss sees: on the sphere when it normalizes.
    const DistanceSpec lossDistance = lossDistanceOf(m_config.loss);
    m_metricDistance = DistanceSpec::lp(1, lossDistance.normalizes());
    std::optional<Real>& spread = m_initialSpread[m_metricDistance.normalizes() ? 1 : 0];
    if (!spread) spread = meanPairwiseDistance(m_referencePoints, m_metricDistance, metricQueries(m_referencePoints.rows()));
}

void Trainer::prepareBatches() {
    const int n = static_cast<int>(m_positions.rows());
    m_fullBatch = m_config.batch.mode == BatchConfig::Mode::Full;
    m_classMembers.clear();
    if (m_fullBatch) {
        m_batch.resize(static_cast<std::size_t>(n));
        std::iota(m_batch.begin(), m_batch.end(), 0);
        return;
    }
    // The classes present, in increasing label order, each with its points in index order.
    std::vector<int> slot(static_cast<std::size_t>(m_config.numClasses), -1);
    std::vector<int> present;
    for (int i = 0; i < n; ++i) {
        const int label = m_config.labels[static_cast<std::size_t>(i)];
        if (slot[static_cast<std::size_t>(label)] < 0) {
            slot[static_cast<std::size_t>(label)] = 0;
            present.push_back(label);
        }
    }
    std::sort(present.begin(), present.end());
    for (std::size_t c = 0; c < present.size(); ++c) slot[static_cast<std::size_t>(present[c])] = static_cast<int>(c);
    m_classMembers.assign(present.size(), {});
    for (int i = 0; i < n; ++i)
        m_classMembers[static_cast<std::size_t>(slot[static_cast<std::size_t>(m_config.labels[static_cast<std::size_t>(i)])])]
            .push_back(i);
}

void Trainer::sampleBatch(std::uint64_t seed) {
    // Shuffling class positions permutes exactly as shuffling the labels themselves would: the
    // draws do not depend on the values, so the batch sequence stays that of (seed, step).
    m_classOrder.resize(m_classMembers.size());
    std::iota(m_classOrder.begin(), m_classOrder.end(), 0);
    Rng rng(seed);
    rng.shuffle(m_classOrder);
    const int p = std::min<int>(m_config.batch.classesPerBatch, static_cast<int>(m_classOrder.size()));
    const int k = m_config.batch.samplesPerClass;
    m_batch.clear();
    for (int c = 0; c < p; ++c) {
        m_pool = m_classMembers[static_cast<std::size_t>(m_classOrder[static_cast<std::size_t>(c)])];
        if (static_cast<int>(m_pool.size()) >= k) {
            rng.shuffle(m_pool);
            m_batch.insert(m_batch.end(), m_pool.begin(), m_pool.begin() + k);
        } else {
            for (int j = 0; j < k; ++j)
                m_batch.push_back(m_pool[rng.uniformInt(static_cast<std::uint64_t>(m_pool.size()))]);
        }
    }
    std::sort(m_batch.begin(), m_batch.end());
    m_batchX.resize(static_cast<Eigen::Index>(m_batch.size()), m_positions.cols());
    m_batchY.resize(m_batch.size());
    for (std::size_t b = 0; b < m_batch.size(); ++b) {
        m_batchX.row(static_cast<Eigen::Index>(b)) = m_positions.row(m_batch[b]);
        m_batchY[b] = m_config.labels[static_cast<std::size_t>(m_batch[b])];
    }
}

LossOutput Trainer::evaluateStep() {
    const std::uint64_t stepSeed = Rng::deriveSeed(m_config.seed, static_cast<std::uint64_t>(m_step));
    if (!m_fullBatch) sampleBatch(Rng::deriveSeed(stepSeed, kBatchStream));
    // A full batch is every point in order: the loss reads the positions themselves.
    const Points& x = m_fullBatch ? m_positions : m_batchX;
    const Labels& y = m_fullBatch ? m_config.labels : m_batchY;
    m_tuples.reset();
    if (m_config.crossBatchMemory)
        mineWithMemory(x, y, Rng::deriveSeed(stepSeed, kMinerStream));
    else if (m_miner)
        m_tuples = m_miner->mine(MinerInput{x, y, Rng::deriveSeed(stepSeed, kMinerStream)});
    LossInput input{x, y, m_owned.size() ? &m_owned : nullptr, m_tuples ? &*m_tuples : nullptr,
                    Rng::deriveSeed(stepSeed, kLossStream)};
    input.splitForces = m_splitForces;
    if (m_config.crossBatchMemory) {
        input.referenceEmbeddings = &m_nextMemory.embeddings;
        input.referenceLabels = &m_nextMemory.labels;
    }
    return m_loss->evaluate(input, true);
}

void Trainer::mineWithMemory(const Points& x, const Labels& y, std::uint64_t minerSeed) {
    // PML's add_to_memory: the batch goes into slots queue_idx, queue_idx + 1, … (mod size) before
    // the loss sees the queue; the filled part is a prefix until the ring first wraps.
    const int size = m_config.crossBatchMemory->memorySize;
    const int batchSize = static_cast<int>(x.rows());
    const int first = m_memory.queueIndex;
    m_nextMemory.filled = m_memory.filled || first + batchSize >= size;
    m_nextMemory.queueIndex = (first + batchSize) % size;
    const Eigen::Index rows = m_nextMemory.filled ? size : first + batchSize;
    m_nextMemory.embeddings.resize(rows, x.cols());
    m_nextMemory.labels.resize(static_cast<std::size_t>(rows));
    const Eigen::Index kept = std::min<Eigen::Index>(m_memory.embeddings.rows(), rows);
    if (kept > 0) m_nextMemory.embeddings.topRows(kept) = m_memory.embeddings.topRows(kept);
    std::copy_n(m_memory.labels.begin(), kept, m_nextMemory.labels.begin());
    auto slotOf = [&](int row) { return (first + row) % size; };
    for (int b = 0; b < batchSize; ++b) {
        m_nextMemory.embeddings.row(slotOf(b)) = x.row(b);  // a detached copy: no gradient reaches it
        m_nextMemory.labels[static_cast<std::size_t>(slotOf(b))] = y[static_cast<std::size_t>(b)];
    }
    const Points& reference = m_nextMemory.embeddings;
    const Labels& referenceLabels = m_nextMemory.labels;

    Tuples tuples;
    if (m_miner) {
        MinerInput input{x, y, minerSeed};
        input.referenceEmbeddings = &reference;
        input.referenceLabels = &referenceLabels;
        tuples = m_miner->mine(input);
    } else {
        // PML's get_all_pairs_indices(labels, L_mem).
        tuples.kind = Tuples::Kind::Pairs;
        allReferencePairs(y, referenceLabels, &tuples.positivePairs, &tuples.negativePairs);
    }
    if (tuples.kind == Tuples::Kind::All)
        tuples = Tuples::fromTriplets(materializeReferenceTriplets(tuples, x, y, reference, referenceLabels));
    // PML's remove_self_comparisons: drop every positive that is the anchor's own copy just
    // enqueued (slot queue_idx + a); negatives never are. PML maps a slot back to its batch row
    // with a test that misses the copy when the batch has one row, which isValid() excludes.
    auto isSelf = [&](int anchor, int positive) { return positive == slotOf(anchor); };
    if (tuples.kind == Tuples::Kind::Triplets) {
        std::erase_if(tuples.triplets, [&](const Triplet& t) { return isSelf(t[0], t[1]); });
    } else {
        std::erase_if(tuples.positivePairs, [&](const Pair& pair) { return isSelf(pair[0], pair[1]); });
    }
    m_tuples = std::move(tuples);
}

void Trainer::scatter(const Points& batchRows, Points& target) const {
    target.setZero(m_positions.rows(), m_positions.cols());
    for (std::size_t b = 0; b < m_batch.size(); ++b)
        target.row(m_batch[b]) += batchRows.row(static_cast<Eigen::Index>(b));
}

void Trainer::previewNextStep() {
    LossOutput out = evaluateStep();
    m_lastLoss = out.value;
    m_lastComponents = std::move(out.components);
    m_lastStats = std::move(out.stats);
    // A non-finite gradient is not drawn; the step itself will report the divergence.
    if (allFinite(out.gradEmbeddings) && out.gradEmbeddings.rows() == static_cast<Eigen::Index>(m_batch.size()))
        scatter(out.gradEmbeddings, m_lastGradient);
    else m_lastGradient.setZero(m_positions.rows(), m_positions.cols());
    m_lastSplit = m_splitForces && allFinite(out.gradFromPositives) &&
                  out.gradFromPositives.rows() == static_cast<Eigen::Index>(m_batch.size());
    if (m_lastSplit) scatter(out.gradFromPositives, m_lastGradientFromPositives);
    m_lastBatchX = m_fullBatch ? m_positions : m_batchX;
    m_lastBatchY = m_fullBatch ? Labels{} : m_batchY;
    m_lastTuples = std::move(m_tuples);
}

bool Trainer::editPoints(Points positions, Labels labels, std::string* error) {
    auto fail = [&](const std::string& message) {
        if (error) *error = message;
        return false;
    };
    if (positions.cols() != m_positions.cols())
        return fail("edited points must have " + std::to_string(m_positions.cols()) + " coordinates");
    if (static_cast<Eigen::Index>(labels.size()) != positions.rows()) return fail("one label per edited point is needed");
    if (positions.rows() < 2) return fail("a run needs at least two points");
    if (!validateClassLabels(labels, m_config.numClasses, error)) return false;
    if (!positions.allFinite()) return fail("edited points must be finite");
    m_positions = std::move(positions);
    m_config.points = m_positions;
    m_config.labels = std::move(labels);
    m_config.start.reset();  // its positions no longer describe these points
    ++m_revision;
    m_optimizer->resetGroup(0);
    prepareBatches();
    previewNextStep();
    publish(true);
    return true;
}

bool Trainer::reconfigure(const LossConfig& loss, const std::optional<MinerConfig>& miner,
                          const OptimizerConfig& optimizer, const BatchConfig& batch, std::string* error) {
    return applySettings(loss, miner, optimizer, batch, m_config.crossBatchMemory, error);
}

bool Trainer::reconfigure(const TrainerConfig& settings, std::string* error) {
    return applySettings(settings.loss, settings.miner, settings.optimizer, settings.batch,
                         settings.crossBatchMemory, error);
}

bool Trainer::applySettings(const LossConfig& loss, const std::optional<MinerConfig>& miner,
                            const OptimizerConfig& optimizer, const BatchConfig& batch,
                            const std::optional<CrossBatchMemoryConfig>& memory, std::string* error) {
    TrainerConfig candidate = m_config;
    candidate.loss = loss;
    candidate.miner = miner;
    candidate.optimizer = optimizer;
    candidate.batch = batch;
    candidate.crossBatchMemory = memory;
    // Only the new settings are checked here; owned parameters and optimizer state are fitted below.
    candidate.owned.reset();
    candidate.start.reset();
    if (!candidate.isValid(error)) return false;

    std::string message;
    m_loss = makeLoss(loss, &message);
    m_miner = miner ? makeMiner(*miner, &message) : nullptr;
    const Eigen::Index ownedRows = static_cast<Eigen::Index>(ownedBlocksOf(loss)) * m_config.numClasses;
    const bool sameOwned = m_owned.rows() == ownedRows && (ownedRows == 0 || m_owned.cols() == m_positions.cols());
    if (optimizer.kind == m_optimizer->config().kind) {
        m_optimizer->setConfig(optimizer);
    } else {
        m_optimizer = std::make_unique<Optimizer>(optimizer);
    }
    if (!sameOwned) {
        m_owned = initialOwned(loss);
        m_optimizer->resetGroup(1);
    }
    candidate.owned = sameOwned ? m_config.owned : std::nullopt;
    candidate.start = m_config.start;
    // The queue carries on only with a memory of the same size; otherwise it starts empty.
    const bool sameMemory = memory && m_config.crossBatchMemory && *memory == *m_config.crossBatchMemory;
    if (!sameMemory) m_memory = MemoryQueue{};
    if (candidate.start) {
        if (!sameOwned) candidate.start->owned.reset();
        if (optimizer.kind != m_config.optimizer.kind) candidate.start->optimizer.reset();
        if (!sameMemory) candidate.start->memory.reset();
    }
    m_config = std::move(candidate);
    m_savedOptimizer.reset();
    ++m_revision;
    m_status = TrainStatus::Running;
    m_message.clear();
    measureGeometry();
    prepareBatches();
    previewNextStep();
    publish(true);
    return true;
}

TrainerStart Trainer::savedState() const {
    TrainerStart state;
    state.step = m_step;
    state.positions = m_positions;
    if (m_owned.size()) state.owned = m_owned;
    state.optimizer = m_optimizer->state();
    if (m_config.crossBatchMemory) state.memory = m_memory;
    return state;
}

bool Trainer::stepOnce() {
    LossOutput out = evaluateStep();

    if (!std::isfinite(out.value) || !allFinite(out.gradEmbeddings) || !allFinite(out.gradOwned)) {
        m_status = TrainStatus::Diverged;
        m_message = "the loss or its gradient became non-finite at step " + std::to_string(m_step + 1) +
                    "; the points are kept as they were before it";
        return false;
    }

    scatter(out.gradEmbeddings, m_stepGradient);
    // Only reported, never used for the update: the split cannot change the trajectory.
    if (m_splitForces) scatter(out.gradFromPositives, m_stepGradientFromPositives);

    m_nextPositions = m_positions;
    m_nextOwned = m_owned;
    if (m_savedOptimizer) *m_savedOptimizer = *m_optimizer;
    else m_savedOptimizer.emplace(*m_optimizer);

    m_optimizer->step(0, m_nextPositions, m_stepGradient);
    if (m_nextOwned.size()) m_optimizer->step(1, m_nextOwned, out.gradOwned);
    if (!usable(m_nextPositions) || !usable(m_nextOwned)) {
        *m_optimizer = *m_savedOptimizer;
        m_status = TrainStatus::Diverged;
        m_message = "an update produced a non-finite or astronomically large position (beyond 1e150) at step " +
                    std::to_string(m_step + 1) +
                    "; the points are kept as they were before it (try a smaller learning rate)";
        return false;
    }
    // Swaps, not copies: the points before the update stay as the batch the miner counts refer to.
    m_positions.swap(m_nextPositions);
    if (m_fullBatch) {
        m_lastBatchX.swap(m_nextPositions);
    } else {
        m_lastBatchX.swap(m_batchX);
        m_lastBatchY.swap(m_batchY);
    }
    m_owned.swap(m_nextOwned);
    if (m_config.crossBatchMemory) std::swap(m_memory, m_nextMemory);
    m_lastGradient.swap(m_stepGradient);
    m_lastSplit = m_splitForces;
    if (m_splitForces) m_lastGradientFromPositives.swap(m_stepGradientFromPositives);
    m_lastTuples = std::move(m_tuples);
    m_lastLoss = out.value;
    m_lastComponents = std::move(out.components);
    m_lastStats = std::move(out.stats);
    ++m_step;
    return true;
}

std::shared_ptr<const Snapshot> Trainer::step(int steps, std::stop_token stop) {
    bool advanced = false;
    bool metricsDue = false;
    bool cancelled = false;
    for (int i = 0; i < steps && m_status != TrainStatus::Diverged; ++i) {
        if (stop.stop_requested()) {
            cancelled = true;
            break;
        }
        if (!stepOnce()) break;
        advanced = true;
        metricsDue = metricsDue || m_step % m_config.metricsEvery == 0;
    }
    if (advanced) {
        publish(metricsDue);
    } else if (m_status == TrainStatus::Diverged && m_snapshot->status != TrainStatus::Diverged) {
        auto snapshot = std::make_shared<Snapshot>(*m_snapshot);
        snapshot->status = m_status;
        snapshot->message = m_message;
        m_snapshot = std::move(snapshot);
    }
    if (cancelled) {
        auto snapshot = std::make_shared<Snapshot>(*m_snapshot);
        snapshot->status = TrainStatus::Cancelled;
        m_snapshot = std::move(snapshot);
    }
    return m_snapshot;
}

void Trainer::publish(bool metricsDue) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->step = m_step;
    snapshot->positions = m_positions;
    snapshot->labels = m_config.labels;
    snapshot->numClasses = m_config.numClasses;
    snapshot->revision = m_revision;
    snapshot->owned = m_owned;
    snapshot->gradient = m_lastGradient;
    if (m_lastSplit) snapshot->gradientFromPositives = m_lastGradientFromPositives;
    snapshot->loss = m_lastLoss;
    snapshot->lossComponents = m_lastComponents;
    snapshot->stats = m_lastStats;
    if (m_lastTuples)
        snapshot->minerCounts = countTuples(*m_lastTuples, m_lastBatchX, m_fullBatch ? m_config.labels : m_lastBatchY);
    snapshot->deadGradient = m_lastGradient.size() == 0 || m_lastGradient.cwiseAbs().maxCoeff() == 0.0;
    snapshot->status = m_status;
    snapshot->message = m_message;
    if (m_config.crossBatchMemory) {
        snapshot->memoryPositions = m_memory.embeddings;
        snapshot->memoryLabels = m_memory.labels;
    }
    if (metricsDue || !m_snapshot) {
        Metrics& metrics = snapshot->metrics;
        metrics.step = m_step;
        // Large scenes: a fixed systematic sample of query points (metrics.h), so a row of
        // 20,000 points costs O(Q·N) instead of O(N²); the charts say so.
        const std::vector<Eigen::Index> queries = metricQueries(m_positions.rows());
        const RetrievalMetrics retrieval = retrievalMetrics(m_positions, m_config.labels, m_metricDistance, queries);
        metrics.precisionAt1 = retrieval.precisionAt1;
        metrics.rPrecision = retrieval.rPrecision;
        metrics.mapAtR = retrieval.mapAtR;
        const ClassDistances distances = classDistances(m_positions, m_config.labels, m_metricDistance, queries);
        metrics.meanIntra = distances.meanIntra;
        metrics.meanInter = distances.meanInter;
        const Real reference = m_initialSpread[m_metricDistance.normalizes() ? 1 : 0].value_or(0.0);
        metrics.collapse =
            reference > 0.0 ? meanPairwiseDistance(m_positions, m_metricDistance, queries) / reference : 1.0;
        metrics.uniformity = uniformity(m_positions, 2.0, queries);
        metrics.alignment = alignment(m_positions, m_config.labels, 2.0, queries);
    } else {
        snapshot->metrics = m_snapshot->metrics;
    }
    m_snapshot = std::move(snapshot);
}

}  // namespace marginlab

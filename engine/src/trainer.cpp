// SPDX-License-Identifier: MIT
#include "marginlab/trainer.h"

#include "marginlab/losses/class_labels.h"
#include "marginlab/metrics.h"
#include "marginlab/random.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>

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
    const LossInfo* info = findLoss(this->loss.name);
    if (miner) {
        if (!info->acceptsMiner) return fail("loss " + info->name + " does not use a miner");
        if (!makeMiner(*miner, &message)) return fail(message);
    }
    if (owned) {
        const Eigen::Index rows = static_cast<Eigen::Index>(info->ownedBlocks) * numClasses;
        if (owned->rows() != rows || owned->cols() != points.cols())
            return fail("the loss parameters must be " + std::to_string(rows) + "×" + std::to_string(points.cols()));
        if (!owned->allFinite()) return fail("the loss parameters contain a non-finite value");
    }
    if (!optimizer.isValid(&message)) return fail(message);
    if (batch.mode == BatchConfig::Mode::ClassesTimesSamples && (batch.classesPerBatch < 1 || batch.samplesPerClass < 1))
        return fail("a P×K batch needs P ≥ 1 classes and K ≥ 1 samples");
    if (metricsEvery < 1) return fail("metrics interval must be at least 1 step");
    return true;
}

Trainer::Trainer(TrainerConfig config) : m_config(std::move(config)) {
    std::string error;
    [[maybe_unused]] const bool valid = m_config.isValid(&error);
    assert(valid && "Trainer needs a valid configuration");
    m_loss = makeLoss(m_config.loss, &error);
    if (m_config.miner) m_miner = makeMiner(*m_config.miner, &error);
    m_optimizer = std::make_unique<Optimizer>(m_config.optimizer);
    m_positions = m_config.points;

    const LossInfo* info = findLoss(m_config.loss.name);
    if (m_config.owned) {
        m_owned = *m_config.owned;
    } else if (info->ownedBlocks > 0) {
        Rng rng(Rng::deriveSeed(m_config.seed, kInitStream));
        m_owned.resize(static_cast<Eigen::Index>(info->ownedBlocks) * m_config.numClasses, m_positions.cols());
        for (Eigen::Index i = 0; i < m_owned.rows(); ++i)
            for (Eigen::Index j = 0; j < m_owned.cols(); ++j) m_owned(i, j) = rng.normal();
    }
    // Retrieval and collapse are measured in the geometry the loss sees: on the sphere when it normalizes.
    const DistanceSpec lossDistance = m_config.loss.distance.value_or(info->defaultDistance);
    m_metricDistance = DistanceSpec::lp(1, lossDistance.normalizes());
    m_initialSpread = meanPairwiseDistance(m_positions, m_metricDistance);

    const LossOutput start = m_loss->evaluate(
        LossInput{m_positions, m_config.labels, m_owned.size() ? &m_owned : nullptr, nullptr, 0}, false);
    publish(start.value, start.stats, {}, Points::Zero(m_positions.rows(), m_positions.cols()), {}, true, false);
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
    ++m_revision;
    m_optimizer->resetGroup(0);
    const LossOutput now = m_loss->evaluate(
        LossInput{m_positions, m_config.labels, m_owned.size() ? &m_owned : nullptr, nullptr, 0}, false);
    publish(now.value, now.stats, {}, Points::Zero(m_positions.rows(), m_positions.cols()), {}, true, false);
    return true;
}

Trainer::~Trainer() = default;

std::vector<int> Trainer::sampleBatch(std::uint64_t stepSeed) const {
    const int n = static_cast<int>(m_positions.rows());
    std::vector<int> batch;
    if (m_config.batch.mode == BatchConfig::Mode::Full) {
        batch.resize(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) batch[static_cast<std::size_t>(i)] = i;
        return batch;
    }
    std::map<int, std::vector<int>> members;
    for (int i = 0; i < n; ++i) members[m_config.labels[static_cast<std::size_t>(i)]].push_back(i);
    std::vector<int> classes;
    for (const auto& entry : members) classes.push_back(entry.first);
    Rng rng(stepSeed);
    rng.shuffle(classes);
    const int p = std::min<int>(m_config.batch.classesPerBatch, static_cast<int>(classes.size()));
    const int k = m_config.batch.samplesPerClass;
    for (int c = 0; c < p; ++c) {
        std::vector<int> pool = members[classes[static_cast<std::size_t>(c)]];
        if (static_cast<int>(pool.size()) >= k) {
            rng.shuffle(pool);
            batch.insert(batch.end(), pool.begin(), pool.begin() + k);
        } else {
            for (int j = 0; j < k; ++j)
                batch.push_back(pool[rng.uniformInt(static_cast<std::uint64_t>(pool.size()))]);
        }
    }
    std::sort(batch.begin(), batch.end());
    return batch;
}

void Trainer::stepOnce() {
    const std::uint64_t stepSeed = Rng::deriveSeed(m_config.seed, static_cast<std::uint64_t>(m_step));
    const std::vector<int> batch = sampleBatch(Rng::deriveSeed(stepSeed, kBatchStream));

    Points x(static_cast<Eigen::Index>(batch.size()), m_positions.cols());
    Labels y(batch.size());
    for (std::size_t b = 0; b < batch.size(); ++b) {
        x.row(static_cast<Eigen::Index>(b)) = m_positions.row(batch[b]);
        y[b] = m_config.labels[static_cast<std::size_t>(batch[b])];
    }

    std::optional<Tuples> tuples;
    MinerCounts counts;
    if (m_miner) {
        tuples = m_miner->mine(MinerInput{x, y, Rng::deriveSeed(stepSeed, kMinerStream)});
        counts = countTuples(*tuples, x, y);
    }
    const Points* owned = m_owned.size() ? &m_owned : nullptr;
    LossInput input{x, y, owned, tuples ? &*tuples : nullptr, Rng::deriveSeed(stepSeed, kLossStream)};
    input.splitForces = m_splitForces;
    const LossOutput out = m_loss->evaluate(input, true);

    if (!std::isfinite(out.value) || !allFinite(out.gradEmbeddings) || !allFinite(out.gradOwned)) {
        m_status = TrainStatus::Diverged;
        m_message = "the loss or its gradient became non-finite at step " + std::to_string(m_step + 1) +
                    "; the points are kept as they were before it";
        return;
    }

    Points gradient = Points::Zero(m_positions.rows(), m_positions.cols());
    for (std::size_t b = 0; b < batch.size(); ++b)
        gradient.row(batch[b]) += out.gradEmbeddings.row(static_cast<Eigen::Index>(b));

    // Only reported, never used for the update: the split cannot change the trajectory.
    Points gradientFromPositives;
    if (m_splitForces) {
        gradientFromPositives = Points::Zero(m_positions.rows(), m_positions.cols());
        for (std::size_t b = 0; b < batch.size(); ++b)
            gradientFromPositives.row(batch[b]) += out.gradFromPositives.row(static_cast<Eigen::Index>(b));
    }

    Points nextPositions = m_positions;
    Points nextOwned = m_owned;
    const Optimizer saved = *m_optimizer;
    m_optimizer->step(0, nextPositions, gradient);
    if (nextOwned.size()) m_optimizer->step(1, nextOwned, out.gradOwned);
    if (!usable(nextPositions) || !usable(nextOwned)) {
        *m_optimizer = saved;
        m_status = TrainStatus::Diverged;
        m_message = "an update produced a non-finite or astronomically large position (beyond 1e150) at step " +
                    std::to_string(m_step + 1) +
                    "; the points are kept as they were before it (try a smaller learning rate)";
        return;
    }
    m_positions = std::move(nextPositions);
    m_owned = std::move(nextOwned);
    ++m_step;
    const bool metricsDue = m_step % m_config.metricsEvery == 0;
    const bool deadGradient = gradient.size() == 0 || gradient.cwiseAbs().maxCoeff() == 0.0;
    publish(out.value, out.stats, counts, gradient, std::move(gradientFromPositives), metricsDue, deadGradient);
}

std::shared_ptr<const Snapshot> Trainer::step(int steps, std::stop_token stop) {
    for (int i = 0; i < steps && m_status != TrainStatus::Diverged; ++i) {
        if (stop.stop_requested()) {
            auto snapshot = std::make_shared<Snapshot>(*m_snapshot);
            snapshot->status = TrainStatus::Cancelled;
            m_snapshot = std::move(snapshot);
            return m_snapshot;
        }
        stepOnce();
    }
    if (m_status == TrainStatus::Diverged && m_snapshot->status != TrainStatus::Diverged) {
        auto snapshot = std::make_shared<Snapshot>(*m_snapshot);
        snapshot->status = m_status;
        snapshot->message = m_message;
        m_snapshot = std::move(snapshot);
    }
    return m_snapshot;
}

void Trainer::publish(Real loss, const LossStats& stats, const MinerCounts& counts, const Points& gradient,
                      Points gradientFromPositives, bool metricsDue, bool deadGradient) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->step = m_step;
    snapshot->positions = m_positions;
    snapshot->labels = m_config.labels;
    snapshot->numClasses = m_config.numClasses;
    snapshot->revision = m_revision;
    snapshot->owned = m_owned;
    snapshot->gradient = gradient;
    snapshot->gradientFromPositives = std::move(gradientFromPositives);
    snapshot->loss = loss;
    snapshot->stats = stats;
    snapshot->minerCounts = counts;
    snapshot->deadGradient = deadGradient;
    snapshot->status = m_status;
    snapshot->message = m_message;
    if (metricsDue || !m_snapshot) {
        Metrics& metrics = snapshot->metrics;
        metrics.step = m_step;
        const RetrievalMetrics retrieval = retrievalMetrics(m_positions, m_config.labels, m_metricDistance);
        metrics.precisionAt1 = retrieval.precisionAt1;
        metrics.rPrecision = retrieval.rPrecision;
        metrics.mapAtR = retrieval.mapAtR;
        const ClassDistances distances = classDistances(m_positions, m_config.labels, m_metricDistance);
        metrics.meanIntra = distances.meanIntra;
        metrics.meanInter = distances.meanInter;
        metrics.collapse = m_initialSpread > 0.0
                               ? meanPairwiseDistance(m_positions, m_metricDistance) / m_initialSpread
                               : 1.0;
    } else {
        snapshot->metrics = m_snapshot->metrics;
    }
    m_snapshot = std::move(snapshot);
}

}  // namespace marginlab

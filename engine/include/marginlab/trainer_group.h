// SPDX-License-Identifier: MIT
/**
 * TrainerGroup: 1–4 trainers (panels) that compare settings on one run — the same data, the
 * same initial points, the same initial owned parameters and the same batch sequence — stepping
 * in lockstep. The single view is a group of one.
 *
 * Sharing needs no copying of random state: every panel is a Trainer built from the same data,
 * seed, batch settings and start, and each step's draws derive from (seed, step). Panels whose
 * losses own parameters of the same shape start from the same ones (same seed, same draws); a
 * loss with another shape starts its own. Each panel therefore equals, bit for bit, the same
 * configuration run alone.
 *
 * One thread budget: step() advances the panels one after another, each using the engine's pool
 * (marginlab/parallel.h) for its loss, so four panels never run more threads than one.
 */
#pragma once

#include "marginlab/trainer.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace marginlab {

/// One snapshot per panel, in panel order, all of the same step (unless a panel diverged).
struct GroupSnapshot {
    std::vector<std::shared_ptr<const Snapshot>> panels;
};

class TrainerGroup {
public:
    static constexpr std::size_t kMaxPanels = 4;

    /**
     * Checks 1–4 panel configurations: each valid (TrainerConfig::isValid), and all sharing the
     * data (points, labels, class count), seed, batch settings and start (step and positions);
     * panels whose losses own the same shape of parameters must start them alike (all given and
     * equal, or none given). A message names the first problem and the panels concerned.
     */
    static bool isValid(const std::vector<TrainerConfig>& panels, std::string* error);

    /// `panels` must be valid (see isValid); asserts otherwise.
    explicit TrainerGroup(std::vector<TrainerConfig> panels);
    ~TrainerGroup();

    std::size_t size() const { return m_panels.size(); }
    const Trainer& panel(std::size_t index) const { return *m_panels.at(index); }
    /// The step every panel is advanced to (the start step plus every step() asked for).
    long step() const { return m_target; }

    /**
     * Advances every panel to step() + `steps`, one panel after the other, and returns their
     * snapshots. A diverged panel stays where it stopped. A stop request ends the current panel's
     * chunk early and leaves the later panels where they were; the next call brings every panel
     * to the common step again, which also catches up a diverged panel that was reconfigured.
     */
    GroupSnapshot step(int steps, std::stop_token stop = {});
    GroupSnapshot snapshot() const;

    /// Trainer::reconfigure for one panel (its loss, miner and optimizer); the batch is shared,
    /// see setBatch(). False with a message (nothing changed) on invalid settings or panel index.
    bool reconfigure(std::size_t panel, const LossConfig& loss, const std::optional<MinerConfig>& miner,
                     const OptimizerConfig& optimizer, std::string* error);
    /// New batch settings for every panel (the batch sequence stays shared).
    bool setBatch(const BatchConfig& batch, std::string* error);
    /// Trainer::editPoints on every panel: all or nothing.
    bool editPoints(const Points& positions, const Labels& labels, std::string* error);
    void setSplitForces(bool on);

private:
    std::vector<std::unique_ptr<Trainer>> m_panels;
    long m_target = 0;
};

}  // namespace marginlab

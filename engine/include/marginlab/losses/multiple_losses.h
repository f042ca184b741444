// SPDX-License-Identifier: MIT
/**
 * A weighted sum of catalogue losses, pytorch-metric-learning's MultipleLosses wrapper.
 *
 * Shapes: embeddings X (N×D), labels N; owned matrix (B·C)×D with B = Σ_i B_i, the owned blocks
 * of the components stacked in component order (component i reads and writes its B_i·C rows;
 * "triplet + ArcFace" owns ArcFace's C×D class weights alone).
 *
 *     L(X, W) = Σ_i w_i · L_i(X, y, tuples; W_i)          i = 1..K, 2 ≤ K ≤ 4
 *     ∂L/∂X   = Σ_i w_i · ∂L_i/∂X,     ∂L/∂W_i = w_i · ∂L_i/∂W_i
 *
 * PML: MultipleLosses(losses, miners=None, weights=None); weights default to 1. PML hands the
 * caller's indices_tuple to every loss; here the trainer's one miner reaches every component that
 * accepts a miner (LossInfo::acceptsMiner), and the others compute as they do alone (the
 * classification and proxy losses here take no miner). PML's optional per-loss `miners` are not
 * offered: a run has one miner, and its counts are what the mining chart shows.
 * Every component keeps its own parameters, distance and reduction; the sampling seed
 * (LossInput::sampleSeed) is passed to each as it is, so a component gives exactly the value it
 * gives alone. No valid tuples: each component returns its own 0.
 *
 * Outputs: LossOutput::components holds w_i·L_i in order (the charts draw them); the statistics
 * are those of the first component with easy / semi-hard / hard regions, else of the first one.
 * Force split: the weighted sum of the components' splits (each header says what its same-class
 * terms are). Softmax-family views (marginLogits) are those of the first component that owns
 * parameters, whose rows come first in the owned matrix; none if that component has none.
 *
 * Cost: the sum of the components' costs, plus a copy of each component's owned rows.
 */
#pragma once

#include <memory>
#include <vector>

#include "marginlab/loss.h"

namespace marginlab {

class MultipleLosses final : public Loss {
public:
    struct Component {
        std::unique_ptr<Loss> loss;
        Real weight = 1.0;
        int ownedBlocks = 0;        ///< its blocks of C rows in the owned matrix
        bool acceptsMiner = false;  ///< whether the mined tuples reach it
    };

    explicit MultipleLosses(std::vector<Component> components);

    std::string_view name() const override { return "multiple_losses"; }
    LossOutput evaluate(const LossInput& input, bool withGradient) const override;
    std::optional<MarginLogits> marginLogits() const override;

    std::size_t size() const { return m_components.size(); }

private:
    std::vector<Component> m_components;
    int m_ownedBlocks = 0;
};

}  // namespace marginlab

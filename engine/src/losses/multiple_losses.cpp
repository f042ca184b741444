// SPDX-License-Identifier: MIT
#include "marginlab/losses/multiple_losses.h"

#include <cassert>
#include <utility>

namespace marginlab {

MultipleLosses::MultipleLosses(std::vector<Component> components) : m_components(std::move(components)) {
    for (const Component& c : m_components) m_ownedBlocks += c.ownedBlocks;
}

LossOutput MultipleLosses::evaluate(const LossInput& input, bool withGradient) const {
    const Eigen::Index n = input.embeddings.rows(), d = input.embeddings.cols();
    // C follows from the stacked matrix: every block has one row per class.
    Eigen::Index classes = 0;
    if (m_ownedBlocks > 0) {
        assert(input.owned && input.owned->rows() % m_ownedBlocks == 0);
        classes = input.owned->rows() / m_ownedBlocks;
    }

    LossOutput out;
    out.components.reserve(m_components.size());
    if (withGradient) {
        out.gradEmbeddings.setZero(n, d);
        if (input.splitForces) out.gradFromPositives.setZero(n, d);
        if (input.owned) out.gradOwned.setZero(input.owned->rows(), input.owned->cols());
    }
    bool statsChosen = false;
    Eigen::Index firstRow = 0;
    Points slice;
    for (std::size_t i = 0; i < m_components.size(); ++i) {
        const Component& c = m_components[i];
        const Eigen::Index rows = static_cast<Eigen::Index>(c.ownedBlocks) * classes;
        // A component sees only its own rows, in the layout it has alone.
        if (rows > 0) slice = input.owned->middleRows(firstRow, rows);
        LossInput part{input.embeddings, input.labels, rows > 0 ? &slice : nullptr,
                       c.acceptsMiner ? input.tuples : nullptr, input.sampleSeed};
        part.splitForces = input.splitForces;
        LossOutput term = c.loss->evaluate(part, withGradient);

        const Real weighted = c.weight * term.value;
        out.components.push_back(weighted);
        out.value += weighted;
        if (withGradient) {
            out.gradEmbeddings += c.weight * term.gradEmbeddings;
            if (input.splitForces) out.gradFromPositives += c.weight * term.gradFromPositives;
            if (rows > 0) out.gradOwned.middleRows(firstRow, rows) = c.weight * term.gradOwned;
        }
        // The mining and region charts describe one tuple loss: the first with regions.
        if (i == 0 || (!statsChosen && term.stats.hasRegions)) {
            statsChosen = term.stats.hasRegions;
            out.stats = std::move(term.stats);
        }
        firstRow += rows;
    }
    return out;
}

std::optional<MarginLogits> MultipleLosses::marginLogits() const {
    for (const Component& c : m_components)
        if (c.ownedBlocks > 0) return c.loss->marginLogits();
    return std::nullopt;
}

}  // namespace marginlab

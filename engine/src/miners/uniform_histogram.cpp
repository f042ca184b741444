// SPDX-License-Identifier: MIT
#include "marginlab/miners/uniform_histogram.h"

#include <algorithm>

#include "marginlab/random.h"
#include "miners/miner_matrix.h"

namespace marginlab {

Tuples UniformHistogramMiner::mine(const MinerInput& input) const {
    std::vector<Pair> positives, negatives;
    detail::allMinerPairs(input, &positives, &negatives);
    if (positives.empty() && negatives.empty()) return Tuples::fromPairs({}, {});
    const detail::MinerMatrix matrix(m_distance, input);
    const Matrix& m = matrix.values();
    Rng random(input.seed);
    auto draw = [&](const std::vector<Pair>& pairs, int perBin) {
        std::vector<Pair> out;
        if (pairs.empty()) return out;
        std::vector<Real> values(pairs.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) values[k] = m(pairs[k][0], pairs[k][1]);
        const Real low = *std::min_element(values.begin(), values.end());
        const Real high = *std::max_element(values.begin(), values.end());
        // torch.linspace: the first half counted from the start, the second half from the end.
        const int steps = m_bins + 1;
        const Real step = (high - low) / static_cast<Real>(m_bins);
        std::vector<Real> edges(static_cast<std::size_t>(steps));
        for (int i = 0; i < steps; ++i)
            edges[static_cast<std::size_t>(i)] =
                i < steps / 2 ? low + step * i : high - step * (steps - 1 - i);
        std::vector<std::size_t> members;
        for (int b = 0; b < m_bins; ++b) {
            const Real start = edges[static_cast<std::size_t>(b)],
                       end = edges[static_cast<std::size_t>(b + 1)];
            const bool last = b == m_bins - 1;
            members.clear();
            for (std::size_t k = 0; k < values.size(); ++k)
                if (start <= values[k] && (last ? values[k] <= end : values[k] < end)) members.push_back(k);
            if (members.empty()) continue;
            for (int draws = 0; draws < perBin; ++draws)
                out.push_back(pairs[members[random.uniformInt(members.size())]]);
        }
        return out;
    };
    std::vector<Pair> keptPositives = draw(positives, m_positivesPerBin);
    std::vector<Pair> keptNegatives = draw(negatives, m_negativesPerBin);
    return Tuples::fromPairs(std::move(keptPositives), std::move(keptNegatives));
}

}  // namespace marginlab

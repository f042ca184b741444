// SPDX-License-Identifier: MIT
#include "marginlab/losses/nce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "losses/contrastive_support.h"
#include "losses/exp_row.h"
#include "losses/nce_draws.h"
#include "losses/pair_family_support.h"
#include "losses/pair_rows.h"
#include "simd/dispatch.h"

namespace marginlab {

namespace {

/// Calls visit(anchor, positive, negative) for every noise sample, in the documented order.
template <typename Visit>
void forEachNoiseSample(const Labels& labels, std::uint64_t seed, int negativesPerPair, Visit&& visit) {
    const int n = static_cast<int>(labels.size());
    std::vector<int> negatives;
    negatives.reserve(labels.size());
    for (int a = 0; a < n; ++a) {
        negatives.clear();
        for (int j = 0; j < n; ++j)
            if (labels[j] != labels[a]) negatives.push_back(j);
        if (negatives.empty()) continue;
        NoiseContrastiveSampler sampler(seed, a);
        const int negativeCount = static_cast<int>(negatives.size());
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            for (int k = 0; k < negativesPerPair; ++k)
                visit(a, p, negatives[static_cast<std::size_t>(sampler.drawIndex(negativeCount))]);
        }
    }
}

}  // namespace

NoiseContrastiveSampler::NoiseContrastiveSampler(std::uint64_t seed, int anchor)
    : m_random(Rng::deriveSeed(seed, static_cast<std::uint64_t>(anchor))) {}

int NoiseContrastiveSampler::drawIndex(int count) {
    // Rng::uniformInt(count) draw for draw (the same rejection and the same remainder), with the
    // threshold kept while the count stays: an anchor draws all its samples from one count.
    const auto n = static_cast<std::uint64_t>(count);
    if (n <= 1) return 0;
    if (n != m_count) {
        m_count = n;
        m_threshold = (0 - n) % n;
    }
    for (;;) {
        const std::uint64_t r = m_random.next();
        if (r >= m_threshold) return static_cast<int>(r % n);
    }
}

std::vector<std::vector<int>> noiseContrastiveNegatives(const Labels& labels, std::uint64_t seed,
                                                        int negativesPerPair) {
    std::vector<std::vector<int>> samples;
    int lastAnchor = -1, lastPositive = -1;
    forEachNoiseSample(labels, seed, negativesPerPair, [&](int a, int p, int negative) {
        if (a != lastAnchor || p != lastPositive) {
            samples.emplace_back();
            lastAnchor = a;
            lastPositive = p;
        }
        samples.back().push_back(negative);
    });
    return samples;
}

NoiseContrastiveEstimationLoss::NoiseContrastiveEstimationLoss(Real temperature, int negativesPerPair)
    : m_temperature(temperature), m_negativesPerPair(negativesPerPair) {}

LossOutput NoiseContrastiveEstimationLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const detail::PairCounts counts = detail::countPairs(labels);
    if (counts.positives == 0 || counts.negatives == 0 || m_negativesPerPair < 1)
        return detail::zeroOutputWithKind(input, withGradient, "pairs");

    // One fused pass per anchor row (similarity row, its data and noise terms, backward): no
    // N×N buffer; each anchor's draws come from its own sampler, so rows are independent.
    detail::FusedPairRows pairRows(DistanceSpec::cosine(), input.embeddings);
    const Real inverseTemperature = 1.0 / m_temperature;
    const Real pairCount = static_cast<Real>(counts.positives);
    const std::vector<std::vector<int>> groups = detail::groupByLabel(labels);
    std::vector<const std::vector<int>*> classOf(static_cast<std::size_t>(n));
    for (const auto& members : groups)
        for (int i : members) classOf[static_cast<std::size_t>(i)] = &members;
    pairRows.run(withGradient, input.splitForces ? &labels : nullptr, [&](int a, detail::PairRowChunk& part) {
        const Real* s = part.row.data();
        Real* gradRow = part.gradRow.data();
        if (withGradient) std::fill(gradRow, gradRow + n, 0.0);
        const std::vector<int>& members = *classOf[static_cast<std::size_t>(a)];
        // log σ(v) = −softplus(−v) = min(v, 0) − log1p(e^{−|v|}) and σ(−v) = softplus'(−v), stable
        // for either sign; the softplus of a row runs on the vector unit (simd/dispatch.h).
        const detail::simd::Kernels& kernels = detail::simd::kernels();
        Real* inputs = part.second.data();
        Real* values = part.third.data();
        Real* slopes = part.fourth.data();
        // Data term −log σ(s_ap/τ) = softplus(−s_ap/τ), once per ordered positive pair.
        Eigen::Index count = 0;
        for (int p : members)
            if (p != a) inputs[count++] = -(s[p] * inverseTemperature);
        kernels.softplusRow(inputs, count, detail::expconst::kTable.data(), values, slopes);
        part.total += detail::interleavedSum(count, [values](Eigen::Index k) { return values[k]; });
        count = 0;
        for (int p : members) {
            if (p == a) continue;
            // d(−log σ(v))/dv = −σ(−v); the factor 1/(τ|P|) of every entry is applied once, to the
            // summed gradient, instead of a multiplication and a division per entry.
            gradRow[p] -= slopes[count++];
        }
        // Noise terms −log σ(−s_an/τ) = softplus(s_an/τ), drawn as forEachNoiseSample does
        // (nothing of size |P|·K is stored). Draws are counted per negative first, so each
        // distinct (a,n) is evaluated once. The negatives of a are the points outside its class.
        const auto negativeCount = static_cast<std::uint64_t>(n) - members.size();
        if (negativeCount > 0) {
            // The sampler's draws (NoiseContrastiveSampler(seed, a), one draw per noise sample,
            // positives in index order), produced in bulk by drawNoiseIndices: the same indices in
            // the same order. Only how often each negative is drawn matters, counted by position.
            part.indices.resize(2 * static_cast<std::size_t>(n));
            int* negatives = part.indices.data();
            int* draws = negatives + n;
            std::fill(draws, draws + negativeCount, 0);
            const auto samples = static_cast<std::int64_t>(members.size() - 1) * m_negativesPerPair;
            detail::drawNoiseIndices(input.sampleSeed, a, negativeCount, samples,
                                     [draws](std::uint64_t t) { ++draws[t]; });
            // The drawn negatives (about half) with their s_an/τ and draw counts, packed to the
            // front in one walk over the row (kernels.packDrawn).
            Real* times = part.first.data();
            const int drawn = kernels.packDrawn(labels.data(), labels[static_cast<std::size_t>(a)], n, s,
                                                inverseTemperature, draws, times, negatives, inputs);
            kernels.softplusRow(inputs, drawn, detail::expconst::kTable.data(), values, slopes);
            part.total += detail::interleavedSum(
                drawn, [times, values](Eigen::Index t) { return times[t] * values[t]; });
            // d(−log σ(−v))/dv = σ(v)
            for (int t = 0; t < drawn; ++t) gradRow[negatives[t]] += times[t] * slopes[t];
        }
        return withGradient;
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives;
    out.value = pairRows.total() / pairCount;
    out.stats.active = counts.positives;  // every ℓ_ap > 0
    if (withGradient) {
        // ∂v/∂s = 1/τ and the mean's 1/|P|, left out of every row entry.
        const Real rowScale = inverseTemperature / pairCount;
        out.gradEmbeddings = pairRows.gradient(rowScale);
        if (input.splitForces) out.gradFromPositives = pairRows.sameLabelGradient(rowScale);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

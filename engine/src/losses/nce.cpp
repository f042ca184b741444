// SPDX-License-Identifier: MIT
#include "marginlab/losses/nce.h"

#include "losses/pair_family_support.h"

#include <cmath>
#include <limits>
#include <vector>

namespace marginlab {

namespace {

/**
 * log σ(v) = −softplus(−v), evaluated without overflow for either sign. `complement` gets
 * σ(−v) = 1 − σ(v) computed directly (not as 1 − σ(v), which cancels for large v).
 */
Real logSigmoid(Real v, Real* complement) {
    const Real e = std::exp(-std::abs(v));
    *complement = v >= 0.0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
    return std::min(v, Real(0)) - std::log1p(e);
}

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
    return static_cast<int>(m_random.uniformInt(static_cast<std::uint64_t>(count)));
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

    detail::PairwiseWorkspace& workspace = detail::pairwiseWorkspace(DistanceSpec::cosine(), input.embeddings, withGradient);
    const Matrix& s = workspace.matrix();
    const Real inverseTemperature = 1.0 / m_temperature;
    const Real pairCount = static_cast<Real>(counts.positives);

    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = counts.positives;
    Matrix& gradMatrix = workspace.gradient();  // zeroed by the workspace when withGradient
    Real total = 0.0;
    // Data term −log σ(s_ap/τ), once per ordered positive pair.
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (p == a || labels[p] != labels[a]) continue;
            Real complement = 0.0;  // σ(−v)
            total -= logSigmoid(s(a, p) * inverseTemperature, &complement);
            // d(−log σ(v))/dv = −σ(−v)
            if (withGradient) gradMatrix(a, p) -= complement * inverseTemperature / pairCount;
        }
    // Noise terms −log σ(−s_an/τ), drawn on the fly (nothing of size |P|·K is stored). Draws of
    // one anchor are counted per negative first, so each distinct (a,n) is evaluated once.
    std::vector<int> draws(static_cast<std::size_t>(n), 0);
    int currentAnchor = -1;
    auto flushAnchor = [&]() {
        if (currentAnchor < 0) return;
        const int a = currentAnchor;
        for (int j = 0; j < n; ++j) {
            const int times = draws[static_cast<std::size_t>(j)];
            if (times == 0) continue;
            draws[static_cast<std::size_t>(j)] = 0;
            Real complement = 0.0;  // σ(v) for v = s_an/τ
            total -= times * logSigmoid(-s(a, j) * inverseTemperature, &complement);
            // d(−log σ(−v))/dv = σ(v)
            if (withGradient) gradMatrix(a, j) += times * complement * inverseTemperature / pairCount;
        }
    };
    forEachNoiseSample(labels, input.sampleSeed, m_negativesPerPair, [&](int a, int, int negative) {
        if (a != currentAnchor) {
            flushAnchor();
            currentAnchor = a;
        }
        ++draws[static_cast<std::size_t>(negative)];
    });
    flushAnchor();
    out.value = total / pairCount;
    out.stats.active = counts.positives;  // every ℓ_ap > 0
    if (withGradient) {
        out.gradEmbeddings = workspace.backward();
        if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(labels);
        if (input.owned) out.gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    }
    return out;
}

}  // namespace marginlab

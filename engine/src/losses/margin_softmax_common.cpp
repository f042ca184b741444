// SPDX-License-Identifier: MIT
#include "losses/margin_softmax_common.h"

#include "losses/common.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

namespace marginlab::detail {

namespace {

/**
 * Sorts one sample into the margin regions, by analogy with a triplet's: hard = misclassified
 * even without the margin (the plain target logit is not above every other logit), semi-hard =
 * correct without the margin but not with it, easy = correct with the margin.
 */
void countRegion(std::span<const Real> logits, int target, Real plainTarget, SampleTally& stats) {
    Real otherMax = -std::numeric_limits<Real>::infinity();
    for (std::size_t c = 0; c < logits.size(); ++c)
        if (static_cast<int>(c) != target) otherMax = std::max(otherMax, logits[c]);
    if (plainTarget <= otherMax) ++stats.hard;
    else if (logits[static_cast<std::size_t>(target)] > otherMax) ++stats.easy;
    else ++stats.semiHard;
}

LossStats sampleStats(Eigen::Index samples, bool hasRegions, const SampleTally& tally) {
    LossStats stats;
    stats.tupleKind = "samples";
    stats.tuples = samples;
    stats.hasRegions = hasRegions;
    stats.active = tally.active;
    stats.easy = tally.easy;
    stats.semiHard = tally.semiHard;
    stats.hard = tally.hard;
    return stats;
}

/// Binomial coefficient C(n, k) for the small n of an L-Softmax margin (exact in double).
Real binomial(int n, int k) {
    Real value = 1.0;
    for (int j = 1; j <= k; ++j) value = value * (n - k + j) / j;
    return value;
}

/// v^e with v^0 = 1 (also for v = 0), the convention torch.pow follows.
Real integerPower(Real v, int e) {
    Real out = 1.0;
    for (int j = 0; j < e; ++j) out *= v;
    return out;
}

}  // namespace

Real sineFromCosine(Real cosine) {
    if (!(std::abs(cosine) < 1.0)) return 0.0;
    return std::sqrt((1.0 - cosine) * (1.0 + cosine));
}

Real angleFromCosine(Real cosine) { return std::acos(std::clamp(cosine, Real(-1), Real(1))); }

bool classLabelsMatch(const LossInput& input) {
    if (!input.owned) return false;
    if (static_cast<Eigen::Index>(input.labels.size()) != input.embeddings.rows()) return false;
    const Eigen::Index classes = input.owned->rows();
    return std::all_of(input.labels.begin(), input.labels.end(),
                       [&](int y) { return y >= 0 && static_cast<Eigen::Index>(y) < classes; });
}

LossOutput invalidLabelsOutput(const LossInput& input, bool withGradient) {
    LossOutput out = zeroOutput(input, withGradient);
    out.value = std::numeric_limits<Real>::quiet_NaN();
    return out;
}

LossOutput cosineMarginSoftmax(const LossInput& input, bool withGradient, Real scale, const TargetFunction& target,
                               bool hasRegions) {
    const bool labelsValid = classLabelsMatch(input);
    assert(labelsValid && "labels must lie in [0, number of class-weight rows)");
    if (!labelsValid) return invalidLabelsOutput(input, withGradient);
    const Eigen::Index n = input.embeddings.rows();
    const Eigen::Index classes = input.owned->rows();
    if (n == 0) return zeroOutput(input, withGradient);

    // CosineSimilarity normalizes both sides with torch's 1e-12 floor and differentiates through it.
    const CrossDistance cosine(DistanceSpec::cosine(), input.embeddings, *input.owned);
    const Matrix& c = cosine.matrix();
    Matrix gradCosine;
    if (withGradient) gradCosine.resize(n, classes);
    // Samples are independent: runs of them on the engine's threads, each writing its own rows.
    const SampleTally tally =
        sumOverSampleRuns(n, classes, [&](Eigen::Index begin, Eigen::Index end, int, SampleTally& part) {
            std::vector<Real> logits(static_cast<std::size_t>(classes));
            std::vector<Real> softmaxGrad(withGradient ? logits.size() : 0);
            for (Eigen::Index i = begin; i < end; ++i) {
                const int y = input.labels[static_cast<std::size_t>(i)];
                for (Eigen::Index k = 0; k < classes; ++k)
                    logits[static_cast<std::size_t>(k)] = scale * c(i, k);
                const Real plainTarget = logits[static_cast<std::size_t>(y)];
                const TargetLogit t = target(c(i, y));
                logits[static_cast<std::size_t>(y)] = scale * t.value;
                const Real term = crossEntropy(logits, y, softmaxGrad);
                part.total += term;
                if (term > 0.0) ++part.active;
                if (hasRegions) countRegion(logits, y, plainTarget, part);
                if (withGradient) {
                    for (Eigen::Index k = 0; k < classes; ++k)
                        gradCosine(i, k) =
                            scale * softmaxGrad[static_cast<std::size_t>(k)] / static_cast<Real>(n);
                    gradCosine(i, y) *= t.derivative;
                }
            }
        });
    LossOutput out;
    out.stats = sampleStats(n, hasRegions, tally);
    const Real total = tally.total;
    out.value = total / static_cast<Real>(n);
    if (withGradient) cosine.backward(gradCosine, &out.gradEmbeddings, &out.gradOwned);
    // The same-class share: through the target logit s·φ(c_{i,y_i}) alone.
    if (splitsForces(input, withGradient))
        cosine.backwardSameLabel(gradCosine, input.labels, classRowLabels(classes), &out.gradFromPositives,
                                 nullptr);
    return out;
}

TargetLogit largeMarginTarget(Real cosine, int margin) {
    assert(margin >= 1);
    // cos(mθ) = Σ_j (−1)^j C(m,2j) c^{m−2j} (1−c²)^j, differentiated term by term (product rule).
    const Real c = cosine;
    const Real s2 = 1.0 - c * c;
    Real polynomial = 0.0, derivative = 0.0;
    for (int j = 0; j <= margin / 2; ++j) {
        const Real coefficient = (j % 2 == 0 ? 1.0 : -1.0) * binomial(margin, 2 * j);
        const int p = margin - 2 * j;
        const Real cosPart = integerPower(c, p);
        const Real sinPart = integerPower(s2, j);
        polynomial += coefficient * cosPart * sinPart;
        const Real dCos = p > 0 ? p * integerPower(c, p - 1) : 0.0;
        const Real dSin = j > 0 ? j * integerPower(s2, j - 1) * (-2.0 * c) : 0.0;
        derivative += coefficient * (dCos * sinPart + cosPart * dSin);
    }
    // PML: k = floor(angles / (pi / m)), computed without gradient.
    const Real k = std::floor(angleFromCosine(c) / (std::numbers::pi / margin));
    const Real sign = std::fmod(k, 2.0) == 0.0 ? 1.0 : -1.0;
    return {sign * polynomial - 2.0 * k, sign * derivative};
}

LossOutput largeMarginSoftmax(const LossInput& input, bool withGradient, int margin, Real scale,
                              bool useWeightNorms) {
    const bool labelsValid = classLabelsMatch(input);
    assert(labelsValid && "labels must lie in [0, number of class-weight rows)");
    if (!labelsValid) return invalidLabelsOutput(input, withGradient);
    const Points& x = input.embeddings;
    const Points& w = *input.owned;
    const Eigen::Index n = x.rows();
    const Eigen::Index classes = w.rows();
    if (n == 0) return zeroOutput(input, withGradient);

    const CrossDistance cosine(DistanceSpec::cosine(), x, w);
    const Matrix& c = cosine.matrix();
    const Vector xNorms = x.rowwise().norm();
    const Vector wNorms = useWeightNorms ? Vector(w.rowwise().norm()) : Vector::Ones(classes);

    Matrix gradCosine;
    Vector gradXNorms, gradWNorms;
    if (withGradient) {
        gradCosine.resize(n, classes);
        gradXNorms = Vector::Zero(n);
        gradWNorms = Vector::Zero(classes);
    }
    // The force split: the target logit also reaches x_i through ‖x_i‖; its share of gradXNorms.
    const bool split = splitsForces(input, withGradient);
    Vector targetXNorms;
    if (split) targetXNorms = Vector::Zero(n);
    // Samples on the engine's threads; ∂L/∂‖w_k‖ sums over samples, so one partial per run.
    std::vector<Vector> runWNorms(
        useWeightNorms && withGradient ? static_cast<std::size_t>(sampleRuns(n)) : 0, Vector::Zero(classes));
    const SampleTally tally =
        sumOverSampleRuns(n, classes, [&](Eigen::Index begin, Eigen::Index end, int run, SampleTally& part) {
            std::vector<Real> logits(static_cast<std::size_t>(classes)), factors(logits.size());
            std::vector<Real> softmaxGrad(withGradient ? logits.size() : 0);
            for (Eigen::Index i = begin; i < end; ++i) {
                const int y = input.labels[static_cast<std::size_t>(i)];
                const TargetLogit psi = largeMarginTarget(c(i, y), margin);
                Real plainTarget = 0.0;
                for (Eigen::Index k = 0; k < classes; ++k) {
                    const auto kk = static_cast<std::size_t>(k);
                    factors[kk] = scale * xNorms(i) * wNorms(k);  // ℓ_ik = factor · (cosine or ψ)
                    logits[kk] = factors[kk] * (k == y ? psi.value : c(i, k));
                    if (k == y) plainTarget = factors[kk] * c(i, k);
                }
                const Real term = crossEntropy(logits, y, softmaxGrad);
                part.total += term;
                if (term > 0.0) ++part.active;
                countRegion(logits, y, plainTarget, part);
                if (withGradient) {
                    const Real perSample = 1.0 / static_cast<Real>(n);
                    for (Eigen::Index k = 0; k < classes; ++k) {
                        const auto kk = static_cast<std::size_t>(k);
                        const Real g = softmaxGrad[kk] * perSample;  // ∂L/∂ℓ_ik
                        const Real h = k == y ? psi.value : c(i, k);
                        gradCosine(i, k) = g * factors[kk] * (k == y ? psi.derivative : 1.0);
                        gradXNorms(i) += g * scale * wNorms(k) * h;
                        if (split && k == y) targetXNorms(i) = g * scale * wNorms(k) * h;
                        if (useWeightNorms)
                            runWNorms[static_cast<std::size_t>(run)](k) += g * scale * xNorms(i) * h;
                    }
                }
            }
        });
    for (const Vector& partial : runWNorms) gradWNorms += partial;
    LossOutput out;
    out.stats = sampleStats(n, true, tally);
    const Real total = tally.total;
    out.value = total / static_cast<Real>(n);
    if (withGradient) {
        cosine.backward(gradCosine, &out.gradEmbeddings, &out.gradOwned);
        // d‖v‖/dv = v/‖v‖; at v = 0 torch gives NaN (0/0), we take the subgradient 0.
        for (Eigen::Index i = 0; i < n; ++i)
            if (xNorms(i) > 0.0) out.gradEmbeddings.row(i) += gradXNorms(i) / xNorms(i) * x.row(i);
        if (split) {
            cosine.backwardSameLabel(gradCosine, input.labels, classRowLabels(classes),
                                     &out.gradFromPositives, nullptr);
            for (Eigen::Index i = 0; i < n; ++i)
                if (xNorms(i) > 0.0) out.gradFromPositives.row(i) += targetXNorms(i) / xNorms(i) * x.row(i);
        }
        if (useWeightNorms)
            for (Eigen::Index k = 0; k < classes; ++k)
                if (wNorms(k) > 0.0) out.gradOwned.row(k) += gradWNorms(k) / wNorms(k) * w.row(k);
    }
    return out;
}

}  // namespace marginlab::detail

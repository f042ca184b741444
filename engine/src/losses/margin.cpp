// SPDX-License-Identifier: MIT
#include "marginlab/losses/margin.h"

#include <map>

#include "losses/common.h"
#include "losses/distance_rows.h"
#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/reference_set.h"
#include "parallel.h"

namespace marginlab {
namespace {

// PML's DivisorReducer: with a divisor of 0 both sub-losses are exactly 0 (β's gradient too).
LossOutput zeroWithStats(const LossInput& input, bool withGradient, const LossStats& stats) {
    LossOutput zero = detail::zeroOutput(input, withGradient);
    zero.stats = stats;
    return zero;
}

}  // namespace

MarginLoss::MarginLoss(const Options& options, const DistanceSpec& distance)
    : m_options(options), m_distance(distance) {}

LossOutput MarginLoss::evaluate(const LossInput& input, bool withGradient) const {
    // Before the every-triplet dispatch below: with a reference the tuples index the reference.
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    const bool learned = m_options.learnBeta && input.owned;
    auto betaOf = [&](int anchor) {
        return learned ? (*input.owned)(labels[static_cast<std::size_t>(anchor)], 0) : m_options.beta;
    };
    const Real sigma = m_distance.orderSign();
    const Real margin = m_options.margin;

    Count triplets = 0;
    std::vector<Triplet> mined;
    const bool everyTriplet = detail::usesEveryTuple(input);
    std::map<int, int> classSize;
    if (everyTriplet) {
        for (int label : labels) ++classSize[label];
        for (int a = 0; a < n; ++a) {
            const int size = classSize[labels[static_cast<std::size_t>(a)]];
            triplets += static_cast<Count>(size - 1) * static_cast<Count>(n - size);
        }
    } else {
        mined = materializeTriplets(*input.tuples, input.embeddings, labels);
        triplets = static_cast<Count>(mined.size());
    }
    if (triplets == 0) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "triplets";
        return zero;
    }

    LossOutput out;
    out.stats.tupleKind = "triplets";
    out.stats.tuples = triplets;
    if (everyTriplet) {
        // One pass over distance rows, no N×N matrix: at N = 4096 reading and writing 128 MB
        // matrices made this loss memory-bound, so that a second thread gained little. Each
        // anchor's row gives its pair terms, weighted by the triplets that share them (an (a,p)
        // pair counts |N(a)| times, an (a,n) pair |P(a)| times), and the slopes of those terms;
        // the divisor is known only after the last row, so the gradient is accumulated unscaled
        // and divided once. Anchors run in chunks fixed by N on the engine's threads, each chunk
        // with its own sums, added in chunk order: the same bits on any number of threads.
        const detail::DistanceRows rows(m_distance, input.embeddings);
        const Eigen::Index dims = input.embeddings.cols();
        const bool split = detail::splitsForces(input, withGradient);
        struct Chunk {
            Real sum = 0.0, divisor = 0.0, regularizer = 0.0;
            Count active = 0;
            Points grad, attraction, owned;  // unscaled ∂(Σ terms)/∂e, its same-label part, ∂/∂β
        };
        std::vector<Chunk> parts(static_cast<std::size_t>(detail::AnchorChunks(n).count()));
        detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int c) {
            Chunk& part = parts[static_cast<std::size_t>(c)];
            std::vector<Real> row(static_cast<std::size_t>(n)), slope, scratch;
            if (withGradient) {
                slope.assign(static_cast<std::size_t>(n), 0.0);
                part.grad = Points::Zero(n, dims);
                if (split) part.attraction = Points::Zero(n, dims);
                if (learned) part.owned = Points::Zero(input.owned->rows(), input.owned->cols());
            }
            for (int a = static_cast<int>(begin); a < static_cast<int>(end); ++a) {
                const int label = labels[static_cast<std::size_t>(a)];
                const int size = classSize.at(label);
                const Real positives = size - 1, negatives = n - size;
                if (positives == 0 || negatives == 0) continue;
                rows.row(a, row.data());
                const Real beta = betaOf(a);
                Count positiveZero = 0, negativeZero = 0;
                Real slopeSum = 0.0;
                for (int j = 0; j < n; ++j) {
                    if (j == a) continue;
                    const bool positive = labels[static_cast<std::size_t>(j)] == label;
                    const Real m = row[static_cast<std::size_t>(j)];
                    const Real term =
                        detail::relu(positive ? sigma * (m - beta) + margin : sigma * (beta - m) + margin);
                    const Real weight = positive ? negatives : positives;  // triplets sharing this pair
                    part.sum += weight * term;
                    if (term > 0.0)
                        part.divisor += weight;
                    else
                        ++(positive ? positiveZero : negativeZero);
                    if (!withGradient) continue;
                    // ∂pos/∂M_ap = σ, ∂neg/∂M_an = −σ (and the opposite for β).
                    const Real s = term > 0.0 ? weight * (positive ? sigma : -sigma) : 0.0;
                    slope[static_cast<std::size_t>(j)] = s;
                    slopeSum += s;
                }
                part.active += static_cast<Count>(positives * negatives) - positiveZero * negativeZero;
                part.regularizer += positives * negatives * beta;
                if (!withGradient) continue;
                slope[static_cast<std::size_t>(a)] = 0.0;
                rows.accumulate(a, slope.data(), row.data(), &part.grad);
                if (split)
                    rows.accumulateSameLabel(a, slope.data(), row.data(), labels, &part.attraction, &scratch);
                // ∂/∂β_{y_a}: −(the slopes) plus ν for each of the anchor's P·N triplets.
                if (learned) part.owned(label, 0) += positives * negatives * m_options.nu - slopeSum;
            }
        });
        Real sum = 0.0, divisor = 0.0, regularizer = 0.0;
        Points grad, attraction, gradOwned;
        if (withGradient) grad = Points::Zero(n, dims);
        if (split) attraction = Points::Zero(n, dims);
        if (input.owned) gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
        for (const Chunk& part : parts) {
            sum += part.sum;
            divisor += part.divisor;
            regularizer += part.regularizer;
            out.stats.active += part.active;
            if (!withGradient) continue;
            grad += part.grad;
            if (split) attraction += part.attraction;
            if (learned) gradOwned += part.owned;
        }
        if (divisor == 0.0) return zeroWithStats(input, withGradient, out.stats);
        out.value = sum / divisor + (learned ? m_options.nu * regularizer / divisor : 0.0);
        if (!withGradient) return out;
        out.gradEmbeddings = rows.finish(grad / divisor);
        if (split) out.gradFromPositives = rows.finish(attraction / divisor);
        if (input.owned) out.gradOwned = gradOwned / divisor;
        return out;
    }

    // Mined triplets: their pair terms read from the N×N matrix.
    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    auto termValue = [&](int a, int j, bool positive) {
        const Real beta = betaOf(a);
        return detail::relu(positive ? sigma * (m(a, j) - beta) + margin : sigma * (beta - m(a, j)) + margin);
    };
    Real sum = 0.0, divisor = 0.0, regularizer = 0.0;
    for (const Triplet& t : mined) {
        const Real pos = termValue(t[0], t[1], true), neg = termValue(t[0], t[2], false);
        sum += pos + neg;
        divisor += (pos > 0.0 ? 1.0 : 0.0) + (neg > 0.0 ? 1.0 : 0.0);
        if (pos + neg > 0.0) ++out.stats.active;
        regularizer += betaOf(t[0]);
    }
    if (divisor == 0.0) return zeroWithStats(input, withGradient, out.stats);
    out.value = sum / divisor + (learned ? m_options.nu * regularizer / divisor : 0.0);
    if (!withGradient) return out;

    Matrix& g = workspace.gradient();
    Points gradOwned;
    if (input.owned) gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    // Each mined triplet's two pair terms once more (ν per triplet, split over its two pairs).
    auto visit = [&](int anchor, int other, bool positive) {
        const Real term = termValue(anchor, other, positive);
        Real slopeBeta = learned ? m_options.nu / 2.0 : 0.0;
        if (term > 0.0) {
            // ∂pos/∂M_ap = σ, ∂neg/∂M_an = −σ; ∂pos/∂β = −σ, ∂neg/∂β = σ.
            const Real slope = positive ? sigma : -sigma;
            g(anchor, other) += slope / divisor;
            slopeBeta -= slope;
        }
        if (learned) gradOwned(labels[static_cast<std::size_t>(anchor)], 0) += slopeBeta / divisor;
    };
    for (const Triplet& t : mined) {
        visit(t[0], t[1], true);
        visit(t[0], t[2], false);
    }
    out.gradEmbeddings = workspace.backward();
    if (input.splitForces) out.gradFromPositives = workspace.backwardSameLabel(labels);
    if (input.owned) out.gradOwned = std::move(gradOwned);
    return out;
}

LossOutput MarginLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's MarginLoss with ref_emb: convert_to_triplets(indices, labels, ref_labels), d_ap and d_an
    // read from M = distance(batch, reference), β of the anchor's class; the gradient stops at the
    // reference (β's does not: it is owned).
    const std::vector<Triplet> triplets = detail::referenceTriplets(input);
    if (triplets.empty()) return detail::zeroOutputWithKind(input, withGradient, "triplets");
    const Labels& labels = input.labels;
    const bool learned = m_options.learnBeta && input.owned;
    auto betaOf = [&](int anchor) {
        return learned ? (*input.owned)(labels[static_cast<std::size_t>(anchor)], 0) : m_options.beta;
    };
    const Real sigma = m_distance.orderSign();
    const Real margin = m_options.margin;
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& m = distance.matrix();
    LossOutput out;
    out.stats.tupleKind = "triplets";
    out.stats.tuples = static_cast<Count>(triplets.size());
    Real sum = 0.0, divisor = 0.0, regularizer = 0.0;
    for (const Triplet& t : triplets) {
        const Real beta = betaOf(t[0]);
        const Real pos = detail::relu(sigma * (m(t[0], t[1]) - beta) + margin);
        const Real neg = detail::relu(sigma * (beta - m(t[0], t[2])) + margin);
        sum += pos + neg;
        divisor += (pos > 0.0 ? 1.0 : 0.0) + (neg > 0.0 ? 1.0 : 0.0);
        if (pos + neg > 0.0) ++out.stats.active;
        regularizer += beta;
    }
    if (divisor == 0.0) return zeroWithStats(input, withGradient, out.stats);
    out.value = sum / divisor + (learned ? m_options.nu * regularizer / divisor : 0.0);
    if (!withGradient) return out;
    Matrix grad = Matrix::Zero(m.rows(), m.cols());
    Points gradOwned;
    if (input.owned) gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    for (const Triplet& t : triplets) {
        const Real beta = betaOf(t[0]);
        const bool posActive = sigma * (m(t[0], t[1]) - beta) + margin > 0.0;
        const bool negActive = sigma * (beta - m(t[0], t[2])) + margin > 0.0;
        // ∂pos/∂M_ap = σ, ∂neg/∂M_an = −σ; ∂pos/∂β = −σ, ∂neg/∂β = σ, the regularizer's ν.
        if (posActive) grad(t[0], t[1]) += sigma / divisor;
        if (negActive) grad(t[0], t[2]) -= sigma / divisor;
        if (learned)
            gradOwned(labels[static_cast<std::size_t>(t[0])], 0) +=
                ((posActive ? -sigma : 0.0) + (negActive ? sigma : 0.0) + m_options.nu) / divisor;
    }
    detail::referenceBackward(input, distance, grad, &out);
    if (input.owned) out.gradOwned = std::move(gradOwned);
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/margin.h"

#include <map>

#include "losses/common.h"
#include "losses/pair_family_support.h"
#include "losses/pair_lists.h"
#include "losses/reference_set.h"

namespace marginlab {

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

    // A weighted pair term: `weight` triplets share it (all-triplets path) or one does (mined).
    struct Term {
        int anchor, other;
        bool positive;
        Real weight;
    };
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

    detail::PairwiseWorkspace& workspace =
        detail::pairwiseWorkspace(m_distance, input.embeddings, withGradient);
    const Matrix& m = workspace.matrix();
    auto termValue = [&](int a, int j, bool positive) {
        const Real beta = betaOf(a);
        return detail::relu(positive ? sigma * (m(a, j) - beta) + margin : sigma * (beta - m(a, j)) + margin);
    };

    LossOutput out;
    out.stats.tupleKind = "triplets";
    out.stats.tuples = triplets;
    Real sum = 0.0, divisor = 0.0, regularizer = 0.0;
    if (everyTriplet) {
        // Anchors in runs on the engine's threads; each run's three sums added in run order.
        struct Sums {
            Real sum = 0.0, divisor = 0.0, regularizer = 0.0;
        };
        std::vector<Sums> runSums(static_cast<std::size_t>(detail::sampleRuns(n)));
        const detail::SampleTally tally =
            detail::sumOverSampleRuns(n, [&](Eigen::Index begin, Eigen::Index end, int run, detail::SampleTally& part) {
                Sums& own = runSums[static_cast<std::size_t>(run)];
                for (int a = static_cast<int>(begin); a < static_cast<int>(end); ++a) {
                    const int size = classSize.at(labels[static_cast<std::size_t>(a)]);
                    const Real positives = size - 1, negatives = n - size;
                    if (positives == 0 || negatives == 0) continue;
                    Count positiveZero = 0, negativeZero = 0;
                    for (int j = 0; j < n; ++j) {
                        if (j == a) continue;
                        const bool positive =
                            labels[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(a)];
                        const Real term = termValue(a, j, positive);
                        const Real weight = positive ? negatives : positives;  // triplets sharing this pair
                        own.sum += weight * term;
                        if (term > 0.0)
                            own.divisor += weight;
                        else
                            ++(positive ? positiveZero : negativeZero);
                    }
                    part.active += static_cast<Count>(positives * negatives) - positiveZero * negativeZero;
                    own.regularizer += positives * negatives * betaOf(a);
                }
            });
        for (const Sums& own : runSums) {
            sum += own.sum;
            divisor += own.divisor;
            regularizer += own.regularizer;
        }
        out.stats.active = tally.active;
    } else {
        for (const Triplet& t : mined) {
            const Real pos = termValue(t[0], t[1], true), neg = termValue(t[0], t[2], false);
            sum += pos + neg;
            divisor += (pos > 0.0 ? 1.0 : 0.0) + (neg > 0.0 ? 1.0 : 0.0);
            if (pos + neg > 0.0) ++out.stats.active;
            regularizer += betaOf(t[0]);
        }
    }
    if (divisor == 0.0) {  // PML's DivisorReducer: both sub-losses are exactly 0
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
    out.value = sum / divisor + (learned ? m_options.nu * regularizer / divisor : 0.0);
    if (!withGradient) return out;

    Matrix& g = workspace.gradient();
    Points gradOwned;
    if (input.owned) gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
    // Every pair term once more, with the number of triplets that share it (all triplets: an
    // (a,p) pair counts |N(a)| times, an (a,n) pair |P(a)| times) or once per mined triplet:
    // recomputed rather than stored (N² terms at N = 4096 would be 400 MB).
    auto forEachTermOf = [&](int firstAnchor, int endAnchor, auto&& visit) {
        for (int a = firstAnchor; a < endAnchor; ++a) {
            const int size = classSize.at(labels[static_cast<std::size_t>(a)]);
            if (size == 1 || size == n) continue;
            for (int j = 0; j < n; ++j) {
                if (j == a) continue;
                const bool positive =
                    labels[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(a)];
                visit(Term{a, j, positive, positive ? Real(n - size) : Real(size - 1)});
            }
        }
    };
    auto visitInto = [&](Points& owned) {
        return [&](const Term& t) {
            const Real term = termValue(t.anchor, t.other, t.positive);
            const Real beta =
                learned ? t.weight * m_options.nu / 2.0 : 0.0;  // ν per triplet, split over its two pairs
            Real slopeBeta = beta;
            if (term > 0.0) {
                // ∂pos/∂M_ap = σ, ∂neg/∂M_an = −σ; ∂pos/∂β = −σ, ∂neg/∂β = σ.
                const Real slope = t.positive ? sigma : -sigma;
                g(t.anchor, t.other) += t.weight * slope / divisor;
                slopeBeta -= t.weight * slope;
            }
            if (learned) owned(labels[static_cast<std::size_t>(t.anchor)], 0) += slopeBeta / divisor;
        };
    };
    if (everyTriplet) {
        // Anchors in runs on the engine's threads (each writes its own rows of g); the learned β's
        // gradient sums over anchors: one partial per run, added in run order.
        std::vector<Points> runOwned(learned ? static_cast<std::size_t>(detail::sampleRuns(n)) : 0, gradOwned);
        detail::sumOverSampleRuns(n, [&](Eigen::Index begin, Eigen::Index end, int run, detail::SampleTally&) {
            Points unused;
            auto visit = visitInto(learned ? runOwned[static_cast<std::size_t>(run)] : unused);
            forEachTermOf(static_cast<int>(begin), static_cast<int>(end), visit);
        });
        for (const Points& partial : runOwned) gradOwned += partial;
    } else {
        auto visit = visitInto(gradOwned);
        for (const Triplet& t : mined) {
            visit(Term{t[0], t[1], true, 1.0});
            visit(Term{t[0], t[2], false, 1.0});
        }
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
    if (divisor == 0.0) {  // PML's DivisorReducer: both sub-losses are exactly 0
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = out.stats;
        return zero;
    }
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

// SPDX-License-Identifier: MIT
#include "marginlab/losses/contrastive.h"

#include <cmath>
#include <optional>
#include <vector>

#include "losses/common.h"
#include "losses/distance_rows.h"
#include "losses/reference_set.h"
#include "parallel.h"
#include "simd/dispatch.h"

namespace marginlab {

ContrastiveLoss::ContrastiveLoss(const Options& options, const DistanceSpec& distance)
    : m_options(options), m_distance(distance) {}

LossOutput ContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    if (input.hasReference()) return evaluateWithReference(input, withGradient);
    const Eigen::Index n = input.embeddings.rows();
    const Labels& y = input.labels;
    const bool similarity = m_distance.isSimilarity();
    const Real mp = m_options.positiveMargin;
    const Real mn = m_options.negativeMargin;

    // Term and its slope d(term)/dM for one pair; the relu's slope at 0 is 0 as in torch.
    auto positiveTerm = [&](Real m, Real* slope) {
        const Real v = similarity ? mp - m : m - mp;
        *slope = v > 0.0 ? (similarity ? -1.0 : 1.0) : 0.0;
        return detail::relu(v);
    };
    auto negativeTerm = [&](Real m, Real* slope) {
        const Real v = similarity ? m - mn : mn - m;
        *slope = v > 0.0 ? (similarity ? 1.0 : -1.0) : 0.0;
        return detail::relu(v);
    };

    struct Part {
        Count pairs = 0;
        Count active = 0;
        Real sum = 0.0;
        void add(Real term, Count copies = 1) {
            pairs += copies;
            if (term > 0.0) {
                active += copies;
                sum += Real(copies) * term;
            }
        }
    };
    Part positive, negative;
    // Unscaled gradients of each sub-loss; the divisors are known only after the last pair.
    Points positiveGrad, negativeGrad;
    std::optional<detail::DistanceRows> rows;
    std::optional<SelfDistance> matrix;

    if (!input.tuples || (input.tuples->kind == Tuples::Kind::All && !input.tuples->filter)) {
        // All pairs, one distance row at a time: O(N) extra memory, no N×N buffers.
        rows.emplace(m_distance, input.embeddings);
        const Eigen::Index dims = input.embeddings.cols();
        // Anchor rows in chunks fixed by N on the engine's threads, each with its own sums and
        // gradients, added in chunk order: the same bits on any number of threads.
        struct Chunk {
            Part positive, negative;
            Points positiveGrad, negativeGrad;
        };
        std::vector<Chunk> parts(static_cast<std::size_t>(detail::AnchorChunks(n).count()));
        detail::forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int c) {
            Chunk& part = parts[static_cast<std::size_t>(c)];
            std::vector<Real> row(static_cast<std::size_t>(n)), positiveSlope, negativeSlope;
            if (withGradient) {
                positiveSlope.assign(static_cast<std::size_t>(n), 0.0);
                negativeSlope.assign(static_cast<std::size_t>(n), 0.0);
                part.positiveGrad = Points::Zero(n, dims);
                part.negativeGrad = Points::Zero(n, dims);
            }
            // M_ab = M_ba exactly and the two ordered pairs have the same label relation: visit
            // b > a once and count it twice.
            // The pair kind is data-dependent: both terms are formed and one is kept by selects
            // (simd::Kernels::contrastiveRow), so the loop has no branch to mispredict.
            const detail::simd::Kernels& kernels = detail::simd::kernels();
            for (Eigen::Index a = begin; a < end; ++a) {
                rows->row(a, row.data(), a + 1);
                Real sums[2];
                std::int64_t counts[3];
                kernels.contrastiveRow(row.data(), y.data(), y[static_cast<std::size_t>(a)], a + 1, n, mp, mn,
                                       similarity, withGradient ? positiveSlope.data() : nullptr,
                                       negativeSlope.data(), sums, counts);
                const Count positivePairs = counts[0], positiveActive = counts[1], negativeActive = counts[2];
                const Real positiveSum = sums[0], negativeSum = sums[1];
                const Count pairsInRow = n - 1 - a;
                part.positive.pairs += 2 * positivePairs;
                part.negative.pairs += 2 * (pairsInRow - positivePairs);
                part.positive.active += 2 * positiveActive;
                part.negative.active += 2 * negativeActive;
                part.positive.sum += positiveSum;
                part.negative.sum += negativeSum;
                if (withGradient) {
                    rows->accumulate(a, positiveSlope.data(), row.data(), &part.positiveGrad, a + 1);
                    rows->accumulate(a, negativeSlope.data(), row.data(), &part.negativeGrad, a + 1);
                }
            }
        });
        if (withGradient) {
            positiveGrad = Points::Zero(n, dims);
            negativeGrad = Points::Zero(n, dims);
        }
        for (const Chunk& part : parts) {
            positive.pairs += part.positive.pairs;
            positive.active += part.positive.active;
            positive.sum += part.positive.sum;
            negative.pairs += part.negative.pairs;
            negative.active += part.negative.active;
            negative.sum += part.negative.sum;
            if (withGradient) {
                positiveGrad += part.positiveGrad;
                negativeGrad += part.negativeGrad;
            }
        }
    } else {
        // Mined pairs (or triplets split into pairs, duplicates kept): loop over the lists.
        matrix.emplace(m_distance, input.embeddings);
        const Matrix& m = matrix->matrix();
        std::vector<Pair> positives, negatives;
        materializePairs(*input.tuples, input.embeddings, y, &positives, &negatives);
        Matrix positiveSlopes, negativeSlopes;
        if (withGradient) {
            positiveSlopes = Matrix::Zero(n, n);
            negativeSlopes = Matrix::Zero(n, n);
        }
        for (const Pair& pair : positives) {
            Real slope = 0.0;
            positive.add(positiveTerm(m(pair[0], pair[1]), &slope));
            if (withGradient) positiveSlopes(pair[0], pair[1]) += slope;
        }
        for (const Pair& pair : negatives) {
            Real slope = 0.0;
            negative.add(negativeTerm(m(pair[0], pair[1]), &slope));
            if (withGradient) negativeSlopes(pair[0], pair[1]) += slope;
        }
        if (withGradient) {
            positiveGrad = matrix->backward(positiveSlopes);
            negativeGrad = matrix->backward(negativeSlopes);
        }
    }

    LossStats stats;
    stats.tupleKind = "pairs";
    stats.tuples = positive.pairs + negative.pairs;
    stats.active = positive.active + negative.active;
    // GenericPairLoss: nothing to do when every index list has at most one entry.
    if (positive.pairs <= 1 && negative.pairs <= 1) {
        LossOutput out = detail::zeroOutput(input, withGradient);
        out.stats = stats;
        return out;
    }
    const bool averageNonZero = m_options.reduction == Reduction::AverageNonZero;
    auto scale = [&](const Part& part) {
        const Count divisor = averageNonZero ? part.active : part.pairs;
        return divisor > 0 ? 1.0 / Real(divisor) : 0.0;
    };
    const Real positiveScale = scale(positive);
    const Real negativeScale = scale(negative);
    LossOutput out;
    out.stats = stats;
    out.value = positive.sum * positiveScale + negative.sum * negativeScale;
    if (withGradient) {
        const Points combined = positiveScale * positiveGrad + negativeScale * negativeGrad;
        // The list path already went through SelfDistance::backward (normalization included).
        out.gradEmbeddings = rows ? rows->finish(combined) : combined;
        if (input.splitForces) {
            // The positive sub-loss is exactly the same-label pairs: its gradient is the split.
            const Points attraction = positiveScale * positiveGrad;
            out.gradFromPositives = rows ? rows->finish(attraction) : attraction;
        }
    }
    return out;
}

LossOutput ContrastiveLoss::evaluateWithReference(const LossInput& input, bool withGradient) const {
    // PML's GenericPairLoss with ref_emb: the same terms on M = distance(batch, reference), each
    // listed pair counted as listed (duplicates twice), the gradient stopping at the reference.
    std::vector<Pair> positives, negatives;
    detail::referencePairs(input, &positives, &negatives);
    LossStats stats;
    stats.tupleKind = "pairs";
    stats.tuples = static_cast<Count>(positives.size() + negatives.size());
    if (positives.size() <= 1 && negatives.size() <= 1) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats = stats;
        return zero;
    }
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& m = distance.matrix();
    const bool similarity = m_distance.isSimilarity();
    // v and dv/dM of each kind of term (see the header's formulas).
    auto positiveV = [&](Real value) {
        return similarity ? m_options.positiveMargin - value : value - m_options.positiveMargin;
    };
    auto negativeV = [&](Real value) {
        return similarity ? value - m_options.negativeMargin : m_options.negativeMargin - value;
    };
    const Real positiveSlope = similarity ? -1.0 : 1.0;
    Matrix positiveGrad, negativeGrad;
    if (withGradient) {
        positiveGrad = Matrix::Zero(m.rows(), m.cols());
        negativeGrad = Matrix::Zero(m.rows(), m.cols());
    }
    Real positiveSum = 0.0, negativeSum = 0.0;
    Count positiveActive = 0, negativeActive = 0;
    for (const Pair& pair : positives) {
        const Real v = positiveV(m(pair[0], pair[1]));
        if (v <= 0.0) continue;
        positiveSum += v;
        ++positiveActive;
        if (withGradient) positiveGrad(pair[0], pair[1]) += positiveSlope;
    }
    for (const Pair& pair : negatives) {
        const Real v = negativeV(m(pair[0], pair[1]));
        if (v <= 0.0) continue;
        negativeSum += v;
        ++negativeActive;
        if (withGradient) negativeGrad(pair[0], pair[1]) -= positiveSlope;
    }
    stats.active = positiveActive + negativeActive;
    const bool nonZero = m_options.reduction == Reduction::AverageNonZero;
    const Count positiveDivisor = nonZero ? positiveActive : static_cast<Count>(positives.size());
    const Count negativeDivisor = nonZero ? negativeActive : static_cast<Count>(negatives.size());
    LossOutput out;
    out.stats = stats;
    const Real positiveScale = positiveDivisor > 0 ? 1.0 / Real(positiveDivisor) : 0.0;
    const Real negativeScale = negativeDivisor > 0 ? 1.0 / Real(negativeDivisor) : 0.0;
    out.value = positiveSum * positiveScale + negativeSum * negativeScale;
    if (withGradient) {
        const Matrix grad = positiveGrad * positiveScale + negativeGrad * negativeScale;
        detail::referenceBackward(input, distance, grad, &out);
    }
    return out;
}

}  // namespace marginlab

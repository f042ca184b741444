// SPDX-License-Identifier: MIT
#include "losses/contrastive_support.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "losses/common.h"
#include "losses/exp_row.h"
#include "losses/pair_rows.h"
#include "parallel.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

PairMasks listedPairMasks(Eigen::Index size, const std::vector<WeightedPair>& positives,
                          const std::vector<WeightedPair>& negatives) {
    PairMasks masks;
    masks.size = size;
    masks.positive.assign(static_cast<std::size_t>(size * size), 0);
    masks.negative.assign(static_cast<std::size_t>(size * size), 0);
    auto mark = [size](std::vector<std::uint8_t>& mask, const std::vector<WeightedPair>& pairs) {
        Count count = 0;
        for (const WeightedPair& pair : pairs) {
            std::uint8_t& entry = mask[static_cast<std::size_t>(pair.anchor * size + pair.other)];
            if (!entry) ++count;
            entry = 1;
        }
        return count;
    };
    masks.positiveCount = mark(masks.positive, positives);
    masks.negativeCount = mark(masks.negative, negatives);
    return masks;
}

RowSimilarities::RowSimilarities(const DistanceSpec& spec, const Points& x)
    : m_similarity(spec.isSimilarity()), m_boundedByOne(spec.isSimilarity() && spec.normalizes()), m_rows(spec, x) {
    m_gradEmbedded = Points::Zero(x.rows(), x.cols());
}

// Plain loops over the rows (DistanceRows' kernels) rather than Eigen's matrix-vector products,
// which spend more on setting up a product with D = 2 columns than on the product itself.
void RowSimilarities::row(Eigen::Index a, Vector& out) const {
    out.resize(m_rows.size());
    m_rows.row(a, out.data());
    // PML negates non-inverted distances. Differences, not the Gram trick: exact zeros on the
    // diagonal, as SelfDistance.
    if (!m_similarity) out = -out;
}

void RowSimilarities::scaledRowWithMax(Eigen::Index a, Real factor, const Vector& kind, Vector& out,
                                       Real* maxOnes, Real* maxZeros) const {
    const Eigen::Index n = m_rows.size();
    if (m_similarity) {
        out.resize(n);
        m_rows.scaledDotRowWithMax(a, factor, kind.data(), out.data(), maxOnes, maxZeros);
        return;
    }
    row(a, out);
    splitAffineMax(out.data(), out.data(), kind.data(), n, 0.0, factor, 0.0, factor, -1, maxOnes, maxZeros);
}

void RowSimilarities::scaledRowExpSum(Eigen::Index a, Real factor, const Vector& kind, Real shiftOnes,
                                      Real shiftZeros, Vector& logits, Vector& exps, Real* sumOnes,
                                      Real* sumZeros) const {
    const Eigen::Index n = m_rows.size();
    logits.resize(n);
    exps.resize(n);
    m_rows.scaledDotRowExpSum(a, factor, kind.data(), shiftOnes, shiftZeros, logits.data(), exps.data(), sumOnes,
                              sumZeros);
}

void RowSimilarities::addRow(Eigen::Index a, const Vector& gradRow, Points& gradEmbedded) {
    // s_aj = e_a·e_j: ∂/∂e_a = Σ_j g_j e_j, ∂/∂e_j = g_j e_a (the diagonal g_aa is never set by
    // the losses here: the anchor is not its own pair).
    if (m_similarity) {
        m_rows.accumulate(a, gradRow.data(), gradRow.data(), &gradEmbedded);
        return;
    }
    // s_aj = −d_aj^power: the distance backward with ∂L/∂d = −g (0 for coinciding points).
    const auto n = static_cast<std::size_t>(m_rows.size());
    m_distances.resize(n);
    m_distanceSlopes.resize(n);
    m_rows.row(a, m_distances.data());
    for (std::size_t j = 0; j < n; ++j) m_distanceSlopes[j] = -gradRow(static_cast<Eigen::Index>(j));
    m_rows.accumulate(a, m_distanceSlopes.data(), m_distances.data(), &gradEmbedded);
}

void RowSimilarities::addRowGradient(Eigen::Index a, const Vector& gradRow) {
    runParkedRows();  // rows keep their order
    addRow(a, gradRow, m_gradEmbedded);
    if (!m_sameLabels) return;
    const Labels& labels = *m_sameLabels;
    const int label = labels[static_cast<std::size_t>(a)];
    m_sameLabelRow = gradRow;
    for (Eigen::Index j = 0; j < m_sameLabelRow.size(); ++j)
        if (labels[static_cast<std::size_t>(j)] != label) m_sameLabelRow(j) = 0.0;
    addRow(a, m_sameLabelRow, m_gradSameLabel);
}

void RowSimilarities::addScaledRowGradient(Eigen::Index a, const Vector& values, const Vector& kind,
                                           Real ofOnes, Real ofZeros, Vector* scratch) {
    const auto n = static_cast<Eigen::Index>(values.size());
    if (m_similarity && !m_sameLabels) {
        // Written out (splitScale) and parked: the caller reuses
        // values and kind for the next row.
        if (m_parkedCount == kParkedRows || m_parkedLabels) runParkedRows();
        Vector& parked = m_parked[static_cast<std::size_t>(m_parkedCount)];
        parked.resize(n);
        splitScale(parked.data(), values.data(), kind.data(), n, ofOnes, ofZeros);
        m_parkedAnchors[static_cast<std::size_t>(m_parkedCount++)] = a;
        return;
    }
    // A distance (negated) or the same-label split: the row written out, then the plain path.
    scratch->resize(n);
    splitScale(scratch->data(), values.data(), kind.data(), n, ofOnes, ofZeros);
    addRowGradient(a, *scratch);
}

void RowSimilarities::addLabelScaledRowGradient(Eigen::Index a, Vector& values, const Labels& labels, Real ofOnes,
                                                Real ofZeros, Vector* scratch) {
    if (m_similarity && !m_sameLabels) {
        // Parked unscaled: no pass writes the scaled row out and the backward pass reads it back.
        if (m_parkedCount == kParkedRows || (m_parkedCount > 0 && m_parkedLabels != &labels)) runParkedRows();
        const auto k = static_cast<std::size_t>(m_parkedCount++);
        m_parked[k].swap(values);
        m_parkedLabels = &labels;
        m_parkedOnes[k] = ofOnes;
        m_parkedZeros[k] = ofZeros;
        m_parkedAnchors[k] = a;
        return;
    }
    // splitScale's product, by the labels
    const int label = labels[static_cast<std::size_t>(a)];
    scratch->resize(values.size());
    for (Eigen::Index j = 0; j < values.size(); ++j)
        (*scratch)(j) = values(j) * (labels[static_cast<std::size_t>(j)] == label ? ofOnes : ofZeros);
    addRowGradient(a, *scratch);
}

void RowSimilarities::runParkedRows() const {
    if (m_parkedCount == 0) return;
    std::array<const Real*, kParkedRows> rows{};
    for (std::size_t k = 0; k < static_cast<std::size_t>(m_parkedCount); ++k) rows[k] = m_parked[k].data();
    // A similarity's backward pass reads no distances: the rows stand in for them.
    if (m_parkedLabels)
        m_rows.accumulateScaledRows(m_parkedCount, m_parkedAnchors.data(), rows.data(), *m_parkedLabels,
                                    m_parkedOnes.data(), m_parkedZeros.data(), rows.data(), &m_gradEmbedded);
    else
        m_rows.accumulateRows(m_parkedCount, m_parkedAnchors.data(), rows.data(), rows.data(), &m_gradEmbedded);
    m_parkedCount = 0;
    m_parkedLabels = nullptr;
}

void RowSimilarities::trackSameLabel(const Labels& labels) {
    runParkedRows();
    m_sameLabels = &labels;
    m_gradSameLabel = Points::Zero(m_rows.size(), m_rows.dims());
}

Points RowSimilarities::throughNormalization(const Points& gradEmbedded) const { return m_rows.finish(gradEmbedded); }

void RowSimilarities::addAccumulated(const RowSimilarities& part) {
    runParkedRows();
    part.runParkedRows();
    m_gradEmbedded += part.m_gradEmbedded;
    if (m_sameLabels) m_gradSameLabel += part.m_gradSameLabel;
}

Points RowSimilarities::gradient() const {
    runParkedRows();
    return throughNormalization(m_gradEmbedded);
}

Points RowSimilarities::sameLabelGradient() const {
    if (!m_sameLabels) return Points::Zero(m_rows.size(), m_rows.dims());
    return throughNormalization(m_gradSameLabel);
}

Real addChunkSums(const std::vector<ChunkSums>& parts, bool withGradient, RowSimilarities* into, Count* active) {
    Real total = 0.0;
    for (const ChunkSums& part : parts) {
        total += part.total;
        *active += part.active;
        if (withGradient) into->addAccumulated(part.similarities);
    }
    return total;
}

std::vector<std::vector<int>> groupByLabel(const Labels& labels) {
    std::map<int, std::vector<int>> byLabel;
    for (int i = 0; i < static_cast<int>(labels.size()); ++i) byLabel[labels[static_cast<std::size_t>(i)]].push_back(i);
    std::vector<std::vector<int>> groups;
    groups.reserve(byLabel.size());
    for (auto& [label, members] : byLabel) groups.push_back(std::move(members));
    return groups;
}

namespace {

std::vector<int> classOrderOf(const Labels& labels) {
    std::vector<int> order;
    order.reserve(labels.size());
    for (const std::vector<int>& members : groupByLabel(labels)) order.insert(order.end(), members.begin(), members.end());
    return order;
}

}  // namespace

ClassOrder::ClassOrder(const LossInput& input)
    : m_order(classOrderOf(input.labels)),
      m_embeddings(input.embeddings.rows(), input.embeddings.cols()),
      m_labels(input.labels.size()),
      m_input{m_embeddings, m_labels} {
    m_input.splitForces = input.splitForces;
    m_input.sampleSeed = input.sampleSeed;
    for (std::size_t k = 0; k < m_order.size(); ++k) {
        m_embeddings.row(static_cast<Eigen::Index>(k)) = input.embeddings.row(m_order[k]);
        m_labels[k] = input.labels[static_cast<std::size_t>(m_order[k])];
        if (k == 0 || m_labels[k] != m_labels[k - 1]) m_classes.push_back({static_cast<int>(k), static_cast<int>(k)});
        ++m_classes.back().end;
    }
}

std::vector<int> ClassOrder::classEnds() const {
    std::vector<int> ends(m_order.size());
    for (const Range& members : m_classes) std::fill(ends.begin() + members.begin, ends.begin() + members.end, members.end);
    return ends;
}

Points ClassOrder::restore(const Points& reordered) const {
    Points out(reordered.rows(), reordered.cols());
    for (std::size_t k = 0; k < m_order.size(); ++k) out.row(m_order[k]) = reordered.row(static_cast<Eigen::Index>(k));
    return out;
}

Count orderedPositivePairs(const std::vector<ClassOrder::Range>& classes) {
    Count pairs = 0;
    for (const ClassOrder::Range& members : classes) {
        const Count m = members.end - members.begin;
        pairs += m * (m - 1);
    }
    return pairs;
}

void minedPairUses(const Tuples& tuples, const Points& embeddings, const Labels& labels,
                   std::vector<WeightedPair>* positives, std::vector<WeightedPair>* negatives) {
    positives->clear();
    negatives->clear();
    if (!(tuples.kind == Tuples::Kind::All && tuples.filter)) {
        std::vector<Pair> positiveList, negativeList;
        materializePairs(tuples, embeddings, labels, &positiveList, &negativeList);
        for (const Pair& pair : positiveList) positives->push_back({pair[0], pair[1], 1});
        for (const Pair& pair : negativeList) negatives->push_back({pair[0], pair[1], 1});
        return;
    }
    const TripletGapFilter& filter = *tuples.filter;
    // The ordering distance of the miner's own distance, exactly as materializeTriplets builds it.
    const SelfDistance minerDistance(filter.distance, embeddings);
    const Real sign = filter.distance.orderSign();
    const auto n = static_cast<int>(labels.size());
    auto aboveLow = [&filter](Real gap) { return filter.includeLow ? gap >= filter.low : gap > filter.low; };
    auto belowHigh = [&filter](Real gap) { return filter.includeHigh ? gap <= filter.high : gap < filter.high; };
    std::vector<std::pair<Real, int>> positiveRow, negativeRow;  // (δ, index), sorted by δ
    {
        // At most every ordered pair once: reserve instead of growing through copies.
        std::map<int, Count> classSizes;
        for (int value : labels) ++classSizes[value];
        Count positivePairs = 0;
        for (const auto& [label, size] : classSizes) positivePairs += size * (size - 1);
        const auto all = static_cast<Count>(n);
        positives->reserve(static_cast<std::size_t>(positivePairs));
        negatives->reserve(static_cast<std::size_t>(all * (all - 1) - positivePairs));
    }
    for (int a = 0; a < n; ++a) {
        positiveRow.clear();
        negativeRow.clear();
        for (int j = 0; j < n; ++j) {
            if (j == a) continue;
            const Real delta = sign * minerDistance.matrix()(a, j);
            (labels[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(a)] ? positiveRow : negativeRow)
                .emplace_back(delta, j);
        }
        if (positiveRow.empty() || negativeRow.empty()) continue;
        std::sort(positiveRow.begin(), positiveRow.end());
        std::sort(negativeRow.begin(), negativeRow.end());
        // Fixed p: gap = δ_an − δ_ap grows with δ_an, so the kept n form one run of negativeRow.
        for (const auto& positiveEntry : positiveRow) {
            // Not a structured binding: clang 14 (the fuzz build) cannot capture those in a lambda.
            const Real deltaPositive = positiveEntry.first;
            const auto p = positiveEntry.second;
            const auto first = std::partition_point(negativeRow.begin(), negativeRow.end(), [&](const auto& entry) {
                return !aboveLow(entry.first - deltaPositive);
            });
            const auto last = std::partition_point(first, negativeRow.end(), [&](const auto& entry) {
                return belowHigh(entry.first - deltaPositive);
            });
            if (last > first) positives->push_back({a, p, static_cast<Count>(last - first)});
        }
        // Fixed n: the gap falls as δ_ap grows, so the kept p form one run of positiveRow.
        for (const auto& negativeEntry : negativeRow) {
            const Real deltaNegative = negativeEntry.first;
            const auto m = negativeEntry.second;
            const auto first = std::partition_point(positiveRow.begin(), positiveRow.end(), [&](const auto& entry) {
                return !belowHigh(deltaNegative - entry.first);
            });
            const auto last = std::partition_point(first, positiveRow.end(), [&](const auto& entry) {
                return aboveLow(deltaNegative - entry.first);
            });
            if (last > first) negatives->push_back({a, m, static_cast<Count>(last - first)});
        }
    }
}

void softplusRowWithSlope(const Real* gaps, Eigen::Index count, Real* values, Real* slopes) {
    simd::kernels().softplusRow(gaps, count, expconst::kTable.data(), values, slopes);
}

LossOutput negativeLogSumExpLoss(const LossInput& input, const DistanceSpec& distance, Real temperature,
                                 Real (*term)(Real gap, Real* slope), bool withGradient, RowTerm rowTerm) {
    const auto n = static_cast<Eigen::Index>(input.labels.size());
    // The rows class by class: an anchor's positives are then one run of the row on each side of
    // the anchor, read and written as such (scattered, they took a tenth of NT-Xent's time).
    // Reordering moves each entry to another of the sums' lanes: the same numbers up to rounding.
    const ClassOrder order(input);
    const LossInput& sorted = order.input();
    const Count positivePairs = orderedPositivePairs(order.classes());
    if (positivePairs == 0 || order.classes().size() < 2) {  // no positive or no negative pair
        LossOutput zero = zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }
    // Per anchor: L_a = LSE over its negatives of z, shifted by their max or by the bound 1/τ
    // (below; no overflow whatever the positives are). Adding −∞ on the anchor's own class turns the row into exactly N(a),
    // so max / exp / sum run vectorized without branches.
    RowSimilarities similarities(distance, sorted.embeddings);
    if (splitsForces(input, withGradient)) similarities.trackSameLabel(sorted.labels);
    const Real inverseTemperature = 1.0 / temperature;
    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    // Normalized points have s ≤ 1, so z = s/τ ≤ 1/τ: 1/τ can shift the negatives' log-sum-exp in
    // place of their maximum (kBoundedShiftRange), and then one pass over the points makes the row,
    // its exps and their sum, where the maximum needs a pass of its own before the exps.
    const bool boundedShift =
        similarities.boundedByOne() && 2.0 * inverseTemperature <= kBoundedShiftRange;
    // The anchors with a positive, class by class; in chunks fixed by their number, each with its
    // own sums and gradient, added in chunk order (the same bits on any number of threads).
    struct Anchor {
        int index;
        ClassOrder::Range members;
    };
    std::vector<Anchor> anchors;
    for (const ClassOrder::Range& members : order.classes())
        if (members.end - members.begin >= 2)
            for (int a = members.begin; a < members.end; ++a) anchors.push_back({a, members});
    const AnchorChunks chunks(static_cast<std::ptrdiff_t>(anchors.size()));
    std::vector<ChunkSums> parts(static_cast<std::size_t>(chunks.count()), ChunkSums{similarities});
    forEachRowChunk(static_cast<std::ptrdiff_t>(anchors.size()), [&](std::ptrdiff_t begin, std::ptrdiff_t end, int c) {
        ChunkSums& part = parts[static_cast<std::size_t>(c)];
        Vector logits, negativeExp, gradRow, kind = Vector::Zero(n);  // kind: 1 = the anchor's class
        std::vector<Real> slopes, gaps, values;
        ClassOrder::Range masked{0, 0};
        for (std::ptrdiff_t t = begin; t < end; ++t) {
            const int a = anchors[static_cast<std::size_t>(t)].index;
            const ClassOrder::Range members = anchors[static_cast<std::size_t>(t)].members;
            if (masked.begin != members.begin || masked.end != members.end) {  // {0, 0}: none yet
                kind.segment(masked.begin, masked.end - masked.begin).setZero();
                kind.segment(members.begin, members.end - members.begin).setOnes();
                masked = members;
            }
            // The row passes on the vector unit (pair_rows.h): z = s/τ and the top of the
            // negatives (one pass with the similarities); z − top for them and z − ∞ = −∞ for the
            // anchor's class, whose e^{−∞} is exactly 0 (rowExp flushes: no subnormal); the
            // negatives' sum in the unit's fixed lanes.
            constexpr Real ownClassShift = std::numeric_limits<Real>::infinity();
            Real top = inverseTemperature, ownClassSum = 0.0, negativeSum = 0.0;
            if (boundedShift) {
                part.similarities.scaledRowExpSum(a, inverseTemperature, kind, ownClassShift, top, logits,
                                                  negativeExp, &ownClassSum, &negativeSum);
            } else {
                Real topOwnClass = 0.0;
                part.similarities.scaledRowWithMax(a, inverseTemperature, kind, logits, &topOwnClass, &top);
                negativeExp.resize(n);
                splitShiftExpSum(negativeExp.data(), logits.data(), kind.data(), n, ownClassShift, top,
                                 &ownClassSum, &negativeSum);
            }
            const Real logNegatives = top + std::log(negativeSum);
            // The positives: the class's rows before the anchor, then those after it.
            const int before = a - members.begin;
            const auto count = static_cast<std::size_t>(members.end - members.begin - 1);
            gaps.resize(count);
            const Real* z = logits.data();
            for (int k = 0; k < before; ++k) gaps[static_cast<std::size_t>(k)] = logNegatives - z[members.begin + k];
            for (std::size_t k = static_cast<std::size_t>(before); k < count; ++k)
                gaps[k] = logNegatives - z[a + 1 + (k - static_cast<std::size_t>(before))];
            slopes.resize(count);
            values.resize(count);
            if (rowTerm) {
                rowTerm(gaps.data(), static_cast<Eigen::Index>(count), values.data(), slopes.data());
            } else {
                for (std::size_t k = 0; k < count; ++k) values[k] = term(gaps[k], &slopes[k]);
            }
            // The row's sums in four interleaved partial sums, then the row's total added to the
            // chunk's: one running sum over the chunk made every addition wait for the last.
            const auto rowCount = static_cast<Eigen::Index>(count);
            part.total += interleavedSum(rowCount, [&](Eigen::Index k) { return values[static_cast<std::size_t>(k)]; });
            // Σ_p f'(g_ap): how hard the anchor's negatives are pushed
            const Real slopeSum =
                interleavedSum(rowCount, [&](Eigen::Index k) { return slopes[static_cast<std::size_t>(k)]; });
            // counted in a double: a compare's 0/1 adds without the branch or flag test of an integer count
            const Real active = interleavedSum(
                rowCount, [&](Eigen::Index k) { return values[static_cast<std::size_t>(k)] != 0.0 ? 1.0 : 0.0; });
            part.active += static_cast<Count>(active);
            if (!withGradient) continue;
            // Gradient in z, times 1/τ for s: negatives get the softmax share (e^z × the factor, in
            // the backward pass), positives −f', written over their e^{−∞} = 0 and scaled by 1
            // (exact); the anchor's own entry stays 0.
            const Real negativeFactor = inverseTemperature * slopeSum * perPair / negativeSum;
            Real* g = negativeExp.data();
            for (int k = 0; k < before; ++k)
                g[members.begin + k] = -inverseTemperature * slopes[static_cast<std::size_t>(k)] * perPair;
            for (std::size_t k = static_cast<std::size_t>(before); k < count; ++k)
                g[a + 1 + (k - static_cast<std::size_t>(before))] = -inverseTemperature * slopes[k] * perPair;
            // The kind row is the anchor's class: its same-label row.
            part.similarities.addLabelScaledRowGradient(a, negativeExp, sorted.labels, 1.0, negativeFactor, &gradRow);
        }
    });
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    out.value = addChunkSums(parts, withGradient, &similarities, &out.stats.active) * perPair;
    if (withGradient) out.gradEmbeddings = order.restore(similarities.gradient());
    if (splitsForces(input, withGradient)) out.gradFromPositives = order.restore(similarities.sameLabelGradient());
    return out;
}

}  // namespace marginlab::detail

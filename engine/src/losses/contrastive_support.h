// SPDX-License-Identifier: MIT
// Internal helpers of the contrastive-family losses (angular, npairs, ntxent, supcon,
// decoupled_contrastive): numerically safe scalar functions and the pair masks of a batch.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "losses/distance_rows.h"
#include "marginlab/loss.h"

namespace marginlab::detail {

/// Σ term(k) for k < n in four interleaved partial sums, added as (s₀ + s₁) + (s₂ + s₃): a fixed
/// order (the same bits on every run and thread count) with four additions in flight, where one
/// running sum makes each addition wait for the last. A sum kept across the row's kernel calls is
/// worse: no x86-64 vector register survives a call, so the compiler keeps it on the stack and
/// each addition also waits for the store of the last.
template <typename Term>
Real interleavedSum(Eigen::Index n, Term term) {
    std::array<Real, 4> sums{};
    Eigen::Index k = 0;
    for (; k + 4 <= n; k += 4)
        for (Eigen::Index lane = 0; lane < 4; ++lane) sums[static_cast<std::size_t>(lane)] += term(k + lane);
    for (Eigen::Index lane = 0; k < n; ++k, ++lane) sums[static_cast<std::size_t>(lane)] += term(k);
    return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

/// log(1 + eᵛ) without overflow for large v and without the torch threshold (exact in double).
inline Real stableSoftplus(Real v) {
    return v > 0.0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
}
/// 1 / (1 + e⁻ᵛ), the derivative of stableSoftplus.
inline Real logistic(Real v) {
    if (v >= 0.0) return 1.0 / (1.0 + std::exp(-v));
    const Real e = std::exp(v);
    return e / (1.0 + e);
}

/// stableSoftplus(v) with logistic(v) in `*slope`, from one exp: both use e^{−|v|}, so the
/// results are bit for bit those of the two functions.
inline Real softplusWithSlope(Real v, Real* slope) {
    const Real e = std::exp(-std::abs(v));
    *slope = v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    return v > 0.0 ? v + std::log1p(e) : std::log1p(e);
}

/**
 * Dense N×N positive / negative masks (row = anchor) of mined pair lists: PML's mat-based pair
 * losses set mask[a, j] = 1 per listed pair, so duplicates collapse. Only for mined tuples (the
 * all-pairs paths never build an N×N structure).
 */
struct PairMasks {
    Eigen::Index size = 0;
    std::vector<std::uint8_t> positive;  // row-major N×N
    std::vector<std::uint8_t> negative;
    Count positiveCount = 0;  // set entries
    Count negativeCount = 0;

    bool isPositive(Eigen::Index a, Eigen::Index j) const {
        return positive[static_cast<std::size_t>(a * size + j)] != 0;
    }
    bool isNegative(Eigen::Index a, Eigen::Index j) const {
        return negative[static_cast<std::size_t>(a * size + j)] != 0;
    }
};

/**
 * The similarity matrix of the all-pairs losses, one anchor row at a time, with its backward pass
 * accumulated row by row: O(N·D) memory, so no N×N matrix is ever allocated (fresh N×N buffers
 * page-fault at every call, which costs more than the arithmetic at N = 1024).
 * s_aj = e_a·e_j for similarities, −‖e_a − e_j‖^power for Lp distances (PML negates
 * non-inverted distances), e = normalized rows when the spec normalizes. Values and gradients
 * equal SelfDistance's (a zero distance gets the subgradient 0, as there).
 */
class RowSimilarities {
public:
    RowSimilarities(const DistanceSpec& spec, const Points& x);
    Eigen::Index size() const { return m_rows.size(); }
    /// s_a· into `out` (resized to N).
    void row(Eigen::Index a, Vector& out) const;
    /// s_a· × factor into `out` (resized to N) and its largest entries with kind 1 (*maxOnes) and
    /// with kind 0 (*maxZeros): row(), then splitAffineMax with shifts 0, the same bits; for a
    /// similarity in one pass.
    void scaledRowWithMax(Eigen::Index a, Real factor, const Vector& kind, Vector& out, Real* maxOnes,
                          Real* maxZeros) const;
    /// Whether every s_aj is at most 1 (up to rounding): a similarity of normalized points.
    bool boundedByOne() const { return m_boundedByOne; }
    /// For a similarity: s_a· × factor into `logits` and rowExp(logits[j] − kind[j]'s shift) into
    /// `exps` (both resized to N), with the exps' sums by kind: row(), splitAffine by the factor,
    /// then splitShiftExpSum, the same bits, in one pass over the points in 2D.
    void scaledRowExpSum(Eigen::Index a, Real factor, const Vector& kind, Real shiftOnes, Real shiftZeros,
                         Vector& logits, Vector& exps, Real* sumOnes, Real* sumZeros) const;
    /// Adds the effect of ∂L/∂s_a· (`gradRow`, size N) on the embeddings.
    void addRowGradient(Eigen::Index a, const Vector& gradRow);
    /// addRowGradient of the row values[j] × (kind[j] = 1 ? ofOnes : ofZeros), the same bits; the
    /// scaling happens inside the backward pass where it can (`scratch` holds the row otherwise).
    void addScaledRowGradient(Eigen::Index a, const Vector& values, const Vector& kind, Real ofOnes,
                              Real ofZeros, Vector* scratch);
    /// addScaledRowGradient where kind is the same-label row of a (labels[j] = labels[a]): for a
    /// similarity the row waits with its values, swapped out of `values` (which then holds a spare
    /// buffer of any size and content), and is scaled inside the backward pass; the same bits.
    /// `labels` must outlive the next gradient().
    void addLabelScaledRowGradient(Eigen::Index a, Vector& values, const Labels& labels, Real ofOnes, Real ofZeros,
                                   Vector* scratch);
    /// ∂L/∂x (N×D): everything added so far, taken back through the normalization.
    Points gradient() const;

    /// From now on addRowGradient also adds the same-label entries of each row (j with
    /// labels[j] == labels[a]) to a second gradient, read with sameLabelGradient(). For
    /// LossOutput::gradFromPositives; costs one more row backward per row. `labels` must outlive this.
    void trackSameLabel(const Labels& labels);
    /// ∂L/∂x through the same-label entries only (N×D); zero unless trackSameLabel was called.
    Points sameLabelGradient() const;
    /// Adds what `part` (a copy of this object, made before any row was added) has accumulated:
    /// each chunk of anchors works on its own copy, and the copies are added in chunk order.
    void addAccumulated(const RowSimilarities& part);

private:
    void addRow(Eigen::Index a, const Vector& gradRow, Points& gradEmbedded);
    Points throughNormalization(const Points& gradEmbedded) const;
    // Runs the parked rows' backward passes (in the order they came): before anything reads
    // m_gradEmbedded. Const because parking is invisible from outside: the gradient is the same.
    void runParkedRows() const;

    static constexpr int kParkedRows = 4;

    bool m_similarity;
    bool m_boundedByOne;
    DistanceRows m_rows;            // the embedded points and their row kernels (plain loops: D is 2 or 3)
    mutable Points m_gradEmbedded;  // mutable: the parked rows are added when it is read
    const Labels* m_sameLabels = nullptr;  // set by trackSameLabel
    Points m_gradSameLabel;
    Vector m_sameLabelRow;               // scratch: the masked row
    std::vector<Real> m_distances;       // scratch for the Lp backward
    std::vector<Real> m_distanceSlopes;  // scratch: ∂L/∂d = −∂L/∂s
    // Scaled similarity rows wait here to run their backward passes together
    // (DistanceRows::accumulateRows: the same bits as one at a time, faster in 2D): written out,
    // or, with m_parkedLabels set, as values and factors scaled by the same-label row inside the
    // backward pass (DistanceRows::accumulateScaledRows).
    mutable std::array<Vector, kParkedRows> m_parked;
    mutable std::array<Eigen::Index, kParkedRows> m_parkedAnchors{};
    mutable std::array<Real, kParkedRows> m_parkedOnes{}, m_parkedZeros{};
    mutable const Labels* m_parkedLabels = nullptr;
    mutable int m_parkedCount = 0;
};

/// One chunk of anchors of a row-by-row loss: its own copy of the similarities (with the
/// gradient it accumulates), its sum of terms and its count of active anchors or pairs.
struct ChunkSums {
    RowSimilarities similarities;
    Real total = 0.0;
    Count active = 0;
};
/// Adds the chunks in order: their gradients into `into` (if `withGradient`), their counts into
/// *active; returns the sum of their totals. The same bits however the chunks were scheduled.
Real addChunkSums(const std::vector<ChunkSums>& parts, bool withGradient, RowSimilarities* into,
                  Count* active);

/// The members (ascending indices) of each distinct label, labels ascending.
std::vector<std::vector<int>> groupByLabel(const Labels& labels);
/**
 * The points of a loss input reordered class by class (groupByLabel's classes, members ascending),
 * so that each class is one range of rows: a row's positives are then read and written as runs
 * of consecutive entries rather than one scattered index at a time. input() is the reordered
 * input (no reference, no owned rows, no tuples); restore() puts a gradient back in the caller's
 * row order. Not copyable: input() refers to the object's own points and labels.
 */
class ClassOrder {
public:
    struct Range {
        int begin = 0;
        int end = 0;
    };
    explicit ClassOrder(const LossInput& input);
    ClassOrder(const ClassOrder&) = delete;
    ClassOrder& operator=(const ClassOrder&) = delete;

    const LossInput& input() const { return m_input; }
    /// Each class's rows in the reordered input, classes in label order.
    const std::vector<Range>& classes() const { return m_classes; }
    /// For each reordered row, where its class's rows end: its classmates after it are the rows
    /// up to there.
    std::vector<int> classEnds() const;
    /// `reordered` (rows in the reordered order) with row k moved back to the caller's row.
    Points restore(const Points& reordered) const;

private:
    std::vector<int> m_order;  // m_order[k]: the caller's row at reordered row k
    std::vector<Range> m_classes;
    Points m_embeddings;
    Labels m_labels;
    LossInput m_input;
};

/// Σ_c |c|(|c|−1): the number of ordered positive pairs of the classes.
Count orderedPositivePairs(const std::vector<ClassOrder::Range>& classes);

/// One ordered pair of a mined list and how many times the list holds it.
struct WeightedPair {
    int anchor = 0;
    int other = 0;
    Count uses = 1;
};

/**
 * The positive and negative pair lists of mined tuples as PML's convert_to_pairs gives them
 * (a triplet (a,p,n) contributes (a,p) and (a,n)), with multiplicities. Explicit pairs and
 * triplets are listed as they come (uses 1 each). For Kind::All with a gap filter (the triplet
 * margin miner) the counts uses(a,p) = #{n : kept} and uses(a,n) = #{p : kept} are found per
 * anchor by binary search over the sorted distances — O(N² log N) time and O(N²) memory instead
 * of listing O(N³) triplets. The search applies filter.keeps to the same δ_an − δ_ap values as
 * materializeTriplets (floating subtraction is monotone), so the counts are exact.
 */
void minedPairUses(const Tuples& tuples, const Points& embeddings, const Labels& labels,
                   std::vector<WeightedPair>* positives, std::vector<WeightedPair>* negatives);

/// Masks of the listed pairs (any multiplicity sets the entry once).
PairMasks listedPairMasks(Eigen::Index size, const std::vector<WeightedPair>& positives,
                          const std::vector<WeightedPair>& negatives);

/// Σ uses: the length of the list PML would hold.
inline Count listLength(const std::vector<WeightedPair>& pairs) {
    Count length = 0;
    for (const WeightedPair& pair : pairs) length += pair.uses;
    return length;
}

/// PML GenericPairLoss's early exit: every index list has length ≤ 1 → the loss is 0.
inline bool tooFewMinedPairs(const std::vector<WeightedPair>& positives,
                             const std::vector<WeightedPair>& negatives) {
    return listLength(positives) <= 1 && listLength(negatives) <= 1;
}

/**
 * The losses that are a mean over every ordered positive pair (a,p) of f(g_ap), with
 * g_ap = LSE_{n∈N(a)} z_an − z_ap and z = s/τ (NT-Xent: f = softplus; decoupled contrastive:
 * f = identity). `term(g, &slope)` returns f(g) and f'(g). Row by row, class by class: no N×N
 * buffer. Stats count the pairs and those with f(g) ≠ 0. 0 if no positive or no negative pair.
 * `rowTerm`, if given, computes `term` for a row of gaps at once (values and slopes), used in its
 * place.
 */
using RowTerm = void (*)(const Real* gaps, Eigen::Index count, Real* values, Real* slopes);
LossOutput negativeLogSumExpLoss(const LossInput& input, const DistanceSpec& distance, Real temperature,
                                 Real (*term)(Real gap, Real* slope), bool withGradient,
                                 RowTerm rowTerm = nullptr);

/// softplusWithSlope for a row, on the vector unit (simd/dispatch.h: softplusRow; the exp is the
/// row exp and log1p the unit's, each within a few ulp of glibc's).
void softplusRowWithSlope(const Real* gaps, Eigen::Index count, Real* values, Real* slopes);

}  // namespace marginlab::detail

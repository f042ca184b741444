// SPDX-License-Identifier: MIT
// The all-pairs losses fused row by row: distance row, loss terms and backward pass in one go
// (internal header).
#pragma once

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "losses/distance_rows.h"
#include "losses/exp_row.h"
#include "parallel.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

/// One chunk of anchors of a fused row loss: its sums, its share of the gradient (w.r.t. the
/// embedded points) and its row buffers. Each chunk has its own, so chunks share nothing they
/// write; they are added in chunk order.
struct PairRowChunk {
    Real total = 0.0;
    Count tuples = 0;
    Count active = 0;
    // Further sums and counts a loss keeps per chunk (the two halves of a pair loss, say).
    std::array<Real, 4> sums{};
    std::array<Count, 4> counts{};
    std::vector<Real> tally;    // sums of any number (FusedPairRows::setTallySize), a histogram say
    std::vector<Real> row;      // M_i·, filled before the row function is called
    std::vector<Real> gradRow;  // ∂L/∂M_i·, written by the row function when it returns true
    std::vector<Real> first;    // scratch rows for the row function
    std::vector<Real> second;
    std::vector<Real> third;
    std::vector<Real> fourth;
    std::vector<int> indices;  // scratch, sized by the row function
    Points grad;
    Points gradSameLabel;
    std::vector<Real> masked;  // accumulateSameLabel's scratch

    /// Instead of writing gradRow, a row function may name ∂L/∂M_i· as values[j] × (kind[j] = 1 ?
    /// ofOnes : ofZeros): the row is then scaled (splitScale) into a buffer of the backward pass's
    /// own. values[i] × its factor must be +0, or ±0 for a similarity (the anchor's e^{−∞} times a
    /// finite factor, say: not an empty kind's 1/0): it stands where gradRow[i] would be set to 0.
    /// The rows are read after the row function has returned: they must be the chunk's own
    /// buffers (first, second, …), not the function's locals.
    void scaleGradient(const Real* values, const Real* kind, Real ofOnes, Real ofZeros) {
        scaled = {values, kind, ofOnes, ofZeros, nullptr};
    }
    /// scaleGradient where kind is sameLabelRow(labels, labels[i]): the backward pass then scales
    /// from the labels as it goes, and nothing writes the scaled row out.
    void scaleGradientBySameLabel(const Real* values, const Real* kind, const Labels& labels, Real ofOnes,
                                  Real ofZeros) {
        scaled = {values, kind, ofOnes, ofZeros, &labels};
    }
    struct ScaledRow {
        const Real* values = nullptr;
        const Real* kind = nullptr;
        Real ofOnes = 0.0, ofZeros = 0.0;
        const Labels* labels = nullptr;  // set by scaleGradientBySameLabel
    } scaled;
    /// The scratch row whose data() is `p`, or null.
    std::vector<Real>* scratchAt(const Real* p) {
        for (std::vector<Real>* buffer : {&first, &second, &third, &fourth})
            if (buffer->data() == p) return buffer;
        return nullptr;
    }
    /// The named row written out: values[j] × kind[j]'s factor.
    void writeScaled(Real* out, Eigen::Index n) const {
        simd::kernels().splitScale(out, scaled.values, scaled.kind, n, scaled.ofOnes, scaled.ofZeros);
    }
};

/**
 * A chunk's rows whose backward passes wait to run together (DistanceRows::accumulateRows reads
 * each point and gradient entry once per block of rows instead of once per row, with the same
 * bits as one row at a time). A returning row's M_i· and ∂L/∂M_i· are parked by swapping the
 * chunk's buffers with a slot's spare ones (no copy): the chunk goes on with buffers holding an
 * earlier row's values, as it did before (row functions write every entry they read).
 */
class PendingRows {
public:
    static constexpr int kCapacity = 4;

    explicit PendingRows(std::size_t size) {
        for (Slot& slot : m_slots) {
            slot.row.resize(size);
            slot.gradRow.assign(size, 0.0);
            slot.values.resize(size);
        }
    }

    /// Parks row i's backward pass: part.gradRow, or the row part.scaleGradient named. A row named
    /// by scaleGradientBySameLabel keeps its values here, swapped in, and is scaled inside the
    /// backward pass; any other named row is written out (PairRowChunk::writeScaled). Either way
    /// the same bits. Runs the waiting rows first when the block is full or the row is of another
    /// sort than theirs.
    void add(Eigen::Index i, PairRowChunk& part, const DistanceRows& rows, Points* grad) {
        const PairRowChunk::ScaledRow& s = part.scaled;
        std::vector<Real>* values = s.values && s.labels ? part.scratchAt(s.values) : nullptr;
        const bool byLabel = values != nullptr;
        if (m_count == kCapacity || (m_count > 0 && (byLabel != m_byLabel || (byLabel && s.labels != m_labels))))
            flush(rows, grad);
        m_byLabel = byLabel;
        const auto k = static_cast<std::size_t>(m_count++);
        Slot& slot = m_slots[k];
        slot.row.swap(part.row);
        if (byLabel) {
            slot.values.swap(*values);
            m_values[k] = slot.values.data();
            m_labels = s.labels;
            m_ofOnes[k] = s.ofOnes;
            m_ofZeros[k] = s.ofZeros;
        } else if (s.values) {
            part.writeScaled(slot.gradRow.data(), rows.size());
        } else {
            slot.gradRow.swap(part.gradRow);
            slot.gradRow[static_cast<std::size_t>(i)] = 0.0;  // M_ii is constant for every loss here
        }
        m_anchors[k] = i;
        m_rows[k] = slot.row.data();
        m_g[k] = slot.gradRow.data();
    }

    void flush(const DistanceRows& rows, Points* grad) {
        if (m_count == 0) return;
        if (m_byLabel)
            rows.accumulateScaledRows(m_count, m_anchors.data(), m_values.data(), *m_labels, m_ofOnes.data(),
                                      m_ofZeros.data(), m_rows.data(), grad);
        else
            rows.accumulateRows(m_count, m_anchors.data(), m_g.data(), m_rows.data(), grad);
        m_count = 0;
    }

private:
    struct Slot {
        std::vector<Real> row, gradRow, values;
    };
    std::array<Slot, kCapacity> m_slots;
    int m_count = 0;
    bool m_byLabel = false;  // the waiting rows are scaled from m_labels, not written out in gradRow
    const Labels* m_labels = nullptr;
    std::array<Eigen::Index, kCapacity> m_anchors{};
    std::array<const Real*, kCapacity> m_g{}, m_rows{}, m_values{};
    std::array<Real, kCapacity> m_ofOnes{}, m_ofZeros{};
};

/**
 * Runs a loss whose terms come row by row from the pairwise matrix M (distance or similarity of
 * the embedded points, DistanceRows' entries) without ever holding an N×N matrix: for each anchor
 * row i, M_i· is computed into part.row, `rowFunction(i, part)` adds the row's terms to the chunk
 * and, if it returns true, has written ∂L/∂M_ij into part.gradRow[j] for every j ≠ i; that row
 * goes straight through the backward pass into the chunk's gradient. Rows are split into chunks
 * fixed by N (AnchorChunks) on the engine's threads and the chunks are added in order: the same
 * bits on any number of threads. Memory: O(N·D) per chunk.
 */
class FusedPairRows {
public:
    FusedPairRows(const DistanceSpec& spec, const Points& x) : m_rows(spec, x) {}

    template <typename RowFunction>
    void run(bool withGradient, const Labels* sameLabels, RowFunction&& rowFunction) {
        const Eigen::Index n = m_rows.size(), dims = m_rows.dims();
        const auto size = static_cast<std::size_t>(n);
        m_parts.assign(static_cast<std::size_t>(AnchorChunks(n).count()), PairRowChunk{});
        forEachRowChunk(n, [&](Eigen::Index begin, Eigen::Index end, int chunk) {
            PairRowChunk& part = m_parts[static_cast<std::size_t>(chunk)];
            part.row.resize(size);
            part.gradRow.assign(size, 0.0);
            part.first.resize(size);
            part.second.resize(size);
            part.third.resize(size);
            part.fourth.resize(size);
            part.tally.assign(m_tallySize, 0.0);
            if (withGradient) part.grad = Points::Zero(n, dims);
            if (withGradient && sameLabels) part.gradSameLabel = Points::Zero(n, dims);
            // Without the same-label split, the backward passes run in blocks of rows.
            std::optional<PendingRows> pending;
            if (withGradient && !sameLabels) pending.emplace(size);
            for (Eigen::Index t = begin; t < end; ++t) {
                const Eigen::Index i = m_order.empty() ? t : m_order[static_cast<std::size_t>(t)];
                if (!m_rowsLeftToFunction) m_rows.row(i, part.row.data());
                part.scaled = {};
                if (!rowFunction(static_cast<int>(i), part) || !withGradient) continue;
                if (pending) {
                    pending->add(i, part, m_rows, &part.grad);
                    continue;
                }
                if (part.scaled.values)  // the same-label pass masks a written row
                    part.writeScaled(part.gradRow.data(), n);
                part.gradRow[static_cast<std::size_t>(i)] = 0.0;  // M_ii is constant for every loss here
                m_rows.accumulate(i, part.gradRow.data(), part.row.data(), &part.grad);
                m_rows.accumulateSameLabel(i, part.gradRow.data(), part.row.data(), *sameLabels,
                                           &part.gradSameLabel, &part.masked);
            }
            if (pending) pending->flush(m_rows, &part.grad);
        });
        m_total = 0.0;
        m_tuples = m_active = 0;
        m_sums.fill(0.0);
        m_counts.fill(0);
        m_tally.assign(m_tallySize, 0.0);
        m_withGradient = withGradient;
        m_sameLabel = withGradient && sameLabels;
        if (withGradient) m_grad = Points::Zero(n, dims);
        if (m_sameLabel) m_gradSameLabel = Points::Zero(n, dims);
        for (const PairRowChunk& part : m_parts) {
            m_total += part.total;
            m_tuples += part.tuples;
            m_active += part.active;
            for (std::size_t k = 0; k < m_sums.size(); ++k) {
                m_sums[k] += part.sums[k];
                m_counts[k] += part.counts[k];
            }
            for (std::size_t k = 0; k < m_tallySize; ++k) m_tally[k] += part.tally[k];
            if (withGradient) m_grad += part.grad;
            if (m_sameLabel) m_gradSameLabel += part.gradSameLabel;
        }
        m_parts.clear();
    }

    const DistanceRows& rows() const { return m_rows; }
    /// From now on part.row is not filled before the row function: the function makes what it
    /// needs of M_i· itself (rows().rowAffineExpSum, say). For a distance it must also write M_i·
    /// into part.row when it returns true (the backward pass reads it); a similarity's is never read.
    void leaveRowsToFunction() { m_rowsLeftToFunction = true; }
    /// From now on run() takes the anchors class by class (labels ascending, indices ascending
    /// within a class) instead of in index order, its chunks being runs of that order: a block of
    /// backward passes then mostly holds rows of one label, which share one label compare per
    /// group (simd accumulateScaledRows). Still fixed by N and the labels: the same bits on any
    /// number of threads.
    void orderRowsByLabel(const Labels& labels) {
        m_order.resize(labels.size());
        std::iota(m_order.begin(), m_order.end(), Eigen::Index{0});
        std::stable_sort(m_order.begin(), m_order.end(), [&labels](Eigen::Index a, Eigen::Index b) {
            return labels[static_cast<std::size_t>(a)] < labels[static_cast<std::size_t>(b)];
        });
    }
    /// The chunks' sums of part.total, part.tuples and part.active.
    Real total() const { return m_total; }
    Count tuples() const { return m_tuples; }
    Count active() const { return m_active; }
    /// How many entries part.tally has in the next run (zeros at the start of each chunk).
    void setTallySize(std::size_t size) { m_tallySize = size; }
    /// The chunks' part.tally added entry by entry in chunk order.
    const std::vector<Real>& tally() const { return m_tally; }
    /// The chunks' sums of part.sums[k] and part.counts[k].
    Real sum(std::size_t k) const { return m_sums.at(k); }
    Count count(std::size_t k) const { return m_counts.at(k); }
    /// ∂L/∂x for `scale` × the rows' ∂L/∂M (a constant factor of every row, such as 1/#active).
    Points gradient(Real scale) const { return m_rows.finish(scale * m_grad); }
    /// The same through the same-label entries only (run with sameLabels).
    Points sameLabelGradient(Real scale) const { return m_rows.finish(scale * m_gradSameLabel); }

private:
    DistanceRows m_rows;
    std::vector<PairRowChunk> m_parts;
    bool m_rowsLeftToFunction = false;
    std::vector<Eigen::Index> m_order;  // the anchors in the order run() takes them; empty: 0, 1, …
    Real m_total = 0.0;
    Count m_tuples = 0;
    Count m_active = 0;
    std::array<Real, 4> m_sums{};
    std::array<Count, 4> m_counts{};
    std::size_t m_tallySize = 0;
    std::vector<Real> m_tally;
    bool m_withGradient = false;
    bool m_sameLabel = false;
    Points m_grad;
    Points m_gradSameLabel;
};

/**
 * Row passes over a row split in two kinds by a 0/1 row (kind[j] = 1.0 or 0.0: same label or
 * not, say), on the vector unit chosen at start-up (simd/dispatch.h): the selects are mask
 * operations, never branches (the kind is data-dependent), and the maxima and sums run in 8
 * lanes (16 for the maxima) combined in a fixed tree — one order on every unit and every call, so the
 * same bits everywhere.
 */
inline void sameLabelRow(const Labels& labels, int label, Real* kind, Eigen::Index n) {
    simd::kernels().sameLabelRow(labels.data(), label, n, kind);
}

/// The largest values[j] with kind[j] = 1 (*ofOnes) and with kind[j] = 0 (*ofZeros); −∞ for none.
inline void splitMax(const Real* values, const Real* kind, Eigen::Index n, Real* ofOnes, Real* ofZeros) {
    simd::kernels().splitMax(values, kind, n, ofOnes, ofZeros);
}

/// Σ values[j] over kind[j] = 1 (*ofOnes) and over kind[j] = 0 (*ofZeros).
inline void splitSum(const Real* values, const Real* kind, Eigen::Index n, Real* ofOnes, Real* ofZeros) {
    simd::kernels().splitSum(values, kind, n, ofOnes, ofZeros);
}

/// splitSum over the row without its diagonal entry a: (a, a) is no pair.
inline void splitSumOffDiagonal(const Real* values, const Real* kind, Eigen::Index n, Eigen::Index a, Real* ofOnes,
                                Real* ofZeros) {
    Real ones = 0.0, zeros = 0.0, laterOnes = 0.0, laterZeros = 0.0;
    splitSum(values, kind, a, &ones, &zeros);
    splitSum(values + a + 1, kind + a + 1, n - a - 1, &laterOnes, &laterZeros);
    *ofOnes = ones + laterOnes;
    *ofZeros = zeros + laterZeros;
}

/// values[j] −= kind[j] = 1 ? ofOnes : ofZeros.
inline void splitShift(Real* values, const Real* kind, Eigen::Index n, Real ofOnes, Real ofZeros) {
    simd::kernels().splitShift(values, kind, n, ofOnes, ofZeros);
}

/// out[j] = e^{values[j] − shift} with kind[j]'s shift (rowExp: exp_row.h), and out's sums by kind:
/// splitShift, expRowInPlace and splitSum in one pass with the same bits; out may be values.
inline void splitShiftExpSum(Real* out, const Real* values, const Real* kind, Eigen::Index n, Real shiftOnes,
                             Real shiftZeros, Real* sumOnes, Real* sumZeros) {
    simd::kernels().splitShiftExpSum(out, values, kind, n, shiftOnes, shiftZeros, expconst::kTable.data(),
                                     sumOnes, sumZeros);
}

/// out[j] = (values[j] − shift)·factor, with (shiftOnes, factorOnes) where kind[j] = 1 and
/// (shiftZeros, factorZeros) elsewhere; out may be values.
inline void splitAffine(Real* out, const Real* values, const Real* kind, Eigen::Index n, Real shiftOnes,
                        Real factorOnes, Real shiftZeros, Real factorZeros) {
    simd::kernels().splitAffine(out, values, kind, n, shiftOnes, factorOnes, shiftZeros, factorZeros);
}

/// splitAffine with out[skip] = −∞ (skip < 0: none; the anchor of the row, say), then splitMax of
/// out (*maxOnes, *maxZeros), in one pass with the same bits as the passes; out may be values.
inline void splitAffineMax(Real* out, const Real* values, const Real* kind, Eigen::Index n, Real shiftOnes,
                           Real factorOnes, Real shiftZeros, Real factorZeros, Eigen::Index skip,
                           Real* maxOnes, Real* maxZeros) {
    simd::kernels().splitAffineMax(out, values, kind, n, shiftOnes, factorOnes, shiftZeros, factorZeros, skip,
                                   maxOnes, maxZeros);
}

/// out[j] = (a[j]·b[j]) · (kind[j] = 1 ? ofOnes : ofZeros); out may be a or b.
inline void splitScaleProduct(Real* out, const Real* a, const Real* b, const Real* kind, Eigen::Index n,
                              Real ofOnes, Real ofZeros) {
    simd::kernels().splitScaleProduct(out, a, b, kind, n, ofOnes, ofZeros);
}

/// out[j] = values[j] · (kind[j] = 1 ? ofOnes : ofZeros).
inline void splitScale(Real* out, const Real* values, const Real* kind, Eigen::Index n, Real ofOnes,
                       Real ofZeros) {
    simd::kernels().splitScale(out, values, kind, n, ofOnes, ofZeros);
}

}  // namespace marginlab::detail

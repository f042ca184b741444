// SPDX-License-Identifier: MIT
#include "losses/distance_rows.h"

#include <algorithm>
#include <cmath>

#include "losses/exp_row.h"
#include "simd/dispatch.h"

namespace marginlab::detail {

namespace {

Points embedRows(const DistanceSpec& spec, const Points& x, Vector* norms) {
    if (spec.normalizes()) return normalizeRows(x, norms);
    return x;
}

}  // namespace

DistanceRows::DistanceRows(const DistanceSpec& spec, const Points& x)
    : m_spec(spec), m_embedded(embedRows(spec, x, &m_norms)) {}

void DistanceRows::row(Eigen::Index a, Real* out, Eigen::Index first, Eigen::Index end) const {
    const Eigen::Index n = end < 0 ? m_embedded.rows() : end;  // the kernels' rows end at n
    const Eigen::Index dims = m_embedded.cols();
    if (m_spec.isSimilarity()) {
        simd::kernels().dotRow(m_embedded.data(), n, dims, a, out, first);
        return;
    }
    lpRow(m_embedded.data(), n, dims, a, m_spec.power, out, first);
}

void DistanceRows::scaledDotRowWithMax(Eigen::Index a, Real factor, const Real* kind, Real* out,
                                       Real* maxOnes, Real* maxZeros) const {
    simd::kernels().dotRowScaledMax(m_embedded.data(), m_embedded.rows(), m_embedded.cols(), a, factor, kind,
                                    out, maxOnes, maxZeros);
}

void DistanceRows::scaledDotRowExpSum(Eigen::Index a, Real factor, const Real* kind, Real shiftOnes,
                                      Real shiftZeros, Real* logits, Real* out, Real* sumOnes, Real* sumZeros) const {
    simd::kernels().dotRowScaledExpSum(m_embedded.data(), m_embedded.rows(), m_embedded.cols(), a, factor, kind,
                                       shiftOnes, shiftZeros, expconst::kTable.data(), logits, out, sumOnes,
                                       sumZeros);
}

void DistanceRows::rowAffineExpSum(Eigen::Index a, const Real* affine, const Labels* labels, Real* kind,
                                   Eigen::Index skip, Real shiftOnes, Real shiftZeros, Real* row, Real* out,
                                   Real* addTo, Real* sumOnes, Real* sumZeros, Eigen::Index first,
                                   const simd::NegatedProduct* product, Eigen::Index end) const {
    // The row from `first` on is the kernel's row of the points from `first`, with the anchor at
    // a − first (before them, when a < first).
    auto from = [first](Real* p) { return p ? p + first : nullptr; };
    simd::NegatedProduct shifted;
    if (product) shifted = {product->offset, product->factors + first, product->out + first};
    const Eigen::Index last = end < 0 ? m_embedded.rows() : end;
    simd::kernels().rowAffineExpSum(m_embedded.data() + first * m_embedded.cols(), last - first,
                                    m_embedded.cols(), a - first, kernelMode(), affine,
                                    labels ? labels->data() + first : nullptr,
                                    labels ? (*labels)[static_cast<std::size_t>(a)] : 0, from(kind),
                                    skip >= first ? skip - first : -1,
                                    shiftOnes, shiftZeros, expconst::kTable.data(), from(row), out + first,
                                    from(addTo), product ? &shifted : nullptr, sumOnes, sumZeros);
}

std::optional<std::pair<Real, Real>> DistanceRows::boundsOf(const DistanceSpec& spec) {
    // Normalized rows have norms of at most 1 (0 for a zero row, which normalizeRows keeps).
    if (!spec.normalizes()) return std::nullopt;
    if (spec.isSimilarity()) return std::pair<Real, Real>{-1.0, 1.0};
    return std::pair<Real, Real>{0.0, spec.power == 2 ? 4.0 : 2.0};
}

void DistanceRows::dotRowCircleExpSum(Eigen::Index a, const Real* parameters, const Labels& labels, Real* kind,
                                      Eigen::Index skip, Real shiftOnes, Real shiftZeros, Real* out, Real* slope,
                                      Real* sumOnes, Real* sumZeros) const {
    simd::kernels().dotRowCircleExpSum(m_embedded.data(), m_embedded.rows(), m_embedded.cols(), a, parameters,
                                       labels.data(), labels[static_cast<std::size_t>(a)], kind, skip, shiftOnes,
                                       shiftZeros, expconst::kTable.data(), out, slope, sumOnes, sumZeros);
}

void lpRow(const Real* data, Eigen::Index n, Eigen::Index dims, Eigen::Index a, int power, Real* out,
           Eigen::Index first) {
    // The vector unit's kernels (simd/dispatch.h): the differences summed in coordinate order and
    // correctly rounded square roots, the same bits on every unit.
    const simd::Kernels& kernels = simd::kernels();
    if (power == 1)
        kernels.distanceRow(data, n, dims, a, out, first);
    else
        kernels.squaredDistanceRow(data, n, dims, a, out, first);
}

// The backward kernels' mode (simd/dispatch.h accumulateRow): similarity, Lp distance, squared.
int DistanceRows::kernelMode() const {
    return m_spec.isSimilarity() ? 0 : m_spec.power == 2 ? 2 : 1;
}

void DistanceRows::accumulate(Eigen::Index a, const Real* g, const Real* row, Points* gradEmbedded,
                              Eigen::Index first) const {
    // Branch-free in j (whether g[j] is zero is data-dependent), in the vector unit's lanes.
    const int mode = kernelMode();
    simd::kernels().accumulateRow(m_embedded.data(), m_embedded.rows(), m_embedded.cols(), a, mode, g, row,
                                  gradEmbedded->data(), first);
}

void DistanceRows::accumulateRows(int count, const Eigen::Index* anchors, const Real* const* g,
                                  const Real* const* rows, Points* gradEmbedded, Eigen::Index first) const {
    const Eigen::Index dims = m_embedded.cols();
    if (first == 0) {
        simd::kernels().accumulateRows(m_embedded.data(), m_embedded.rows(), dims, kernelMode(), count, anchors, g,
                                       rows, gradEmbedded->data());
        return;
    }
    // The kernel's points are those from `first` on: anchors, rows and gradient shifted alike.
    constexpr int kMaxRows = 4;
    for (int begin = 0; begin < count; begin += kMaxRows) {
        const int size = std::min(count - begin, kMaxRows);
        Eigen::Index shifted[kMaxRows];
        const Real* gFrom[kMaxRows];
        const Real* rowsFrom[kMaxRows];
        for (int k = 0; k < size; ++k) {
            shifted[k] = anchors[begin + k] - first;
            gFrom[k] = g[begin + k] + first;
            rowsFrom[k] = rows[begin + k] + first;
        }
        simd::kernels().accumulateRows(m_embedded.data() + first * dims, m_embedded.rows() - first, dims,
                                       kernelMode(), size, shifted, gFrom, rowsFrom,
                                       gradEmbedded->data() + first * dims);
    }
}

void DistanceRows::accumulateScaledRows(int count, const Eigen::Index* anchors, const Real* const* values,
                                        const Labels& labels, const Real* ofOnes, const Real* ofZeros,
                                        const Real* const* rows, Points* gradEmbedded) const {
    simd::kernels().accumulateScaledRows(m_embedded.data(), m_embedded.rows(), m_embedded.cols(), kernelMode(),
                                         count, anchors, values, labels.data(), ofOnes, ofZeros, rows,
                                         gradEmbedded->data());
}

void DistanceRows::accumulateSameLabel(Eigen::Index a, const Real* g, const Real* row, const Labels& labels,
                                       Points* gradEmbedded, std::vector<Real>* scratch, Eigen::Index first) const {
    const Eigen::Index n = m_embedded.rows();
    scratch->assign(static_cast<std::size_t>(n), 0.0);
    const int label = labels[static_cast<std::size_t>(a)];
    for (Eigen::Index j = first; j < n; ++j)
        if (labels[static_cast<std::size_t>(j)] == label) (*scratch)[static_cast<std::size_t>(j)] = g[j];
    accumulate(a, scratch->data(), row, gradEmbedded, first);
}

Points DistanceRows::finish(const Points& gradEmbedded) const {
    if (m_spec.normalizes()) return normalizeRowsBackward(m_embedded, m_norms, gradEmbedded);
    return gradEmbedded;
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "marginlab/losses/angular.h"

#include "losses/common.h"
#include "losses/contrastive_support.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>

namespace marginlab {

namespace {

// Largest 16·t·max‖x‖ for the factorized sums: each scaled factor E' ≥ e^{-8tR}, so every
// product term stays ≥ e^{-600}, far above the smallest normal double (≈ e^{-708}).
constexpr Real kFactorizedExponentRange = 600.0;
// Entries of one column block of E' (12288 doubles = 96 KB, under glibc's mmap threshold).
constexpr Eigen::Index kBlockEntries = 12288;

struct Gradients {
    Points normalized;  // ∂L/∂x̂ (anchor/positive roles)
    Points raw;         // ∂L/∂x  (negative role, the raw-x_n quirk)
};

}  // namespace

AngularLoss::AngularLoss(Real alphaDegrees, bool allowFactorized)
    : m_alphaDegrees(alphaDegrees), m_allowFactorized(allowFactorized) {}

LossOutput AngularLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Points& x = input.embeddings;
    const Labels& y = input.labels;
    const Eigen::Index n = x.rows(), d = x.cols();
    std::map<int, std::vector<int>> classes;
    for (int i = 0; i < static_cast<int>(y.size()); ++i) classes[y[static_cast<std::size_t>(i)]].push_back(i);
    Count positivePairs = 0;
    for (const auto& [label, members] : classes) {
        const auto m = static_cast<Count>(members.size());
        positivePairs += m * (m - 1);
    }
    if (positivePairs == 0 || classes.size() < 2) {
        LossOutput zero = detail::zeroOutput(input, withGradient);
        zero.stats.tupleKind = "pairs";
        zero.stats.tuples = positivePairs;
        return zero;
    }

    const Real tangent = std::tan(m_alphaDegrees * std::numbers::pi / 180.0);
    const Real t = tangent * tangent;
    const Real perPair = 1.0 / static_cast<Real>(positivePairs);
    Vector norms;
    const Points xh = normalizeRows(x, &norms);
    const Real largestNorm = norms.maxCoeff();
    const bool factorized = m_allowFactorized && 16.0 * t * largestNorm <= kFactorizedExponentRange;

    Gradients grad{Points::Zero(n, d), Points::Zero(n, d)};
    LossOutput out;
    out.stats.tupleKind = "pairs";
    out.stats.tuples = positivePairs;
    Real total = 0.0;

    for (const auto& [label, members] : classes) {
        const auto m = static_cast<Eigen::Index>(members.size());
        if (m < 2) continue;
        const Eigen::Index k = n - m;
        std::vector<int> others;
        others.reserve(static_cast<std::size_t>(k));
        for (int i = 0; i < static_cast<int>(n); ++i)
            if (y[static_cast<std::size_t>(i)] != label) others.push_back(i);
        Points anchors(m, d), negatives(k, d);
        for (Eigen::Index i = 0; i < m; ++i) anchors.row(i) = xh.row(members[static_cast<std::size_t>(i)]);
        for (Eigen::Index j = 0; j < k; ++j) negatives.row(j) = x.row(others[static_cast<std::size_t>(j)]);
        const Matrix cosines = anchors * anchors.transpose();
        Points gradAnchors = Points::Zero(m, d), gradNegatives = Points::Zero(k, d);

        if (factorized) {
            // E'_in = exp(4t x̂_i·x_n − α_i); Σ_n exp(f_apn) = e^{α_a+α_p−2(1+t)s_ap} · (E'E'ᵀ)_ap.
            // E' (m×k) is never stored whole: it is rebuilt in column blocks of ≤ ~96 KB, because
            // large fresh buffers cost more in page faults than the products themselves.
            const Eigen::Index block = std::max<Eigen::Index>(16, kBlockEntries / m);
            auto scaledBlock = [&](Eigen::Index start, Eigen::Index width, const Vector& shift, Matrix& target) {
                target.noalias() = anchors * negatives.middleRows(start, width).transpose();
                target *= 4.0 * t;
                for (Eigen::Index i = 0; i < m; ++i) target.row(i).array() = (target.row(i).array() - shift(i)).exp();
            };
            Vector rowShift = Vector::Constant(m, -std::numeric_limits<Real>::infinity());
            Matrix work;
            for (Eigen::Index start = 0; start < k; start += block) {
                const Eigen::Index width = std::min(block, k - start);
                work.noalias() = anchors * negatives.middleRows(start, width).transpose();
                rowShift = rowShift.cwiseMax((4.0 * t) * work.rowwise().maxCoeff());
            }
            Matrix products = Matrix::Zero(m, m);
            for (Eigen::Index start = 0; start < k; start += block) {
                const Eigen::Index width = std::min(block, k - start);
                scaledBlock(start, width, rowShift, work);
                products.selfadjointView<Eigen::Lower>().rankUpdate(work);
            }
            // c_ap = σ(z_ap) / K_ap / |P| turns E'_an E'_pn into the weight of n in ℓ_ap (ℓ_ap = ℓ_pa).
            Matrix weights = Matrix::Zero(m, m);
            Matrix gradCosines = Matrix::Zero(m, m);
            for (Eigen::Index a = 0; a < m; ++a)
                for (Eigen::Index p = 0; p < a; ++p) {
                    const Real product = products(a, p);  // lower triangle holds K
                    const Real z = std::log(product) + rowShift(a) + rowShift(p) - 2.0 * (1.0 + t) * cosines(a, p);
                    const Real term = detail::stableSoftplus(z);
                    total += 2.0 * term;  // (a,p) and (p,a)
                    if (term > 0.0) out.stats.active += 2;
                    const Real sigma = detail::logistic(z);
                    weights(a, p) = weights(p, a) = sigma / product * perPair;
                    gradCosines(a, p) = gradCosines(p, a) = -2.0 * (1.0 + t) * sigma * perPair;
                }
            if (withGradient) {
                // Both roles of each pair give the factor 2: ∂x̂_i = 2 Σ_p g_ip x̂_p + 8t Σ_n Q_in x_n,
                // ∂x_n = 8t Σ_i Q_in x̂_i, with Q = E' ∘ (C E').
                gradAnchors.noalias() += 2.0 * gradCosines * anchors;
                Matrix q;
                for (Eigen::Index start = 0; start < k; start += block) {
                    const Eigen::Index width = std::min(block, k - start);
                    scaledBlock(start, width, rowShift, work);
                    q.noalias() = weights * work;
                    q.array() *= work.array();
                    gradAnchors.noalias() += (8.0 * t) * (q * negatives.middleRows(start, width));
                    gradNegatives.middleRows(start, width).noalias() += (8.0 * t) * (q.transpose() * anchors);
                }
            }
        } else {
            std::vector<Real> exponents(static_cast<std::size_t>(k)), softmax(static_cast<std::size_t>(k));
            for (Eigen::Index a = 0; a < m; ++a)
                for (Eigen::Index p = 0; p < m; ++p) {
                    if (a == p) continue;
                    const Eigen::RowVectorXd direction = (4.0 * t) * (anchors.row(a) + anchors.row(p));
                    const Real offset = 2.0 * (1.0 + t) * cosines(a, p);
                    for (Eigen::Index j = 0; j < k; ++j)
                        exponents[static_cast<std::size_t>(j)] = direction.dot(negatives.row(j)) - offset;
                    const Real term = detail::logSumExp(exponents, true, softmax);
                    total += term;
                    if (term > 0.0) ++out.stats.active;
                    if (!withGradient) continue;
                    Real weightSum = 0.0;
                    Eigen::RowVectorXd pulled = Eigen::RowVectorXd::Zero(d);
                    for (Eigen::Index j = 0; j < k; ++j) {
                        const Real w = softmax[static_cast<std::size_t>(j)] * perPair;
                        weightSum += w;
                        pulled += w * negatives.row(j);
                        gradNegatives.row(j) += w * direction;
                    }
                    gradAnchors.row(a) += (4.0 * t) * pulled - 2.0 * (1.0 + t) * weightSum * anchors.row(p);
                    gradAnchors.row(p) += (4.0 * t) * pulled - 2.0 * (1.0 + t) * weightSum * anchors.row(a);
                }
        }
        if (withGradient) {
            for (Eigen::Index i = 0; i < m; ++i) grad.normalized.row(members[static_cast<std::size_t>(i)]) += gradAnchors.row(i);
            for (Eigen::Index j = 0; j < k; ++j) grad.raw.row(others[static_cast<std::size_t>(j)]) += gradNegatives.row(j);
        }
    }
    out.value = total * perPair;
    if (withGradient) out.gradEmbeddings = normalizeRowsBackward(xh, norms, grad.normalized) + grad.raw;
    return out;
}

}  // namespace marginlab

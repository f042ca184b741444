// SPDX-License-Identifier: MIT
#include "marginlab/losses/combined_margin.h"

#include "losses/margin_softmax_common.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace marginlab {

CombinedMarginLoss::CombinedMarginLoss(Real margin1, Real margin2, Real margin3, Real scale)
    : m_margin1(margin1), m_margin2(margin2), m_margin3(margin3), m_scale(scale) {}

namespace {

detail::TargetFunction combinedTarget(Real m1, Real m2, Real m3) {
    // cos θ* where m1·θ* + m2 = π; the fallback is shifted by it so that φ(θ*) = −1 − m3 on both sides.
    const Real boundaryCosine = std::cos((std::numbers::pi - m2) / m1);
    return [=](Real cosine) {
        const Real theta = detail::angleFromCosine(cosine);
        const Real sine = detail::sineFromCosine(cosine);  // 0 when |c| ≥ 1: derivative 0 there
        const Real angle = m1 * theta + m2;
        if (angle <= std::numbers::pi)
            return detail::TargetLogit{std::cos(angle) - m3, sine > 0.0 ? m1 * std::sin(angle) / sine : 0.0};
        return detail::TargetLogit{std::clamp(cosine, Real(-1), Real(1)) - boundaryCosine - 1.0 - m3,
                                   sine > 0.0 ? 1.0 : 0.0};
    };
}

}  // namespace

LossOutput CombinedMarginLoss::evaluate(const LossInput& input, bool withGradient) const {
    return detail::cosineMarginSoftmax(input, withGradient, m_scale, combinedTarget(m_margin1, m_margin2, m_margin3),
                                       true);
}

std::optional<MarginLogits> CombinedMarginLoss::marginLogits() const {
    return MarginLogits{detail::targetValue(combinedTarget(m_margin1, m_margin2, m_margin3)), true, m_scale, false, false};
}

}  // namespace marginlab

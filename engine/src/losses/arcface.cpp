// SPDX-License-Identifier: MIT
#include "marginlab/losses/arcface.h"

#include "losses/margin_softmax_common.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace marginlab {

ArcFaceLoss::ArcFaceLoss(Real marginDegrees, Real scale)
    : m_margin(marginDegrees * std::numbers::pi / 180.0), m_scale(scale) {}

namespace {

detail::TargetFunction additiveAngularTarget(Real m) {
    return [m](Real cosine) {
        const Real theta = detail::angleFromCosine(cosine);
        const Real sine = detail::sineFromCosine(cosine);  // 0 when |c| ≥ 1: derivative 0 there
        if (theta <= std::numbers::pi - m) {
            // d cos(θ+m)/dc = sin(θ+m) / sin θ (θ = arccos c).
            return detail::TargetLogit{std::cos(theta + m), sine > 0.0 ? std::sin(theta + m) / sine : 0.0};
        }
        // cos(arccos(clamp(c))) = clamp(c): derivative 1 inside (−1, 1), 0 where clamped.
        return detail::TargetLogit{std::clamp(cosine, Real(-1), Real(1)) - m * std::sin(m), sine > 0.0 ? 1.0 : 0.0};
    };
}

}  // namespace

LossOutput ArcFaceLoss::evaluate(const LossInput& input, bool withGradient) const {
    return detail::cosineMarginSoftmax(input, withGradient, m_scale, additiveAngularTarget(m_margin), true);
}

std::optional<MarginLogits> ArcFaceLoss::marginLogits() const {
    return MarginLogits{detail::targetValue(additiveAngularTarget(m_margin)), true, m_scale, false, false};
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/cosface.h"

#include "losses/margin_softmax_common.h"

namespace marginlab {

CosFaceLoss::CosFaceLoss(Real margin, Real scale) : m_margin(margin), m_scale(scale) {}

namespace {

detail::TargetFunction additiveCosineTarget(Real margin) {
    return [margin](Real cosine) { return detail::TargetLogit{cosine - margin, 1.0}; };
}

}  // namespace

LossOutput CosFaceLoss::evaluate(const LossInput& input, bool withGradient) const {
    return detail::cosineMarginSoftmax(input, withGradient, m_scale, additiveCosineTarget(m_margin), true);
}

std::optional<MarginLogits> CosFaceLoss::marginLogits() const {
    return MarginLogits{detail::targetValue(additiveCosineTarget(m_margin)), true, m_scale, false, false};
}

}  // namespace marginlab

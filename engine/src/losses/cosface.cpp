// SPDX-License-Identifier: MIT
#include "marginlab/losses/cosface.h"

#include "losses/margin_softmax_common.h"

namespace marginlab {

CosFaceLoss::CosFaceLoss(Real margin, Real scale) : m_margin(margin), m_scale(scale) {}

LossOutput CosFaceLoss::evaluate(const LossInput& input, bool withGradient) const {
    const Real margin = m_margin;
    const auto shifted = [margin](Real cosine) { return detail::TargetLogit{cosine - margin, 1.0}; };
    return detail::cosineMarginSoftmax(input, withGradient, m_scale, shifted, true);
}

}  // namespace marginlab

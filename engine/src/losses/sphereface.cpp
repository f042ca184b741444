// SPDX-License-Identifier: MIT
#include "marginlab/losses/sphereface.h"

#include "losses/margin_softmax_common.h"

namespace marginlab {

SphereFaceLoss::SphereFaceLoss(int margin, Real scale) : m_margin(margin), m_scale(scale) {}

LossOutput SphereFaceLoss::evaluate(const LossInput& input, bool withGradient) const {
    return detail::largeMarginSoftmax(input, withGradient, m_margin, m_scale, /*useWeightNorms=*/false);
}

std::optional<MarginLogits> SphereFaceLoss::marginLogits() const {
    const int m = m_margin;
    return MarginLogits{[m](Real cosine) { return detail::largeMarginTarget(cosine, m).value; }, m != 1, m_scale, true, false};
}

}  // namespace marginlab

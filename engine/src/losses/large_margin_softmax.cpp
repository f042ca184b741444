// SPDX-License-Identifier: MIT
#include "marginlab/losses/large_margin_softmax.h"

#include "losses/margin_softmax_common.h"

namespace marginlab {

LargeMarginSoftmaxLoss::LargeMarginSoftmaxLoss(int margin, Real scale) : m_margin(margin), m_scale(scale) {}

LossOutput LargeMarginSoftmaxLoss::evaluate(const LossInput& input, bool withGradient) const {
    return detail::largeMarginSoftmax(input, withGradient, m_margin, m_scale, /*useWeightNorms=*/true);
}

std::optional<MarginLogits> LargeMarginSoftmaxLoss::marginLogits() const {
    const int m = m_margin;
    return MarginLogits{[m](Real cosine) { return detail::largeMarginTarget(cosine, m).value; }, m != 1, m_scale, true, true};
}

}  // namespace marginlab

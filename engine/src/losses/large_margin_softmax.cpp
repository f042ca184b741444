// SPDX-License-Identifier: MIT
#include "marginlab/losses/large_margin_softmax.h"

#include "losses/margin_softmax_common.h"

namespace marginlab {

LargeMarginSoftmaxLoss::LargeMarginSoftmaxLoss(int margin, Real scale) : m_margin(margin), m_scale(scale) {}

LossOutput LargeMarginSoftmaxLoss::evaluate(const LossInput& input, bool withGradient) const {
    return detail::largeMarginSoftmax(input, withGradient, m_margin, m_scale, /*useWeightNorms=*/true);
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "marginlab/losses/normalized_softmax.h"

#include "losses/margin_softmax_common.h"

namespace marginlab {

NormalizedSoftmaxLoss::NormalizedSoftmaxLoss(Real temperature) : m_temperature(temperature) {}

LossOutput NormalizedSoftmaxLoss::evaluate(const LossInput& input, bool withGradient) const {
    // The target logit is the plain cosine: no margin, so no easy / semi-hard / hard regions.
    const auto plain = [](Real cosine) { return detail::TargetLogit{cosine, 1.0}; };
    return detail::cosineMarginSoftmax(input, withGradient, 1.0 / m_temperature, plain, false);
}

std::optional<MarginLogits> NormalizedSoftmaxLoss::marginLogits() const {
    return MarginLogits{[](Real cosine) { return cosine; }, false, 1.0 / m_temperature, false, false};
}

}  // namespace marginlab

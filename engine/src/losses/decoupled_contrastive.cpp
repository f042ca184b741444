// SPDX-License-Identifier: MIT
#include "marginlab/losses/decoupled_contrastive.h"

#include "losses/common.h"
#include "losses/contrastive_support.h"


namespace marginlab {

DecoupledContrastiveLoss::DecoupledContrastiveLoss(Real temperature, const DistanceSpec& distance)
    : m_temperature(temperature), m_distance(distance) {}

LossOutput DecoupledContrastiveLoss::evaluate(const LossInput& input, bool withGradient) const {
    // f(g) = g: the positive is not in the denominator, so its term is not floored at zero.
    auto identity = [](Real gap, Real* slope) {
        *slope = 1.0;
        return gap;
    };
    return detail::negativeLogSumExpLoss(input, m_distance, m_temperature, identity, withGradient);
}

}  // namespace marginlab

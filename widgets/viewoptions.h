// SPDX-License-Identifier: MIT
// ViewOptions: what the 2D view draws, set from the control panel and saved in the scene's "view".
#pragma once

#include <QMetaType>

namespace marginlab {

struct ViewOptions {
    bool showRegions = true;               ///< background by predicted class / nearest centroid
    bool nearestNeighbourRegions = false;  ///< tuple losses: by nearest point (1-NN) instead
    bool showNormalized = true;            ///< faint copies of the points on the unit circle
    bool showForces = true;                ///< −∂L/∂x arrows
    double forceScale = 1.0;               ///< arrow length factor (1: the longest is 40 px)
    bool splitForces = false;              ///< two arrows: from positives (attraction) and negatives
    bool showMarginInset = true;           ///< softmax family: target logit against θ

    bool operator==(const ViewOptions&) const = default;
};

}  // namespace marginlab

Q_DECLARE_METATYPE(marginlab::ViewOptions)

// SPDX-License-Identifier: MIT
// ViewOptions: what a frame draws, set from the control panel and saved in the scene's "view".
#pragma once

#include <QMetaType>

namespace marginlab {

struct ViewOptions {
    enum class ForceScale {
        Relative,  ///< the longest arrow is 40 px × forceScale, whatever the forces' size
        Fixed,     ///< forcePixelsPerUnit px per unit of |∂L/∂x|: arrows shrink as the loss dies away
    };

    bool showRegions = true;               ///< background by predicted class / nearest centroid
    bool nearestNeighbourRegions = false;  ///< tuple losses: by nearest point (1-NN) instead
    bool showNormalized = true;            ///< faint copies of the points on the unit circle
    bool showForces = true;                ///< −∂L/∂x arrows
    ForceScale forceScaleMode = ForceScale::Relative;
    double forceScale = 1.0;               ///< Relative: arrow length factor (1: the longest is 40 px)
    double forcePixelsPerUnit = 0.0;       ///< Fixed: 0 = calibrate on the first forces shown
    bool splitForces = false;              ///< two arrows: from positives (attraction) and negatives
    bool showMarginInset = true;           ///< softmax family: target logit against θ
    bool showDescription = true;           ///< the scene's text on the canvas (until dismissed)
    bool followData = false;               ///< the camera eases to keep the points in view
    double textScale = 1.0;                ///< text and line sizes (presentation mode: larger)

    bool operator==(const ViewOptions&) const = default;
};

}  // namespace marginlab

Q_DECLARE_METATYPE(marginlab::ViewOptions)

// SPDX-License-Identifier: MIT
#include "marginlab/losses/class_labels.h"

namespace marginlab {

bool validateClassLabels(const Labels& labels, Eigen::Index classCount, std::string* error) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const int y = labels[i];
        if (y < 0 || static_cast<Eigen::Index>(y) >= classCount) {
            if (error)
                *error = "label " + std::to_string(y) + " of point " + std::to_string(i) + " is outside [0, " +
                         std::to_string(classCount) + ")";
            return false;
        }
    }
    return true;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * A labelled point set: what the generators produce and the CSV import reads.
 *
 * points: N×D (D = 2 or 3), one point per row; labels: N class ids in 0..numClasses−1.
 * classNames is optional: the CSV import keeps the original label values there
 * (classNames[c] is the file's label of class c); generators leave it empty.
 */
#pragma once

#include "marginlab/types.h"

#include <string>
#include <vector>

namespace marginlab {

struct Dataset {
    Points points;
    Labels labels;
    int numClasses = 0;
    std::vector<std::string> classNames;  ///< optional (empty, or numClasses entries)
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "losses/proxy_support.h"

#include <stdexcept>
#include <string>

namespace marginlab::detail {

int ownedClassCount(const LossInput& input, int blocks, std::string_view loss) {
    const std::string who = "loss " + std::string(loss) + ": ";
    if (!input.owned) throw std::invalid_argument(who + "needs its owned per-class matrix");
    const Points& owned = *input.owned;
    if (blocks < 1 || owned.rows() < blocks || owned.rows() % blocks != 0)
        throw std::invalid_argument(who + "owned matrix must have " + std::to_string(blocks) +
                                    "·C rows with C ≥ 1, got " + std::to_string(owned.rows()));
    if (owned.cols() != input.embeddings.cols())
        throw std::invalid_argument(who + "owned matrix has " + std::to_string(owned.cols()) +
                                    " columns, embeddings have " + std::to_string(input.embeddings.cols()));
    if (static_cast<Eigen::Index>(input.labels.size()) != input.embeddings.rows())
        throw std::invalid_argument(who + "one label per embedding expected");
    const int classes = static_cast<int>(owned.rows() / blocks);
    for (int label : input.labels)
        if (label < 0 || label >= classes)
            throw std::invalid_argument(who + "label " + std::to_string(label) + " outside [0, " +
                                        std::to_string(classes) + ")");
    return classes;
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "catalog_parts.h"

namespace marginlab::detail {

std::vector<MinerInfo> allMiners() { return {}; }

}  // namespace marginlab::detail

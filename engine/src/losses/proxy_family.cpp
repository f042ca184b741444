// SPDX-License-Identifier: MIT
#include "catalog_parts.h"

namespace marginlab::detail {

std::vector<LossInfo> proxyFamilyLosses() { return {}; }

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
// The row kernels for one vector unit (see dispatch.h; the compile flags are set in
// engine/CMakeLists.txt). Only <cstddef> before the kernels: nothing inline from a header.
#include <cstddef>

namespace marginlab::detail::simd::avx2 {
#include "simd/kernels_impl.h"
}  // namespace marginlab::detail::simd::avx2

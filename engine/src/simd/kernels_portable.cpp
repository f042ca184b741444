// SPDX-License-Identifier: MIT
// The row kernels for one vector unit (see dispatch.h; the compile flags are set in
// engine/CMakeLists.txt). Only headers without out-of-line inline functions before the kernels:
// <cstddef>, <cstdint>, and the intrinsics (always-inline gnu_inline functions, never emitted
// out of line, so none compiled for a wider unit can replace a baseline copy).
#include <cstddef>
#include <cstdint>
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "simd/negated_product.h"
#include "simd/remainder_magic.h"

namespace marginlab::detail::simd::portable {
#include "simd/kernels_impl.h"
}  // namespace marginlab::detail::simd::portable

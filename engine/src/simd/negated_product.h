// SPDX-License-Identifier: MIT
// A row kernel's extra output (internal header; see dispatch.h). Plain data only: the vector
// units include it (no inline function may be compiled there).
#pragma once

namespace marginlab::detail::simd {

/// out[j] = −((offset + factors[j])·e[j]) for a row kernel's exps e (negatedSumProduct's
/// operation, done while the exps are still in registers).
struct NegatedProduct {
    double offset = 0.0;
    const double* factors = nullptr;
    double* out = nullptr;
};

}  // namespace marginlab::detail::simd

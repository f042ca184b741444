// SPDX-License-Identifier: MIT
#include "marginlab/allocator.h"

#include <cstdlib>  // defines __GLIBC__ on glibc systems, which the check below needs

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace marginlab {

void keepMemoryBetweenSteps() {
#if defined(__GLIBC__)
    // 32 MB is the largest mmap threshold glibc accepts on 64-bit systems. Setting the thresholds
    // also turns off glibc's own adjustment of them, which only ever raises them to the size of
    // the last mapped block freed.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
#endif
}

}  // namespace marginlab

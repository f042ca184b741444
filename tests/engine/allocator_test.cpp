// SPDX-License-Identifier: MIT
// keepMemoryBetweenSteps: a step that allocates, touches and frees the same blocks again finds
// its memory still mapped (no page faults), where glibc's defaults hand it back to the system
// and fault it in again every step.
#include "marginlab/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__GLIBC__)
#include <sys/resource.h>
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MARGINLAB_OWN_ALLOCATOR 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MARGINLAB_OWN_ALLOCATOR 0
#endif
#endif
#ifndef MARGINLAB_OWN_ALLOCATOR
#define MARGINLAB_OWN_ALLOCATOR 1
#endif

namespace marginlab {
namespace {

#if defined(__GLIBC__) && MARGINLAB_OWN_ALLOCATOR
long minorFaults() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

// Through volatile pointers so that the compiler cannot drop the allocations.
void* (*volatile allocate)(std::size_t) = std::malloc;
void (*volatile release)(void*) = std::free;

// Sixteen 1 MB blocks, every byte written, then freed: 4096 pages.
void step() {
    std::vector<void*> blocks;
    for (int b = 0; b < 16; ++b) {
        void* block = allocate(1 << 20);
        ASSERT_NE(block, nullptr);
        std::memset(block, b, 1 << 20);
        blocks.push_back(block);
    }
    for (void* block : blocks) release(block);
}
#endif

TEST(Allocator, FreedMemoryIsKeptForTheNextStep) {
#if defined(__GLIBC__) && MARGINLAB_OWN_ALLOCATOR
    keepMemoryBetweenSteps();
    step();  // the heap grows once
    const long before = minorFaults();
    step();
    step();
    // Fresh pages would be 2 × 4096 faults; kept ones none (a few for the vector and the test).
    EXPECT_LT(minorFaults() - before, 100);
#else
    GTEST_SKIP() << "glibc's allocator only (sanitizers replace it)";
#endif
}

}  // namespace
}  // namespace marginlab

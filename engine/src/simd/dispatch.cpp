// SPDX-License-Identifier: MIT
#include "simd/dispatch.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

namespace marginlab::detail::simd {

// The kernels of each unit (kernels_*.cpp), each in its own namespace.
#define MARGINLAB_DECLARE_KERNELS(unit)                                                                      \
    namespace unit {                                                                                         \
    void squaredDistanceRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,     \
                            double* out, std::ptrdiff_t first);                                              \
    void distanceRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,            \
                     double* out, std::ptrdiff_t first);                                                     \
    void sqrtInPlace(double* values, std::ptrdiff_t n);                                                      \
    void dotRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, double* out,    \
                std::ptrdiff_t first);                                                                       \
    void dotRowScaledMax(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,        \
                         double factor, const double* kind, double* out, double* maxOnes, double* maxZeros); \
    void accumulateRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,          \
                       int mode, const double* g, const double* row, double* grad, std::ptrdiff_t first);    \
    void accumulateRows(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int mode, int count,      \
                        const std::ptrdiff_t* anchors, const double* const* g, const double* const* rows,    \
                        double* grad);                                                                       \
    void accumulateScaledRows(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int mode, int count, \
                              const std::ptrdiff_t* anchors, const double* const* values,                   \
                              const int* labels, const double* ofOnes, const double* ofZeros,               \
                              const double* const* rows, double* grad);                                     \
    void expInPlace(double* values, std::ptrdiff_t n, const std::int64_t* table);                            \
    void splitMax(const double* values, const double* kind, std::ptrdiff_t n, double* ofOnes,                \
                  double* ofZeros);                                                                          \
    void splitSum(const double* values, const double* kind, std::ptrdiff_t n, double* ofOnes,                \
                  double* ofZeros);                                                                          \
    void splitShift(double* values, const double* kind, std::ptrdiff_t n, double ofOnes, double ofZeros);    \
    void splitScale(double* out, const double* values, const double* kind, std::ptrdiff_t n, double ofOnes,  \
                    double ofZeros);                                                                         \
    void splitShiftExpSum(double* out, const double* values, const double* kind, std::ptrdiff_t n,           \
                          double shiftOnes, double shiftZeros, const std::int64_t* table, double* sumOnes,   \
                          double* sumZeros);                                                                 \
    void dotRowScaledExpSum(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,     \
                            double factor, const double* kind, double shiftOnes, double shiftZeros,         \
                            const std::int64_t* table, double* logits, double* out, double* sumOnes,        \
                            double* sumZeros);                                                              \
    void rowAffineExpSum(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, int mode,  \
                         const double* affine, const int* labels, int label, double* kind, std::ptrdiff_t skip,  \
                         double shiftOnes, double shiftZeros, const std::int64_t* table, double* row,            \
                         double* out, double* addTo, const NegatedProduct* product, double* sumOnes,            \
                         double* sumZeros);                                                                      \
    void dotRowCircleExpSum(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,     \
                            const double* parameters, const int* labels, int label, double* kind,           \
                            std::ptrdiff_t skip, double shiftOnes, double shiftZeros,                       \
                            const std::int64_t* table, double* out, double* slope, double* sumOnes,         \
                            double* sumZeros);                                                              \
    void splitAffine(double* out, const double* values, const double* kind, std::ptrdiff_t n,                \
                     double shiftOnes, double factorOnes, double shiftZeros, double factorZeros);            \
    void sameLabelRow(const int* labels, int label, std::ptrdiff_t n, double* kind);                         \
    void sameLabelAffine(const int* labels, int label, const double* values, std::ptrdiff_t n,               \
                         double shiftOnes, double factorOnes, double shiftZeros, double factorZeros,        \
                         double* kind, double* out);                                                         \
    void addRow(double* out, const double* a, std::ptrdiff_t n);                                             \
    void negatedSumProduct(double* out, double offset, const double* a, const double* b, std::ptrdiff_t n);  \
    double liftedPairRow(double li, const double* lp, const double* e, const double* logOnePlus,               \
                         const double* distance, double margin, double perPair, std::ptrdiff_t n,            \
                         double* square, double* slope, double* own, double* other);                         \
    void circleRow(const double* similarity, const double* kind, std::ptrdiff_t n, const double* parameters, \
                   std::ptrdiff_t skip, double* exponent, double* slope, double* topOnes, double* topZeros); \
    void splitAffineMax(double* out, const double* values, const double* kind, std::ptrdiff_t n,             \
                        double shiftOnes, double factorOnes, double shiftZeros, double factorZeros,          \
                        std::ptrdiff_t skip, double* maxOnes, double* maxZeros);                             \
    void splitScaleProduct(double* out, const double* a, const double* b, const double* kind,                \
                           std::ptrdiff_t n, double ofOnes, double ofZeros);                                 \
    void log1pUnitRow(double* values, std::ptrdiff_t n);                                                     \
    void softplusRow(const double* v, std::ptrdiff_t n, const std::int64_t* table, double* value,            \
                     double* slope);                                                                         \
    void contrastiveRow(const double* row, const int* labels, int label, std::ptrdiff_t first,               \
                        std::ptrdiff_t n, double positiveMargin, double negativeMargin, bool similarity,     \
                        double* positiveSlope, double* negativeSlope, double* sums, std::int64_t* counts);   \
    void hadsellRow(const double* row, const int* labels, int label, std::ptrdiff_t first, std::ptrdiff_t n, \
                    double margin, double* slope, double* sum, std::int64_t* active);                        \
    void gramLowerUpdate(const double* b, std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,   \
                         double* gram);                                                                      \
    void productRows(const double* b, std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,       \
                     const double* w, double* out);                                                          \
    void affineColumnsRow(const double* columns, std::ptrdiff_t stride, std::ptrdiff_t dims,                 \
                          const double* point, double scale, double shift, std::ptrdiff_t n, double* row);   \
    void weightedPullRows(double* q, const double* e, std::ptrdiff_t rows, std::ptrdiff_t stride,            \
                          const double* x, std::ptrdiff_t dims, const double* columns, double* pulled,       \
                          double* dots);                                                                     \
    void runningSums(int* values, std::ptrdiff_t n);                                                         \
    bool rowRange(const double* values, std::ptrdiff_t n, double* low, double* high);                         \
    void bucketCells(const double* values, std::ptrdiff_t n, double low, double scale, double top,            \
                     int* cells);                                                                            \
    void mersenneTwist64(std::uint64_t* state, std::uint64_t* out);                                          \
    void hardestPair(const double* delta, const int* labels, int a, std::ptrdiff_t n, int* positive,        \
                     int* negative);                                                                         \
    bool wordRemainders(const std::uint64_t* words, std::ptrdiff_t n, const RemainderMagic& magic,            \
                        std::uint64_t* out);                                                                 \
    int packDrawn(const int* labels, int label, std::ptrdiff_t n, const double* row, double scale,            \
                  const int* draws, double* times, int* indices, double* inputs);                            \
    }
MARGINLAB_DECLARE_KERNELS(portable)
#if defined(MARGINLAB_SIMD_X86)
MARGINLAB_DECLARE_KERNELS(avx2)
MARGINLAB_DECLARE_KERNELS(avx512)
// The batch-all sweep's kernels (sweep_avx2.cpp, sweep_avx512.cpp).
#define MARGINLAB_DECLARE_SWEEP_KERNELS(unit)                                                          \
    namespace unit {                                                                                   \
    void tripletSweep(const SweepInput& in, int* activeBegins, std::int64_t* difference,               \
                      double* coefficients, SweepTotals* totals);                                      \
    void countBelow(const CellTable& table, const double* values, int n, int* ranks);                  \
    void gapBoundaries(const CellTable& table, const double* values, int n, double bound, int* strict, \
                       int* inclusive);                                                                \
    }
MARGINLAB_DECLARE_SWEEP_KERNELS(avx2)
MARGINLAB_DECLARE_SWEEP_KERNELS(avx512)
#undef MARGINLAB_DECLARE_SWEEP_KERNELS
#endif
#undef MARGINLAB_DECLARE_KERNELS

namespace {

// One entry per line, in the order of Kernels (clang-format would pack them into columns).
// clang-format off
constexpr Kernels kPortable{Level::Portable,
                            &portable::squaredDistanceRow,
                            &portable::distanceRow,
                            &portable::sqrtInPlace,
                            &portable::dotRow,
                            &portable::dotRowScaledMax,
                            &portable::accumulateRow,
                            &portable::accumulateRows,
                            &portable::accumulateScaledRows,
                            &portable::expInPlace,
                            &portable::splitMax,
                            &portable::splitSum,
                            &portable::splitShift,
                            &portable::splitScale,
                            &portable::splitShiftExpSum,
                            &portable::dotRowScaledExpSum,
                            &portable::rowAffineExpSum,
                            &portable::dotRowCircleExpSum,
                            &portable::splitAffine,
                            &portable::splitAffineMax,
                            &portable::splitScaleProduct,
                            &portable::sameLabelRow,
                            &portable::sameLabelAffine,
                            &portable::addRow,
                            &portable::negatedSumProduct,
                            &portable::liftedPairRow,
                            &portable::circleRow,
                            &portable::log1pUnitRow,
                            &portable::softplusRow,
                            &portable::contrastiveRow,
                            &portable::hadsellRow,
                            &portable::gramLowerUpdate,
                            &portable::productRows,
                            &portable::affineColumnsRow,
                            &portable::weightedPullRows,
                            &portable::runningSums,
                            &portable::rowRange,
                            &portable::bucketCells,
                            &portable::mersenneTwist64,
                            &portable::hardestPair,
                            &portable::wordRemainders,
                            &portable::packDrawn,
                            nullptr,
                            nullptr,
                            nullptr};
#if defined(MARGINLAB_SIMD_X86)
constexpr Kernels kAvx2{Level::Avx2,
                        &avx2::squaredDistanceRow,
                        &avx2::distanceRow,
                        &avx2::sqrtInPlace,
                        &avx2::dotRow,
                        &avx2::dotRowScaledMax,
                        &avx2::accumulateRow,
                        &avx2::accumulateRows,
                        &avx2::accumulateScaledRows,
                        &avx2::expInPlace,
                        &avx2::splitMax,
                        &avx2::splitSum,
                        &avx2::splitShift,
                        &avx2::splitScale,
                        &avx2::splitShiftExpSum,
                        &avx2::dotRowScaledExpSum,
                        &avx2::rowAffineExpSum,
                        &avx2::dotRowCircleExpSum,
                        &avx2::splitAffine,
                        &avx2::splitAffineMax,
                        &avx2::splitScaleProduct,
                        &avx2::sameLabelRow,
                        &avx2::sameLabelAffine,
                        &avx2::addRow,
                        &avx2::negatedSumProduct,
                        &avx2::liftedPairRow,
                        &avx2::circleRow,
                        &avx2::log1pUnitRow,
                        &avx2::softplusRow,
                        &avx2::contrastiveRow,
                        &avx2::hadsellRow,
                        &avx2::gramLowerUpdate,
                        &avx2::productRows,
                        &avx2::affineColumnsRow,
                        &avx2::weightedPullRows,
                        &avx2::runningSums,
                        &avx2::rowRange,
                        &avx2::bucketCells,
                        &avx2::mersenneTwist64,
                        &avx2::hardestPair,
                        &avx2::wordRemainders,
                        &avx2::packDrawn,
                        &avx2::tripletSweep,
                        &avx2::countBelow,
                        &avx2::gapBoundaries};
constexpr Kernels kAvx512{Level::Avx512,
                          &avx512::squaredDistanceRow,
                          &avx512::distanceRow,
                          &avx512::sqrtInPlace,
                          &avx512::dotRow,
                          &avx512::dotRowScaledMax,
                          &avx512::accumulateRow,
                          &avx512::accumulateRows,
                          &avx512::accumulateScaledRows,
                          &avx512::expInPlace,
                          &avx512::splitMax,
                          &avx512::splitSum,
                          &avx512::splitShift,
                          &avx512::splitScale,
                          &avx512::splitShiftExpSum,
                          &avx512::dotRowScaledExpSum,
                          &avx512::rowAffineExpSum,
                          &avx512::dotRowCircleExpSum,
                          &avx512::splitAffine,
                          &avx512::splitAffineMax,
                          &avx512::splitScaleProduct,
                          &avx512::sameLabelRow,
                          &avx512::sameLabelAffine,
                          &avx512::addRow,
                          &avx512::negatedSumProduct,
                          &avx512::liftedPairRow,
                          &avx512::circleRow,
                          &avx512::log1pUnitRow,
                          &avx512::softplusRow,
                          &avx512::contrastiveRow,
                          &avx512::hadsellRow,
                          &avx512::gramLowerUpdate,
                          &avx512::productRows,
                          &avx512::affineColumnsRow,
                          &avx512::weightedPullRows,
                          &avx512::runningSums,
                          &avx512::rowRange,
                          &avx512::bucketCells,
                          &avx512::mersenneTwist64,
                          &avx512::hardestPair,
                          &avx512::wordRemainders,
                          &avx512::packDrawn,
                          &avx512::tripletSweep,
                          &avx512::countBelow,
                          &avx512::gapBoundaries};
// clang-format on
#endif

Level detectLevel() {
#if defined(MARGINLAB_SIMD_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return Level::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Level::Avx2;
#endif
    return Level::Portable;
}

Level environmentCap() {
    const char* value = std::getenv("MARGINLAB_SIMD");
    if (!value) return Level::Avx512;
    const std::string name(value);
    if (name == "portable" || name == "none" || name == "0") return Level::Portable;
    if (name == "avx2") return Level::Avx2;
    return Level::Avx512;
}

// Decided once, before main() or at the first call; setSimdLevel() may lower it for tests.
std::atomic<int>& levelInUse() {
    static std::atomic<int> level{
        static_cast<int>(std::min(static_cast<int>(detectLevel()), static_cast<int>(environmentCap())))};
    return level;
}

}  // namespace

Level supportedLevel() {
    static const Level level = detectLevel();
    return level;
}

const Kernels* kernelsFor(Level level) {
    if (static_cast<int>(level) > static_cast<int>(supportedLevel())) return nullptr;
    switch (level) {
        case Level::Portable:
            return &kPortable;
#if defined(MARGINLAB_SIMD_X86)
        case Level::Avx2:
            return &kAvx2;
        case Level::Avx512:
            return &kAvx512;
#else
        default:
            break;
#endif
    }
    return nullptr;
}

const Kernels& kernels() {
    return *kernelsFor(static_cast<Level>(levelInUse().load(std::memory_order_relaxed)));
}

Level setSimdLevel(Level cap) {
    const int level = std::min(static_cast<int>(cap), static_cast<int>(supportedLevel()));
    levelInUse().store(level);
    return static_cast<Level>(level);
}

std::string_view levelName(Level level) {
    switch (level) {
        case Level::Portable:
            return "portable";
        case Level::Avx2:
            return "avx2";
        case Level::Avx512:
            return "avx512";
    }
    return "?";
}

}  // namespace marginlab::detail::simd

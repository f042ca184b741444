// SPDX-License-Identifier: MIT
// The row kernels, compiled once per vector unit (internal; included by kernels_*.cpp only, inside
// a namespace of their own). Plain loops over raw pointers that the compiler vectorizes with the
// unit's flags, and explicit intrinsics where a table lookup needs a gather. No includes here: see
// dispatch.h for why, and for what keeps the bits the same.

// Root: the square root of each entry taken in the same loop (the Lp distance), so that the
// square roots, which have a unit of their own, overlap the differences and products.
template <bool Root>
static void lpDistanceRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                          double* out, std::ptrdiff_t first) {
    const double* anchor = data + a * dims;
    // Fixed dimensions let the loop run over j with the coordinates in registers; the sum is
    // ((0 + d0²) + d1²) + d2², the order of the portable loop below (0 + x is exact).
    if (dims == 2) {
        const double x0 = anchor[0], x1 = anchor[1];
        for (std::ptrdiff_t j = first; j < n; ++j) {
            const double d0 = x0 - data[2 * j], d1 = x1 - data[2 * j + 1];
            const double squared = d0 * d0 + d1 * d1;
            out[j] = Root ? __builtin_sqrt(squared) : squared;
        }
        return;
    }
    if (dims == 3) {
        const double x0 = anchor[0], x1 = anchor[1], x2 = anchor[2];
        for (std::ptrdiff_t j = first; j < n; ++j) {
            const double d0 = x0 - data[3 * j], d1 = x1 - data[3 * j + 1], d2 = x2 - data[3 * j + 2];
            const double squared = (d0 * d0 + d1 * d1) + d2 * d2;
            out[j] = Root ? __builtin_sqrt(squared) : squared;
        }
        return;
    }
    for (std::ptrdiff_t j = first; j < n; ++j) {
        const double* other = data + j * dims;
        double squared = 0.0;
        for (std::ptrdiff_t k = 0; k < dims; ++k) {
            const double difference = anchor[k] - other[k];
            squared += difference * difference;
        }
        out[j] = Root ? __builtin_sqrt(squared) : squared;
    }
}

void squaredDistanceRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                        double* out, std::ptrdiff_t first) {
    lpDistanceRow<false>(data, n, dims, a, out, first);
}

void distanceRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, double* out,
                 std::ptrdiff_t first) {
    lpDistanceRow<true>(data, n, dims, a, out, first);
}

void sqrtInPlace(double* values, std::ptrdiff_t n) {
    for (std::ptrdiff_t j = 0; j < n; ++j) values[j] = __builtin_sqrt(values[j]);
}

void dotRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, double* out,
            std::ptrdiff_t first) {
    const double* anchor = data + a * dims;
    // ((0 + p0) + p1) + p2 as the plain loop below: 0 + p is not dropped (it turns −0 into +0).
    if (dims == 2) {
        const double x0 = anchor[0], x1 = anchor[1];
        for (std::ptrdiff_t j = first; j < n; ++j) out[j] = (0.0 + x0 * data[2 * j]) + x1 * data[2 * j + 1];
        return;
    }
    if (dims == 3) {
        const double x0 = anchor[0], x1 = anchor[1], x2 = anchor[2];
        for (std::ptrdiff_t j = first; j < n; ++j)
            out[j] = ((0.0 + x0 * data[3 * j]) + x1 * data[3 * j + 1]) + x2 * data[3 * j + 2];
        return;
    }
    for (std::ptrdiff_t j = first; j < n; ++j) {
        const double* other = data + j * dims;
        double dot = 0.0;
        for (std::ptrdiff_t k = 0; k < dims; ++k) dot += anchor[k] * other[k];
        out[j] = dot;
    }
}

// ---- The backward pass of one row (DistanceRows::accumulate) ----------------------------------
// The anchor's own gradient is a sum over the whole row; summed in one chain it is bound by the
// latency of an addition per pair. It is summed in kAccumulateLanes partial sums instead, j going
// to lane (j − first) mod kAccumulateLanes, and the lanes are added in a fixed tree at the end:
// one order, written out here, that every unit follows (wider units only hold more lanes in one
// register), so the bits stay the same on every unit.
constexpr int kAccumulateLanes = 8;

// Eight lanes, the same IEEE operation per lane on every unit, so one source gives every unit
// the same bits. Selects are bit masks (a comparison gives all-ones or zero per lane). On
// AVX-512 a GCC/Clang vector, one register. Narrower units hold the eight lanes as an array of
// register-wide vectors (2 AVX2, 4 SSE2) with the vector's operators: GCC 12 splits the
// arithmetic of a too-wide vector into registers itself, but makes its comparisons, selects and
// casts one lane at a time through the stack (circle's row ran 4× slower on AVX2 than it does
// this way).
#if defined(__AVX512F__)
typedef double Lanes __attribute__((vector_size(64)));
typedef long long LaneMask __attribute__((vector_size(64)));
#else
#if defined(__AVX__)
constexpr int kRegisterBytes = 32;
#else
constexpr int kRegisterBytes = 16;
#endif
template <class T>
struct Wide {
    typedef T Part __attribute__((vector_size(kRegisterBytes)));
    static constexpr int kPartLanes = kRegisterBytes / sizeof(T), kParts = 8 / kPartLanes;
    Part part[kParts];

    Wide() = default;  // Wide{} is zero, as a vector's {}
    // {v0, …, v7}, as a vector's initializer
    template <class... V>
    requires(sizeof...(V) == 8) Wide(V... values) {
        const T lanes[8] = {static_cast<T>(values)...};
        __builtin_memcpy(part, lanes, sizeof part);
    }
    // the same bits as the other element type: a vector cast
    template <class U>
    explicit Wide(Wide<U> other) {
        for (int k = 0; k < kParts; ++k) part[k] = (Part)other.part[k];
    }
    T operator[](int lane) const {
        T lanes[8];
        __builtin_memcpy(lanes, part, sizeof lanes);
        return lanes[lane];
    }
};
typedef Wide<double> Lanes;
typedef Wide<long long> LaneMask;

// Each operator part by part; a scalar operand stands for eight copies, as with a vector.
#define MARGINLAB_WIDE_BINARY(op)                                                                 \
    template <class T>                                                                            \
    static inline __attribute__((always_inline)) Wide<T> operator op(Wide<T> a, Wide<T> b) {      \
        for (int k = 0; k < Wide<T>::kParts; ++k) a.part[k] = a.part[k] op b.part[k];             \
        return a;                                                                                 \
    }                                                                                             \
    template <class T>                                                                            \
    static inline __attribute__((always_inline)) Wide<T> operator op(Wide<T> a, T b) {            \
        for (int k = 0; k < Wide<T>::kParts; ++k) a.part[k] = a.part[k] op b;                     \
        return a;                                                                                 \
    }                                                                                             \
    template <class T>                                                                            \
    static inline __attribute__((always_inline)) Wide<T> operator op(T a, Wide<T> b) {            \
        for (int k = 0; k < Wide<T>::kParts; ++k) b.part[k] = a op b.part[k];                     \
        return b;                                                                                 \
    }                                                                                             \
    template <class T>                                                                            \
    static inline __attribute__((always_inline)) Wide<T>& operator op##=(Wide<T>& a, Wide<T> b) { \
        return a = a op b;                                                                        \
    }
MARGINLAB_WIDE_BINARY(+)
MARGINLAB_WIDE_BINARY(-)
MARGINLAB_WIDE_BINARY(*)
MARGINLAB_WIDE_BINARY(/)
MARGINLAB_WIDE_BINARY(&)
MARGINLAB_WIDE_BINARY(|)
MARGINLAB_WIDE_BINARY(^)
#undef MARGINLAB_WIDE_BINARY

// −1 (all ones) where the comparison holds, 0 where not, as 64-bit lanes
#define MARGINLAB_WIDE_COMPARE(op)                                                                        \
    template <class T>                                                                                    \
    static inline __attribute__((always_inline)) LaneMask operator op(Wide<T> a, Wide<T> b) {             \
        LaneMask out;                                                                                     \
        for (int k = 0; k < Wide<T>::kParts; ++k) out.part[k] = (LaneMask::Part)(a.part[k] op b.part[k]); \
        return out;                                                                                       \
    }                                                                                                     \
    template <class T>                                                                                    \
    static inline __attribute__((always_inline)) LaneMask operator op(Wide<T> a, T b) {                   \
        return a op(Wide<T>{} + b);                                                                       \
    }
MARGINLAB_WIDE_COMPARE(==)
MARGINLAB_WIDE_COMPARE(!=)
MARGINLAB_WIDE_COMPARE(<)
MARGINLAB_WIDE_COMPARE(<=)
MARGINLAB_WIDE_COMPARE(>)
MARGINLAB_WIDE_COMPARE(>=)
#undef MARGINLAB_WIDE_COMPARE

template <class T>
static inline __attribute__((always_inline)) Wide<T> operator-(Wide<T> a) {
    for (int k = 0; k < Wide<T>::kParts; ++k) a.part[k] = -a.part[k];
    return a;
}
template <class T>
static inline __attribute__((always_inline)) Wide<T> operator~(Wide<T> a) {
    for (int k = 0; k < Wide<T>::kParts; ++k) a.part[k] = ~a.part[k];
    return a;
}
#endif

// −1 (all ones) in the lanes where labels[0..8) equals `label`, 0 elsewhere: the labels compared
// as 32-bit integers and widened with their sign.
static inline __attribute__((always_inline)) LaneMask labelMask(const int* labels, int label) {
#if defined(__AVX512F__)
    typedef int Labels __attribute__((vector_size(8 * sizeof(int))));
    Labels chunk;
    __builtin_memcpy(&chunk, labels, sizeof chunk);
    return __builtin_convertvector(chunk == (Labels{} + label), LaneMask);
#else
    typedef int Labels __attribute__((vector_size(LaneMask::kPartLanes * sizeof(int))));
    LaneMask out;
    for (int k = 0; k < LaneMask::kParts; ++k) {
        Labels chunk;
        __builtin_memcpy(&chunk, labels + k * LaneMask::kPartLanes, sizeof chunk);
        out.part[k] = __builtin_convertvector(chunk == (Labels{} + label), LaneMask::Part);
    }
    return out;
#endif
}

// Four 2D points' coordinates: x = the even lanes of (low, high), y = the odd ones (deinterleave),
// and back (interleave). Narrower units shuffle within register pairs: a shuffle of the whole
// eight lanes would also go one lane at a time.
static inline __attribute__((always_inline)) void deinterleave(Lanes low, Lanes high, Lanes* x, Lanes* y) {
#if defined(__AVX512F__)
    *x = __builtin_shufflevector(low, high, 0, 2, 4, 6, 8, 10, 12, 14);
    *y = __builtin_shufflevector(low, high, 1, 3, 5, 7, 9, 11, 13, 15);
#else
    constexpr int half = Lanes::kParts / 2;
    for (int k = 0; k < half; ++k) {
        const Lanes::Part a = low.part[2 * k], b = low.part[2 * k + 1];
        const Lanes::Part c = high.part[2 * k], d = high.part[2 * k + 1];
#if defined(__AVX__)
        x->part[k] = __builtin_shufflevector(a, b, 0, 2, 4, 6);
        y->part[k] = __builtin_shufflevector(a, b, 1, 3, 5, 7);
        x->part[half + k] = __builtin_shufflevector(c, d, 0, 2, 4, 6);
        y->part[half + k] = __builtin_shufflevector(c, d, 1, 3, 5, 7);
#else
        x->part[k] = __builtin_shufflevector(a, b, 0, 2);
        y->part[k] = __builtin_shufflevector(a, b, 1, 3);
        x->part[half + k] = __builtin_shufflevector(c, d, 0, 2);
        y->part[half + k] = __builtin_shufflevector(c, d, 1, 3);
#endif
    }
#endif
}
static inline __attribute__((always_inline)) void interleave(Lanes x, Lanes y, Lanes* low, Lanes* high) {
#if defined(__AVX512F__)
    *low = __builtin_shufflevector(x, y, 0, 8, 1, 9, 2, 10, 3, 11);
    *high = __builtin_shufflevector(x, y, 4, 12, 5, 13, 6, 14, 7, 15);
#else
    constexpr int half = Lanes::kParts / 2;
    for (int k = 0; k < half; ++k) {
        // Part k of x and y makes parts 2k and 2k + 1 of the interleaved sixteen lanes.
        for (int side = 0; side < 2; ++side) {
            const Lanes::Part a = x.part[side * half + k], b = y.part[side * half + k];
            Lanes* out = side == 0 ? low : high;
#if defined(__AVX__)
            out->part[2 * k] = __builtin_shufflevector(a, b, 0, 4, 1, 5);
            out->part[2 * k + 1] = __builtin_shufflevector(a, b, 2, 6, 3, 7);
#else
            out->part[2 * k] = __builtin_shufflevector(a, b, 0, 2);
            out->part[2 * k + 1] = __builtin_shufflevector(a, b, 1, 3);
#endif
        }
    }
#endif
}

// Register by register below AVX-512: one copy of all eight lanes would go through the stack in
// halves, and the wide load after the narrow stores waits for them.
static inline __attribute__((always_inline)) Lanes loadLanes(const double* p) {
    Lanes v;
#if defined(__AVX512F__)
    __builtin_memcpy(&v, p, sizeof v);
#else
    for (int k = 0; k < Lanes::kParts; ++k)
        __builtin_memcpy(&v.part[k], p + k * Lanes::kPartLanes, sizeof v.part[k]);
#endif
    return v;
}
static inline __attribute__((always_inline)) void storeLanes(double* p, Lanes v) {
#if defined(__AVX512F__)
    __builtin_memcpy(p, &v, sizeof v);
#else
    for (int k = 0; k < Lanes::kParts; ++k)
        __builtin_memcpy(p + k * Lanes::kPartLanes, &v.part[k], sizeof v.part[k]);
#endif
}
static inline __attribute__((always_inline)) Lanes broadcast(double x) { return Lanes{} + x; }
// AVX-512 has a blend under a mask register and a max with exactly `a > b ? a : b`'s rule (b when
// unordered or both zero), which GCC emits for the vector conditionals; narrower units lower those
// conditionals lane by lane, so they keep the bit masks. Both give the same bits.
static inline __attribute__((always_inline)) Lanes selectLanes(LaneMask mask, Lanes a, Lanes b) {
#if defined(__AVX512F__)
    return mask ? a : b;
#else
    return (Lanes)(((LaneMask)a & mask) | ((LaneMask)b & ~mask));
#endif
}
// a > b ? a : b per lane (the scalar `larger` below)
static inline __attribute__((always_inline)) Lanes largerLanes(Lanes a, Lanes b) {
#if defined(__AVX512F__)
    return a > b ? a : b;
#else
    return selectLanes(a > b, a, b);
#endif
}

// The weight of pair (a, j): similarity g (0 for j = a); Lp power 1 g/r (0 for r = 0, through a
// 0/1 factor: exact and branch-free); Lp power 2 2g.
template <int Mode>
static inline double pairWeight(std::ptrdiff_t a, std::ptrdiff_t j, double g, double r) {
    if constexpr (Mode == 0) {
        return j == a ? 0.0 : g;
    } else if constexpr (Mode == 1) {
        const double positive = static_cast<double>(r > 0.0);
        return positive * (g / (r + (1.0 - positive)));
    } else {
        return 2.0 * g;
    }
}

// pairWeight<Mode> of pairs (a, j), …, (a, j + 7) in lanes, from the weights gj = g.lanesAt(j)
// (weightLanes reads them itself).
template <int Mode>
static inline __attribute__((always_inline)) Lanes weightFrom(Lanes gj, std::ptrdiff_t a, std::ptrdiff_t j,
                                                              const double* row) {
    const Lanes zero = broadcast(0.0), one = broadcast(1.0);
    if constexpr (Mode == 0) {
        const Lanes laneIndex = {0, 1, 2, 3, 4, 5, 6, 7};
        return selectLanes(laneIndex + static_cast<double>(j) == static_cast<double>(a), zero, gj);
    } else if constexpr (Mode == 1) {
        const Lanes r = loadLanes(row + j);
        const Lanes positive = selectLanes(r > zero, one, zero);
        return positive * (gj / (r + (one - positive)));
    } else {
        return broadcast(2.0) * gj;
    }
}
template <int Mode, class Weights>
static inline __attribute__((always_inline)) Lanes weightLanes(const Weights& g, std::ptrdiff_t a,
                                                               std::ptrdiff_t j, const double* row) {
    return weightFrom<Mode>(g.lanesAt(j), a, j, row);
}

static inline double addLanes(const double* lanes) {
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// One pair's share: similarity: ∂(e_a·e_j) = e_j de_a + e_a de_j; Lp: w·(e_a − e_j) to the
// anchor and its negative to e_j (zero for j = a).
template <int Mode>
static inline void pairStep(double w, double anchorK, double otherK, double* lane, double* gradOtherK) {
    if constexpr (Mode == 0) {
        *lane += w * otherK;
        *gradOtherK += w * anchorK;
    } else {
        const double step = w * (anchorK - otherK);
        *lane += step;
        *gradOtherK -= step;
    }
}

template <int Dims, int Mode, class Weights>
static void accumulateFixed(const double* data, std::ptrdiff_t n, std::ptrdiff_t a, const Weights& g,
                            const double* row, double* grad, std::ptrdiff_t first) {
    constexpr int L = kAccumulateLanes;
    double anchor[Dims];
    for (int k = 0; k < Dims; ++k) anchor[k] = data[a * Dims + k];
    double lanes[Dims][L] = {};
    std::ptrdiff_t j = first;
    if constexpr (Dims == 2) {
        // The block loop below written out in lanes: the same operations per pair, x and y
        // taken apart from the interleaved points and put back together for the store.
        const Lanes anchorX = broadcast(anchor[0]), anchorY = broadcast(anchor[1]);
        Lanes sumX = broadcast(0.0), sumY = sumX;
        for (; j + L <= n; j += L) {
            const Lanes low = loadLanes(data + 2 * j), high = loadLanes(data + 2 * j + L);
            Lanes x, y;
            deinterleave(low, high, &x, &y);
            const Lanes w = weightLanes<Mode>(g, a, j, row);
            // similarity: + w·e_a to e_j; Lp: − step (the scalar code's += and −=, lane for lane)
            Lanes toOtherX, toOtherY;
            if constexpr (Mode == 0) {
                sumX += w * x;
                sumY += w * y;
                toOtherX = w * anchorX;
                toOtherY = w * anchorY;
            } else {
                toOtherX = w * (anchorX - x);
                toOtherY = w * (anchorY - y);
                sumX += toOtherX;
                sumY += toOtherY;
            }
            Lanes toLow, toHigh;
            interleave(toOtherX, toOtherY, &toLow, &toHigh);
            const Lanes gradLow = loadLanes(grad + 2 * j), gradHigh = loadLanes(grad + 2 * j + L);
            if constexpr (Mode == 0) {
                storeLanes(grad + 2 * j, gradLow + toLow);
                storeLanes(grad + 2 * j + L, gradHigh + toHigh);
            } else {
                storeLanes(grad + 2 * j, gradLow - toLow);
                storeLanes(grad + 2 * j + L, gradHigh - toHigh);
            }
        }
        storeLanes(lanes[0], sumX);
        storeLanes(lanes[1], sumY);
    }
    for (; j + L <= n; j += L) {
        // Constant trip counts: the compiler turns the lanes into vector registers.
        double w[L];
        for (int l = 0; l < L; ++l) w[l] = pairWeight<Mode>(a, j + l, g.at(j + l), row[j + l]);
        for (int l = 0; l < L; ++l)
            for (int k = 0; k < Dims; ++k)
                pairStep<Mode>(w[l], anchor[k], data[(j + l) * Dims + k], &lanes[k][l], &grad[(j + l) * Dims + k]);
    }
    for (; j < n; ++j) {
        const int l = static_cast<int>((j - first) % L);
        const double w = pairWeight<Mode>(a, j, g.at(j), row[j]);
        for (int k = 0; k < Dims; ++k) pairStep<Mode>(w, anchor[k], data[j * Dims + k], &lanes[k][l], &grad[j * Dims + k]);
    }
    for (int k = 0; k < Dims; ++k) grad[a * Dims + k] += addLanes(lanes[k]);
}

// Any dimension: the same lanes, the coordinates taken kBlock at a time (the weight is
// recomputed per block, the same value each time).
template <int Mode, class Weights>
static void accumulateAny(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                          const Weights& g, const double* row, double* grad, std::ptrdiff_t first) {
    constexpr int L = kAccumulateLanes, kBlock = 8;
    const double* anchor = data + a * dims;
    for (std::ptrdiff_t k0 = 0; k0 < dims; k0 += kBlock) {
        const int width = static_cast<int>(dims - k0 < kBlock ? dims - k0 : kBlock);
        double lanes[kBlock][L] = {};
        for (std::ptrdiff_t j = first; j < n; ++j) {
            const int l = static_cast<int>((j - first) % L);
            const double w = pairWeight<Mode>(a, j, g.at(j), row[j]);
            for (int k = 0; k < width; ++k)
                pairStep<Mode>(w, anchor[k0 + k], data[j * dims + k0 + k], &lanes[k][l], &grad[j * dims + k0 + k]);
        }
        for (int k = 0; k < width; ++k) grad[a * dims + k0 + k] += addLanes(lanes[k]);
    }
}

template <int Mode, class Weights>
static void accumulateMode(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                           const Weights& g, const double* row, double* grad, std::ptrdiff_t first) {
    if (dims == 2) return accumulateFixed<2, Mode>(data, n, a, g, row, grad, first);
    if (dims == 3) return accumulateFixed<3, Mode>(data, n, a, g, row, grad, first);
    accumulateAny<Mode>(data, n, dims, a, g, row, grad, first);
}

template <class Weights>
static void accumulateWith(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                           int mode, const Weights& g, const double* row, double* grad,
                           std::ptrdiff_t first) {
    if (mode == 0) return accumulateMode<0>(data, n, dims, a, g, row, grad, first);
    if (mode == 1) return accumulateMode<1>(data, n, dims, a, g, row, grad, first);
    accumulateMode<2>(data, n, dims, a, g, row, grad, first);
}

// The row of g the backward pass reads.
struct PlainWeights {
    static constexpr bool kByLabel = false;
    const double* g;
    double at(std::ptrdiff_t j) const { return g[j]; }
    Lanes lanesAt(std::ptrdiff_t j) const { return loadLanes(g + j); }
};

void accumulateRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, int mode,
                   const double* g, const double* row, double* grad, std::ptrdiff_t first) {
    accumulateWith(data, n, dims, a, mode, PlainWeights{g}, row, grad, first);
}

// ---- Several rows' backward passes at once (accumulateRows) -----------------------------------
// accumulateRow (first = 0) of rows 0, 1, …, count − 1 in turn, with the same bits: every
// gradient entry takes the rows' shares in row order, but each point and each gradient entry is
// loaded and stored once per block instead of once per row. A group of lanes holding one of the
// anchors is not stored from the lanes: the one-row order adds an anchor's own sum right after its
// row's share, and that sum is only known at the end; such groups and the tail are settled one
// entry at a time afterwards, in the one-row order.
template <int Mode, int Count, class Weights>
static void accumulateBlock2(const double* data, std::ptrdiff_t n, const std::ptrdiff_t* anchors,
                             const Weights* weightsIn, const double* const* rows, double* grad) {
    constexpr int L = kAccumulateLanes;
    // A local copy: the gradient's stores could alias a weight's double fields (its factors), and
    // the compiler would load them again after each one.
    Weights weights[Count];
    for (int k = 0; k < Count; ++k) weights[k] = weightsIn[k];
    Lanes anchorX[Count], anchorY[Count], sumX[Count], sumY[Count];
    for (int k = 0; k < Count; ++k) {
        anchorX[k] = broadcast(data[2 * anchors[k]]);
        anchorY[k] = broadcast(data[2 * anchors[k] + 1]);
        sumX[k] = sumY[k] = broadcast(0.0);
    }
    auto groupOf = [](std::ptrdiff_t j) { return j - j % L; };
    std::ptrdiff_t anchorGroup[Count];
    for (int k = 0; k < Count; ++k) anchorGroup[k] = groupOf(anchors[k]);
    const Lanes laneIndex = {0, 1, 2, 3, 4, 5, 6, 7};
    // Rows scaled by one label (consecutive anchors of a class, say) share its lane mask: one label
    // compare per group instead of one per row.
    bool oneLabel = Weights::kByLabel;
    if constexpr (Weights::kByLabel)
        for (int k = 1; k < Count; ++k) oneLabel &= weights[k].label == weights[0].label;
    std::ptrdiff_t j = 0;
    for (; j + L <= n; j += L) {
        Lanes x, y, gradX, gradY;
        deinterleave(loadLanes(data + 2 * j), loadLanes(data + 2 * j + L), &x, &y);
        // Adding in x/y lanes is adding in the stored order: the shuffles only move lanes.
        deinterleave(loadLanes(grad + 2 * j), loadLanes(grad + 2 * j + L), &gradX, &gradY);
        LaneMask sharedMask{};
        if constexpr (Weights::kByLabel)
            if (oneLabel) sharedMask = labelMask(weights[0].labels + j, weights[0].label);
        bool holdsAnchor = false;
        for (int k = 0; k < Count; ++k) {
            const bool anchorHere = anchorGroup[k] == j;
            holdsAnchor |= anchorHere;
            Lanes gk;
            if constexpr (Weights::kByLabel)
                gk = oneLabel ? weights[k].lanesWith(j, sharedMask) : weights[k].lanesAt(j);
            else
                gk = weights[k].lanesAt(j);
            Lanes w;
            if constexpr (Mode == 0) {
                // weightLanes<0>'s zero at the anchor, selected in the anchor's group only: elsewhere
                // the select keeps every lane, and its lane compare cost each group four operations.
                w = gk;
                if (anchorHere)
                    w = selectLanes(laneIndex == broadcast(static_cast<double>(anchors[k] - j)), broadcast(0.0), w);
            } else {
                w = weightFrom<Mode>(gk, anchors[k], j, rows[k]);
            }
            if constexpr (Mode == 0) {
                sumX[k] += w * x;
                sumY[k] += w * y;
                gradX = gradX + w * anchorX[k];
                gradY = gradY + w * anchorY[k];
            } else {
                const Lanes stepX = w * (anchorX[k] - x), stepY = w * (anchorY[k] - y);
                sumX[k] += stepX;
                sumY[k] += stepY;
                gradX = gradX - stepX;
                gradY = gradY - stepY;
            }
        }
        if (holdsAnchor) continue;
        Lanes low, high;
        interleave(gradX, gradY, &low, &high);
        storeLanes(grad + 2 * j, low);
        storeLanes(grad + 2 * j + L, high);
    }
    const std::ptrdiff_t tail = j;
    double totals[Count][2];
    for (int k = 0; k < Count; ++k) {
        double lanes[2][L];
        storeLanes(lanes[0], sumX[k]);
        storeLanes(lanes[1], sumY[k]);
        const double* anchor = data + 2 * anchors[k];
        for (std::ptrdiff_t t = tail; t < n; ++t) {
            const double w = pairWeight<Mode>(anchors[k], t, weights[k].at(t), rows[k][t]);
            for (int d = 0; d < 2; ++d)
                lanes[d][t % L] += Mode == 0 ? w * data[2 * t + d] : w * (anchor[d] - data[2 * t + d]);
        }
        for (int d = 0; d < 2; ++d) totals[k][d] = addLanes(lanes[d]);
    }
    auto settle = [&](std::ptrdiff_t t) {
        for (int d = 0; d < 2; ++d) {
            double value = grad[2 * t + d];
            for (int k = 0; k < Count; ++k) {
                const double w = pairWeight<Mode>(anchors[k], t, weights[k].at(t), rows[k][t]);
                const double anchorK = data[2 * anchors[k] + d];
                if constexpr (Mode == 0)
                    value += w * anchorK;
                else
                    value -= w * (anchorK - data[2 * t + d]);
                if (t == anchors[k]) value += totals[k][d];
            }
            grad[2 * t + d] = value;
        }
    };
    for (int k = 0; k < Count; ++k) {
        const std::ptrdiff_t start = groupOf(anchors[k]);
        bool settled = start >= tail;  // the tail's entries come below
        for (int m = 0; m < k; ++m) settled |= groupOf(anchors[m]) == start;
        if (!settled)
            for (std::ptrdiff_t t = start; t < start + L; ++t) settle(t);
    }
    for (std::ptrdiff_t t = tail; t < n; ++t) settle(t);
}

template <int Mode, class Weights>
static void accumulateBlock(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int count,
                            const std::ptrdiff_t* anchors, const Weights* weights, const double* const* rows,
                            double* grad) {
    if (dims == 2) {
        switch (count) {
            case 1:
                return accumulateBlock2<Mode, 1>(data, n, anchors, weights, rows, grad);
            case 2:
                return accumulateBlock2<Mode, 2>(data, n, anchors, weights, rows, grad);
            case 3:
                return accumulateBlock2<Mode, 3>(data, n, anchors, weights, rows, grad);
            case 4:
                return accumulateBlock2<Mode, 4>(data, n, anchors, weights, rows, grad);
            default:
                break;
        }
    }
    for (int k = 0; k < count; ++k)
        accumulateMode<Mode>(data, n, dims, anchors[k], weights[k], rows[k], grad, 0);
}

template <class Weights>
static void accumulateBlockWith(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int mode,
                                int count, const std::ptrdiff_t* anchors, const Weights* weights,
                                const double* const* rows, double* grad) {
    if (mode == 0) return accumulateBlock<0>(data, n, dims, count, anchors, weights, rows, grad);
    if (mode == 1) return accumulateBlock<1>(data, n, dims, count, anchors, weights, rows, grad);
    accumulateBlock<2>(data, n, dims, count, anchors, weights, rows, grad);
}

void accumulateRows(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int mode, int count,
                    const std::ptrdiff_t* anchors, const double* const* g, const double* const* rows,
                    double* grad) {
    constexpr int kMaxRows = 4;
    for (int begin = 0; begin < count; begin += kMaxRows) {  // blocks in order: the same bits
        const int size = count - begin < kMaxRows ? count - begin : kMaxRows;
        PlainWeights weights[kMaxRows];
        for (int k = 0; k < size; ++k) weights[k] = PlainWeights{g[begin + k]};
        accumulateBlockWith(data, n, dims, mode, size, anchors + begin, weights, rows + begin, grad);
    }
}

// The weights of a row scaled by its same-label kind: values[j] × (labels[j] = label ? ofOnes :
// ofZeros), splitScale's operation lane for lane, so the backward pass reads the scaled row's bits
// without anyone writing the row out and reading it back.
struct LabelScaledWeights {
    static constexpr bool kByLabel = true;
    const double* values;
    const int* labels;
    int label;
    double ofOnes, ofZeros;
    double at(std::ptrdiff_t j) const { return values[j] * (labels[j] == label ? ofOnes : ofZeros); }
    // with isOne = labelMask(labels + j, label), made already (rows of one label share it)
    __attribute__((always_inline)) Lanes lanesWith(std::ptrdiff_t j, LaneMask isOne) const {
        return loadLanes(values + j) * selectLanes(isOne, broadcast(ofOnes), broadcast(ofZeros));
    }
    __attribute__((always_inline)) Lanes lanesAt(std::ptrdiff_t j) const {
        return lanesWith(j, labelMask(labels + j, label));
    }
};

void accumulateScaledRows(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, int mode, int count,
                          const std::ptrdiff_t* anchors, const double* const* values, const int* labels,
                          const double* ofOnes, const double* ofZeros, const double* const* rows, double* grad) {
    constexpr int kMaxRows = 4;
    for (int begin = 0; begin < count; begin += kMaxRows) {  // blocks in order: the same bits
        const int size = count - begin < kMaxRows ? count - begin : kMaxRows;
        LabelScaledWeights weights[kMaxRows];
        for (int k = 0; k < size; ++k) {
            const int row = begin + k;
            weights[k] = {values[row], labels, labels[anchors[row]], ofOnes[row], ofZeros[row]};
        }
        accumulateBlockWith(data, n, dims, mode, size, anchors + begin, weights, rows + begin, grad);
    }
}

// ---- e^v for a row: detail::rowExp (losses/exp_row.h) lane for lane -------------------------
// The constants are rowExp's, written the same way (the compiler rounds them the same); the
// 2^(i/64) table is the caller's (exp_row.h), so that there is one. exp_row_test and simd_test
// compare every unit with rowExp bit for bit.
constexpr double kExpScale = 92.33248261689366;     // 64/ln2
constexpr double kExpShifter = 6755399441055744.0;  // 1.5·2⁵²
constexpr double kExpStepHigh = 6.93147180369123816490e-01 / 64.0;
constexpr double kExpStepLow = 1.90821492927058770002e-10 / 64.0;
constexpr double kExpFlush = -700.0;
constexpr double kExpInverseFactorial[6] = {1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0};

// e^r to r⁵ for |r| ≤ ln2/128, rowExp's operations in rowExp's order: Estrin's grouping, whose
// longest chain is three multiply-add steps instead of Horner's six (the lanes were waiting on it);
// 1 + (r + …) rounds once at the end, as Horner's last step did. Any width: a double or a
// vector of them (GCC's operators broadcast the constants).
template <typename T>
static inline __attribute__((always_inline)) T expPolynomial(T r) {
    const T r2 = r * r;
    const T second = r * kExpInverseFactorial[3] + kExpInverseFactorial[2];
    const T fourth = r * kExpInverseFactorial[5] + kExpInverseFactorial[4];
    return 1.0 + (r + r2 * (second + r2 * fourth));
}

static inline double expOne(double v, const std::int64_t* table) {
    const double shifted = v * kExpScale + kExpShifter;
    const double k = shifted - kExpShifter;
    const double r = (v - k * kExpStepHigh) - k * kExpStepLow;
    const double p = expPolynomial(r);
    std::uint64_t bits = 0;
    __builtin_memcpy(&bits, &shifted, sizeof bits);
    const std::uint64_t scaleBits =
        static_cast<std::uint64_t>(table[bits & 63u]) + ((bits & ~std::uint64_t(63)) << 46);
    double scale = 0.0;
    __builtin_memcpy(&scale, &scaleBits, sizeof scale);
    const double result = scale * p;
    return v < kExpFlush ? 0.0 : result;
}

// GCC 12's AVX-512 intrinsics start their masked builtins from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports once inlined: a false positive (every lane is written).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
void expInPlace(double* values, std::ptrdiff_t n, const std::int64_t* table) {
    std::ptrdiff_t j = 0;
#if defined(__AVX512F__)
    const __m512d scaleFactor = _mm512_set1_pd(kExpScale), shifter = _mm512_set1_pd(kExpShifter);
    const __m512d stepHigh = _mm512_set1_pd(kExpStepHigh), stepLow = _mm512_set1_pd(kExpStepLow);
    const __m512d flush = _mm512_set1_pd(kExpFlush);
    const __m512i indexMask = _mm512_set1_epi64(63);
    // The 64 entries in eight registers, looked up by permutes (index bits 0–3 within a pair of
    // registers, bits 4 and 5 choosing the pair): the same entries as a gather, and on Zen 4 the
    // row exp runs about 6 % faster.
    __m512i entries[8];
    for (int q = 0; q < 8; ++q) entries[q] = _mm512_loadu_si512(static_cast<const void*>(table + 8 * q));
    const __m512i bit4 = _mm512_set1_epi64(16), bit5 = _mm512_set1_epi64(32);
    for (; j + 8 <= n; j += 8) {
        const __m512d v = _mm512_loadu_pd(values + j);
        const __m512d shifted = _mm512_add_pd(_mm512_mul_pd(v, scaleFactor), shifter);
        const __m512d k = _mm512_sub_pd(shifted, shifter);
        const __m512d r = _mm512_sub_pd(_mm512_sub_pd(v, _mm512_mul_pd(k, stepHigh)), _mm512_mul_pd(k, stepLow));
        const __m512d p = expPolynomial(r);
        const __m512i bits = _mm512_castpd_si512(shifted);
        const __m512i index = _mm512_and_si512(bits, indexMask);
        const __mmask8 upperHalf = _mm512_test_epi64_mask(index, bit5);
        const __mmask8 oddPair = _mm512_test_epi64_mask(index, bit4);
        const __m512i lower =
            _mm512_mask_blend_epi64(oddPair, _mm512_permutex2var_epi64(entries[0], index, entries[1]),
                                    _mm512_permutex2var_epi64(entries[2], index, entries[3]));
        const __m512i upper =
            _mm512_mask_blend_epi64(oddPair, _mm512_permutex2var_epi64(entries[4], index, entries[5]),
                                    _mm512_permutex2var_epi64(entries[6], index, entries[7]));
        const __m512i entry = _mm512_mask_blend_epi64(upperHalf, lower, upper);
        const __m512i scaleBits = _mm512_add_epi64(entry, _mm512_slli_epi64(_mm512_andnot_si512(indexMask, bits), 46));
        const __m512d result = _mm512_mul_pd(_mm512_castsi512_pd(scaleBits), p);
        // v < −700 → 0; NaN compares false and keeps its NaN result.
        const __mmask8 below = _mm512_cmp_pd_mask(v, flush, _CMP_LT_OQ);
        _mm512_storeu_pd(values + j, _mm512_mask_blend_pd(below, result, _mm512_setzero_pd()));
    }
#elif defined(__AVX2__)
    const __m256d scaleFactor = _mm256_set1_pd(kExpScale), shifter = _mm256_set1_pd(kExpShifter);
    const __m256d stepHigh = _mm256_set1_pd(kExpStepHigh), stepLow = _mm256_set1_pd(kExpStepLow);
    const __m256d flush = _mm256_set1_pd(kExpFlush);
    const __m256i indexMask = _mm256_set1_epi64x(63);
    for (; j + 4 <= n; j += 4) {
        const __m256d v = _mm256_loadu_pd(values + j);
        const __m256d shifted = _mm256_add_pd(_mm256_mul_pd(v, scaleFactor), shifter);
        const __m256d k = _mm256_sub_pd(shifted, shifter);
        const __m256d r = _mm256_sub_pd(_mm256_sub_pd(v, _mm256_mul_pd(k, stepHigh)), _mm256_mul_pd(k, stepLow));
        const __m256d p = expPolynomial(r);
        const __m256i bits = _mm256_castpd_si256(shifted);
        const __m256i index = _mm256_and_si256(bits, indexMask);
        // Four loads paired into a register, not a gather: the same entries, and on Zen 2 the
        // gather instruction is slower than the loads it stands for.
        alignas(32) std::int64_t at[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(at), index);
        auto entryAt = [&](int lane) {
            return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(table + at[lane]));
        };
        const __m256i entry =
            _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(entryAt(0), entryAt(1))),
                                    _mm_unpacklo_epi64(entryAt(2), entryAt(3)), 1);
        const __m256i scaleBits = _mm256_add_epi64(entry, _mm256_slli_epi64(_mm256_andnot_si256(indexMask, bits), 46));
        const __m256d result = _mm256_mul_pd(_mm256_castsi256_pd(scaleBits), p);
        _mm256_storeu_pd(values + j, _mm256_andnot_pd(_mm256_cmp_pd(v, flush, _CMP_LT_OQ), result));
    }
#elif defined(__SSE2__)
    const __m128d scaleFactor = _mm_set1_pd(kExpScale), shifter = _mm_set1_pd(kExpShifter);
    const __m128d stepHigh = _mm_set1_pd(kExpStepHigh), stepLow = _mm_set1_pd(kExpStepLow);
    const __m128d flush = _mm_set1_pd(kExpFlush);
    const __m128i indexMask = _mm_set1_epi64x(63);
    for (; j + 2 <= n; j += 2) {
        const __m128d v = _mm_loadu_pd(values + j);
        const __m128d shifted = _mm_add_pd(_mm_mul_pd(v, scaleFactor), shifter);
        const __m128d k = _mm_sub_pd(shifted, shifter);
        const __m128d r = _mm_sub_pd(_mm_sub_pd(v, _mm_mul_pd(k, stepHigh)), _mm_mul_pd(k, stepLow));
        const __m128d p = expPolynomial(r);
        const __m128i bits = _mm_castpd_si128(shifted);
        const __m128i index = _mm_and_si128(bits, indexMask);
        const auto low = static_cast<std::size_t>(_mm_cvtsi128_si32(index));
        const auto high = static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(index, index)));
        const __m128i entry = _mm_set_epi64x(table[high], table[low]);
        const __m128i scaleBits = _mm_add_epi64(entry, _mm_slli_epi64(_mm_andnot_si128(indexMask, bits), 46));
        const __m128d result = _mm_mul_pd(_mm_castsi128_pd(scaleBits), p);
        _mm_storeu_pd(values + j, _mm_andnot_pd(_mm_cmplt_pd(v, flush), result));
    }
#endif
    for (; j < n; ++j) values[j] = expOne(values[j], table);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// ---- Row passes split by a 0/1 kind row (losses/pair_rows.h) ---------------------------------
// kind[j] = 1.0 or 0.0 (same label or not, say). Selects, never branches (the kind is
// data-dependent). Sums and maxima run in kAccumulateLanes lanes, lane j mod kAccumulateLanes,
// combined in the fixed tree of addLanes / maxLanes: one order on every unit.
static inline double larger(double a, double b) { return a > b ? a : b; }

static inline double maxLanes(const double* lanes) {
    return larger(larger(larger(lanes[0], lanes[1]), larger(lanes[2], lanes[3])),
                  larger(larger(lanes[4], lanes[5]), larger(lanes[6], lanes[7])));
}

// The maxima in two vectors of lanes (16 in all, lane j mod 16): a running maximum is a chain of
// compare-and-select, and two chains per kind keep the unit busy. Maxima do not round; the lane
// order only decides which of +0 and −0 is kept, and it is one order on every unit.
constexpr int kMaxLanes = 16;

// The split maxima of a row whose values come from valuesAt(j, isOne) (8 lanes from j; it may
// store them) and valueAt(j, one) (one element, the tail): splitMax's loop, shared by the kernels
// that make a row and take its maxima in the same pass (the same lanes, so the same bits as the
// two passes).
template <class LanesAt, class ValueAt>
static inline __attribute__((always_inline)) void splitMaxOf(const double* kind, std::ptrdiff_t n,
                                                             LanesAt valuesAt, ValueAt valueAt,
                                                             double* ofOnes, double* ofZeros) {
    constexpr int L = kAccumulateLanes;
    const double none = -__builtin_inf();
    const Lanes noneLanes = broadcast(none), oneLanes = broadcast(1.0);
    Lanes topOnes[2] = {noneLanes, noneLanes}, topZeros[2] = {noneLanes, noneLanes};
    std::ptrdiff_t j = 0;
    for (; j + kMaxLanes <= n; j += kMaxLanes)
        for (int half = 0; half < 2; ++half) {
            const LaneMask isOne = loadLanes(kind + j + half * L) == oneLanes;
            const Lanes v = valuesAt(j + half * L, isOne);
            topOnes[half] = largerLanes(topOnes[half], selectLanes(isOne, v, noneLanes));
            topZeros[half] = largerLanes(topZeros[half], selectLanes(isOne, noneLanes, v));
        }
    double ones[kMaxLanes], zeros[kMaxLanes];
    storeLanes(ones, topOnes[0]);
    storeLanes(ones + L, topOnes[1]);
    storeLanes(zeros, topZeros[0]);
    storeLanes(zeros + L, topZeros[1]);
    for (; j < n; ++j) {
        const int l = static_cast<int>(j % kMaxLanes);
        const bool one = kind[j] == 1.0;
        const double v = valueAt(j, one);
        ones[l] = larger(ones[l], one ? v : none);
        zeros[l] = larger(zeros[l], one ? none : v);
    }
    *ofOnes = larger(maxLanes(ones), maxLanes(ones + L));
    *ofZeros = larger(maxLanes(zeros), maxLanes(zeros + L));
}

void splitMax(const double* values, const double* kind, std::ptrdiff_t n, double* ofOnes, double* ofZeros) {
    splitMaxOf(
        kind, n, [&](std::ptrdiff_t j, LaneMask) { return loadLanes(values + j); },
        [&](std::ptrdiff_t j, bool) { return values[j]; }, ofOnes, ofZeros);
}

// v with lane `skip` (an index, compared as a double: exact below 2⁵³) set to −∞.
static inline __attribute__((always_inline)) Lanes skipLane(Lanes v, std::ptrdiff_t j, Lanes skip) {
    const Lanes laneIndex = {0, 1, 2, 3, 4, 5, 6, 7};
    return selectLanes(laneIndex + static_cast<double>(j) == skip, broadcast(-__builtin_inf()), v);
}

// splitAffine (out[skip] = −∞), then splitMax of out, in one pass; out may be values.
void splitAffineMax(double* out, const double* values, const double* kind, std::ptrdiff_t n, double shiftOnes,
                    double factorOnes, double shiftZeros, double factorZeros, std::ptrdiff_t skip,
                    double* maxOnes, double* maxZeros) {
    const Lanes shiftOneLanes = broadcast(shiftOnes), factorOneLanes = broadcast(factorOnes);
    const Lanes shiftZeroLanes = broadcast(shiftZeros), factorZeroLanes = broadcast(factorZeros);
    const Lanes skipLanes = broadcast(static_cast<double>(skip));
    splitMaxOf(
        kind, n,
        [&](std::ptrdiff_t j, LaneMask isOne) {
            const Lanes shifted = loadLanes(values + j) - selectLanes(isOne, shiftOneLanes, shiftZeroLanes);
            const Lanes v =
                skipLane(shifted * selectLanes(isOne, factorOneLanes, factorZeroLanes), j, skipLanes);
            storeLanes(out + j, v);
            return v;
        },
        [&](std::ptrdiff_t j, bool one) {
            out[j] = j == skip
                         ? -__builtin_inf()
                         : (values[j] - (one ? shiftOnes : shiftZeros)) * (one ? factorOnes : factorZeros);
            return out[j];
        },
        maxOnes, maxZeros);
}

// dotRow × factor, then splitMax of it, in one pass for D = 2 (x and y taken apart from the
// interleaved points as accumulateFixed does; dotRow's operations per element); other D: dotRow,
// then splitAffineMax. The same bits as dotRow, then splitAffineMax with shifts 0 (v − 0 = v).
void dotRowScaledMax(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                     double factor, const double* kind, double* out, double* maxOnes, double* maxZeros) {
    if (dims != 2) {
        dotRow(data, n, dims, a, out, 0);
        splitAffineMax(out, out, kind, n, 0.0, factor, 0.0, factor, -1, maxOnes, maxZeros);
        return;
    }
    constexpr int L = kAccumulateLanes;
    const double x0 = data[2 * a], x1 = data[2 * a + 1];
    const Lanes anchorX = broadcast(x0), anchorY = broadcast(x1), zero = broadcast(0.0),
                scale = broadcast(factor);
    splitMaxOf(
        kind, n,
        [&](std::ptrdiff_t j, LaneMask) {
            const Lanes low = loadLanes(data + 2 * j), high = loadLanes(data + 2 * j + L);
            Lanes x, y;
            deinterleave(low, high, &x, &y);
            const Lanes v = ((zero + anchorX * x) + anchorY * y) * scale;
            storeLanes(out + j, v);
            return v;
        },
        [&](std::ptrdiff_t j, bool) {
            out[j] = ((0.0 + x0 * data[2 * j]) + x1 * data[2 * j + 1]) * factor;
            return out[j];
        },
        maxOnes, maxZeros);
}

void splitSum(const double* values, const double* kind, std::ptrdiff_t n, double* ofOnes, double* ofZeros) {
    constexpr int L = kAccumulateLanes;
    const Lanes zero = broadcast(0.0), oneLanes = broadcast(1.0);
    Lanes sumOnes = zero, sumZeros = zero;
    std::ptrdiff_t j = 0;
    for (; j + L <= n; j += L) {
        const Lanes v = loadLanes(values + j);
        const LaneMask isOne = loadLanes(kind + j) == oneLanes;
        sumOnes += selectLanes(isOne, v, zero);
        sumZeros += selectLanes(isOne, zero, v);
    }
    double ones[L], zeros[L];
    storeLanes(ones, sumOnes);
    storeLanes(zeros, sumZeros);
    for (; j < n; ++j) {
        const int l = static_cast<int>(j % L);
        const bool one = kind[j] == 1.0;
        ones[l] += one ? values[j] : 0.0;
        zeros[l] += one ? 0.0 : values[j];
    }
    *ofOnes = addLanes(ones);
    *ofZeros = addLanes(zeros);
}

void splitShift(double* values, const double* kind, std::ptrdiff_t n, double ofOnes, double ofZeros) {
    constexpr int L = kAccumulateLanes;
    const Lanes oneLanes = broadcast(1.0), shiftOnes = broadcast(ofOnes), shiftZeros = broadcast(ofZeros);
    std::ptrdiff_t j = 0;
    for (; j + L <= n; j += L) {
        const LaneMask isOne = loadLanes(kind + j) == oneLanes;
        storeLanes(values + j, loadLanes(values + j) - selectLanes(isOne, shiftOnes, shiftZeros));
    }
    for (; j < n; ++j) values[j] -= kind[j] == 1.0 ? ofOnes : ofZeros;
}

// splitShift, expInPlace and splitSum in one pass, block by block (each block's values stay in
// the level-1 cache between the three steps): the same operations per element and the same lanes
// in the same order (blocks are whole multiples of the lanes), so the same bits as the three
// passes. out may be values.
// The two kinds of a row's entries: a 0/1 row (kind[j] = 1.0 or 0.0)...
struct KindRow {
    const double* kind;
    LaneMask lanesAt(std::ptrdiff_t k) const { return loadLanes(kind + k) == broadcast(1.0); }
    bool at(std::ptrdiff_t j) const { return kind[j] == 1.0; }
    // the first look at each entry (a kind row is only read)
    LaneMask firstLanesAt(std::ptrdiff_t k) const { return lanesAt(k); }
    bool firstAt(std::ptrdiff_t j) const { return at(j); }
    // the 0/1 row itself, for the passes that read one
    const double* row(std::ptrdiff_t) const { return kind; }
};
void sameLabelRow(const int* labels, int label, std::ptrdiff_t n, double* kind);
// ... or the same-label test labels[j] = label, whose 0/1 row (sameLabelRow's) the first look
// writes into kind for the passes after.
struct SameLabelKind {
    const int* labels;
    int label;
    double* kind;
    LaneMask lanesAt(std::ptrdiff_t k) const { return labelMask(labels + k, label); }
    bool at(std::ptrdiff_t j) const { return labels[j] == label; }
    LaneMask firstLanesAt(std::ptrdiff_t k) const {
        const LaneMask isOne = lanesAt(k);
        storeLanes(kind + k, selectLanes(isOne, broadcast(1.0), broadcast(0.0)));
        return isOne;
    }
    bool firstAt(std::ptrdiff_t j) const {
        kind[j] = at(j) ? 1.0 : 0.0;
        return at(j);
    }
    const double* row(std::ptrdiff_t n) const {
        sameLabelRow(labels, label, n, kind);
        return kind;
    }
};

// ... or no entry of kind 1 (no label compare at all); kind is only written by the passes of
// other D, which read a zero row.
struct NoKindOne {
    double* kind;
    LaneMask lanesAt(std::ptrdiff_t) const { return LaneMask{}; }
    bool at(std::ptrdiff_t) const { return false; }
    LaneMask firstLanesAt(std::ptrdiff_t k) const { return lanesAt(k); }
    bool firstAt(std::ptrdiff_t j) const { return at(j); }
    const double* row(std::ptrdiff_t n) const {
        for (std::ptrdiff_t j = 0; j < n; ++j) kind[j] = 0.0;
        return kind;
    }
};

// out[j] = rowExp(value(j) − kind j's shift) and out's sums by kind, block by block (a block's
// values stay in the first-level cache between its passes): valueLanes(k, isOne) gives the 8
// values from k (called once per group, before the group's out is written), valueAt(j, one) one
// value (the tail); then(k, e) / then(j, e) is shown each group's / the tail's exps once final.
// The value at `skip` (< 0: none) is taken as −∞ whatever valueLanes gives: one entry set after its
// group, where a lane compare in every group made each wait for the conversion of k.
struct NothingAfter {
    void operator()(std::ptrdiff_t, Lanes) const {}
    void operator()(std::ptrdiff_t, double) const {}
};
template <class Kinds, class ValueLanes, class ValueAt, class Then = NothingAfter>
static inline __attribute__((always_inline)) void shiftExpSumOf(double* out, const Kinds& kinds, std::ptrdiff_t n,
                                                                double shiftOnes, double shiftZeros,
                                                                const std::int64_t* table, double* sumOnes,
                                                                double* sumZeros, ValueLanes valueLanes,
                                                                ValueAt valueAt, std::ptrdiff_t skip = -1,
                                                                Then then = {}) {
    constexpr int L = kAccumulateLanes;
    constexpr std::ptrdiff_t kBlock = 32 * L;
    const Lanes zero = broadcast(0.0);
    const Lanes shiftOneLanes = broadcast(shiftOnes), shiftZeroLanes = broadcast(shiftZeros);
    Lanes laneOnes = zero, laneZeros = zero;
    std::ptrdiff_t j = 0;
    while (j + L <= n) {
        const std::ptrdiff_t whole = (n - j) / L * L;
        const std::ptrdiff_t end = j + (whole < kBlock ? whole : kBlock);
        for (std::ptrdiff_t k = j; k < end; k += L) {
            const LaneMask isOne = kinds.firstLanesAt(k);
            storeLanes(out + k, valueLanes(k, isOne) - selectLanes(isOne, shiftOneLanes, shiftZeroLanes));
        }
        if (skip >= j && skip < end) out[skip] = -__builtin_inf() - (kinds.at(skip) ? shiftOnes : shiftZeros);
        expInPlace(out + j, end - j, table);
        for (std::ptrdiff_t k = j; k < end; k += L) {
            const Lanes v = loadLanes(out + k);
            const LaneMask isOne = kinds.lanesAt(k);
            laneOnes += selectLanes(isOne, v, zero);
            laneZeros += selectLanes(isOne, zero, v);
            then(k, v);
        }
        j = end;
    }
    double ones[L], zeros[L];
    storeLanes(ones, laneOnes);
    storeLanes(zeros, laneZeros);
    for (; j < n; ++j) {
        const int l = static_cast<int>(j % L);
        const bool one = kinds.firstAt(j);
        const double value = valueAt(j, one);  // made at the skip too, as in the groups (it may store a row)
        out[j] = expOne((j == skip ? -__builtin_inf() : value) - (one ? shiftOnes : shiftZeros), table);
        ones[l] += one ? out[j] : 0.0;
        zeros[l] += one ? 0.0 : out[j];
        then(j, out[j]);
    }
    *sumOnes = addLanes(ones);
    *sumZeros = addLanes(zeros);
}

// out may be values (in place): each group of values is read before its out is written.
void splitShiftExpSum(double* out, const double* values, const double* kind, std::ptrdiff_t n,
                      double shiftOnes, double shiftZeros, const std::int64_t* table, double* sumOnes,
                      double* sumZeros) {
    shiftExpSumOf(
        out, KindRow{kind}, n, shiftOnes, shiftZeros, table, sumOnes, sumZeros,
        [&](std::ptrdiff_t k, LaneMask) { return loadLanes(values + k); },
        [&](std::ptrdiff_t j, bool) { return values[j]; });
}

// √v in each lane (correctly rounded, as __builtin_sqrt).
static inline __attribute__((always_inline)) Lanes sqrtLanes(Lanes v) {
#if defined(__AVX512F__)
    // The masked form with every lane set: _mm512_sqrt_pd starts from _mm512_undefined_pd(), the
    // false -Wmaybe-uninitialized of GCC 12 noted at expInPlace.
    return (Lanes)_mm512_mask_sqrt_pd((__m512d)v, (__mmask8)-1, (__m512d)v);
#else
    for (int k = 0; k < Lanes::kParts; ++k) {
#if defined(__AVX__)
        v.part[k] = (Lanes::Part)_mm256_sqrt_pd((__m256d)v.part[k]);
#elif defined(__SSE2__)
        v.part[k] = (Lanes::Part)_mm_sqrt_pd((__m128d)v.part[k]);
#else
        for (int l = 0; l < Lanes::kPartLanes; ++l) v.part[k][l] = __builtin_sqrt(v.part[k][l]);
#endif
    }
    return v;
#endif
}

// Row a's entry M_aj of 2D points, by the arithmetic of its row kernel: Mode 0 the dot product
// (dotRow), 1 the distance (distanceRow), 2 its square (squaredDistanceRow).
template <int Mode>
static inline __attribute__((always_inline)) Lanes pairLanes(Lanes anchorX, Lanes anchorY, Lanes x, Lanes y) {
    if constexpr (Mode == 0) {
        return (broadcast(0.0) + anchorX * x) + anchorY * y;
    } else {
        const Lanes d0 = anchorX - x, d1 = anchorY - y;
        const Lanes squared = d0 * d0 + d1 * d1;
        if constexpr (Mode == 1) return sqrtLanes(squared);
        return squared;
    }
}
template <int Mode>
static inline double pairValue(double x0, double x1, double x, double y) {
    if constexpr (Mode == 0) {
        return (0.0 + x0 * x) + x1 * y;
    } else {
        const double d0 = x0 - x, d1 = x1 - y;
        const double squared = d0 * d0 + d1 * d1;
        return Mode == 1 ? __builtin_sqrt(squared) : squared;
    }
}

// In 2D: out[j] = rowExp(z_j − kind j's shift) and out's sums by kind, where z_j comes from row
// a's entry m_j = M_aj (pairLanes<Mode>, made here, group by group): zLanes(m, isOne, k) for the
// 8 from k, zAt(m, one, j) for one; z_skip = −∞. One pass over the points for the row, its exps
// and their sums.
template <int Mode, class Kinds, class ZLanes, class ZAt, class Then = NothingAfter>
static inline __attribute__((always_inline)) void pairExpSumOf(const double* data, std::ptrdiff_t n, std::ptrdiff_t a,
                                                               const Kinds& kinds, double shiftOnes, double shiftZeros,
                                                               const std::int64_t* table, double* out, double* sumOnes,
                                                               double* sumZeros, ZLanes zLanes, ZAt zAt,
                                                               std::ptrdiff_t skip, Then then = {}) {
    constexpr int L = kAccumulateLanes;
    const double x0 = data[2 * a], x1 = data[2 * a + 1];
    const Lanes anchorX = broadcast(x0), anchorY = broadcast(x1);
    shiftExpSumOf(
        out, kinds, n, shiftOnes, shiftZeros, table, sumOnes, sumZeros,
        [&](std::ptrdiff_t k, LaneMask isOne) {
            Lanes x, y;
            deinterleave(loadLanes(data + 2 * k), loadLanes(data + 2 * k + L), &x, &y);
            return zLanes(pairLanes<Mode>(anchorX, anchorY, x, y), isOne, k);
        },
        [&](std::ptrdiff_t j, bool one) { return zAt(pairValue<Mode>(x0, x1, data[2 * j], data[2 * j + 1]), one, j); },
        skip, then);
}

// Row a of M by its mode's kernel (pairLanes' modes).
static void pairRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, int mode,
                    double* out) {
    if (mode == 0)
        dotRow(data, n, dims, a, out, 0);
    else if (mode == 1)
        distanceRow(data, n, dims, a, out, 0);
    else
        squaredDistanceRow(data, n, dims, a, out, 0);
}

void addRow(double* out, const double* a, std::ptrdiff_t n);
void negatedSumProduct(double* out, double offset, const double* a, const double* b, std::ptrdiff_t n);
// addTo[j] += e_j (addRow's operation) and product's −((offset + factors[j])·e_j) once the exps e
// are final; nothing for a null one.
struct AddExps {
    double* addTo;
    const NegatedProduct* product = nullptr;
    void operator()(std::ptrdiff_t k, Lanes e) const {
        if (addTo) storeLanes(addTo + k, loadLanes(addTo + k) + e);
        if (product)
            storeLanes(product->out + k, -((broadcast(product->offset) + loadLanes(product->factors + k)) * e));
    }
    void operator()(std::ptrdiff_t j, double e) const {
        if (addTo) addTo[j] += e;
        if (product) product->out[j] = -((product->offset + product->factors[j]) * e);
    }
};

// The affine row z_j = (m_j − kind's shift)·kind's factor (z_skip = −∞) made group by group
// inside the exp's blocks: one pass over the points instead of a pass writing M's row, another
// reading it for the maxima and a third for the exps. logits keeps z when set; row keeps M's row
// when set (the backward pass of a distance reads it); addTo gains the exps when set. affine:
// shiftOnes, factorOnes, shiftZeros, factorZeros. Other D: the passes, with the same bits.
template <int Mode, class Kinds>
static inline __attribute__((always_inline)) void affineExpSumOf(
    const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, const double* affine,
    const Kinds& kinds, std::ptrdiff_t skip, double expShiftOnes, double expShiftZeros, const std::int64_t* table,
    double* row, double* logits, double* out, double* addTo, double* sumOnes, double* sumZeros,
    const NegatedProduct* product = nullptr) {
    if (dims != 2) {
        const double* kind = kinds.row(n);
        double* z = logits ? logits : out;
        double* m = row ? row : z;
        double maxOnes = 0.0, maxZeros = 0.0;
        pairRow(data, n, dims, a, Mode, m);
        splitAffineMax(z, m, kind, n, affine[0], affine[1], affine[2], affine[3], skip, &maxOnes, &maxZeros);
        splitShiftExpSum(out, z, kind, n, expShiftOnes, expShiftZeros, table, sumOnes, sumZeros);
        if (addTo) addRow(addTo, out, n);
        if (product) negatedSumProduct(product->out, product->offset, product->factors, out, n);
        return;
    }
    const Lanes shiftOneLanes = broadcast(affine[0]), factorOneLanes = broadcast(affine[1]);
    const Lanes shiftZeroLanes = broadcast(affine[2]), factorZeroLanes = broadcast(affine[3]);
    pairExpSumOf<Mode>(
        data, n, a, kinds, expShiftOnes, expShiftZeros, table, out, sumOnes, sumZeros,
        [&](Lanes m, LaneMask isOne, std::ptrdiff_t k) {
            if (row) storeLanes(row + k, m);
            const Lanes v = (m - selectLanes(isOne, shiftOneLanes, shiftZeroLanes)) *
                            selectLanes(isOne, factorOneLanes, factorZeroLanes);
            if (logits) storeLanes(logits + k, v);
            return v;
        },
        [&](double m, bool one, std::ptrdiff_t j) {
            if (row) row[j] = m;
            const double v = j == skip ? -__builtin_inf()
                                       : (m - (one ? affine[0] : affine[2])) * (one ? affine[1] : affine[3]);
            if (logits) logits[j] = v;
            return v;
        },
        skip, AddExps{addTo, product});
    if (logits && skip >= 0 && skip < n) logits[skip] = -__builtin_inf();
}

void dotRowScaledExpSum(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, double factor,
                        const double* kind, double shiftOnes, double shiftZeros, const std::int64_t* table,
                        double* logits, double* out, double* sumOnes, double* sumZeros) {
    // (v − 0)·factor = v·factor exactly, and no lane is skipped
    const double affine[4] = {0.0, factor, 0.0, factor};
    affineExpSumOf<0>(data, n, dims, a, affine, KindRow{kind}, -1, shiftOnes, shiftZeros, table, nullptr, logits, out,
                      nullptr, sumOnes, sumZeros);
}

void rowAffineExpSum(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a, int mode,
                     const double* affine, const int* labels, int label, double* kind, std::ptrdiff_t skip,
                     double shiftOnes, double shiftZeros, const std::int64_t* table, double* row, double* out,
                     double* addTo, const NegatedProduct* product, double* sumOnes, double* sumZeros) {
    auto run = [&](const auto& kinds) {
        if (mode == 0)
            affineExpSumOf<0>(data, n, dims, a, affine, kinds, skip, shiftOnes, shiftZeros, table, row, nullptr, out,
                              addTo, sumOnes, sumZeros, product);
        else if (mode == 1)
            affineExpSumOf<1>(data, n, dims, a, affine, kinds, skip, shiftOnes, shiftZeros, table, row, nullptr, out,
                              addTo, sumOnes, sumZeros, product);
        else
            affineExpSumOf<2>(data, n, dims, a, affine, kinds, skip, shiftOnes, shiftZeros, table, row, nullptr, out,
                              addTo, sumOnes, sumZeros, product);
    };
    if (labels)
        run(SameLabelKind{labels, label, kind});
    else
        run(NoKindOne{kind});
}

// out[j] = valueAt(j) × kind[j]'s factor (lanesAt(j): 8 of them from j): splitScale's loop.
template <class LanesAt, class ValueAt>
static inline __attribute__((always_inline)) void splitScaled(double* out, const double* kind,
                                                              std::ptrdiff_t n, double ofOnes, double ofZeros,
                                                              LanesAt lanesAt, ValueAt valueAt) {
    constexpr int L = kAccumulateLanes;
    const Lanes oneLanes = broadcast(1.0), factorOnes = broadcast(ofOnes), factorZeros = broadcast(ofZeros);
    std::ptrdiff_t j = 0;
    for (; j + L <= n; j += L) {
        const LaneMask isOne = loadLanes(kind + j) == oneLanes;
        storeLanes(out + j, lanesAt(j) * selectLanes(isOne, factorOnes, factorZeros));
    }
    for (; j < n; ++j) out[j] = valueAt(j) * (kind[j] == 1.0 ? ofOnes : ofZeros);
}

// out may be values (in place).
void splitScale(double* out, const double* values, const double* kind, std::ptrdiff_t n, double ofOnes,
                double ofZeros) {
    splitScaled(
        out, kind, n, ofOnes, ofZeros, [&](std::ptrdiff_t j) { return loadLanes(values + j); },
        [&](std::ptrdiff_t j) { return values[j]; });
}

// out may be a or b (in place).
void splitScaleProduct(double* out, const double* a, const double* b, const double* kind, std::ptrdiff_t n,
                       double ofOnes, double ofZeros) {
    splitScaled(
        out, kind, n, ofOnes, ofZeros, [&](std::ptrdiff_t j) { return loadLanes(a + j) * loadLanes(b + j); },
        [&](std::ptrdiff_t j) { return a[j] * b[j]; });
}

// out may be values (in place).
void splitAffine(double* out, const double* values, const double* kind, std::ptrdiff_t n, double shiftOnes,
                 double factorOnes, double shiftZeros, double factorZeros) {
    constexpr int L = kAccumulateLanes;
    const Lanes oneLanes = broadcast(1.0);
    const Lanes shiftOneLanes = broadcast(shiftOnes), factorOneLanes = broadcast(factorOnes);
    const Lanes shiftZeroLanes = broadcast(shiftZeros), factorZeroLanes = broadcast(factorZeros);
    std::ptrdiff_t j = 0;
    for (; j + L <= n; j += L) {
        const LaneMask isOne = loadLanes(kind + j) == oneLanes;
        const Lanes shifted = loadLanes(values + j) - selectLanes(isOne, shiftOneLanes, shiftZeroLanes);
        storeLanes(out + j, shifted * selectLanes(isOne, factorOneLanes, factorZeroLanes));
    }
    for (; j < n; ++j) {
        const bool one = kind[j] == 1.0;
        out[j] = (values[j] - (one ? shiftOnes : shiftZeros)) * (one ? factorOnes : factorZeros);
    }
}

void sameLabelRow(const int* labels, int label, std::ptrdiff_t n, double* kind) {
    constexpr int L = kAccumulateLanes;
    const LaneMask oneBits = (LaneMask)broadcast(1.0);
    std::ptrdiff_t j = 0;
    // all-ones where equal: 1.0's bits or 0.0's
    for (; j + L <= n; j += L) storeLanes(kind + j, (Lanes)(oneBits & labelMask(labels + j, label)));
    for (; j < n; ++j) kind[j] = labels[j] == label ? 1.0 : 0.0;
}

// The two passes above in one (lifted structure's rows: a pass over the row saved, and the kind
// row is not read back): per element the same comparisons, selects and operations as each.
void sameLabelAffine(const int* labels, int label, const double* values, std::ptrdiff_t n, double shiftOnes,
                     double factorOnes, double shiftZeros, double factorZeros, double* kind, double* out) {
    constexpr int L = kAccumulateLanes;
    const LaneMask oneBits = (LaneMask)broadcast(1.0);
    const Lanes shiftOneLanes = broadcast(shiftOnes), factorOneLanes = broadcast(factorOnes);
    const Lanes shiftZeroLanes = broadcast(shiftZeros), factorZeroLanes = broadcast(factorZeros);
    std::ptrdiff_t j = 0;
    for (; j + L <= n; j += L) {
        const LaneMask isOne = labelMask(labels + j, label);
        storeLanes(kind + j, (Lanes)(oneBits & isOne));
        const Lanes shifted = loadLanes(values + j) - selectLanes(isOne, shiftOneLanes, shiftZeroLanes);
        storeLanes(out + j, shifted * selectLanes(isOne, factorOneLanes, factorZeroLanes));
    }
    for (; j < n; ++j) {
        const bool one = labels[j] == label;
        kind[j] = one ? 1.0 : 0.0;
        out[j] = (values[j] - (one ? shiftOnes : shiftZeros)) * (one ? factorOnes : factorZeros);
    }
}

void addRow(double* out, const double* a, std::ptrdiff_t n) {
    for (std::ptrdiff_t j = 0; j < n; ++j) out[j] += a[j];
}

void negatedSumProduct(double* out, double offset, const double* a, const double* b, std::ptrdiff_t n) {
    for (std::ptrdiff_t j = 0; j < n; ++j) out[j] = -((offset + a[j]) * b[j]);
}

// Every selection is one of its two operands (no arithmetic blend), so lanes and the scalar tail
// give the same bits; the count is a sum of 0/1 lanes (exact).
double liftedPairRow(double li, const double* lp, const double* e, const double* logOnePlus, const double* distance,
                     double margin, double perPair, std::ptrdiff_t n, double* square, double* slope, double* own,
                     double* other) {
    constexpr int L = kAccumulateLanes;
    const Lanes liLanes = broadcast(li), marginLanes = broadcast(margin), perPairLanes = broadcast(perPair);
    const Lanes zero = broadcast(0.0), one = broadcast(1.0), two = broadcast(2.0);
    Lanes active = zero;
    std::ptrdiff_t k = 0;
    for (; k + L <= n; k += L) {
        const Lanes p = loadLanes(lp + k), ek = loadLanes(e + k);
        const Lanes raw = (selectLanes(liLanes < p, p, liLanes) + loadLanes(logOnePlus + k)) +
                          (loadLanes(distance + k) - marginLanes);
        const Lanes j = selectLanes(raw < zero, zero, raw);
        active += selectLanes(raw <= zero, zero, one);
        storeLanes(square + k, j * j);
        const Lanes s = two * (j * perPairLanes);
        storeLanes(slope + k, s);
        const Lanes larger = one / (one + ek), smaller = ek * larger;
        const LaneMask ownLarger = liLanes >= p;
        storeLanes(own + k, s * selectLanes(ownLarger, larger, smaller));
        storeLanes(other + k, loadLanes(other + k) + s * selectLanes(ownLarger, smaller, larger));
    }
    double lanes[L];
    storeLanes(lanes, active);
    double count = addLanes(lanes);
    for (; k < n; ++k) {
        const double raw = ((li < lp[k] ? lp[k] : li) + logOnePlus[k]) + (distance[k] - margin);
        const double j = raw < 0.0 ? 0.0 : raw;
        count += raw <= 0.0 ? 0.0 : 1.0;
        square[k] = j * j;
        const double s = 2.0 * (j * perPair);
        slope[k] = s;
        const double larger = 1.0 / (1.0 + e[k]), smaller = e[k] * larger;
        const bool ownLarger = li >= lp[k];
        own[k] = s * (ownLarger ? larger : smaller);
        other[k] += s * (ownLarger ? smaller : larger);
    }
    return count;
}

// ---- Contrastive losses (losses/contrastive.cpp, contrastive_hadsell.cpp): one row's terms ----
// Pairs (a, j) for j in [first, n), the kind from the labels without branches. Sums run in
// kAccumulateLanes lanes, lane (j − first) mod kAccumulateLanes, added in addLanes' tree; counts
// are integers (any order). Each element's operations are the scalar loops' they replaced.

static inline long long addCounts(LaneMask counts) {
    long long total = 0;
    for (int l = 0; l < kAccumulateLanes; ++l) total += counts[l];
    return total;
}

// PML's ContrastiveLoss: p = [same label], q = 1 − p, v = p·v⁺ + q·v⁻ with v⁺ = m − mp
// (similarity: mp − m) and v⁻ = mn − m (similarity: m − mn), term = v + |v| (2·relu(v), exact),
// slope = 2[v > 0]·(p·s − q·s) with s = ∂v⁺/∂m, written as p·slope and q·slope.
template <bool Similarity, typename Real8>
static inline __attribute__((always_inline)) void contrastiveTerms(Real8 m, Real8 p, Real8 mp, Real8 mn,
                                                                   Real8* v) {
    const Real8 q = 1.0 - p;
    const Real8 positive = Similarity ? mp - m : m - mp;
    const Real8 negative = Similarity ? m - mn : mn - m;
    *v = p * positive + q * negative;
}

template <bool Similarity>
static void contrastiveRowOf(const double* row, const int* labels, int label, std::ptrdiff_t first,
                             std::ptrdiff_t n, double positiveMargin, double negativeMargin,
                             double* positiveSlope, double* negativeSlope, double* sums,
                             std::int64_t* counts) {
    constexpr int L = kAccumulateLanes;
    const double s = Similarity ? -1.0 : 1.0;
    const Lanes mp = broadcast(positiveMargin), mn = broadcast(negativeMargin), zero = {},
                one = broadcast(1.0);
    const LaneMask magnitude = LaneMask{} + 0x7fffffffffffffffLL, oneBits = (LaneMask)one;
    Lanes positiveSums = {}, negativeSums = {};
    LaneMask positivePairs = {}, positiveActive = {}, negativeActive = {};
    std::ptrdiff_t j = first;
    for (; j + L <= n; j += L) {
        const LaneMask same = labelMask(labels + j, label);
        const Lanes p = (Lanes)(oneBits & same), q = one - p;
        Lanes v;
        contrastiveTerms<Similarity>(loadLanes(row + j), p, mp, mn, &v);
        const LaneMask active = v > zero;
        const Lanes term = v + (Lanes)((LaneMask)v & magnitude);
        positiveSums = positiveSums + p * term;
        negativeSums = negativeSums + q * term;
        positivePairs -= same;
        positiveActive -= same & active;
        negativeActive -= ~same & active;
        if (positiveSlope) {
            const Lanes twiceActive = (Lanes)(active & (LaneMask)broadcast(2.0));
            const Lanes slope = twiceActive * (p * s - q * s);
            storeLanes(positiveSlope + j, p * slope);
            storeLanes(negativeSlope + j, q * slope);
        }
    }
    double positiveLanes[L], negativeLanes[L];
    storeLanes(positiveLanes, positiveSums);
    storeLanes(negativeLanes, negativeSums);
    std::int64_t tailPairs = 0, tailPositive = 0, tailNegative = 0;
    for (std::ptrdiff_t lane = 0; j < n; ++j, ++lane) {
        const auto isPositive = static_cast<std::int64_t>(labels[j] == label);
        const auto p = static_cast<double>(isPositive), q = 1.0 - p;
        double v;
        contrastiveTerms<Similarity>(row[j], p, positiveMargin, negativeMargin, &v);
        const auto active = static_cast<std::int64_t>(v > 0.0);
        const double term = v + __builtin_fabs(v);
        positiveLanes[lane] += p * term;
        negativeLanes[lane] += q * term;
        tailPairs += isPositive;
        tailPositive += isPositive & active;
        tailNegative += (1 - isPositive) & active;
        if (positiveSlope) {
            const double slope = static_cast<double>(2 * active) * (p * s - q * s);
            positiveSlope[j] = p * slope;
            negativeSlope[j] = q * slope;
        }
    }
    sums[0] = addLanes(positiveLanes);
    sums[1] = addLanes(negativeLanes);
    counts[0] = addCounts(positivePairs) + tailPairs;
    counts[1] = addCounts(positiveActive) + tailPositive;
    counts[2] = addCounts(negativeActive) + tailNegative;
}

void contrastiveRow(const double* row, const int* labels, int label, std::ptrdiff_t first, std::ptrdiff_t n,
                    double positiveMargin, double negativeMargin, bool similarity, double* positiveSlope,
                    double* negativeSlope, double* sums, std::int64_t* counts) {
    if (similarity)
        contrastiveRowOf<true>(row, labels, label, first, n, positiveMargin, negativeMargin, positiveSlope,
                               negativeSlope, sums, counts);
    else
        contrastiveRowOf<false>(row, labels, label, first, n, positiveMargin, negativeMargin, positiveSlope,
                                negativeSlope, sums, counts);
}

// Hadsell et al.'s form: same label: term = 0.5·d·d, slope d; else shortfall = relu(m − d)
// (x > 0 ? x : 0, NaN to 0 as detail::relu), term = 0.5·shortfall·shortfall, slope −shortfall.
// Active: term > 0.
void hadsellRow(const double* row, const int* labels, int label, std::ptrdiff_t first, std::ptrdiff_t n,
                double margin, double* slope, double* sum, std::int64_t* active) {
    constexpr int L = kAccumulateLanes;
    const Lanes marginLanes = broadcast(margin), half = broadcast(0.5), zero = {};
    Lanes sums = {};
    LaneMask actives = {};
    std::ptrdiff_t j = first;
    for (; j + L <= n; j += L) {
        const LaneMask same = labelMask(labels + j, label);
        const Lanes d = loadLanes(row + j);
        const Lanes gap = marginLanes - d;
        const Lanes shortfall = selectLanes(gap > zero, gap, zero);
        const Lanes term = selectLanes(same, half * d * d, half * shortfall * shortfall);
        sums = sums + term;
        actives -= term > zero;
        if (slope) storeLanes(slope + j, selectLanes(same, d, -shortfall));
    }
    double lanes[L];
    storeLanes(lanes, sums);
    std::int64_t tail = 0;
    for (std::ptrdiff_t lane = 0; j < n; ++j, ++lane) {
        const double d = row[j], gap = margin - d;
        const double shortfall = gap > 0.0 ? gap : 0.0;
        const bool same = labels[j] == label;
        const double term = same ? 0.5 * d * d : 0.5 * shortfall * shortfall;
        lanes[lane] += term;
        tail += term > 0.0 ? 1 : 0;
        if (slope) slope[j] = same ? d : -shortfall;
    }
    *sum = addLanes(lanes);
    *active = addCounts(actives) + tail;
}

// ---- Circle loss (losses/circle.cpp): one row's exponents and slopes -------------------------
// kind[j] = 1 positive, 0 negative. sign = −1 / +1, gap = sign·(s − O), α = max(gap, 0) as
// 0.5·(gap + |gap|) (exact), slope = sign·(γ·α), z = slope·(s − Δ).
static inline double circleSlope(double s, bool positive, const double* parameters) {
    const double sign = positive ? -1.0 : 1.0;
    const double gap = sign * (s - (positive ? parameters[1] : parameters[2]));
    // α = max(gap, 0) (gap > 0 ? gap : +0, one instruction in lanes); the slope ±γ·α is (±γ)·α,
    // the same bits as −(γ·α) since rounding to nearest is symmetric.
    return (positive ? -parameters[0] : parameters[0]) * larger(gap, 0.0);
}

// Circle's z and ∂z/∂s (α frozen) of eight similarities s in lanes (positive: the kind-1 lanes):
// circleSlope and circleRow's z (before its skip), lane for lane.
struct CircleLanes {
    Lanes one = broadcast(1.0), minusOne = broadcast(-1.0), zero = broadcast(0.0);
    Lanes scale, minusScale, optimumPositive, optimumNegative, marginPositive, marginNegative;
    explicit CircleLanes(const double* parameters)
        : scale(broadcast(parameters[0])),
          minusScale(broadcast(-parameters[0])),
          optimumPositive(broadcast(parameters[1])),
          optimumNegative(broadcast(parameters[2])),
          marginPositive(broadcast(parameters[3])),
          marginNegative(broadcast(parameters[4])) {}
    __attribute__((always_inline)) Lanes operator()(Lanes s, LaneMask positive, Lanes* slope) const {
        const Lanes sign = selectLanes(positive, minusOne, one);
        const Lanes gap = sign * (s - selectLanes(positive, optimumPositive, optimumNegative));
        *slope = selectLanes(positive, minusScale, scale) * largerLanes(gap, zero);
        return *slope * (s - selectLanes(positive, marginPositive, marginNegative));
    }
};

// circleRow's z of one similarity (its tail).
static inline double circleExponent(double s, bool positive, const double* parameters, std::ptrdiff_t j,
                                    std::ptrdiff_t skip, double* slope) {
    *slope = circleSlope(s, positive, parameters);
    return j == skip ? -__builtin_inf() : *slope * (s - (positive ? parameters[3] : parameters[4]));
}

void circleRow(const double* similarity, const double* kind, std::ptrdiff_t n, const double* parameters,
               std::ptrdiff_t skip, double* exponent, double* slope, double* topOnes, double* topZeros) {
    // parameters: γ, O_p, O_n, Δ_p, Δ_n
    const CircleLanes circle(parameters);
    const Lanes skipLanes = broadcast(static_cast<double>(skip));
    splitMaxOf(
        kind, n,
        [&](std::ptrdiff_t j, LaneMask positive) {
            Lanes gradientSlope;
            const Lanes v = skipLane(circle(loadLanes(similarity + j), positive, &gradientSlope), j, skipLanes);
            storeLanes(slope + j, gradientSlope);
            storeLanes(exponent + j, v);
            return v;
        },
        [&](std::ptrdiff_t j, bool positive) {
            exponent[j] = circleExponent(similarity[j], positive, parameters, j, skip, &slope[j]);
            return exponent[j];
        },
        topOnes, topZeros);
}

// slope[j] = e × slope[j] once the exps e are final (splitScaleProduct's product of the two).
struct TimesExp {
    double* slope;
    void operator()(std::ptrdiff_t k, Lanes e) const { storeLanes(slope + k, e * loadLanes(slope + k)); }
    void operator()(std::ptrdiff_t j, double e) const { slope[j] = e * slope[j]; }
};

// dotRow, circleRow's z and slope (no maxima), splitShiftExpSum of z, then slope[j] = out[j] ×
// slope[j] (splitScaleProduct's product), in one pass over the points in 2D; other D: those
// passes. The same bits.
void dotRowCircleExpSum(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                        const double* parameters, const int* labels, int label, double* kind, std::ptrdiff_t skip,
                        double shiftOnes, double shiftZeros, const std::int64_t* table, double* out, double* slope,
                        double* sumOnes, double* sumZeros) {
    const SameLabelKind kinds{labels, label, kind};
    if (dims != 2) {
        kinds.row(n);
        double tops[2];
        dotRow(data, n, dims, a, out, 0);
        circleRow(out, kind, n, parameters, skip, out, slope, &tops[0], &tops[1]);
        splitShiftExpSum(out, out, kind, n, shiftOnes, shiftZeros, table, sumOnes, sumZeros);
        for (std::ptrdiff_t j = 0; j < n; ++j) slope[j] = out[j] * slope[j];
        return;
    }
    const CircleLanes circle(parameters);
    pairExpSumOf<0>(
        data, n, a, kinds, shiftOnes, shiftZeros, table, out, sumOnes, sumZeros,
        [&](Lanes s, LaneMask positive, std::ptrdiff_t k) {
            Lanes gradientSlope;
            const Lanes v = circle(s, positive, &gradientSlope);
            storeLanes(slope + k, gradientSlope);
            return v;
        },
        [&](double s, bool positive, std::ptrdiff_t j) {
            return circleExponent(s, positive, parameters, j, skip, &slope[j]);
        },
        skip, TimesExp{slope});
}

// ---- softplus for a row (NT-Xent's terms, NCE's log σ) ---------------------------------------
// log1p(x) for x ∈ [0, 1], in lanes: u = 1 + x rounded, and c = x − (u − 1) is that rounding's
// exact error (u − 1 is exact for u ∈ [1, 2], and Fast2Sum applies as 1 ≥ x), so
// log1p(x) = log u + c/u to within c²/u² ≤ 2⁻¹⁰⁶. log u = k·ln2 + log m with m = u or u/2 in
// [√2/2, √2] (exact); with f = m − 1 (exact) and s = f/(2 + f), log m = 2·atanh(s) =
// 2s + 2s·T(s²), T(z) = z/3 + z²/5 + … (|s| ≤ 0.172, so 11 terms leave < 2⁻⁶⁰), written as
// f − s·(f − 2T) since 2s = f − s·f: the rounding of s enters only the small correction. Within
// 4 ulp of glibc's log1p (tested on [0, 1] in simd_test).
constexpr double kLn2 = 0.6931471805599453;    // correctly rounded
constexpr double kSqrt2 = 1.4142135623730951;  // correctly rounded

static inline __attribute__((always_inline)) Lanes log1pLanes(Lanes x) {
    const Lanes one = broadcast(1.0), two = broadcast(2.0), zero = broadcast(0.0);
    const Lanes u = one + x;
    const Lanes c = x - (u - one);
    const LaneMask above = u > broadcast(kSqrt2);
    const Lanes m = selectLanes(above, u * broadcast(0.5), u);
    const Lanes k = selectLanes(above, one, zero);
    const Lanes f = m - one;
    const Lanes s = f / (two + f);
    const Lanes z = s * s;
    Lanes t = broadcast(1.0 / 23.0);
    t = t * z + broadcast(1.0 / 21.0);
    t = t * z + broadcast(1.0 / 19.0);
    t = t * z + broadcast(1.0 / 17.0);
    t = t * z + broadcast(1.0 / 15.0);
    t = t * z + broadcast(1.0 / 13.0);
    t = t * z + broadcast(1.0 / 11.0);
    t = t * z + broadcast(1.0 / 9.0);
    t = t * z + broadcast(1.0 / 7.0);
    t = t * z + broadcast(1.0 / 5.0);
    t = t * z + broadcast(1.0 / 3.0);
    const Lanes logM = f - s * (f - two * (t * z));
    return (k * broadcast(kLn2) + logM) + c / u;
}

void log1pUnitRow(double* values, std::ptrdiff_t n) {
    constexpr int L = kAccumulateLanes;
    std::ptrdiff_t j = 0;
    for (; j + L <= n; j += L) storeLanes(values + j, log1pLanes(loadLanes(values + j)));
    if (j < n) {
        // the tail through the same lanes (padded with zeros): one formula for every element
        double tail[L] = {};
        for (std::ptrdiff_t t = j; t < n; ++t) tail[t - j] = values[t];
        storeLanes(tail, log1pLanes(loadLanes(tail)));
        for (std::ptrdiff_t t = j; t < n; ++t) values[t] = tail[t - j];
    }
}

// value[j] = softplus(v[j]) = max(v, 0) + log1p(e^{−|v|}), slope[j] = σ(v[j]) = 1/(1 + e) for
// v ≥ 0, e/(1 + e) below (e = e^{−|v|} by the row exp: the same bits as rowExp(−|v|)).
static inline __attribute__((always_inline)) void softplusLanes(Lanes x, Lanes e, Lanes* value, Lanes* slope) {
    const Lanes one = broadcast(1.0), zero = broadcast(0.0);
    *slope = selectLanes(x >= zero, one, e) / (one + e);
    *value = selectLanes(x > zero, x, zero) + log1pLanes(e);
}

void softplusRow(const double* v, std::ptrdiff_t n, const std::int64_t* table, double* value, double* slope) {
    constexpr int L = kAccumulateLanes;
    for (std::ptrdiff_t j = 0; j < n; ++j) value[j] = -__builtin_fabs(v[j]);
    expInPlace(value, n, table);
    std::ptrdiff_t j = 0;
    Lanes values, slopes;
    for (; j + L <= n; j += L) {
        softplusLanes(loadLanes(v + j), loadLanes(value + j), &values, &slopes);
        storeLanes(value + j, values);
        storeLanes(slope + j, slopes);
    }
    if (j < n) {
        // the tail through the same lanes (padded): one formula for every element
        double inputs[L] = {}, exps[L] = {}, tailValues[L], tailSlopes[L];
        for (std::ptrdiff_t t = j; t < n; ++t) {
            inputs[t - j] = v[t];
            exps[t - j] = value[t];
        }
        softplusLanes(loadLanes(inputs), loadLanes(exps), &values, &slopes);
        storeLanes(tailValues, values);
        storeLanes(tailSlopes, slopes);
        for (std::ptrdiff_t t = j; t < n; ++t) {
            value[t] = tailValues[t - j];
            slope[t] = tailSlopes[t - j];
        }
    }
}

// ---- Gram-like products for the factorized angular loss (losses/angular.cpp) ------------------
// Register tiles of an outer-product scheme: a tile of kTileRows rows × kTileVectors native
// vectors of columns stays in registers while one operand is broadcast and the other loaded a
// vector at a time. Every output element is ONE chain of multiply-adds in ascending order of the
// summed index (no reassociation), so the tile shape — chosen per unit for its register file —
// decides only which elements are computed together, never an element's bits. The one exception
// to dispatch.h's "same bits" rule: on the units with FMA (AVX2, AVX-512) each step of the chain
// is one fused multiply-add (a single rounding, std::fma's bits), on the portable unit a multiply
// and an add; dispatch.h states the tolerance between the two.
#if defined(__AVX512F__)
typedef double TileVector __attribute__((vector_size(64)));
constexpr int kTileRows = 4, kTileVectors = 4;  // 16 of 32 zmm registers; 8 × 2 ran 15 % slower
// 24 of 32 zmm registers: ten loads (4 of w, 6 broadcasts) per 24 multiply-adds, where 4 × 4 took
// eight per 16 and left the Ice Lake's two FMA ports waiting on its two load ports (angular
// 3.0–3.7 → 2.2–2.6 T there, benchmarks.md)
constexpr int kProductRows = 6, kProductVectors = 4;
#elif defined(__AVX2__)
typedef double TileVector __attribute__((vector_size(32)));
constexpr int kTileRows = 6, kTileVectors = 2;  // 12 of 16 ymm registers accumulate
constexpr int kProductRows = 6, kProductVectors = 2;
#else
typedef double TileVector __attribute__((vector_size(16)));
constexpr int kTileRows = 4, kTileVectors = 2;  // 8 of 16 xmm registers accumulate
constexpr int kProductRows = 4, kProductVectors = 2;
#endif
constexpr int kTileWidth = kTileVectors * static_cast<int>(sizeof(TileVector) / sizeof(double));

static inline __attribute__((always_inline)) TileVector loadTile(const double* p) {
    TileVector v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
static inline __attribute__((always_inline)) void storeTile(double* p, TileVector v) {
    __builtin_memcpy(p, &v, sizeof v);
}
// sum + factor·column, fused where the unit has FMA: explicit, so that exactly these steps fuse
// (the units stay compiled with -ffp-contract=off) and AVX2 and AVX-512 give the same bits. Fused,
// the angular loss runs about 1.2× as fast as with separate multiplies and adds on a Zen 4
// (benchmarks.md).
static inline __attribute__((always_inline)) TileVector multiplyAdd(TileVector sum, TileVector factor,
                                                                    TileVector column) {
#if defined(__AVX512F__)
    return (TileVector)_mm512_fmadd_pd((__m512d)factor, (__m512d)column, (__m512d)sum);
#elif defined(__FMA__)
    return (TileVector)_mm256_fmadd_pd((__m256d)factor, (__m256d)column, (__m256d)sum);
#else
    return sum + factor * column;
#endif
}

// gram[a][p0 .. p0 + V vectors) for a in [a0, a0 + Rows) += Σ_n b[n][a]·b[n][p], n ascending.
template <int Rows, int V>
static inline __attribute__((always_inline)) void gramTile(const double* b, std::ptrdiff_t rows,
                                                           std::ptrdiff_t stride, std::ptrdiff_t a0,
                                                           std::ptrdiff_t p0, double* gram) {
    constexpr int W = static_cast<int>(sizeof(TileVector) / sizeof(double));
    TileVector sum[Rows][V];
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < V; ++v) sum[r][v] = loadTile(gram + (a0 + r) * stride + p0 + v * W);
    for (std::ptrdiff_t n = 0; n < rows; ++n) {
        const double* row = b + n * stride;
        TileVector column[V];
        for (int v = 0; v < V; ++v) column[v] = loadTile(row + p0 + v * W);
        for (int r = 0; r < Rows; ++r) {
            const TileVector factor = row[a0 + r] - TileVector{};  // x − 0 = x, −0 kept
            for (int v = 0; v < V; ++v) sum[r][v] = multiplyAdd(sum[r][v], factor, column[v]);
        }
    }
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < V; ++v) storeTile(gram + (a0 + r) * stride + p0 + v * W, sum[r][v]);
}

// The strip of columns [p0, p0 + V vectors): every row tile at or below the diagonal.
template <int V>
static inline void gramStrip(const double* b, std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,
                             std::ptrdiff_t p0, double* gram) {
    const std::ptrdiff_t fullRows = cols - cols % kTileRows;
    for (std::ptrdiff_t a0 = p0 - p0 % kTileRows; a0 < fullRows; a0 += kTileRows)
        gramTile<kTileRows, V>(b, rows, stride, a0, p0, gram);
    for (std::ptrdiff_t a = fullRows > p0 ? fullRows : p0; a < cols; ++a)
        gramTile<1, V>(b, rows, stride, a, p0, gram);
}

void gramLowerUpdate(const double* b, std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,
                     double* gram) {
    // Column strips outermost: one strip of b (rows × kTileWidth) stays in L1 while every row
    // tile at or below the diagonal passes over it. A tile wider than the columns left (the
    // stride is a multiple of 16, AVX-512's tile is 32 wide) gives way to strips of one vector.
    constexpr int W = static_cast<int>(sizeof(TileVector) / sizeof(double));
    std::ptrdiff_t p0 = 0;
    for (; p0 < cols && p0 + kTileWidth <= stride; p0 += kTileWidth)
        gramStrip<kTileVectors>(b, rows, cols, stride, p0, gram);
    for (; p0 < cols; p0 += W) gramStrip<1>(b, rows, cols, stride, p0, gram);
}

// out[n][i0 .. i0 + kTileWidth) for n in [n0, n0 + Rows): the sums over p in [p0, p1), p
// ascending, continued from out (from 0 when p0 = 0).
template <int Rows, int V>
static inline __attribute__((always_inline)) void productTile(const double* b, std::ptrdiff_t p0,
                                                              std::ptrdiff_t p1, std::ptrdiff_t stride,
                                                              const double* w, std::ptrdiff_t n0,
                                                              std::ptrdiff_t i0, double* out) {
    constexpr int W = static_cast<int>(sizeof(TileVector) / sizeof(double));
    TileVector sum[Rows][V];
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < V; ++v)
            sum[r][v] = p0 == 0 ? TileVector{} : loadTile(out + (n0 + r) * stride + i0 + v * W);
    for (std::ptrdiff_t p = p0; p < p1; ++p) {
        TileVector weight[V];
        for (int v = 0; v < V; ++v) weight[v] = loadTile(w + p * stride + i0 + v * W);
        for (int r = 0; r < Rows; ++r) {
            const TileVector factor = b[(n0 + r) * stride + p] - TileVector{};
            for (int v = 0; v < V; ++v) sum[r][v] = multiplyAdd(sum[r][v], factor, weight[v]);
        }
    }
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < V; ++v) storeTile(out + (n0 + r) * stride + i0 + v * W, sum[r][v]);
}

void productRows(const double* b, std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t stride,
                 const double* w, double* out) {
    // The sum over p in chunks of kProductDepth (each element's chain goes on through `out`,
    // unchanged), and within a chunk, column strips of w outermost: the chunk's strip
    // (kProductDepth × kProductVectors vectors, 16 KB on AVX-512) stays in L1 while every row tile
    // passes over it. 128 deep (32 KB) ran angular about 4 % slower on an Ice Lake (48 KB of L1).
    constexpr std::ptrdiff_t kProductDepth = 64;
    constexpr int R = kProductRows, V = kProductVectors,
                  W = static_cast<int>(sizeof(TileVector) / sizeof(double));
    const std::ptrdiff_t fullRows = rows - rows % R, fullWidth = stride - stride % (V * W);
    std::ptrdiff_t p0 = 0;
    do {
        const std::ptrdiff_t p1 = cols - p0 < kProductDepth ? cols : p0 + kProductDepth;
        for (std::ptrdiff_t i0 = 0; i0 < fullWidth; i0 += V * W) {
            for (std::ptrdiff_t n0 = 0; n0 < fullRows; n0 += R)
                productTile<R, V>(b, p0, p1, stride, w, n0, i0, out);
            for (std::ptrdiff_t n = fullRows; n < rows; ++n)
                productTile<1, V>(b, p0, p1, stride, w, n, i0, out);
        }
        for (std::ptrdiff_t i0 = fullWidth; i0 < stride; i0 += W) {  // the last columns a vector at a time
            for (std::ptrdiff_t n0 = 0; n0 < fullRows; n0 += R)
                productTile<R, 1>(b, p0, p1, stride, w, n0, i0, out);
            for (std::ptrdiff_t n = fullRows; n < rows; ++n)
                productTile<1, 1>(b, p0, p1, stride, w, n, i0, out);
        }
        p0 = p1;
    } while (p0 < cols);
}

// The rows around the products. E'_n's exponents from the anchors' coordinate columns, and the
// pull of a block once its product rows are known: plain element-wise loops in the unit's width,
// each element's operations in the order of the scalar loops they replaced.
void affineColumnsRow(const double* columns, std::ptrdiff_t stride, std::ptrdiff_t dims, const double* point,
                      double scale, double shift, std::ptrdiff_t n, double* row) {
    const double* first = columns;
    if (dims == 2) {
        const double x0 = point[0], x1 = point[1];
        const double* second = columns + stride;
        for (std::ptrdiff_t i = 0; i < n; ++i)
            row[i] = scale * ((0.0 + first[i] * x0) + second[i] * x1) - shift;
        return;
    }
    if (dims == 3) {
        const double x0 = point[0], x1 = point[1], x2 = point[2];
        const double *second = columns + stride, *third = columns + 2 * stride;
        for (std::ptrdiff_t i = 0; i < n; ++i)
            row[i] = scale * (((0.0 + first[i] * x0) + second[i] * x1) + third[i] * x2) - shift;
        return;
    }
    for (std::ptrdiff_t i = 0; i < n; ++i) row[i] = 0.0;
    for (std::ptrdiff_t c = 0; c < dims; ++c) {
        const double coordinate = point[c];
        const double* column = columns + c * stride;
        for (std::ptrdiff_t i = 0; i < n; ++i) row[i] += column[i] * coordinate;
    }
    for (std::ptrdiff_t i = 0; i < n; ++i) row[i] = scale * row[i] - shift;
}

// One row of weightedPullRows with Dims coordinates in one pass: q ∘= e first when Weigh.
template <int Dims, bool Weigh>
static inline void pullRow(double* q, const double* e, std::ptrdiff_t stride, const double* x,
                           const double* columns, double* pulled, double* dots) {
    Lanes sums[Dims] = {};
    for (std::ptrdiff_t i = 0; i < stride; i += kAccumulateLanes) {
        Lanes product = loadLanes(q + i);
        if constexpr (Weigh) {
            product = product * loadLanes(e + i);
            storeLanes(q + i, product);
        }
        for (int c = 0; c < Dims; ++c) {
            double* target = pulled + c * stride + i;
            storeLanes(target, loadLanes(target) + product * broadcast(x[c]));
            sums[c] = sums[c] + product * loadLanes(columns + c * stride + i);
        }
    }
    for (int c = 0; c < Dims; ++c) {
        double lanes[kAccumulateLanes];
        storeLanes(lanes, sums[c]);
        dots[c] = addLanes(lanes);
    }
}

void weightedPullRows(double* q, const double* e, std::ptrdiff_t rows, std::ptrdiff_t stride, const double* x,
                      std::ptrdiff_t dims, const double* columns, double* pulled, double* dots) {
    for (std::ptrdiff_t n = 0; n < rows; ++n) {
        double* qn = q + n * stride;
        const double* en = e + n * stride;
        const double* xn = x + n * dims;
        double* dotsN = dots + n * dims;
        if (dims == 2) {
            pullRow<2, true>(qn, en, stride, xn, columns, pulled, dotsN);
        } else if (dims == 3) {
            pullRow<3, true>(qn, en, stride, xn, columns, pulled, dotsN);
        } else {
            for (std::ptrdiff_t i = 0; i < stride; ++i) qn[i] *= en[i];
            for (std::ptrdiff_t c = 0; c < dims; ++c)
                pullRow<1, false>(qn, en, stride, xn + c, columns + c * stride, pulled + c * stride,
                                  dotsN + c);
        }
    }
}

// ---- Running sums of counts (the bucket sorts' cell starts) ------------------------------------
// values[c] = values[0] + … + values[c]. Integers: any order gives the same sums. Eight at a time,
// scanned in registers by three shifted additions, then the carry of the blocks before (the plain
// loop was a tenth of FaceNet's step at N = 4096, over four cells per negative). The carry grows by
// the block's own total, which does not wait for the carry: one addition's latency per block,
// where taking the carry from the carried block's last lane had put a broadcast on that path too
// (the loop then ran at that latency, 7.5 % of FaceNet's step on Zen 5).
// AVX-512 scans sixteen at a time (four shifted additions): the sums of FaceNet's eight cells per
// negative were otherwise a tenth of its step on Zen 5.
void runningSums(int* values, std::ptrdiff_t n) {
    std::ptrdiff_t c = 0;
#if defined(__AVX512F__)
    typedef int CountLanes __attribute__((vector_size(64)));
    const CountLanes zero = {};
    CountLanes carry = {};
    for (; c + 16 <= n; c += 16) {
        CountLanes v;
        __builtin_memcpy(&v, values + c, sizeof v);
        v += __builtin_shufflevector(zero, v, 0, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
        v += __builtin_shufflevector(zero, v, 0, 1, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
        v += __builtin_shufflevector(zero, v, 0, 1, 2, 3, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27);
        v += __builtin_shufflevector(zero, v, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        const CountLanes total =
            __builtin_shufflevector(v, v, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15);
        v += carry;
        __builtin_memcpy(values + c, &v, sizeof v);
        carry += total;
    }
#else
    typedef int CountLanes __attribute__((vector_size(32)));
    const CountLanes zero = {};
    CountLanes carry = {};
    for (; c + 8 <= n; c += 8) {
        CountLanes v;
        __builtin_memcpy(&v, values + c, sizeof v);
        v += __builtin_shufflevector(zero, v, 0, 8, 9, 10, 11, 12, 13, 14);
        v += __builtin_shufflevector(zero, v, 0, 1, 8, 9, 10, 11, 12, 13);
        v += __builtin_shufflevector(zero, v, 0, 1, 2, 3, 8, 9, 10, 11);
        const CountLanes total = __builtin_shufflevector(v, v, 7, 7, 7, 7, 7, 7, 7, 7);
        v += carry;
        __builtin_memcpy(values + c, &v, sizeof v);
        carry += total;
    }
#endif
    int running = c > 0 ? values[c - 1] : 0;
    for (; c < n; ++c) values[c] = running += values[c];
}

// ---- The bucket sorts' range and cells (miners/miner_common.h) --------------------------------
// Comparisons and selections only: every unit gives the same values.
bool rowRange(const double* values, std::ptrdiff_t n, double* low, double* high) {
    const double infinity = __builtin_inf();
    Lanes least = broadcast(infinity), most = broadcast(-infinity);
    LaneMask unordered = {};
    std::ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const Lanes v = loadLanes(values + j);
        least = selectLanes(v < least, v, least);  // NaN compares false: left out
        most = largerLanes(v, most);
        unordered = unordered | (v != v);
    }
    double lo = infinity, hi = -infinity;
    bool anyNaN = false;
    for (int lane = 0; lane < 8; ++lane) {
        lo = least[lane] < lo ? least[lane] : lo;
        hi = most[lane] > hi ? most[lane] : hi;
        anyNaN |= unordered[lane] != 0;
    }
    for (; j < n; ++j) {
        const double v = values[j];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        anyNaN |= v != v;
    }
    *low = lo;
    *high = hi;
    return anyNaN;
}

// cells[j..j+8) = the lanes of v truncated to int (static_cast's rounding), part by part.
static inline __attribute__((always_inline)) void storeTruncated(int* cells, Lanes v) {
#if defined(__AVX512F__)
    typedef int Cells __attribute__((vector_size(8 * sizeof(int))));
    const Cells c = __builtin_convertvector(v, Cells);
    __builtin_memcpy(cells, &c, sizeof c);
#else
    typedef int Cells __attribute__((vector_size(Lanes::kPartLanes * sizeof(int))));
    for (int k = 0; k < Lanes::kParts; ++k) {
        const Cells c = __builtin_convertvector(v.part[k], Cells);
        __builtin_memcpy(cells + k * Lanes::kPartLanes, &c, sizeof c);
    }
#endif
}

void bucketCells(const double* values, std::ptrdiff_t n, double low, double scale, double top, int* cells) {
    const Lanes lowLanes = broadcast(low), scaleLanes = broadcast(scale), topLanes = broadcast(top);
    std::ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const Lanes c = (loadLanes(values + j) - lowLanes) * scaleLanes;
        storeTruncated(cells + j, selectLanes(topLanes < c, topLanes, c));  // std::min(c, top)
    }
    for (; j < n; ++j) {
        const double c = (values[j] - low) * scale;
        cells[j] = static_cast<int>(top < c ? top : c);
    }
}

// ---- std::mt19937_64, a block at a time (NCE's noise draws, losses/nce_draws.h) ---------------
// One refill of the engine ([rand.eng.mers] with std::mt19937_64's parameters: w = 64, n = 312,
// m = 156, r = 31, a = 0xb5026f5aa96619e9, tempering u = 29, d = 0x5555555555555555, s = 17,
// b = 0x71d67fffeda60000, t = 37, c = 0xfff7eee000000000, l = 43) over its whole state, and the
// 312 tempered outputs, as plain loops the unit vectorizes. Integer operations only: every unit
// gives the same words, those of std::mt19937_64 (tested against it).
void mersenneTwist64(std::uint64_t* state, std::uint64_t* out) {
    constexpr int n = 312, m = 156;
    constexpr std::uint64_t upper = ~std::uint64_t{0} << 31, lower = ~upper;
    constexpr std::uint64_t matrix = 0xb5026f5aa96619e9ULL;
    // Word k takes word k + m from the old state (k < n − m) or the new one (k ≥ n − m): a
    // distance of m words, far wider than any unit's vector, so both loops vectorize.
    for (int k = 0; k < n - m; ++k) {
        const std::uint64_t y = (state[k] & upper) | (state[k + 1] & lower);
        state[k] = state[k + m] ^ (y >> 1) ^ ((std::uint64_t{0} - (y & 1)) & matrix);
    }
    for (int k = n - m; k < n - 1; ++k) {
        const std::uint64_t y = (state[k] & upper) | (state[k + 1] & lower);
        state[k] = state[k - (n - m)] ^ (y >> 1) ^ ((std::uint64_t{0} - (y & 1)) & matrix);
    }
    const std::uint64_t y = (state[n - 1] & upper) | (state[0] & lower);
    state[n - 1] = state[m - 1] ^ (y >> 1) ^ ((std::uint64_t{0} - (y & 1)) & matrix);
    for (int k = 0; k < n; ++k) {
        std::uint64_t z = state[k];
        z ^= (z >> 29) & 0x5555555555555555ULL;
        z ^= (z << 17) & 0x71d67fffeda60000ULL;
        z ^= (z << 37) & 0xfff7eee000000000ULL;
        z ^= z >> 43;
        out[k] = z;
    }
}

// ---- Batch hard's farthest positive and nearest negative (miners/batch_hard.cpp) -------------
// The definition is one scan with strict comparisons from the first candidate on. Here the row
// runs as streams (AVX-512: eight lanes, j mod 8; elsewhere four interleaved scalar streams, the
// tail in the first), each keeping its own first index among ties and skipping NaN; the streams
// are merged by value, then index, and a NaN first candidate (which the scan would keep to the
// end) is applied last: the scan's choice. One scan was a chain of dependent comparisons and
// selects, 80 % of batch hard's step at N = 1,024.
struct HardestStream {
    int positive = -1, negative = -1;
    double farthest = 0.0, nearest = 0.0;
    // Selects rather than branches: which entry wins is data-dependent.
    void take(double value, bool same, bool candidate, int j) {
        const bool number = value == value;
        const bool takePositive = same & candidate & number & ((positive < 0) | (value > farthest));
        const bool takeNegative = (!same) & number & ((negative < 0) | (value < nearest));
        positive = takePositive ? j : positive;
        farthest = takePositive ? value : farthest;
        negative = takeNegative ? j : negative;
        nearest = takeNegative ? value : nearest;
    }
    void merge(const HardestStream& s) {
        if (s.positive >= 0 &&
            (positive < 0 || s.farthest > farthest || (s.farthest == farthest && s.positive < positive))) {
            positive = s.positive;
            farthest = s.farthest;
        }
        if (s.negative >= 0 &&
            (negative < 0 || s.nearest < nearest || (s.nearest == nearest && s.negative < negative))) {
            negative = s.negative;
            nearest = s.nearest;
        }
    }
};

void hardestPair(const double* delta, const int* labels, int a, std::ptrdiff_t n, int* positive,
                 int* negative) {
    const int label = labels[a];
    HardestStream found;
    std::ptrdiff_t j = 0;
#if defined(__AVX512F__)
    {
        const __m256i label8 = _mm256_set1_epi32(label), anchor8 = _mm256_set1_epi32(a);
        __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m512d farthest = _mm512_setzero_pd(), nearest = _mm512_setzero_pd();
        __m256i positives = _mm256_set1_epi32(-1), negatives = positives;
        __mmask8 hasPositive = 0, hasNegative = 0;
        for (; j < n; j += 8) {
            const __mmask8 inRow = n - j >= 8 ? __mmask8(0xff) : __mmask8((1u << (n - j)) - 1);
            const __m512d value = _mm512_maskz_loadu_pd(inRow, delta + j);
            const __mmask8 number = inRow & _mm512_cmp_pd_mask(value, value, _CMP_ORD_Q);
            const __mmask8 same =
                _mm256_mask_cmpeq_epi32_mask(number, _mm256_maskz_loadu_epi32(inRow, labels + j), label8);
            const __mmask8 other = number & static_cast<__mmask8>(~same);
            const __mmask8 candidate = same & _mm256_cmpneq_epi32_mask(index, anchor8);
            const __mmask8 takePositive = candidate & (static_cast<__mmask8>(~hasPositive) |
                                                       _mm512_cmp_pd_mask(value, farthest, _CMP_GT_OQ));
            const __mmask8 takeNegative = other & (static_cast<__mmask8>(~hasNegative) |
                                                   _mm512_cmp_pd_mask(value, nearest, _CMP_LT_OQ));
            farthest = _mm512_mask_mov_pd(farthest, takePositive, value);
            positives = _mm256_mask_mov_epi32(positives, takePositive, index);
            nearest = _mm512_mask_mov_pd(nearest, takeNegative, value);
            negatives = _mm256_mask_mov_epi32(negatives, takeNegative, index);
            hasPositive |= takePositive;
            hasNegative |= takeNegative;
            index = _mm256_add_epi32(index, _mm256_set1_epi32(8));
        }
        alignas(64) double farthestLanes[8], nearestLanes[8];
        alignas(32) int positiveLanes[8], negativeLanes[8];
        _mm512_store_pd(farthestLanes, farthest);
        _mm512_store_pd(nearestLanes, nearest);
        _mm256_store_si256(reinterpret_cast<__m256i*>(positiveLanes), positives);
        _mm256_store_si256(reinterpret_cast<__m256i*>(negativeLanes), negatives);
        for (int lane = 0; lane < 8; ++lane)
            found.merge({positiveLanes[lane], negativeLanes[lane], farthestLanes[lane], nearestLanes[lane]});
    }
#else
    HardestStream s1, s2, s3;
    auto step = [&](HardestStream& s, std::ptrdiff_t k) {
        s.take(delta[k], labels[k] == label, k != a, static_cast<int>(k));
    };
    for (; j + 4 <= n; j += 4) {
        step(found, j);
        step(s1, j + 1);
        step(s2, j + 2);
        step(s3, j + 3);
    }
    for (; j < n; ++j) step(found, j);  // indices still ascending within the first stream
    found.merge(s1);
    found.merge(s2);
    found.merge(s3);
#endif
    // The first candidates (a few entries in: each class is a fraction of the batch).
    std::ptrdiff_t firstPositive = 0, firstNegative = 0;
    while (firstPositive < n && (labels[firstPositive] != label || firstPositive == a)) ++firstPositive;
    while (firstNegative < n && labels[firstNegative] == label) ++firstNegative;
    *positive = firstPositive < n && delta[firstPositive] != delta[firstPositive]
                    ? static_cast<int>(firstPositive)
                    : found.positive;
    *negative = firstNegative < n && delta[firstNegative] != delta[firstNegative]
                    ? static_cast<int>(firstNegative)
                    : found.negative;
}

// ---- Remainders of 64-bit words by multiplication (NCE's noise draws, losses/nce_draws.h) ------
// out[k] = r mod d with remainderMagic's constants: t = ⌊m·r / 2⁶⁴⌋, q = (t + ((r − t) >> s₁)) >> s₂,
// r − q·d. The vector units have no 64 × 64 → 128-bit product: its high half comes from four
// 32 × 32 → 64-bit products (m = m₁·2³² + m₀, r = r₁·2³² + r₀: the carries of m₀r₀'s high half
// and the two cross products' low halves, then the high halves). For d < 2³² the remainder is
// below 2³², so q·d is needed modulo 2³² only: q's low half times d. Exact integer operations,
// the same words on every unit; the last n mod 8 words take the scalar steps.
static inline std::uint64_t remainderOf(std::uint64_t r, const RemainderMagic& magic) {
    __extension__ typedef unsigned __int128 Wide;
    const auto t = static_cast<std::uint64_t>((static_cast<Wide>(magic.multiplier) * r) >> 64);
    const std::uint64_t quotient = (t + ((r - t) >> magic.firstShift)) >> magic.secondShift;
    return r - quotient * magic.divisor;
}

// GCC 12's masked AVX-512 builtins again (see expInPlace): a false -Wmaybe-uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
bool wordRemainders(const std::uint64_t* words, std::ptrdiff_t n, const RemainderMagic& magic,
                    std::uint64_t* out) {
    std::ptrdiff_t k = 0;
    bool rejected = false;
#if defined(__AVX512F__)
    // Eight words at a time. AVX2, four at a time with an emulated unsigned comparison, gained 4 %
    // of NCE's step on Zen 5 (AVX-512: 10 %): left to the scalar steps.
    if (magic.divisor >> 32 == 0) {
        auto broadcast = [](std::uint64_t a) { return _mm512_set1_epi64(static_cast<long long>(a)); };
        const __m512i low32 = broadcast(0xffffffff), threshold = broadcast(magic.threshold);
        const __m512i m0 = broadcast(magic.multiplier & 0xffffffff), m1 = broadcast(magic.multiplier >> 32);
        const __m512i divisor = broadcast(magic.divisor);
        const __m128i s1 = _mm_cvtsi32_si128(magic.firstShift), s2 = _mm_cvtsi32_si128(magic.secondShift);
        __mmask8 below = 0;
        for (; k + 8 <= n; k += 8) {
            const __m512i r = _mm512_loadu_si512(words + k);
            below |= _mm512_cmplt_epu64_mask(r, threshold);
            const __m512i r1 = _mm512_srli_epi64(r, 32);
            const __m512i ll = _mm512_mul_epu32(r, m0), lh = _mm512_mul_epu32(r1, m0);
            const __m512i hl = _mm512_mul_epu32(r, m1), hh = _mm512_mul_epu32(r1, m1);
            const __m512i middle =
                _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, low32)),
                                 _mm512_and_si512(hl, low32));
            const __m512i t =
                _mm512_add_epi64(_mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32)),
                                 _mm512_add_epi64(_mm512_srli_epi64(hl, 32), _mm512_srli_epi64(middle, 32)));
            const __m512i q =
                _mm512_srl_epi64(_mm512_add_epi64(t, _mm512_srl_epi64(_mm512_sub_epi64(r, t), s1)), s2);
            _mm512_storeu_si512(out + k,
                                _mm512_and_si512(_mm512_sub_epi64(r, _mm512_mul_epu32(q, divisor)), low32));
        }
        rejected = below != 0;
    }
#endif
    for (; k < n; ++k) {
        rejected |= words[k] < magic.threshold;
        out[k] = remainderOf(words[k], magic);
    }
    return !rejected;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// ---- NCE's drawn negatives (losses/nce.cpp) -----------------------------------------------------
// One walk over the row that finds the anchor's negatives (t counts them) and keeps the drawn ones
// (draws[t] ≠ 0) with their index and scaled similarity. Which j is a negative and which is drawn
// is data: about half of each, so a branch would be mispredicted half the time. AVX-512 takes
// eight j at a time: the counts of the block's negatives are spread to their lanes and the kept
// lanes compressed to the front of the outputs. Measured on Zen 5 (a 4096-point row): the spread
// by a permutation from a table runs in half the time of vpexpandd, and full-width stores (past
// the kept lanes, within the row) in half the time of stores masked to the kept lanes; the
// compress instructions beat a table permutation. AVX2, which has no compress, takes eight j at
// a time the same way with a second table, the kept lanes' numbers in order: a permutation packs
// the counts, the lane numbers are the indices, and permutations by them pack the similarities
// (the gather instruction took as long as the scalar walk, a quarter of NCE's step on a Zen 3).
// SSE2 walks one j at a time without a branch: write, then advance or not. Copies, an exact conversion and
// one product per kept entry: the same bits on every unit.
#if defined(__AVX2__)
// kSpread[m][i] = the rank of lane i among the set bits of m (which of the block's negatives lane i
// is), for lanes set in m; 0 elsewhere (masked off).
struct SpreadTable {
    int lanes[256][8];
    constexpr SpreadTable() : lanes() {
        for (int m = 0; m < 256; ++m)
            for (int i = 0, rank = 0; i < 8; ++i) lanes[m][i] = (m >> i) & 1 ? rank++ : 0;
    }
};
alignas(64) constexpr SpreadTable kSpread;
#endif
#if defined(__AVX2__) && !defined(__AVX512F__)
// kPacked[m] = the set lanes of m in increasing order, then 0 (any lane: what is written past the
// kept lanes is never read).
struct PackTable {
    int lanes[256][8];
    constexpr PackTable() : lanes() {
        for (int m = 0; m < 256; ++m)
            for (int i = 0, rank = 0; i < 8; ++i)
                if ((m >> i) & 1) lanes[m][rank++] = i;
    }
};
alignas(64) constexpr PackTable kPacked;
#endif

int packDrawn(const int* labels, int label, std::ptrdiff_t n, const double* row, double scale, const int* draws,
              double* times, int* indices, double* inputs) {
    int kept = 0;
#if defined(__AVX512F__)
    const __m256i label8 = _mm256_set1_epi32(label), step = _mm256_set1_epi32(8);
    const __m512d scale8 = _mm512_set1_pd(scale);
    __m256i j8 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    std::ptrdiff_t t = 0;
    for (std::ptrdiff_t j = 0; j < n; j += 8) {
        // The last block reads and writes only within the row (t + 8 ≤ j + 8 and kept + 8 ≤ j + 8
        // hold in every other block, whose full-width accesses stay within the n entries).
        const bool whole = n - j >= 8;
        const __mmask8 inRow = whole ? __mmask8(0xff) : __mmask8((1u << (n - j)) - 1);
        const __mmask8 negative =
            _mm256_mask_cmpneq_epi32_mask(inRow, _mm256_maskz_loadu_epi32(inRow, labels + j), label8);
        const int negatives = __builtin_popcount(negative);
        const __m256i counts = whole ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(draws + t))
                                     : _mm256_maskz_loadu_epi32(__mmask8((1u << negatives) - 1), draws + t);
        const __m256i spread = _mm256_load_si256(reinterpret_cast<const __m256i*>(kSpread.lanes[negative]));
        const __m256i hits = _mm256_maskz_permutexvar_epi32(negative, spread, counts);
        const __mmask8 keep = _mm256_mask_cmpneq_epi32_mask(negative, hits, _mm256_setzero_si256());
        const int count = __builtin_popcount(keep);
        const __m512d keptTimes = _mm512_maskz_cvtepi32_pd(0xff, _mm256_maskz_compress_epi32(keep, hits));
        const __m512d keptInputs =
            _mm512_maskz_compress_pd(keep, _mm512_mul_pd(_mm512_maskz_loadu_pd(inRow, row + j), scale8));
        const __m256i keptIndices = _mm256_maskz_compress_epi32(keep, j8);
        if (whole) {
            _mm512_storeu_pd(times + kept, keptTimes);
            _mm512_storeu_pd(inputs + kept, keptInputs);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(indices + kept), keptIndices);
        } else {
            const __mmask8 first = __mmask8((1u << count) - 1);
            _mm512_mask_storeu_pd(times + kept, first, keptTimes);
            _mm512_mask_storeu_pd(inputs + kept, first, keptInputs);
            _mm256_mask_storeu_epi32(indices + kept, first, keptIndices);
        }
        kept += count;
        t += negatives;
        j8 = _mm256_add_epi32(j8, step);
    }
#else
    // t counts the negatives before j, so t ≤ j < n: draws[t] is read in bounds even after the
    // last negative.
    std::ptrdiff_t t = 0, j = 0;
#if defined(__AVX2__)
    const __m256i label8 = _mm256_set1_epi32(label);
    const __m256d scale4 = _mm256_set1_pd(scale);
    const __m256i three = _mm256_set1_epi32(3), oddHalf = _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1);
    const __m256i lowPairs = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    const __m256i highPairs = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
    // Whole blocks only: t + 8 ≤ j + 8 ≤ n and kept + 8 ≤ j + 8 ≤ n, so the full-width loads of
    // draws and stores of the outputs (past the kept lanes) stay within the n entries.
    for (; j + 8 <= n; j += 8) {
        const __m256i isNegative = _mm256_xor_si256(
            _mm256_cmpeq_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(labels + j)), label8),
            _mm256_set1_epi32(-1));
        const int negative = _mm256_movemask_ps(_mm256_castsi256_ps(isNegative));
        const __m256i counts = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(draws + t));
        const __m256i spread = _mm256_load_si256(reinterpret_cast<const __m256i*>(kSpread.lanes[negative]));
        const __m256i hits = _mm256_and_si256(_mm256_permutevar8x32_epi32(counts, spread), isNegative);
        const __m256i drawn = _mm256_xor_si256(_mm256_cmpeq_epi32(hits, _mm256_setzero_si256()),
                                               _mm256_set1_epi32(-1));
        const int keep = _mm256_movemask_ps(_mm256_castsi256_ps(drawn));
        const __m256i lanes = _mm256_load_si256(reinterpret_cast<const __m256i*>(kPacked.lanes[keep]));
        const __m256i keptHits = _mm256_permutevar8x32_epi32(hits, lanes);
        _mm256_storeu_pd(times + kept, _mm256_cvtepi32_pd(_mm256_castsi256_si128(keptHits)));
        _mm256_storeu_pd(times + kept + 4, _mm256_cvtepi32_pd(_mm256_extracti128_si256(keptHits, 1)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(indices + kept),
                            _mm256_add_epi32(lanes, _mm256_set1_epi32(static_cast<int>(j))));
        const __m256 first = _mm256_castpd_ps(_mm256_mul_pd(_mm256_loadu_pd(row + j), scale4));
        const __m256 second = _mm256_castpd_ps(_mm256_mul_pd(_mm256_loadu_pd(row + j + 4), scale4));
        // Output lanes k..k+3 take the products of block lanes lanes[k..k+3], each a pair of
        // 32-bit halves: halves 2(l mod 4), 2(l mod 4) + 1 of `first` or (l ≥ 4) of `second`.
        auto pack = [&](__m256i pairs) {
            const __m256i lane = _mm256_permutevar8x32_epi32(lanes, pairs);
            const __m256i half = _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(lane, three), 1), oddHalf);
            const __m256 fromSecond = _mm256_castsi256_ps(_mm256_slli_epi32(lane, 29));  // bit 2 → sign
            return _mm256_castps_pd(_mm256_blendv_ps(_mm256_permutevar8x32_ps(first, half),
                                                     _mm256_permutevar8x32_ps(second, half), fromSecond));
        };
        _mm256_storeu_pd(inputs + kept, pack(lowPairs));
        _mm256_storeu_pd(inputs + kept + 4, pack(highPairs));
        kept += __builtin_popcount(static_cast<unsigned>(keep));
        t += __builtin_popcount(static_cast<unsigned>(negative));
    }
#endif
    for (; j < n; ++j) {
        const int negative = labels[j] != label ? 1 : 0;
        const int hits = draws[t];
        indices[kept] = static_cast<int>(j);
        inputs[kept] = row[j] * scale;
        times[kept] = hits;
        kept += negative & (hits != 0 ? 1 : 0);
        t += negative;
    }
#endif
    return kept;
}

// SPDX-License-Identifier: MIT
// The row kernels, compiled once per vector unit (internal; included by kernels_*.cpp only, inside
// a namespace of their own). Plain loops over raw pointers: the compiler vectorizes them with the
// unit's flags. No includes here: see dispatch.h for why, and for what keeps the bits the same.

void squaredDistanceRow(const double* data, std::ptrdiff_t n, std::ptrdiff_t dims, std::ptrdiff_t a,
                        double* out, std::ptrdiff_t first) {
    const double* anchor = data + a * dims;
    // Fixed dimensions let the loop run over j with the coordinates in registers; the sum is
    // ((0 + d0²) + d1²) + d2², the order of the portable loop below (0 + x is exact).
    if (dims == 2) {
        const double x0 = anchor[0], x1 = anchor[1];
        for (std::ptrdiff_t j = first; j < n; ++j) {
            const double d0 = x0 - data[2 * j], d1 = x1 - data[2 * j + 1];
            out[j] = d0 * d0 + d1 * d1;
        }
        return;
    }
    if (dims == 3) {
        const double x0 = anchor[0], x1 = anchor[1], x2 = anchor[2];
        for (std::ptrdiff_t j = first; j < n; ++j) {
            const double d0 = x0 - data[3 * j], d1 = x1 - data[3 * j + 1], d2 = x2 - data[3 * j + 2];
            out[j] = (d0 * d0 + d1 * d1) + d2 * d2;
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
        out[j] = squared;
    }
}

void sqrtInPlace(double* values, std::ptrdiff_t n) {
    for (std::ptrdiff_t j = 0; j < n; ++j) values[j] = __builtin_sqrt(values[j]);
}

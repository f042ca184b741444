// SPDX-License-Identifier: MIT
// The batch-all sweep's O(1) boundary lookups (internal triplet_sweep.h) against the plain binary
// search that defines them. Built twice: into engine_tests (SIMD lookups where the compiler has
// SSE2) and into engine_scalar_tests with MARGINLAB_NO_SIMD (the portable lookups).
#include "losses/triplet_sweep.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace marginlab::detail {
namespace {

constexpr Real kInf = std::numeric_limits<Real>::infinity();

// Values sorted with a table, laid out with the sentinels the table requires.
struct Table {
    std::vector<Real> storage;
    GapLocator locator;
    const Real* sorted() const { return storage.data() + 1; }
    int size = 0;
};

void build(std::vector<Real> values, Table* t) {
    std::vector<std::pair<Real, int>> items, scratch;
    for (std::size_t i = 0; i < values.size(); ++i) items.emplace_back(values[i], static_cast<int>(i));
    const bool table = t->locator.sortWithTable(&items, &scratch);
    if (!table) std::sort(items.begin(), items.end());
    t->size = static_cast<int>(items.size());
    t->storage.assign(items.size() + GapTable::kPadding + 2, kInf);
    t->storage[0] = -kInf;
    for (std::size_t k = 0; k < items.size(); ++k) t->storage[k + 1] = items[k].first;
    if (table) t->locator.bind(t->sorted());
    else t->locator.assign(t->sorted(), t->size);
}

void expectAgrees(const Table& t, Real z, Real bound, const char* what) {
    const GapTable& table = t.locator.table();
    const GapTable::Boundaries both = table.firstGapBelowBoth(z, bound);
    EXPECT_EQ(both.strict, firstGapBelow(t.sorted(), t.size, z, bound, false)) << what << " z=" << z << " bound=" << bound;
    EXPECT_EQ(both.inclusive, firstGapBelow(t.sorted(), t.size, z, bound, true)) << what << " z=" << z << " bound=" << bound;
    EXPECT_EQ(table.countBelow(z), firstGapBelow(t.sorted(), t.size, z, 0.0, true)) << what << " z=" << z;
    // The single-predicate lookups (the triplet sweep's filter bounds) give the same answers.
    EXPECT_EQ(table.firstGapBelowOne<false>(z, bound), both.strict)
        << what << " z=" << z << " bound=" << bound;
    EXPECT_EQ(table.firstGapBelowOne<true>(z, bound), both.inclusive)
        << what << " z=" << z << " bound=" << bound;
}

void expectAgreesEverywhere(const std::vector<Real>& values, const std::vector<Real>& bounds, const char* what) {
    Table t;
    build(values, &t);
    std::vector<Real> queries = values;  // exact ties: z − x == bound for many pairs
    for (Real v : values)
        for (Real b : bounds) {
            queries.push_back(v + b);
            queries.push_back(std::nextafter(v + b, kInf));
            queries.push_back(std::nextafter(v + b, -kInf));
        }
    queries.insert(queries.end(), {-1e300, 1e300, kInf, -kInf, std::numeric_limits<Real>::quiet_NaN()});
    for (Real z : queries)
        for (Real b : bounds) expectAgrees(t, z, b, what);
}

TEST(GapTable, RandomValuesAgreeWithTheBinarySearch) {
    std::mt19937_64 rng(71);
    std::normal_distribution<Real> normal(0.0, 1.0);
    for (int n : {16, 40, 409}) {
        std::vector<Real> values;
        for (int i = 0; i < n; ++i) values.push_back(2.0 * std::abs(std::sin(normal(rng))));  // chord-like, crowded near 2
        expectAgreesEverywhere(values, {0.0, 0.05, 0.2, 1.0, -0.3}, "random");
    }
}

TEST(GapTable, IntegerTiesAndCrowdedCellsAgreeWithTheBinarySearch) {
    std::mt19937_64 rng(72);
    std::uniform_int_distribution<int> small(0, 6);
    std::vector<Real> values;
    for (int i = 0; i < 60; ++i) values.push_back(Real(small(rng)));  // ten-odd copies per value
    expectAgreesEverywhere(values, {0.0, 1.0, 2.0, 0.5}, "integer ties");
    std::vector<Real> clustered(40, 1.0);
    for (int i = 0; i < 20; ++i) clustered.push_back(1.0 + 1e-12 * i);  // one crowded cell
    clustered.push_back(5.0);
    expectAgreesEverywhere(clustered, {0.0, 1e-12, 4.0}, "crowded");
}

// Values a few ulps apart and a bound of another magnitude: fl(z − x) is the same for whole runs
// of values, so where the predicates flip has nothing to do with the cell of z − bound, and only
// the check of the cell's neighbours keeps the lookups exact.
TEST(GapTable, RoundingFarFromTheQueryCellIsCaught) {
    std::vector<Real> values;
    for (int k = 0; k < 64; ++k) values.push_back(1e-3 + k * 1e-18);
    Table t;
    build(values, &t);
    for (int k = -8; k < 72; ++k)
        for (Real bound : {1.0, 0.5, 3.0}) {
            const Real z = bound + (1e-3 + k * 1e-18);
            for (Real query : {z, std::nextafter(z, kInf), std::nextafter(z, -kInf)}) expectAgrees(t, query, bound, "ulps");
        }
}

TEST(GapTable, TablesThatCannotBeBuiltFallBackToTheSearch) {
    expectAgreesEverywhere({1.0, 2.0, 3.0}, {0.0, 1.0}, "too few for a table");
    expectAgreesEverywhere(std::vector<Real>(20, 3.0), {0.0, 1.0}, "empty range");
}

}  // namespace
}  // namespace marginlab::detail

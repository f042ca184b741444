// SPDX-License-Identifier: MIT
/**
 * Leave-one-out retrieval metrics and distance summaries of an embedding.
 *
 * Retrieval follows pytorch-metric-learning's AccuracyCalculator with the query set equal to the
 * reference set (embeddings_come_from_same_source=True): every point queries all the others
 * (itself excluded); R = number of other points with its label; queries with R = 0 ("lone
 * queries") are left out of every metric, as PML does. Neighbours are ordered by the ordering
 * distance δ = orderSign·M (distance.h: smaller = closer), ties by lower index.
 *
 *   precision@1 = mean over queries of rel(1)
 *   R-precision = mean over queries of (1/R)·#{same label among the R nearest}
 *   MAP@R       = mean over queries of (1/R)·Σ_{k=1..R} P(k)·rel(k),  P(k) = (1/k)·Σ_{i≤k} rel(i)
 *
 * Cost O(N²·D + Σ_q (N + R_q log R_q)) time and O(N) extra memory (one row of distances at a time).
 *
 * Sampled queries. Every function below takes an optional list of query rows `queries` (distinct,
 * in [0, N)); empty means every point, the exact definitions above. With a list, only those rows
 * are queries (each against all N points, so its neighbours, R and distances are exact) and the
 * result is the mean over them: an unbiased estimate of the full mean (for the pair statistics, of
 * the mean over ordered pairs i ≠ j with i in the list). The trainer uses it for large scenes
 * (metricQueries()): the cost drops from O(N²) to O(Q·N) and from Σ R log R over N queries to Q.
 */
#pragma once

#include "marginlab/distance.h"
#include "marginlab/types.h"

#include <span>
#include <vector>

namespace marginlab {

/// Above this many points the trainer measures the metrics on a sample of query points.
inline constexpr Eigen::Index kExactMetricsPoints = 5'000;
/// The number of sampled queries: the standard error of a mean of [0, 1] values is then ≤ 0.5/√Q ≈ 0.011.
inline constexpr Eigen::Index kSampledQueries = 2'000;

/**
 * The query rows the trainer measures metrics on: empty (every point, exact) for n ≤
 * kExactMetricsPoints; otherwise kSampledQueries rows evenly spaced through the data,
 * row ⌊(k + ½)·n / Q⌋ for k = 0 … Q−1 (a systematic sample: with the data stored class by class,
 * every class gets its share of queries). The same rows at every step, so the curves do not jitter.
 */
std::vector<Eigen::Index> metricQueries(Eigen::Index n);
/// The number of sampled queries the trainer uses for n points: 0 (exact) up to kExactMetricsPoints.
inline Eigen::Index sampledMetricQueries(Eigen::Index n) { return n > kExactMetricsPoints ? kSampledQueries : 0; }

struct RetrievalMetrics {
    Real precisionAt1 = 0.0;
    Real rPrecision = 0.0;
    Real mapAtR = 0.0;
    int queries = 0;  ///< queries counted (points whose class has at least one other member)
};

/// All zero with queries = 0 when no point has a same-label partner (or x and y disagree in size).
RetrievalMetrics retrievalMetrics(const Points& x, const Labels& y, const DistanceSpec& spec,
                                  std::span<const Eigen::Index> queries = {});

struct ClassDistances {
    Real meanIntra = 0.0;  ///< mean M over ordered pairs a ≠ b with the same label (0 if none)
    Real meanInter = 0.0;  ///< mean M over ordered pairs with different labels (0 if none)
};

/// M is the matrix entry of `spec` (a similarity for Cosine / DotProduct, not negated).
ClassDistances classDistances(const Points& x, const Labels& y, const DistanceSpec& spec,
                              std::span<const Eigen::Index> queries = {});

/// Mean of M over ordered pairs i ≠ j (0 for fewer than 2 points): the collapse indicator.
Real meanPairwiseDistance(const Points& x, const DistanceSpec& spec, std::span<const Eigen::Index> queries = {});

/**
 * Uniformity and alignment on the hypersphere (Wang & Isola, "Understanding Contrastive
 * Representation Learning through Alignment and Uniformity on the Hypersphere", ICML 2020), on the
 * normalized rows x̂_i = x_i / ‖x_i‖ whatever the loss's distance:
 *
 *   uniformity = log( mean over pairs i < j of exp(−t·‖x̂_i − x̂_j‖²) ),  t = 2 by default
 *   alignment  = mean over positive pairs i < j (y_i = y_j) of ‖x̂_i − x̂_j‖^α,  α = 2 by default
 *
 * Uniformity lies in [−4t, 0]: lower is more uniform (points spread over the whole sphere; for
 * uniform points on S² and t = 2 it tends to log((1 − e^{−8})/8) ≈ −2.079); 0 means all in one
 * place. Alignment lies in [0, 2^α]: 0 when every class sits at one point. Both are 0 when there
 * is no pair (fewer than 2 points, or no positive pair). O(N²·D) time, O(1) extra memory per row.
 */
Real uniformity(const Points& x, Real t = 2.0, std::span<const Eigen::Index> queries = {});
/// See uniformity(); `y` must hold one label per row of `x` (else 0).
Real alignment(const Points& x, const Labels& y, Real alpha = 2.0, std::span<const Eigen::Index> queries = {});

}  // namespace marginlab

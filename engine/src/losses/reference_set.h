// SPDX-License-Identifier: MIT
// The shared part of the losses that take a reference set (LossInput::referenceEmbeddings, PML's
// ref_emb / ref_labels): the tuples against the reference, and the backward pass that stops at
// the reference (it is a detached copy, CrossBatchMemory's queue). Internal header.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "marginlab/loss.h"

namespace marginlab::detail {

/// The pairs of `input` (its tuples, or every batch × reference pair) against its reference.
inline void referencePairs(const LossInput& input, std::vector<Pair>* positives,
                           std::vector<Pair>* negatives) {
    assert(input.hasReference() && input.referenceLabels);
    if (!input.tuples) return allReferencePairs(input.labels, *input.referenceLabels, positives, negatives);
    materializeReferencePairs(*input.tuples, input.embeddings, input.labels, *input.referenceEmbeddings,
                              *input.referenceLabels, positives, negatives);
}

/// The triplets of `input` against its reference (PML's convert_to_triplets of the pairs).
inline std::vector<Triplet> referenceTriplets(const LossInput& input) {
    assert(input.hasReference() && input.referenceLabels);
    const Tuples all;
    return materializeReferenceTriplets(input.tuples ? *input.tuples : all, input.embeddings, input.labels,
                                        *input.referenceEmbeddings, *input.referenceLabels);
}

/// ∂L/∂X of the batch from G = ∂L/∂M of the batch × reference matrix; nothing flows to the
/// reference. With the split asked for, also the part through same-label entries.
inline void referenceBackward(const LossInput& input, const CrossDistance& distance, const Matrix& grad,
                              LossOutput* out) {
    distance.backward(grad, &out->gradEmbeddings, nullptr);
    if (input.splitForces)
        distance.backwardSameLabel(grad, input.labels, *input.referenceLabels, &out->gradFromPositives,
                                   nullptr);
}

/// A mask over the batch × reference matrix, 1 where a pair is listed.
using ReferenceMask = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

/// PML's mat_based_loss masks: `pairs` set to 1 on a rows × cols grid (a pair listed twice is one
/// entry, as torch's index assignment makes it).
inline ReferenceMask referenceMask(Eigen::Index rows, Eigen::Index cols, const std::vector<Pair>& pairs) {
    ReferenceMask mask = ReferenceMask::Zero(rows, cols);
    for (const Pair& pair : pairs) mask(pair[0], pair[1]) = 1;
    return mask;
}

/// The output of a reference-set loss whose gradient is G = ∂L/∂M (nothing owned is touched).
inline void finishReferenceOutput(const LossInput& input, const CrossDistance& distance, const Matrix& grad,
                                  LossOutput* out) {
    referenceBackward(input, distance, grad, out);
    if (input.owned) out->gradOwned = Points::Zero(input.owned->rows(), input.owned->cols());
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
#include "marginlab/miners/batch_hard.h"

#include "miners/miner_common.h"
#include "simd/dispatch.h"

namespace marginlab {

Tuples BatchHardMiner::mine(const MinerInput& input) const {
    if (input.referenceEmbeddings) return mineReference(input);
    const detail::OrderingRows rows(m_distance, input.embeddings);
    const Labels& labels = input.labels;
    const int n = static_cast<int>(labels.size());
    struct NoScratch {};
    const detail::simd::Kernels& kernels = detail::simd::kernels();
    auto mineAnchor = [&](int a, const Real* delta, std::vector<Triplet>* out, NoScratch*) {
        // The farthest positive and the nearest negative, first index among ties as torch.max /
        // min, the first candidate taken whatever its value (simd::Kernels::hardestPair).
        int positive = -1, negative = -1;
        kernels.hardestPair(delta, labels.data(), a, n, &positive, &negative);
        if (positive >= 0 && negative >= 0) out->push_back({a, positive, negative});
    };
    return Tuples::fromTriplets(detail::mineAnchors<NoScratch>(rows, mineAnchor));
}

Tuples BatchHardMiner::mineReference(const MinerInput& input) const {
    // PML with ref_emb: per batch anchor, the farthest same-label reference row and the nearest
    // other-label one on δ(batch, reference); the anchor's own copy in the reference is a
    // candidate like any other (PML's get_all_pairs_indices(labels, ref_labels) keeps it).
    const CrossDistance distance(m_distance, input.embeddings, *input.referenceEmbeddings);
    const Matrix& matrix = distance.matrix();
    const Real sign = m_distance.orderSign();
    const Labels& labels = input.labels;
    const Labels& referenceLabels = *input.referenceLabels;
    std::vector<Triplet> out;
    for (Eigen::Index a = 0; a < matrix.rows(); ++a) {
        int positive = -1, negative = -1;
        Real farthest = 0.0, nearest = 0.0;
        const int label = labels[static_cast<std::size_t>(a)];
        for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
            const Real value = sign * matrix(a, j);
            // Strict comparisons keep the first index among ties, as torch.max / min do.
            if (referenceLabels[static_cast<std::size_t>(j)] == label) {
                if (positive < 0 || value > farthest) {
                    positive = static_cast<int>(j);
                    farthest = value;
                }
            } else if (negative < 0 || value < nearest) {
                negative = static_cast<int>(j);
                nearest = value;
            }
        }
        if (positive >= 0 && negative >= 0) out.push_back({static_cast<int>(a), positive, negative});
    }
    return Tuples::fromTriplets(std::move(out));
}

}  // namespace marginlab

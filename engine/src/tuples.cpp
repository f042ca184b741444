// SPDX-License-Identifier: MIT
#include "marginlab/tuples.h"

namespace marginlab {

std::vector<Pair> allPositivePairs(const Labels& labels) {
    std::vector<Pair> out;
    const int n = static_cast<int>(labels.size());
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p)
            if (a != p && labels[a] == labels[p]) out.push_back({a, p});
    return out;
}

std::vector<Pair> allNegativePairs(const Labels& labels) {
    std::vector<Pair> out;
    const int n = static_cast<int>(labels.size());
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b)
            if (labels[a] != labels[b]) out.push_back({a, b});
    return out;
}

std::vector<Triplet> materializeTriplets(const Tuples& tuples, const Points& embeddings, const Labels& labels) {
    switch (tuples.kind) {
    case Tuples::Kind::Triplets:
        return tuples.triplets;
    case Tuples::Kind::Pairs: {
        std::vector<Triplet> out;
        for (const Pair& pos : tuples.positivePairs)
            for (const Pair& neg : tuples.negativePairs)
                if (pos[0] == neg[0]) out.push_back({pos[0], pos[1], neg[1]});
        return out;
    }
    case Tuples::Kind::All:
        break;
    }
    std::optional<SelfDistance> distance;
    if (tuples.filter) distance.emplace(tuples.filter->distance, embeddings);
    const int n = static_cast<int>(labels.size());
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p) {
            if (a == p || labels[a] != labels[p]) continue;
            for (int q = 0; q < n; ++q) {
                if (labels[q] == labels[a]) continue;
                if (distance) {
                    const Real sign = tuples.filter->distance.orderSign();
                    const Real gap = sign * (distance->matrix()(a, q) - distance->matrix()(a, p));
                    if (!tuples.filter->keeps(gap)) continue;
                }
                out.push_back({a, p, q});
            }
        }
    return out;
}

void materializePairs(const Tuples& tuples, const Points& embeddings, const Labels& labels,
                      std::vector<Pair>* positives, std::vector<Pair>* negatives) {
    positives->clear();
    negatives->clear();
    if (tuples.kind == Tuples::Kind::Pairs) {
        *positives = tuples.positivePairs;
        *negatives = tuples.negativePairs;
        return;
    }
    if (tuples.kind == Tuples::Kind::All && !tuples.filter) {
        *positives = allPositivePairs(labels);
        *negatives = allNegativePairs(labels);
        return;
    }
    for (const Triplet& t : materializeTriplets(tuples, embeddings, labels)) {
        positives->push_back({t[0], t[1]});
        negatives->push_back({t[0], t[2]});
    }
}

void allReferencePairs(const Labels& labels, const Labels& referenceLabels, std::vector<Pair>* positives,
                       std::vector<Pair>* negatives) {
    positives->clear();
    negatives->clear();
    const int n = static_cast<int>(labels.size());
    const int m = static_cast<int>(referenceLabels.size());
    for (int a = 0; a < n; ++a)
        for (int j = 0; j < m; ++j) {
            if (labels[static_cast<std::size_t>(a)] == referenceLabels[static_cast<std::size_t>(j)])
                positives->push_back({a, j});
            else
                negatives->push_back({a, j});
        }
}

std::vector<Triplet> materializeReferenceTriplets(const Tuples& tuples, const Points& embeddings,
                                                  const Labels& labels, const Points& reference,
                                                  const Labels& referenceLabels) {
    if (tuples.kind != Tuples::Kind::All) return materializeTriplets(tuples, embeddings, labels);
    std::optional<CrossDistance> distance;
    if (tuples.filter) distance.emplace(tuples.filter->distance, embeddings, reference);
    const int n = static_cast<int>(labels.size());
    const int m = static_cast<int>(referenceLabels.size());
    std::vector<Triplet> out;
    for (int a = 0; a < n; ++a) {
        const int label = labels[static_cast<std::size_t>(a)];
        for (int p = 0; p < m; ++p) {
            if (referenceLabels[static_cast<std::size_t>(p)] != label) continue;
            for (int q = 0; q < m; ++q) {
                if (referenceLabels[static_cast<std::size_t>(q)] == label) continue;
                if (distance) {
                    const Real sign = tuples.filter->distance.orderSign();
                    const Real gap = sign * (distance->matrix()(a, q) - distance->matrix()(a, p));
                    if (!tuples.filter->keeps(gap)) continue;
                }
                out.push_back({a, p, q});
            }
        }
    }
    return out;
}

void materializeReferencePairs(const Tuples& tuples, const Points& embeddings, const Labels& labels,
                               const Points& reference, const Labels& referenceLabels,
                               std::vector<Pair>* positives, std::vector<Pair>* negatives) {
    positives->clear();
    negatives->clear();
    if (tuples.kind == Tuples::Kind::Pairs) {
        *positives = tuples.positivePairs;
        *negatives = tuples.negativePairs;
        return;
    }
    if (tuples.kind == Tuples::Kind::All && !tuples.filter)
        return allReferencePairs(labels, referenceLabels, positives, negatives);
    for (const Triplet& t :
         materializeReferenceTriplets(tuples, embeddings, labels, reference, referenceLabels)) {
        positives->push_back({t[0], t[1]});
        negatives->push_back({t[0], t[2]});
    }
}

}  // namespace marginlab

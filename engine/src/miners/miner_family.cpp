// SPDX-License-Identifier: MIT
#include "catalog_parts.h"
#include "marginlab/miners/angular.h"
#include "marginlab/miners/batch_easy_hard.h"
#include "marginlab/miners/batch_hard.h"
#include "marginlab/miners/distance_weighted.h"
#include "marginlab/miners/facenet_semihard.h"
#include "marginlab/miners/hdc.h"
#include "marginlab/miners/multi_similarity.h"
#include "marginlab/miners/pair_margin.h"
#include "marginlab/miners/random_negative.h"
#include "marginlab/miners/tfa_semihard.h"
#include "marginlab/miners/triplet_margin.h"
#include "marginlab/miners/uniform_histogram.h"

namespace marginlab::detail {

std::vector<MinerInfo> allMiners() {
    const DistanceSpec euclidean = DistanceSpec::lp(1, true);  // PML's default miner distance
    std::vector<MinerInfo> out;

    out.push_back({"triplet_margin", "Triplet margin", "TripletMarginMiner",
                   "Keeps the triplets whose gap δ_an − δ_ap is ≤ margin (all), ≤ min(margin, 0) (hard), in "
                   "(0, margin] (semihard) or > margin (easy).",
                   {numberParam("margin", 0.2, -10.0, 10.0, "Gap threshold m on δ_an − δ_ap."),
                    choiceParam("type_of_triplets", {"all", "hard", "semihard", "easy"}, 0,
                           "Which triplets to keep: all margin violators, hard (gap ≤ 0), semihard (0 < gap ≤ m) or easy (gap > m).")},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<TripletMarginMiner>(
                           p.number("margin"), *TripletMarginMiner::typeFromName(p.choice("type_of_triplets")), d);
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"batch_hard", "Batch hard", "BatchHardMiner",
                   "Keeps one triplet per anchor: its farthest positive and its nearest negative.",
                   {},
                   euclidean,
                   [](const ParamValues&, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<BatchHardMiner>(d);
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"batch_easy_hard", "Batch easy-hard", "BatchEasyHardMiner",
                   "Keeps one triplet per anchor: the easiest (nearest) or hardest positive, with the nearest "
                   "negative strictly farther than it (semihard), the nearest (hard) or the farthest (easy) negative.",
                   {choiceParam("pos_strategy", {"easy", "hard"}, 0, "Positive per anchor: easy = nearest, hard = farthest."),
                    choiceParam("neg_strategy", {"semihard", "hard", "easy"}, 0,
                           "Negative per anchor: semihard = nearest negative strictly farther than the positive, "
                           "hard = nearest, easy = farthest.")},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<BatchEasyHardMiner>(
                           *BatchEasyHardMiner::positiveFromName(p.choice("pos_strategy")),
                           *BatchEasyHardMiner::negativeFromName(p.choice("neg_strategy")), d);
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"multi_similarity", "Multi-similarity", "MultiSimilarityMiner",
                   "Keeps the positive pairs less similar than the anchor's most similar negative plus epsilon and "
                   "the negative pairs more similar than its least similar positive minus epsilon.",
                   {numberParam("epsilon", 0.1, 0.0, 10.0, "Slack ε in the two pair conditions.")},
                   DistanceSpec::cosine(),
                   [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<MultiSimilarityMiner>(p.number("epsilon"), d);
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"pair_margin", "Pair margin", "PairMarginMiner",
                   "Keeps the positive pairs farther than pos_margin and the negative pairs closer than neg_margin "
                   "(for a similarity: less similar than pos_margin, more similar than neg_margin).",
                   {numberParam("pos_margin", 0.2, -10.0, 10.0, "Positive pairs beyond this value of the distance are kept."),
                    numberParam("neg_margin", 0.8, -10.0, 10.0, "Negative pairs within this value of the distance are kept.")},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<PairMarginMiner>(p.number("pos_margin"), p.number("neg_margin"), d);
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"distance_weighted", "Distance weighted", "DistanceWeightedMiner",
                   "Keeps, for every positive pair, one negative drawn with probability proportional to the inverse "
                   "density of its distance on the unit sphere (always normalized L2).",
                   {numberParam("cutoff", 0.5, 0.0, 2.0, "Distances below this are raised to it before weighting."),
                    numberParam("nonzero_loss_cutoff", 1.4, 0.0, 4.0, "Negatives at or beyond this distance get weight 0.")},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Miner> {
                       return std::make_unique<DistanceWeightedMiner>(p.number("cutoff"), p.number("nonzero_loss_cutoff"));
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"facenet_semihard", "FaceNet semi-hard", "",
                   "Keeps, for every positive pair, one random negative farther than the positive but within the "
                   "margin of it; pairs without such a negative are dropped.",
                   {numberParam("margin", 0.2, 0.0, 10.0, "Width of the semi-hard band δ_ap < δ_an < δ_ap + margin.")},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<FaceNetSemiHardMiner>(p.number("margin"), d);
                   }});
    out.back().semiHardRule = SemiHardRule::FaceNet;

    out.push_back({"tfa_semihard", "TF-Addons semi-hard", "",
                   "Keeps, for every positive pair, the nearest negative strictly farther than the positive, or the "
                   "farthest negative if there is none.",
                   {},
                   euclidean,
                   [](const ParamValues&, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<TfaSemiHardMiner>(d);
                   }});
    out.back().semiHardRule = SemiHardRule::TfAddons;

    out.push_back({"random_negative", "Random negative", "",
                   "Keeps, for every positive pair, one negative chosen uniformly at random.",
                   {},
                   euclidean,
                   [](const ParamValues&, const DistanceSpec&) -> std::unique_ptr<Miner> {
                       return std::make_unique<RandomNegativeMiner>();
                   }});
    out.push_back({"angular", "Angular", "AngularMiner",
                   "Keeps the triplets whose negative sees the anchor-positive segment under an angle "
                   "atan(||x_a - x_p|| / (2 ||x_n - (x_a + x_p)/2||)) larger than `angle` (raw embeddings).",
                   {numberParam("angle", 20.0, 0.0, 90.0, "Threshold angle in degrees.")},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Miner> {
                       return std::make_unique<AngularMiner>(p.number("angle"));
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"hdc", "Hard-aware cascaded (HDC)", "HDCMiner",
                   "Keeps the hardest filter_percentage of the positive pairs (farthest) and of the negative pairs "
                   "(nearest), each kind on its own.",
                   {numberParam("filter_percentage", 0.5, 0.0, 1.0, "Fraction of each kind of pair to keep (rounded up).")},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<HdcMiner>(p.number("filter_percentage"), d);
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does

    out.push_back({"uniform_histogram", "Uniform histogram", "UniformHistogramMiner",
                   "Cuts the range of the positive (and of the negative) pair distances into num_bins equal bins and "
                   "draws pos_per_bin (neg_per_bin) pairs with replacement from every non-empty bin.",
                   {numberParam("num_bins", 100, 1, 100000, "Number of equal-width bins per kind of pair.", ParamType::Integer),
                    numberParam("pos_per_bin", 10, 0, 100000, "Positive pairs drawn per non-empty bin.", ParamType::Integer),
                    numberParam("neg_per_bin", 10, 0, 100000, "Negative pairs drawn per non-empty bin.", ParamType::Integer)},
                   euclidean,
                   [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Miner> {
                       return std::make_unique<UniformHistogramMiner>(static_cast<int>(p.number("num_bins")),
                                                                      static_cast<int>(p.number("pos_per_bin")),
                                                                      static_cast<int>(p.number("neg_per_bin")), d);
                   }});
    out.back().acceptsReference = true;  // mines against ref_emb as PML's does
    return out;
}

}  // namespace marginlab::detail

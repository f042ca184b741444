// SPDX-License-Identifier: MIT
// Catalogue part: the pair-based losses (lifted structure, generalized lifted structure, circle,
// multi-similarity) and two sampling-free/sampled contrastive losses from the literature
// (soft nearest neighbor, NCE).
#include "catalog_parts.h"

#include "marginlab/losses/circle.h"
#include "marginlab/losses/generalized_lifted_structure.h"
#include "marginlab/losses/lifted_structure.h"
#include "marginlab/losses/multi_similarity.h"
#include "marginlab/losses/nce.h"
#include "marginlab/losses/soft_nearest_neighbor.h"

namespace marginlab::detail {

std::vector<LossInfo> pairFamilyLosses() {
    std::vector<LossInfo> losses;

    {
        LossInfo info;
        info.name = "lifted_structure";
        info.displayName = "Lifted structure";
        info.family = LossFamily::PairBased;
        info.pmlName = "LiftedStructureLoss";
        info.formula = "mean over ordered positive pairs (a,p) of relu(log(sum_{n in N(a)} e^(mn - d_an) + "
                       "sum_{n in N(p)} e^(mn - d_pn)) + d_ap - mp)^2 / 2";
        info.params = {numberParam("neg_margin", 1.0, -10.0, 10.0, "mn: negatives closer than this are penalized"),
                       numberParam("pos_margin", 0.0, -10.0, 10.0, "mp: positives farther than this are penalized")};
        info.defaultDistance = DistanceSpec::lp(1, true);
        info.distanceConfigurable = true;
        info.acceptsReference = true;
        info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
            return std::make_unique<LiftedStructureLoss>(p.number("neg_margin"), p.number("pos_margin"), d);
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "generalized_lifted_structure";
        info.displayName = "Generalized lifted structure";
        info.family = LossFamily::PairBased;
        info.pmlName = "GeneralizedLiftedStructureLoss";
        info.formula = "mean over anchors i of relu(LSE_{p in P(i)}(d_ip - mp) + LSE_{n in N(i)}(mn - d_in)), "
                       "LSE of an empty set = 0";
        info.params = {numberParam("neg_margin", 1.0, -10.0, 10.0, "mn: negatives closer than this are penalized"),
                       numberParam("pos_margin", 0.0, -10.0, 10.0, "mp: positives farther than this are penalized")};
        info.defaultDistance = DistanceSpec::lp(1, true);
        info.distanceConfigurable = true;
        info.acceptsReference = true;
        info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
            return std::make_unique<GeneralizedLiftedStructureLoss>(p.number("neg_margin"), p.number("pos_margin"), d);
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "circle";
        info.displayName = "Circle";
        info.family = LossFamily::PairBased;
        info.pmlName = "CircleLoss";
        info.formula = "mean over anchors with l_i > 0 of l_i = softplus(LSE_p(-g a_p (s_ip - 1 + m)) + "
                       "LSE_n(g a_n (s_in - m))), a_p = relu(1 + m - s_ip), a_n = relu(s_in + m) (a detached)";
        info.params = {numberParam("m", 0.4, 0.0, 1.0, "relaxation: optima 1+m / -m, decision margins 1-m / m"),
                       numberParam("gamma", 80.0, 1e-3, 1e4, "scale factor")};
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = false;
        info.acceptsReference = true;
        info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<CircleLoss>(p.number("m"), p.number("gamma"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "multi_similarity";
        info.displayName = "Multi-similarity";
        info.family = LossFamily::PairBased;
        info.pmlName = "MultiSimilarityLoss";
        info.formula = "mean over anchors of (1/alpha) log(1 + sum_{p in P(i)} e^(-alpha (s_ip - base))) + "
                       "(1/beta) log(1 + sum_{n in N(i)} e^(beta (s_in - base)))";
        info.params = {numberParam("alpha", 2.0, 1e-3, 1e3, "weight of the positive pairs"),
                       numberParam("beta", 50.0, 1e-3, 1e3, "weight of the negative pairs"),
                       numberParam("base", 0.5, -1.0, 1.0, "similarity threshold lambda")};
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = false;
        info.acceptsMiner = true;
        info.acceptsReference = true;
        info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<MultiSimilarityLoss>(p.number("alpha"), p.number("beta"), p.number("base"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "soft_nearest_neighbor";
        info.displayName = "Soft nearest neighbor";
        info.family = LossFamily::Contrastive;
        info.formula = "mean over anchors with a positive of -log(sum_{j!=i, y_j=y_i} e^(-d_ij/T) / "
                       "sum_{k!=i} e^(-d_ik/T))";
        info.params = {numberParam("temperature", 1.0, 1e-4, 1e4, "T: softness of the neighbor selection")};
        info.defaultDistance = DistanceSpec::lp(2, false);
        info.distanceConfigurable = true;
        info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
            return std::make_unique<SoftNearestNeighborLoss>(p.number("temperature"), d);
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "nce";
        info.displayName = "NCE (sampled negatives)";
        info.family = LossFamily::Contrastive;
        info.formula = "mean over ordered positive pairs of -log sigmoid(s_ap/tau) - sum_{k=1..K} "
                       "log sigmoid(-s_{a n_k}/tau), n_k drawn uniformly from N(a)";
        ParamInfo negatives;
        negatives.name = "num_negatives";
        negatives.type = ParamType::Integer;
        negatives.defaultValue = 5;
        negatives.minValue = 1;
        negatives.maxValue = 1000;
        negatives.description = "K: noise samples per positive pair (with replacement)";
        info.params = {numberParam("temperature", 0.1, 1e-4, 1e4, "tau: similarities are divided by it"),
                       std::move(negatives)};
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = false;
        info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<NoiseContrastiveEstimationLoss>(p.number("temperature"),
                                                                    static_cast<int>(p.number("num_negatives")));
        };
        losses.push_back(std::move(info));
    }
    return losses;
}

}  // namespace marginlab::detail

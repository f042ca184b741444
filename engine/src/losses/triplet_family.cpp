// SPDX-License-Identifier: MIT
#include "catalog_parts.h"
#include "marginlab/losses/centroid_triplet.h"
#include "marginlab/losses/contrastive.h"
#include "marginlab/losses/contrastive_hadsell.h"
#include "marginlab/losses/triplet_margin.h"

namespace marginlab::detail {

namespace {

ParamInfo reducer() {
    return choiceParam("reducer", {"avg_non_zero", "mean"}, 0,
                       "avg_non_zero: average over the non-zero terms (PML's AvgNonZeroReducer); "
                       "mean: average over all terms (MeanReducer)");
}

bool averagesNonZero(const ParamValues& params) { return params.choice("reducer") == "avg_non_zero"; }

LossInfo tripletMargin() {
    LossInfo info;
    info.name = "triplet_margin";
    info.displayName = "Triplet margin";
    info.family = LossFamily::TripletBased;
    info.pmlName = "TripletMarginLoss";
    info.formula = "mean over triplets with t > 0 of t = relu(d_ap - d_an + margin)";
    info.params = {
        numberParam("margin", 0.05, 0.0, 100.0, "required gap between d_an and d_ap"),
        flagParam("swap", false, "use min(d_an, d_pn) as the negative distance"),
        flagParam("smooth_loss", false, "softplus instead of relu"),
        reducer(),
    };
    info.defaultDistance = DistanceSpec::lp(1, true);
    info.distanceConfigurable = true;
    info.acceptsMiner = true;
    info.acceptsReference = true;
    info.tripletMarginParam = "margin";
    info.create = [](const ParamValues& params, const DistanceSpec& distance) -> std::unique_ptr<Loss> {
        TripletMarginLoss::Options options;
        options.margin = params.number("margin");
        options.swap = params.flag("swap");
        options.smoothLoss = params.flag("smooth_loss");
        options.reduction = averagesNonZero(params) ? TripletMarginLoss::Reduction::AverageNonZero
                                                    : TripletMarginLoss::Reduction::Mean;
        return std::make_unique<TripletMarginLoss>(options, distance);
    };
    return info;
}

LossInfo contrastive() {
    LossInfo info;
    info.name = "contrastive";
    info.displayName = "Contrastive";
    info.family = LossFamily::PairBased;
    info.pmlName = "ContrastiveLoss";
    info.formula = "avg_nonzero(relu(d_ap - pos_margin)) + avg_nonzero(relu(neg_margin - d_an))";
    info.params = {
        numberParam("pos_margin", 0.0, -100.0, 100.0, "positive pairs are penalized beyond this distance"),
        numberParam("neg_margin", 1.0, -100.0, 100.0, "negative pairs are penalized within this distance"),
        reducer(),
    };
    info.defaultDistance = DistanceSpec::lp(1, true);
    info.distanceConfigurable = true;
    info.acceptsMiner = true;
    info.acceptsReference = true;
    info.create = [](const ParamValues& params, const DistanceSpec& distance) -> std::unique_ptr<Loss> {
        ContrastiveLoss::Options options;
        options.positiveMargin = params.number("pos_margin");
        options.negativeMargin = params.number("neg_margin");
        options.reduction = averagesNonZero(params) ? ContrastiveLoss::Reduction::AverageNonZero
                                                    : ContrastiveLoss::Reduction::Mean;
        return std::make_unique<ContrastiveLoss>(options, distance);
    };
    return info;
}

LossInfo contrastiveHadsell() {
    LossInfo info;
    info.name = "contrastive_hadsell";
    info.displayName = "Contrastive (Hadsell 2006)";
    info.family = LossFamily::PairBased;
    info.formula = "mean over pairs i<j of (y_i = y_j ? d^2/2 : max(0, margin - d)^2/2)";
    info.params = {
        numberParam("margin", 1.0, 0.0, 100.0, "negative pairs are pushed to at least this distance"),
        flagParam("normalize", false, "measure distances between L2-normalized embeddings"),
    };
    info.defaultDistance = DistanceSpec::lp(1, false);
    info.distanceConfigurable = false;
    info.acceptsMiner = false;
    info.create = [](const ParamValues& params, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<HadsellContrastiveLoss>(params.number("margin"), params.flag("normalize"));
    };
    return info;
}

LossInfo centroidTriplet() {
    LossInfo info;
    info.name = "centroid_triplet";
    info.displayName = "Centroid triplet (upper bound)";
    info.family = LossFamily::TripletBased;
    info.formula = "mean_i ||x_i - c_{y_i}|| - 1/(3(C-1)) sum_{m != y_i} ||x_i - c_m||, c_m = batch class means";
    info.params = {
        flagParam("normalize", false, "L2-normalize the embeddings before taking class means"),
    };
    info.defaultDistance = DistanceSpec::lp(1, false);
    info.distanceConfigurable = false;
    info.acceptsMiner = false;
    info.create = [](const ParamValues& params, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<CentroidTripletLoss>(params.flag("normalize"));
    };
    return info;
}

}  // namespace

std::vector<LossInfo> tripletFamilyLosses() {
    return {tripletMargin(), centroidTriplet(), contrastive(), contrastiveHadsell()};
}

}  // namespace marginlab::detail

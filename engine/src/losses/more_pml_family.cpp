// SPDX-License-Identifier: MIT
// Catalogue part: the rest of pytorch-metric-learning's catalogue. Each entry names its family;
// the catalogue places it after the other losses of that family.
//
// Owned-parameter layouts (LossInfo::ownedBlocks blocks of C rows):
//   margin_learn_beta   1 block, β_c in column 0 of row c (other columns unused, zero gradient);
//                       starts at β_c = beta, the other columns at 0 (LossInfo::initialOwned)
//   subcenter_arcface   3 blocks, row k·C + c = sub-center k of class c (PML's column c·K + k)
//   soft_triple        10 blocks, row k·C + c = center k of class c (PML's column c·K + k)
//   p2sgrad             1 block, row c = class weight (PML's `weight` column c)
// The block count is fixed per entry (PML's sub_centers / centers_per_class defaults), since it
// belongs to the catalogue entry rather than to a parameter value.
//
// PML losses not offered, and why:
//   DynamicSoftMarginLoss  keeps a running histogram across calls (momentum): its value depends
//                          on every earlier batch, while Loss::evaluate() is a pure function of
//                          one batch; it would need state held by the Trainer.
//   ManifoldLoss           owns K = 50 unlabelled proxies (not one block per class, so not the
//                          owned C-row convention) and inverts an (N+K)² random-walk matrix.
//   VICRegLoss, SelfSupervisedLoss
//                          need two augmented views of every sample: free points have none.
//   CrossBatchMemory (a wrapper) is not built yet (see omittedPmlClasses()); MultipleLosses is
//                          in wrapper_family.cpp.
//   ThresholdConsistentMarginLoss is offered as its TCM term alone (see its header).
#include "catalog_parts.h"
#include "marginlab/losses/centroid_triplet_pml.h"
#include "marginlab/losses/fast_ap.h"
#include "marginlab/losses/histogram.h"
#include "marginlab/losses/instance.h"
#include "marginlab/losses/intra_pair_variance.h"
#include "marginlab/losses/margin.h"
#include "marginlab/losses/nca.h"
#include "marginlab/losses/p2sgrad.h"
#include "marginlab/losses/pnp.h"
#include "marginlab/losses/ranked_list.h"
#include "marginlab/losses/snr_contrastive.h"
#include "marginlab/losses/soft_triple.h"
#include "marginlab/losses/subcenter_arcface.h"
#include "marginlab/losses/threshold_consistent_margin.h"
#include "marginlab/losses/tuplet_margin.h"

namespace marginlab::detail {

namespace {

LossPicture pictureOf(LossPicture::Kind kind) {
    LossPicture picture;
    picture.kind = kind;
    return picture;
}

LossInfo margin(bool learnBeta) {
    LossInfo info;
    info.name = learnBeta ? "margin_learn_beta" : "margin";
    info.displayName = learnBeta ? "Margin (learned per-class beta)" : "Margin";
    info.family = LossFamily::TripletBased;
    info.pmlName = "MarginLoss";
    info.formula =
        learnBeta
            ? "(sum over triplets of relu(d_ap - beta_y + margin) + relu(beta_y - d_an + margin) + nu*beta_y)"
              " / #(non-zero relu terms); beta_c = column 0 of the owned C x D block"
            : "sum over triplets of relu(d_ap - beta + margin) + relu(beta - d_an + margin), divided by "
              "the number of non-zero relu terms";
    info.params = {
        numberParam("margin", 0.2, -10.0, 10.0, "half-width of the band around beta that pairs must clear")};
    if (learnBeta) {
        info.params.push_back(
            numberParam("nu", 0.0, 0.0, 100.0,
                        "weight of the beta regularizer nu * beta_y per triplet (learn_beta=True)"));
        info.params.push_back(numberParam("beta", 1.2, -10.0, 10.0,
                                          "initial value of every class's learned beta (PML's beta)"));
        info.ownedBlocks = 1;
        info.regions = ClassRegions::NearestCentroid;
        // PML: self.beta = Parameter(torch.ones(num_classes) * beta). The unused columns start at 0.
        info.initialOwned = [](const ParamValues& p, Points& owned) {
            owned.setZero();
            owned.col(0).setConstant(p.number("beta"));
        };
    } else {
        info.params.push_back(numberParam("beta", 1.2, -10.0, 10.0,
                                          "boundary between positive and negative distances (fixed)"));
    }
    if (learnBeta) info.ownedLayout = OwnedLayout::ClassScalars;
    info.distanceBand = [learnBeta](const ParamValues& p) -> std::optional<DistanceBand> {
        return DistanceBand{p.number("beta"), p.number("margin"), learnBeta};
    };
    info.defaultDistance = DistanceSpec::lp(1, true);
    info.distanceConfigurable = true;
    info.acceptsMiner = true;
    info.acceptsReference = true;
    info.create = [learnBeta](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
        MarginLoss::Options options;
        options.margin = p.number("margin");
        options.learnBeta = learnBeta;
        if (learnBeta)
            options.nu = p.number("nu");
        else
            options.beta = p.number("beta");
        return std::make_unique<MarginLoss>(options, d);
    };
    return info;
}

LossInfo tupletMargin() {
    LossInfo info;
    info.name = "tuplet_margin";
    info.picture = [](const ParamValues&, const DistanceSpec&) {
        LossPicture picture;
        picture.kind = LossPicture::Kind::PairHistograms;
        picture.angles = true;
        return picture;
    };
    info.displayName = "Tuplet margin";
    info.family = LossFamily::PairBased;
    info.pmlName = "TupletMarginLoss";
    info.formula =
        "mean over positive pairs (a,p) of log(1 + sum_{n in N(a)} exp(scale*(s_an - cos(acos(s_ap) - "
        "margin))))";
    info.params = {numberParam("margin", 5.73, -90.0, 90.0,
                               "angular margin in degrees subtracted from the positive angle"),
                   numberParam("scale", 64.0, 0.0, 1000.0, "multiplier of the similarity differences")};
    info.defaultDistance = DistanceSpec::cosine();
    info.acceptsMiner = true;
    info.acceptsReference = true;
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<TupletMarginLoss>(p.number("margin"), p.number("scale"));
    };
    return info;
}

LossInfo nca() {
    LossInfo info;
    info.name = "nca";
    info.picture = [](const ParamValues& p, const DistanceSpec&) {
        LossPicture picture;
        picture.kind = LossPicture::Kind::SoftNeighbours;
        picture.softmaxScale = p.number("softmax_scale");
        return picture;
    };
    info.displayName = "NCA";
    info.family = LossFamily::PairBased;
    info.pmlName = "NCALoss";
    info.formula =
        "mean over points with classmates of -log sum_{j != i, y_j = y_i} softmax_{j != i}(-softmax_scale * "
        "d_ij)";
    info.params = {
        numberParam("softmax_scale", 1.0, 0.0, 1000.0, "multiplier of the negated distances in the softmax")};
    info.defaultDistance = DistanceSpec::lp(2, true);
    info.distanceConfigurable = true;
    info.acceptsReference = true;
    info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
        return std::make_unique<NcaLoss>(p.number("softmax_scale"), d);
    };
    return info;
}

LossInfo snrContrastive() {
    LossInfo info;
    info.name = "snr_contrastive";
    info.picture = [](const ParamValues& p, const DistanceSpec&) {
        LossPicture picture;
        picture.kind = LossPicture::Kind::SnrPair;
        picture.snrNormalize = p.flag("normalize");
        return picture;
    };
    info.displayName = "Signal-to-noise ratio contrastive";
    info.family = LossFamily::PairBased;
    info.pmlName = "SignalToNoiseRatioContrastiveLoss";
    info.formula =
        "avg_nonzero(relu(SNR_ap - pos_margin)) + avg_nonzero(relu(neg_margin - SNR_an)), "
        "SNR_ij = var(e_i - e_j) / var(e_i)";
    info.params = {
        numberParam("pos_margin", 0.0, -100.0, 100.0, "positive pairs are penalized beyond this SNR"),
        numberParam("neg_margin", 1.0, -100.0, 100.0, "negative pairs are penalized below this SNR"),
        numberParam("regularizer_weight", 0.0, 0.0, 100.0,
                    "weight of PML's ZeroMeanRegularizer mean_i |sum_d x_id| (0: none, PML's default)"),
        flagParam("normalize", true, "SNRDistance(normalize_embeddings): L2-normalize the embeddings first")};
    info.defaultDistance =
        DistanceSpec::lp(1, true);  // stands for SNRDistance, which DistanceSpec cannot name
    info.acceptsMiner = true;
    info.acceptsReference = true;
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<SnrContrastiveLoss>(p.number("pos_margin"), p.number("neg_margin"),
                                                    p.number("regularizer_weight"), p.flag("normalize"));
    };
    return info;
}

LossInfo intraPairVariance() {
    LossInfo info;
    info.name = "intra_pair_variance";
    info.picture = [](const ParamValues& p, const DistanceSpec& d) {
        // Similarities: positives below (1 − pos_eps)·μ⁺ and negatives above (1 + neg_eps)·μ⁻ pay;
        // distances: the mirror image.
        const Real sign = d.isSimilarity() ? 1.0 : -1.0;
        LossPicture picture;
        picture.kind = LossPicture::Kind::PairHistograms;
        picture.thresholds = {{"pos_eps", 1.0 - sign * p.number("pos_eps"), true, true},
                              {"neg_eps", 1.0 + sign * p.number("neg_eps"), false, true}};
        return picture;
    };
    info.displayName = "Intra-pair variance";
    info.family = LossFamily::PairBased;
    info.pmlName = "IntraPairVarianceLoss";
    info.formula =
        "mean_P relu((1 - pos_eps) mean_P(s) - s_ap)^2 + mean_N relu(s_an - (1 + neg_eps) mean_N(s))^2";
    info.params = {numberParam("pos_eps", 0.01, -10.0, 10.0, "slack below the mean positive similarity"),
                   numberParam("neg_eps", 0.01, -10.0, 10.0, "slack above the mean negative similarity")};
    info.defaultDistance = DistanceSpec::cosine();
    info.distanceConfigurable = true;
    info.acceptsMiner = true;
    info.acceptsReference = true;
    info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
        return std::make_unique<IntraPairVarianceLoss>(p.number("pos_eps"), p.number("neg_eps"), d);
    };
    return info;
}

LossInfo histogram() {
    LossInfo info;
    info.name = "histogram";
    info.picture = [](const ParamValues&, const DistanceSpec&) {
        return pictureOf(LossPicture::Kind::PairHistograms);
    };
    info.displayName = "Histogram";
    info.family = LossFamily::PairBased;
    info.pmlName = "HistogramLoss";
    info.formula =
        "sum_r h_neg[r] * cumsum(h_pos)[r], h = linearly interpolated histograms of the cosine "
        "similarities of unordered pairs on n_bins + 1 nodes over [-1, 1]";
    info.params = {numberParam("n_bins", 100, 1, 100000, "number of bins (PML's delta = 2 / n_bins)",
                               ParamType::Integer)};
    info.defaultDistance = DistanceSpec::cosine();
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<HistogramLoss>(static_cast<int>(p.number("n_bins")));
    };
    return info;
}

LossInfo instance() {
    LossInfo info;
    info.name = "instance";
    info.displayName = "Instance";
    info.family = LossFamily::Contrastive;
    info.pmlName = "InstanceLoss";
    info.formula =
        "mean_i CE(gamma * s_i., k_i), k_i = rank of y_i among the batch's labels (a sample index)";
    info.params = {numberParam("gamma", 64.0, 0.0, 1000.0, "scale of the cosine logits")};
    info.defaultDistance = DistanceSpec::cosine();
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<InstanceLoss>(p.number("gamma"));
    };
    return info;
}

LossInfo centroidTripletPml() {
    LossInfo info;
    info.name = "centroid_triplet_pml";
    info.displayName = "Centroid triplet (PML)";
    info.family = LossFamily::TripletBased;
    info.pmlName = "CentroidTripletLoss";
    info.formula =
        "avg_nonzero over (query q, leave-one-out centroid of its class, centroid of another class) "
        "of relu(d(q, c+) - d(q, c-) + margin)";
    info.params = {numberParam("margin", 0.05, 0.0, 100.0, "required gap between d(q, c-) and d(q, c+)"),
                   flagParam("swap", false, "use min(d(q, c-), d(c+, c-)) as the negative distance"),
                   flagParam("smooth_loss", false, "softplus instead of relu")};
    info.defaultDistance = DistanceSpec::lp(1, true);
    info.distanceConfigurable = true;
    info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
        PmlCentroidTripletLoss::Options options;
        options.margin = p.number("margin");
        options.swap = p.flag("swap");
        options.smoothLoss = p.flag("smooth_loss");
        return std::make_unique<PmlCentroidTripletLoss>(options, d);
    };
    return info;
}

LossInfo fastAp() {
    LossInfo info;
    info.name = "fast_ap";
    info.picture = [](const ParamValues&, const DistanceSpec&) {
        return pictureOf(LossPicture::Kind::RankedList);
    };
    info.displayName = "FastAP";
    info.family = LossFamily::PairBased;
    info.pmlName = "FastAPLoss";
    info.formula =
        "mean over anchors with positives of 1 - AP_i, AP from triangular-pulse histograms of the "
        "anchor's positive and negative distances on num_bins + 1 nodes over [0, 2^power]";
    info.params = {numberParam("num_bins", 10, 1, 100000, "number of histogram bins", ParamType::Integer)};
    info.defaultDistance = DistanceSpec::lp(2, true);
    info.distanceConfigurable = true;
    info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
        return std::make_unique<FastApLoss>(static_cast<int>(p.number("num_bins")), d);
    };
    return info;
}

LossInfo p2sGrad() {
    LossInfo info;
    info.name = "p2sgrad";
    info.displayName = "P2SGrad";
    info.family = LossFamily::Classification;
    info.pmlName = "P2SGradLoss";
    info.formula =
        "mean over samples and classes of (cos(x_i, w_c) - [c = y_i])^2; W renormalized outside the "
        "gradient";
    info.defaultDistance = DistanceSpec::cosine();
    info.ownedBlocks = 1;
    info.regions = ClassRegions::ClassWeights;
    info.create = [](const ParamValues&, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<P2SGradLoss>();
    };
    return info;
}

// PML's default number of centers per class; the owned block count belongs to the catalogue entry.
constexpr int kSoftTripleCenters = 10;

LossInfo softTriple() {
    LossInfo info;
    info.name = "soft_triple";
    info.displayName = "SoftTriple";
    info.family = LossFamily::Classification;
    info.pmlName = "SoftTripleLoss";
    info.formula =
        "mean_i CE(la * (S_i - margin [c = y_i]), y_i), S_ic = sum_k softmax_k(s_ick / gamma) s_ick over "
        "10 centers per class (row k*C + c)";
    info.params = {
        numberParam("la", 20.0, 0.0, 1000.0, "scale of the class logits (lambda)"),
        numberParam("gamma", 0.1, 1e-6, 100.0, "temperature of the soft assignment to a class's centers"),
        numberParam("margin", 0.01, -10.0, 10.0, "margin subtracted from the own class's similarity")};
    info.defaultDistance = DistanceSpec::cosine();
    info.ownedBlocks = kSoftTripleCenters;
    info.ownedLayout = OwnedLayout::CentersPerClass;
    info.regions = ClassRegions::ClassWeights;
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<SoftTripleLoss>(kSoftTripleCenters, p.number("la"), p.number("gamma"),
                                                p.number("margin"));
    };
    return info;
}

LossInfo rankedList() {
    LossInfo info;
    info.name = "ranked_list";
    info.picture = [](const ParamValues&, const DistanceSpec&) {
        return pictureOf(LossPicture::Kind::RankedList);
    };
    info.displayName = "Ranked list";
    info.family = LossFamily::PairBased;
    info.pmlName = "RankedListLoss";
    info.formula =
        "mean_i (1 - imbalance) wmean_{p: d_ip > alpha - margin}(d_ip - alpha + margin) + imbalance "
        "wmean_{n: 0 < d_in < alpha}(alpha - d_in), weights e^(Tp u), e^(Tn u)";
    info.params = {
        numberParam("margin", 0.4, 0.0, 100.0, "gap between the positive boundary alpha - margin and alpha"),
        numberParam("Tn", 10.0, 0.0, 1000.0, "temperature of the negative weights"),
        numberParam("imbalance", 0.5, 0.0, 1.0, "weight of the negative set (1 - imbalance: positive set)"),
        numberParam("alpha", 1.2, -100.0, 100.0,
                    "negative boundary (PML's alpha=None is 1 + margin/2, 1.2 for margin 0.4)"),
        numberParam("Tp", 0.0, 0.0, 1000.0, "temperature of the positive weights")};
    info.defaultDistance = DistanceSpec::lp(1, true);
    info.distanceConfigurable = true;
    info.create = [](const ParamValues& p, const DistanceSpec& d) -> std::unique_ptr<Loss> {
        RankedListLoss::Options options;
        options.margin = p.number("margin");
        options.negativeTemperature = p.number("Tn");
        options.imbalance = p.number("imbalance");
        options.alpha = p.number("alpha");
        options.positiveTemperature = p.number("Tp");
        return std::make_unique<RankedListLoss>(options, d);
    };
    return info;
}

LossInfo pnp() {
    LossInfo info;
    info.name = "pnp";
    info.picture = [](const ParamValues&, const DistanceSpec&) {
        return pictureOf(LossPicture::Kind::RankedList);
    };
    info.displayName = "PNP";
    info.family = LossFamily::PairBased;
    info.pmlName = "PNPLoss";
    info.formula = "(1/N) sum_i mean_{j: y_j = y_i} f(sum_{k: y_k != y_i} sigmoid((s_ik - s_ij) / anneal))";
    info.params = {numberParam("b", 2.0, 1e-6, 1000.0, "b of the Ib variant"),
                   numberParam("alpha", 1.0, 0.0, 100.0, "exponent of the Dq variant"),
                   numberParam("anneal", 0.01, 1e-6, 100.0, "temperature of the sigmoid rank"),
                   choiceParam("variant", {"Ds", "Dq", "Iu", "Ib", "O"}, 4,
                               "f(R): log(1+R) (Ds), (1+R)^-alpha (Dq, loss 1 - mean), (1+R)log(1+R) (Iu), "
                               "(bR - log(1+bR))/b^2 (Ib), R (O)")};
    info.defaultDistance = DistanceSpec::cosine();
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        const std::string& name = p.choice("variant");
        const PnpLoss::Variant variant = name == "Ds"   ? PnpLoss::Variant::Ds
                                         : name == "Dq" ? PnpLoss::Variant::Dq
                                         : name == "Iu" ? PnpLoss::Variant::Iu
                                         : name == "Ib" ? PnpLoss::Variant::Ib
                                                        : PnpLoss::Variant::O;
        return std::make_unique<PnpLoss>(p.number("b"), p.number("alpha"), p.number("anneal"), variant);
    };
    return info;
}

LossInfo thresholdConsistentMargin() {
    LossInfo info;
    info.name = "threshold_consistent_margin";
    info.picture = [](const ParamValues& p, const DistanceSpec&) {
        LossPicture picture;
        picture.kind = LossPicture::Kind::PairHistograms;
        picture.thresholds = {{"margin_plus", p.number("margin_plus"), true, false},
                              {"margin_minus", p.number("margin_minus"), false, false}};
        return picture;
    };
    info.displayName = "Threshold-consistent margin (TCM term)";
    info.family = LossFamily::PairBased;
    info.pmlName = "ThresholdConsistentMarginLoss";
    info.formula =
        "lambda_plus mean_{P: s <= margin_plus}(margin_plus - s) + lambda_minus mean_{N: s >= "
        "margin_minus}(s - margin_minus) (the TCM term without PML's base loss)";
    info.params = {
        numberParam("lambda_plus", 1.0, 0.0, 100.0, "weight of the positive term"),
        numberParam("lambda_minus", 1.0, 0.0, 100.0, "weight of the negative term"),
        numberParam("margin_plus", 0.9, -1.0, 1.0, "positive pairs less similar than this are penalized"),
        numberParam("margin_minus", 0.5, -1.0, 1.0, "negative pairs more similar than this are penalized")};
    info.defaultDistance = DistanceSpec::cosine();
    info.acceptsMiner = true;
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        ThresholdConsistentMarginLoss::Options options;
        options.lambdaPlus = p.number("lambda_plus");
        options.lambdaMinus = p.number("lambda_minus");
        options.marginPlus = p.number("margin_plus");
        options.marginMinus = p.number("margin_minus");
        return std::make_unique<ThresholdConsistentMarginLoss>(options);
    };
    return info;
}

// PML's default sub-center count; the owned block count belongs to the catalogue entry.
constexpr int kSubCenters = 3;

LossInfo subCenterArcFace() {
    LossInfo info;
    info.name = "subcenter_arcface";
    info.displayName = "Sub-center ArcFace";
    info.family = LossFamily::Classification;
    info.pmlName = "SubCenterArcFaceLoss";
    info.formula =
        "mean_i CE(s * [max_k cos(x_i, w_kc) for c != y_i; cos(theta_i + m) for c = y_i]), "
        "3 sub-centers per class, row k*C + c";
    info.params = {numberParam("margin", 28.6, 0.0, 90.0, "additive angular margin m in degrees"),
                   numberParam("scale", 64.0, 0.0, 1000.0, "logit scale s")};
    info.defaultDistance = DistanceSpec::cosine();
    info.ownedBlocks = kSubCenters;
    info.ownedLayout = OwnedLayout::CentersPerClass;
    info.regions = ClassRegions::ClassWeights;
    info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
        return std::make_unique<SubCenterArcFaceLoss>(p.number("margin"), p.number("scale"), kSubCenters);
    };
    return info;
}

}  // namespace

std::vector<LossInfo> morePmlLosses() {
    return {margin(false),
            margin(true),
            centroidTripletPml(),
            tupletMargin(),
            nca(),
            snrContrastive(),
            intraPairVariance(),
            histogram(),
            instance(),
            subCenterArcFace(),
            fastAp(),
            p2sGrad(),
            softTriple(),
            rankedList(),
            pnp(),
            thresholdConsistentMargin()};
}

}  // namespace marginlab::detail

// SPDX-License-Identifier: MIT
// The margin-softmax family: cross-entropy over logits made from the embeddings and an owned
// class-weight matrix W (C×D, one block: ownedBlocks = 1). No miner, mean over samples.
#include "catalog_parts.h"
#include "marginlab/losses/arcface.h"
#include "marginlab/losses/combined_margin.h"
#include "marginlab/losses/cosface.h"
#include "marginlab/losses/large_margin_softmax.h"
#include "marginlab/losses/normalized_softmax.h"
#include "marginlab/losses/softmax.h"
#include "marginlab/losses/sphereface.h"

#include <memory>

namespace marginlab::detail {

namespace {

// The scale half of every 2D preset (measured on 4 blobs of 30 points with Adam at 0.02: at s = 64
// 28 of the 120 samples have an exactly zero loss after 50 steps, at s = 16 none).
constexpr const char* kSoftScale =
    "Scale 16 instead of 64 keeps the softmax soft: at 64 many samples reach a probability of exactly 1 "
    "within a few dozen steps and stop moving, so the picture freezes.";

// Shared by every loss that scales cosine logits (PML's default 64 everywhere).
ParamInfo scaleParam(double defaultValue, const std::string& what) {
    std::string description = "Multiplies the " + what + " logits (default " +
                              (defaultValue == 1.0 ? std::string("1") : std::string("64")) + ", as in PML). ";
    if (defaultValue == 64.0)
        description +=
            "64 was chosen for 512-D face embeddings; in 2D/3D it makes the softmax almost a hard maximum "
            "(easy samples get ~0 gradient, the others a 64-times larger one), so training jumps: try 8 to 16.";
    else
        description +=
            "With scale 1 the logits are sharpened only by ‖x‖·‖w‖, so the loss can also fall by growing the "
            "norms: the gradient pushes correctly classified points (and the rows of W) outward, which in 2D "
            "shows as points drifting away from the origin.";
    return numberParam("scale", defaultValue, 1e-3, 1e3, description);
}

LossInfo classificationInfo(std::string name, std::string displayName, std::string pmlName, std::string formula,
                            DistanceSpec distance) {
    LossInfo info;
    info.name = std::move(name);
    info.displayName = std::move(displayName);
    info.family = LossFamily::Classification;
    info.pmlName = std::move(pmlName);
    info.formula = std::move(formula);
    info.defaultDistance = distance;
    info.distanceConfigurable = false;  // the logit definitions fix the similarity
    info.ownedBlocks = 1;
    info.acceptsMiner = false;
    info.regions = ClassRegions::ClassWeights;
    return info;
}

}  // namespace

std::vector<LossInfo> classificationFamilyLosses() {
    std::vector<LossInfo> losses;

    {
        LossInfo info = classificationInfo("softmax", "Softmax (linear classifier)", "",
                                           "L = mean_i CE(W x_i, y_i), logits w_c·x_i (no bias, no normalization)",
                                           DistanceSpec::dot(false));
        info.create = [](const ParamValues&, const DistanceSpec&) { return std::make_unique<SoftmaxLoss>(); };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info = classificationInfo("normalized_softmax", "Normalized softmax", "NormalizedSoftmaxLoss",
                                           "L = mean_i CE(cos(x_i, w_c) / T, y_i)", DistanceSpec::dot(true));
        info.params = {numberParam(
            "temperature", 0.05, 1e-4, 1e3,
            "Divides the cosine logits (PML default 0.05, i.e. a scale of 20). 0.05 behaves well in 2D; values "
            "much below it act like the scale 64 of CosFace/ArcFace: a nearly hard maximum and jumpy 2D training.")};
        info.create = [](const ParamValues& p, const DistanceSpec&) {
            return std::make_unique<NormalizedSoftmaxLoss>(p.number("temperature"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info = classificationInfo("cosface", "CosFace (additive cosine margin)", "CosFaceLoss",
                                           "L = mean_i CE(s·(cos θ_ic − m·[c = y_i]), y_i)", DistanceSpec::cosine());
        info.params = {
            numberParam("margin", 0.35, 0.0, 2.0,
                        "Subtracted from the target class cosine (PML default 0.35). In 2D, even with the class "
                        "directions spread evenly, a point on its own class direction beats the next class "
                        "(360°/C away) only if m < 1 − cos(360°/C): 0.35 cannot be satisfied with 8 or more "
                        "classes (10 classes need m < 0.19)."),
            scaleParam(64.0, "cosine")};
        info.create = [](const ParamValues& p, const DistanceSpec&) {
            return std::make_unique<CosFaceLoss>(p.number("margin"), p.number("scale"));
        };
        info.presets = {{"2D (up to 13 classes)",
                         {{{"margin", 0.1}, {"scale", 16.0}}, {}},
                         "In 2D the classes share one circle: a point on its own class direction beats the "
                         "next class by at most 1 − cos(360°/C) in cosine, so PML's margin 0.35 cannot be met "
                         "with 8 or more classes and the loss plateaus with samples in the margin band; 0.1 "
                         "fits up to 13. " + std::string(kSoftScale)}};
        losses.push_back(std::move(info));
    }
    {
        LossInfo info = classificationInfo(
            "arcface", "ArcFace (additive angular margin)", "ArcFaceLoss",
            "L = mean_i CE(s·(c = y_i ? cos(θ_i + m) : cos θ_ic), y_i); cos θ − m·sin m past θ = π − m",
            DistanceSpec::cosine());
        info.params = {
            numberParam("margin", 28.6, 0.0, 90.0,
                        "Angle added to the target class angle, in DEGREES (PML default 28.6° = 0.5 rad). In 2D a "
                        "class has at most 360°/C of the circle and the margin must fit inside it: 28.6° cannot be "
                        "satisfied with 13 or more classes, and with 10 classes it leaves only ±3.7° around each "
                        "class direction."),
            scaleParam(64.0, "cosine")};
        info.create = [](const ParamValues& p, const DistanceSpec&) {
            return std::make_unique<ArcFaceLoss>(p.number("margin"), p.number("scale"));
        };
        info.presets = {{"2D (up to 23 classes)",
                         {{{"margin", 15.0}, {"scale", 16.0}}, {}},
                         "In 2D a class has at most 360°/C of the circle and the angular margin must fit inside "
                         "it: the paper's 0.5 rad (28.6°) cannot be met with 13 or more classes and the loss "
                         "plateaus with samples in the margin band; 15° fits up to 23. " + std::string(kSoftScale)}};
        losses.push_back(std::move(info));
    }
    {
        LossInfo info = classificationInfo(
            "large_margin_softmax", "L-Softmax (large-margin softmax)", "LargeMarginSoftmaxLoss",
            "L = mean_i CE(s·‖x_i‖·‖w_c‖·(c = y_i ? (−1)^k cos(mθ_i) − 2k : cos θ_ic), y_i), k = ⌊mθ_i/π⌋",
            DistanceSpec::cosine());
        info.params = {
            numberParam("margin", 4, 1, 10,
                        "Integer angle multiplier m of the target class (PML default 4; 1 = plain softmax). With "
                        "equal norms a point must sit within 1/(m+1) of the angle to the next class: in 2D with 10 "
                        "classes m = 4 leaves ±7.2° around each class direction (the paper's annealing from plain "
                        "softmax is absent, as in PML).",
                        ParamType::Integer),
            scaleParam(1.0, "norm-weighted cosine")};
        info.create = [](const ParamValues& p, const DistanceSpec&) {
            return std::make_unique<LargeMarginSoftmaxLoss>(static_cast<int>(p.number("margin")), p.number("scale"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info = classificationInfo(
            "sphereface", "SphereFace (A-Softmax)", "SphereFaceLoss",
            "L = mean_i CE(s·‖x_i‖·(c = y_i ? (−1)^k cos(mθ_i) − 2k : cos θ_ic), y_i), k = ⌊mθ_i/π⌋",
            DistanceSpec::cosine());
        info.params = {
            numberParam("margin", 4, 1, 10,
                        "Integer angle multiplier m of the target class (PML default 4). In 2D with 10 classes "
                        "m = 4 leaves ±7.2° around each class direction (the paper's annealing from plain softmax "
                        "is absent, as in PML).",
                        ParamType::Integer),
            scaleParam(1.0, "norm-weighted cosine")};
        info.create = [](const ParamValues& p, const DistanceSpec&) {
            return std::make_unique<SphereFaceLoss>(static_cast<int>(p.number("margin")), p.number("scale"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info = classificationInfo(
            "combined_margin", "Combined margin (InsightFace)", "",
            "L = mean_i CE(s·(c = y_i ? cos(m1·θ_i + m2) − m3 : cos θ_ic), y_i); continuous fallback past m1θ+m2 = π",
            DistanceSpec::cosine());
        info.params = {
            numberParam("margin1", 1.0, 0.1, 10.0,
                        "Multiplies the target angle, SphereFace-style (default 1.0, the ArcFace paper's CM1)."),
            numberParam("margin2", 0.3, 0.0, 1.5,
                        "Added to the target angle, ArcFace-style, in RADIANS (default 0.3)."),
            numberParam("margin3", 0.2, 0.0, 2.0,
                        "Subtracted from the target cosine, CosFace-style (default 0.2). The 2D limits of arcface "
                        "and cosface add up: (1, 0.3, 0.2) cannot be satisfied with 9 or more evenly spread "
                        "classes."),
            scaleParam(64.0, "cosine")};
        info.create = [](const ParamValues& p, const DistanceSpec&) {
            return std::make_unique<CombinedMarginLoss>(p.number("margin1"), p.number("margin2"), p.number("margin3"),
                                                        p.number("scale"));
        };
        info.presets = {{"2D (up to 18 classes)",
                         {{{"margin2", 0.1}, {"margin3", 0.05}, {"scale", 16.0}}, {}},
                         "The angular and cosine margins add up: with (1, 0.3, 0.2) a point on its own class "
                         "direction beats the next class only if cos(0.3) − 0.2 > cos(360°/C), false from 9 "
                         "classes on; (1, 0.1, 0.05) fits up to 18. " + std::string(kSoftScale)}};
        losses.push_back(std::move(info));
    }
    return losses;
}

}  // namespace marginlab::detail

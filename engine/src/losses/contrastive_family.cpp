// SPDX-License-Identifier: MIT
#include "catalog_parts.h"
#include "marginlab/losses/angular.h"
#include "marginlab/losses/decoupled_contrastive.h"
#include "marginlab/losses/npairs.h"
#include "marginlab/losses/ntxent.h"
#include "marginlab/losses/supcon.h"

namespace marginlab::detail {

namespace {

ParamInfo temperatureParam(double defaultValue, const std::string& description) {
    // Below ~1e-3 the logits of a cosine reach ±2000: still exact here, but no longer a useful setting.
    return numberParam("temperature", defaultValue, 1e-3, 100.0, description);
}

}  // namespace

std::vector<LossInfo> contrastiveFamilyLosses() {
    std::vector<LossInfo> losses;

    {
        LossInfo info;
        info.name = "angular";
        info.displayName = "Angular";
        info.family = LossFamily::TripletBased;
        info.pmlName = "AngularLoss";
        info.formula = "mean over (a,p) of log(1 + sum_n exp(4 tan^2(alpha) (x^_a + x^_p).x_n - 2 (1 + tan^2(alpha)) x^_a.x^_p)), x_n raw";
        ParamInfo alpha;
        alpha.name = "alpha";
        alpha.type = ParamType::Number;
        alpha.defaultValue = 40.0;
        alpha.minValue = 0.0;
        alpha.maxValue = 89.0;
        alpha.description = "Angle bound at the negative, in degrees (t = tan^2 alpha); PML's default 40";
        info.params = {alpha};
        info.defaultDistance = DistanceSpec::lp(1, true);
        info.distanceConfigurable = false;
        info.acceptsMiner = false;
        info.acceptsReference = true;
        info.create = [](const ParamValues& params, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<AngularLoss>(params.number("alpha"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "npairs";
        info.displayName = "N-pairs";
        info.family = LossFamily::Contrastive;
        info.pmlName = "NPairsLoss";
        info.formula = "mean_k CE(S_k., k), S_kl = cos(x_{a_k}, x_{p_l}); a_k, p_k = first two samples of class k";
        info.defaultDistance = DistanceSpec::dot(true);
        info.distanceConfigurable = false;
        info.acceptsMiner = false;
        info.create = [](const ParamValues&, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<NPairsLoss>();
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "ntxent";
        info.displayName = "NT-Xent (InfoNCE)";
        info.family = LossFamily::Contrastive;
        info.pmlName = "NTXentLoss";
        info.formula = "mean over (a,p) of -log(e^{s_ap/T} / (e^{s_ap/T} + sum_{n in N(a)} e^{s_an/T}))";
        info.params = {temperatureParam(0.07, "Temperature T dividing the similarities; PML's default 0.07")};
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = true;
        info.acceptsMiner = true;
        info.acceptsReference = true;
        info.create = [](const ParamValues& params, const DistanceSpec& distance) -> std::unique_ptr<Loss> {
            return std::make_unique<NTXentLoss>(params.number("temperature"), distance);
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "supcon";
        info.displayName = "Supervised contrastive";
        info.family = LossFamily::Contrastive;
        info.pmlName = "SupConLoss";
        info.formula = "AvgNonZero over i of -(1/|P(i)|) sum_p [s_ip/T - LSE_{k != i}(s_ik/T)]";
        info.params = {temperatureParam(0.1, "Temperature T dividing the similarities; PML's default 0.1")};
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = true;
        info.acceptsMiner = true;
        info.acceptsReference = true;
        info.create = [](const ParamValues& params, const DistanceSpec& distance) -> std::unique_ptr<Loss> {
            return std::make_unique<SupConLoss>(params.number("temperature"), distance);
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "decoupled_contrastive";
        info.displayName = "Decoupled contrastive (DCL)";
        info.family = LossFamily::Contrastive;
        info.pmlName = "";
        info.formula = "mean over (a,p) of -s_ap/T + log sum_{n in N(a)} e^{s_an/T}";
        info.params = {temperatureParam(0.1, "Temperature T dividing the similarities (Yeh et al. use 0.1)")};
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = true;
        info.acceptsMiner = false;
        info.create = [](const ParamValues& params, const DistanceSpec& distance) -> std::unique_ptr<Loss> {
            return std::make_unique<DecoupledContrastiveLoss>(params.number("temperature"), distance);
        };
        losses.push_back(std::move(info));
    }
    return losses;
}

}  // namespace marginlab::detail

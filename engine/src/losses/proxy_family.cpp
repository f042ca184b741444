// SPDX-License-Identifier: MIT
// Catalogue part: the losses that own a per-class matrix (proxies, centroids, [W; centers]).
#include "catalog_parts.h"

#include "marginlab/losses/center.h"
#include "marginlab/losses/coco.h"
#include "marginlab/losses/proxy_anchor.h"
#include "marginlab/losses/proxy_nca.h"

#include <memory>
#include <string>
#include <utility>

namespace marginlab::detail {

std::vector<LossInfo> proxyFamilyLosses() {
    std::vector<LossInfo> losses;

    {
        LossInfo info;
        info.name = "proxy_anchor";
        info.displayName = "Proxy anchor";
        info.family = LossFamily::Proxy;
        info.pmlName = "ProxyAnchorLoss";
        info.formula =
            "Σ_c log(1+Σ_{y_i=c} e^{−α(s_ic−δ)}) / #present + Σ_c log(1+Σ_{y_i≠c} e^{α(s_ic+δ)}) / C, "
            "s = cos(x_i, p_c)";
        info.params = {
            numberParam("margin", 0.1, 0.0, 1.0,
                        "δ: positives are pulled until cos ≥ δ, negatives pushed until cos ≤ −δ"),
            numberParam("alpha", 32.0, 0.0, 256.0,
                        "α: sharpness of the soft maximum over samples (large = focus on the hardest)"),
        };
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = false;
        info.ownedBlocks = 1;
        info.regions = ClassRegions::NearestProxy;
        info.acceptsMiner = false;
        info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<ProxyAnchorLoss>(p.number("margin"), p.number("alpha"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "proxy_nca";
        info.displayName = "ProxyNCA";
        info.family = LossFamily::Proxy;
        info.pmlName = "ProxyNCALoss";
        info.formula = "mean_{i: q_i≠0} −log q_i,  q_i = softmax_c(−σ‖x̂_i − p̂_c‖²)[y_i]";
        info.params = {
            numberParam("softmax_scale", 1.0, 0.0, 10000.0,
                        "σ: multiplies the negated distances before the softmax"),
        };
        info.defaultDistance = DistanceSpec::lp(2, true);
        info.distanceConfigurable = true;
        info.ownedBlocks = 1;
        info.regions = ClassRegions::NearestProxy;
        info.acceptsMiner = false;
        info.create = [](const ParamValues& p, const DistanceSpec& distance) -> std::unique_ptr<Loss> {
            return std::make_unique<ProxyNcaLoss>(p.number("softmax_scale"), distance);
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "center";
        info.displayName = "Center loss (with softmax)";
        info.family = LossFamily::Proxy;
        info.pmlName = "";  // PML has no center loss: Wen et al. 2016
        info.formula = "mean_i CE(W x_i, y_i) + λ·½·mean_i ‖x_i − c_{y_i}‖²";
        info.params = {
            numberParam("lambda_c", 0.1, 0.0, 100.0,
                        "λ: weight of the pull towards the learned class centers (0 = plain softmax)"),
        };
        // Describes the center term (raw squared Euclidean); the loss is not configurable.
        info.defaultDistance = DistanceSpec::lp(2, false);
        info.distanceConfigurable = false;
        info.ownedBlocks = 2;
        info.regions = ClassRegions::NearestProxy;
        info.acceptsMiner = false;
        info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<CenterLoss>(p.number("lambda_c"));
        };
        losses.push_back(std::move(info));
    }
    {
        LossInfo info;
        info.name = "coco";
        info.displayName = "Congenerous cosine (COCO)";
        info.family = LossFamily::Proxy;
        info.pmlName = "";  // not in PML: Liu et al. 2017
        info.formula = "mean_i CE(α·cos(x_i, c_k), y_i)";
        info.params = {
            numberParam("scale", 16.0, 0.0, 256.0,
                        "α: multiplies the cosines before the softmax over centroids"),
        };
        info.defaultDistance = DistanceSpec::cosine();
        info.distanceConfigurable = false;
        info.ownedBlocks = 1;
        info.regions = ClassRegions::NearestProxy;
        info.acceptsMiner = false;
        info.create = [](const ParamValues& p, const DistanceSpec&) -> std::unique_ptr<Loss> {
            return std::make_unique<CocoLoss>(p.number("scale"));
        };
        losses.push_back(std::move(info));
    }
    return losses;
}

}  // namespace marginlab::detail

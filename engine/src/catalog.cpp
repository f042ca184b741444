// SPDX-License-Identifier: MIT
#include "catalog_parts.h"

#include <algorithm>

namespace marginlab {

namespace {

template <typename Info>
const Info* findByName(const std::vector<Info>& infos, std::string_view name) {
    const auto it = std::find_if(infos.begin(), infos.end(), [&](const Info& i) { return i.name == name; });
    return it == infos.end() ? nullptr : &*it;
}

bool validDistance(const DistanceSpec& d, std::string* error) {
    if (d.kind == DistanceKind::Lp && d.power != 1 && d.power != 2) {
        if (error) *error = "distance power must be 1 or 2";
        return false;
    }
    return true;
}

}  // namespace

const std::vector<LossInfo>& lossCatalog() {
    static const std::vector<LossInfo> catalog = [] {
        std::vector<LossInfo> all;
        for (auto part : {detail::pairFamilyLosses, detail::tripletFamilyLosses,
                          detail::contrastiveFamilyLosses, detail::classificationFamilyLosses,
                          detail::proxyFamilyLosses, detail::morePmlLosses}) {
            auto losses = part();
            std::move(losses.begin(), losses.end(), std::back_inserter(all));
        }
        // Grouped by family, families in the order they first appear: a part may add to
        // several families, and each loss keeps its place within its family.
        std::vector<LossFamily> order;
        for (const LossInfo& info : all)
            if (std::find(order.begin(), order.end(), info.family) == order.end()) order.push_back(info.family);
        auto rank = [&](LossFamily family) { return std::find(order.begin(), order.end(), family) - order.begin(); };
        std::stable_sort(all.begin(), all.end(),
                         [&](const LossInfo& a, const LossInfo& b) { return rank(a.family) < rank(b.family); });
        return all;
    }();
    return catalog;
}

const LossInfo* findLoss(std::string_view name) { return findByName(lossCatalog(), name); }

std::unique_ptr<Loss> makeLoss(const LossConfig& config, std::string* error) {
    const LossInfo* info = findLoss(config.name);
    if (!info) {
        if (error) *error = "unknown loss '" + config.name + "'";
        return nullptr;
    }
    const auto params = completeParams(info->params, config.params, "loss " + info->name, error);
    if (!params) return nullptr;
    DistanceSpec distance = info->defaultDistance;
    if (config.distance) {
        if (!info->distanceConfigurable && !(*config.distance == info->defaultDistance)) {
            if (error) *error = "loss " + info->name + " works only with " + info->defaultDistance.describe();
            return nullptr;
        }
        distance = *config.distance;
    }
    if (!validDistance(distance, error)) return nullptr;
    return info->create(*params, distance);
}

const std::vector<MinerInfo>& minerCatalog() {
    static const std::vector<MinerInfo> catalog = detail::allMiners();
    return catalog;
}

const MinerInfo* findMiner(std::string_view name) { return findByName(minerCatalog(), name); }

std::string lossesAcceptingReference() {
    std::string names;
    for (const LossInfo& info : lossCatalog())
        if (info.acceptsReference) names += (names.empty() ? "" : ", ") + info.name;
    return names;
}

std::string minersAcceptingReference() {
    std::string names;
    for (const MinerInfo& info : minerCatalog())
        if (info.acceptsReference) names += (names.empty() ? "" : ", ") + info.name;
    return names;
}

std::unique_ptr<Miner> makeMiner(const MinerConfig& config, std::string* error) {
    const MinerInfo* info = findMiner(config.name);
    if (!info) {
        if (error) *error = "unknown miner '" + config.name + "'";
        return nullptr;
    }
    const auto params = completeParams(info->params, config.params, "miner " + info->name, error);
    if (!params) return nullptr;
    const DistanceSpec distance = config.distance.value_or(info->defaultDistance);
    if (!validDistance(distance, error)) return nullptr;
    return info->create(*params, distance);
}

const std::vector<OmittedPmlClass>& omittedPmlClasses() {
    static const std::vector<OmittedPmlClass> omitted = {
        {"DynamicSoftMarginLoss",
         "It keeps a running histogram of distances across calls (with momentum), so its value depends on every "
         "earlier batch; a loss here is a pure function of one batch. It needs state kept by the trainer."},
        {"ManifoldLoss",
         "It owns K = 50 unlabelled proxies (not one row per class, the layout the views and the trainer use for "
         "owned parameters) and inverts an (N + K)² random-walk matrix every step."},
        {"VICRegLoss", "It compares two augmented views of every sample; free points have no augmentations."},
        {"SelfSupervisedLoss", "It pairs two augmented views of every sample; free points have no augmentations."},
        {"MultipleLosses", "Not built yet: a weighted sum of two catalogue losses, with both contributions charted."},
    };
    return omitted;
}

std::string_view familyName(LossFamily family) {
    switch (family) {
    case LossFamily::PairBased: return "Pair";
    case LossFamily::TripletBased: return "Triplet";
    case LossFamily::Contrastive: return "Contrastive (InfoNCE)";
    case LossFamily::Classification: return "Classification (margin softmax)";
    case LossFamily::Proxy: return "Proxy and center";
    case LossFamily::Other: return "Other";
    }
    return "Other";
}

}  // namespace marginlab

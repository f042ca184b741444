// SPDX-License-Identifier: MIT
#include <algorithm>
#include <cmath>

#include "catalog_parts.h"
#include "marginlab/losses/multiple_losses.h"

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
                          detail::proxyFamilyLosses, detail::morePmlLosses, detail::wrapperLosses}) {
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

namespace {

std::unique_ptr<Loss> makeWrapper(const LossInfo& info, const LossConfig& config, std::string* error) {
    auto fail = [&](const std::string& message) -> std::unique_ptr<Loss> {
        if (error) *error = message;
        return nullptr;
    };
    if (!config.params.numbers.empty() || !config.params.choices.empty())
        return fail("loss " + info.name + " has no parameters of its own: set them on its components");
    if (config.distance)
        return fail("loss " + info.name + " has no distance of its own: set it on its components");
    const std::vector<LossComponent> components = componentsOf(config);
    const int count = static_cast<int>(components.size());
    if (count < kMinLossComponents || count > kMaxLossComponents)
        return fail("loss " + info.name + " needs " + std::to_string(kMinLossComponents) + " to " +
                    std::to_string(kMaxLossComponents) + " components, not " + std::to_string(count));
    std::vector<MultipleLosses::Component> built;
    for (int i = 0; i < count; ++i) {
        const LossComponent& c = components[static_cast<std::size_t>(i)];
        const std::string where = "loss " + info.name + ", component " + std::to_string(i + 1);
        const LossInfo* part = findLoss(c.loss.name);
        if (part && part->isWrapper())
            return fail(where + ": " + part->name + " cannot contain another " + part->name);
        // Weights scale a term; a negative one would turn a loss into something to maximize.
        if (!std::isfinite(c.weight) || c.weight < 0.0 || c.weight > 1e6)
            return fail(where + " (" + c.loss.name + "): weight must be between 0 and 1e6");
        std::string message;
        std::unique_ptr<Loss> loss = makeLoss(c.loss, &message);
        if (!loss) return fail(where + ": " + message);
        built.push_back({std::move(loss), c.weight, part->ownedBlocks, part->acceptsMiner});
    }
    return std::make_unique<MultipleLosses>(std::move(built));
}

}  // namespace

std::unique_ptr<Loss> makeLoss(const LossConfig& config, std::string* error) {
    const LossInfo* info = findLoss(config.name);
    if (!info) {
        if (error) *error = "unknown loss '" + config.name + "'";
        return nullptr;
    }
    if (info->isWrapper()) return makeWrapper(*info, config, error);
    if (!config.components.empty()) {
        if (error) *error = "loss " + info->name + " takes no components (only multiple_losses does)";
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

std::vector<LossComponent> componentsOf(const LossConfig& config) {
    const LossInfo* info = findLoss(config.name);
    if (!info || !info->isWrapper()) return {};
    return config.components.empty() ? info->defaultComponents : config.components;
}

int ownedBlocksOf(const LossConfig& config) {
    const LossInfo* info = findLoss(config.name);
    if (!info) return 0;
    if (!info->isWrapper()) return info->ownedBlocks;
    int blocks = 0;
    for (const LossComponent& c : componentsOf(config))
        if (const LossInfo* part = findLoss(c.loss.name); part && !part->isWrapper())
            blocks += part->ownedBlocks;
    return blocks;
}

bool acceptsMinerOf(const LossConfig& config) {
    const LossInfo* info = findLoss(config.name);
    if (!info) return false;
    if (!info->isWrapper()) return info->acceptsMiner;
    for (const LossComponent& c : componentsOf(config))
        if (const LossInfo* part = findLoss(c.loss.name); part && part->acceptsMiner) return true;
    return false;
}

DistanceSpec lossDistanceOf(const LossConfig& config) {
    const LossInfo* info = findLoss(config.name);
    if (!info) return {};
    if (info->isWrapper()) {
        const std::vector<LossComponent> components = componentsOf(config);
        const LossInfo* first = findLoss(components.front().loss.name);
        if (!first || first->isWrapper()) return {};
        return components.front().loss.distance.value_or(first->defaultDistance);
    }
    return config.distance.value_or(info->defaultDistance);
}

void writeInitialOwned(const LossConfig& config, Points& owned) {
    const int blocks = ownedBlocksOf(config);
    if (blocks == 0 || owned.rows() % blocks != 0) return;
    const Eigen::Index classes = owned.rows() / blocks;
    const LossInfo* info = findLoss(config.name);
    if (!info->isWrapper()) {
        if (!info->initialOwned) return;
        if (const auto params = completeParams(info->params, config.params, "loss " + info->name, nullptr))
            info->initialOwned(*params, owned);
        return;
    }
    Eigen::Index firstRow = 0;
    for (const LossComponent& c : componentsOf(config)) {
        const Eigen::Index rows = static_cast<Eigen::Index>(ownedBlocksOf(c.loss)) * classes;
        if (rows > 0) {
            // A component starts its own rows exactly as it would start them alone.
            Points part = owned.middleRows(firstRow, rows);
            writeInitialOwned(c.loss, part);
            owned.middleRows(firstRow, rows) = part;
        }
        firstRow += rows;
    }
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
         "It keeps a running histogram of distances across calls (with momentum), so its value depends on "
         "every "
         "earlier batch; a loss here is a pure function of one batch. It needs state kept by the trainer."},
        {"ManifoldLoss",
         "It owns K = 50 unlabelled proxies (not one row per class, the layout the views and the trainer use "
         "for "
         "owned parameters) and inverts an (N + K)² random-walk matrix every step."},
        {"VICRegLoss", "It compares two augmented views of every sample; free points have no augmentations."},
        {"SelfSupervisedLoss", "It pairs two augmented views of every sample; free points have no augmentations."},
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

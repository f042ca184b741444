// SPDX-License-Identifier: MIT
#include "marginlab/runinfo.h"

#include <cstdio>

namespace marginlab {

namespace {

std::string formatNumber(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
    return buffer;
}

/// The parameters that differ from the catalogue's defaults, as "name value, name value".
std::string changedParams(const std::vector<ParamInfo>& infos, const ParamValues& values) {
    std::string out;
    for (const ParamInfo& p : infos) {
        std::string shown;
        if (const auto it = values.numbers.find(p.name); it != values.numbers.end() && it->second != p.defaultValue)
            shown = p.type == ParamType::Boolean ? (it->second != 0.0 ? "on" : "off") : formatNumber(it->second);
        if (const auto it = values.choices.find(p.name);
            it != values.choices.end() && p.defaultChoice >= 0 && p.defaultChoice < static_cast<int>(p.choices.size()) &&
            it->second != p.choices[static_cast<std::size_t>(p.defaultChoice)])
            shown = it->second;
        if (shown.empty()) continue;
        if (!out.empty()) out += ", ";
        out += p.name + " " + shown;
    }
    return out;
}

/// The title part of one loss: its display name and the parameters that differ from the defaults.
std::string lossTitle(const LossInfo& loss, const ParamValues& values) {
    std::string title = loss.displayName;
    if (const std::string params = changedParams(loss.params, values); !params.empty())
        title += " (" + params + ")";
    return title;
}

/// What one (non-wrapper) loss tells the views, written into `info`; `owner` says whether it sets
/// what belongs to the owned rows (regions, blocks, layout).
void describeLoss(const LossInfo& loss, const LossConfig& config, bool owner, RunInfo& info) {
    const DistanceSpec distance = config.distance.value_or(loss.defaultDistance);
    if (owner) {
        info.ownerLoss = loss.ownedBlocks > 0 ? &loss : nullptr;
        info.regions = loss.regions;
        info.ownedBlocks = loss.ownedBlocks;
        info.ownedLayout = loss.ownedLayout;
    }
    if (const auto params = completeParams(loss.params, config.params, loss.name, nullptr)) {
        if (loss.distanceBand && !info.distanceBand) info.distanceBand = loss.distanceBand(*params);
        if (loss.picture && info.picture.kind == LossPicture::Kind::None)
            info.picture = loss.picture(*params, distance);
    }
    if (!loss.tripletMarginParam.empty()) {
        info.tripletMargin = 0.0;
        for (const ParamInfo& p : loss.params)
            if (p.name == loss.tripletMarginParam) info.tripletMargin = p.defaultValue;
        if (const auto it = config.params.numbers.find(loss.tripletMarginParam);
            it != config.params.numbers.end())
            info.tripletMargin = it->second;
    }
}

}  // namespace

RunInfo describeRun(const LossConfig& loss, const std::optional<MinerConfig>& miner) {
    RunInfo info;
    info.loss = findLoss(loss.name);
    if (!info.loss) return info;
    info.distance = lossDistanceOf(loss);
    if (info.loss->isWrapper()) {
        // Each aspect of the picture comes from the first component that has it: the distance
        // and tuple regions from the first component, the class rows from the first that owns
        // parameters (its rows come first in the stacked owned matrix).
        const std::vector<LossComponent> components = componentsOf(loss);
        bool tripletMarginSet = false, ownerSet = false;
        std::string parts;
        for (const LossComponent& c : components) {
            const LossInfo* part = findLoss(c.loss.name);
            if (!part || part->isWrapper()) continue;
            const bool owner = !ownerSet && part->ownedBlocks > 0;
            const Real tripletMargin = info.tripletMargin;
            describeLoss(*part, c.loss, owner, info);
            if (tripletMarginSet) info.tripletMargin = tripletMargin;
            tripletMarginSet = tripletMarginSet || !part->tripletMarginParam.empty();
            ownerSet = ownerSet || owner;
            if (!parts.empty()) parts += " + ";
            if (c.weight != 1.0) parts += formatNumber(c.weight) + " × ";
            parts += lossTitle(*part, c.loss.params);
            info.componentTitles.push_back(formatNumber(c.weight) + " × " + part->displayName);
        }
        info.title = info.loss->displayName + ": " + parts;
    } else {
        describeLoss(*info.loss, loss, true, info);
        info.title = lossTitle(*info.loss, loss.params);
    }
    if (const std::unique_ptr<Loss> built = makeLoss(loss, nullptr)) info.logits = built->marginLogits();

    if (miner) {
        info.miner = findMiner(miner->name);
        if (info.miner) {
            info.semiHardRule = info.miner->semiHardRule;
            // After a sum of losses, " + miner" would read as one more term.
            info.title += (info.loss->isWrapper() ? ", mined by " : " + ") + info.miner->displayName;
            if (const std::string params = changedParams(info.miner->params, miner->params); !params.empty())
                info.title += " (" + params + ")";
        }
    }
    info.details = info.distance.describe();
    return info;
}

}  // namespace marginlab

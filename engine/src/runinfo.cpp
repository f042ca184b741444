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

}  // namespace

RunInfo describeRun(const LossConfig& loss, const std::optional<MinerConfig>& miner) {
    RunInfo info;
    info.loss = findLoss(loss.name);
    if (!info.loss) return info;
    info.distance = loss.distance.value_or(info.loss->defaultDistance);
    info.regions = info.loss->regions;
    info.ownedBlocks = info.loss->ownedBlocks;
    info.ownedLayout = info.loss->ownedLayout;
    if (const auto params = completeParams(info.loss->params, loss.params, info.loss->name, nullptr)) {
        if (info.loss->distanceBand) info.distanceBand = info.loss->distanceBand(*params);
        if (info.loss->picture) info.picture = info.loss->picture(*params, info.distance);
    }
    if (!info.loss->tripletMarginParam.empty()) {
        info.tripletMargin = 0.0;
        for (const ParamInfo& p : info.loss->params)
            if (p.name == info.loss->tripletMarginParam) info.tripletMargin = p.defaultValue;
        if (const auto it = loss.params.numbers.find(info.loss->tripletMarginParam); it != loss.params.numbers.end())
            info.tripletMargin = it->second;
    }
    if (const std::unique_ptr<Loss> built = makeLoss(loss, nullptr)) info.logits = built->marginLogits();

    info.title = info.loss->displayName;
    if (const std::string params = changedParams(info.loss->params, loss.params); !params.empty())
        info.title += " (" + params + ")";
    if (miner) {
        info.miner = findMiner(miner->name);
        if (info.miner) {
            info.semiHardRule = info.miner->semiHardRule;
            info.title += " + " + info.miner->displayName;
            if (const std::string params = changedParams(info.miner->params, miner->params); !params.empty())
                info.title += " (" + params + ")";
        }
    }
    info.details = info.distance.describe();
    return info;
}

}  // namespace marginlab

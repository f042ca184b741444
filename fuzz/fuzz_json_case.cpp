// SPDX-License-Identifier: MIT
// libFuzzer target: the loss-case reader of `marginlab-cli loss` (JSON text → readers → loss).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "marginlab/loss.h"
#include "marginlab/miner.h"
#include "marginlab/scene/jsonio.h"

namespace ml = marginlab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ml::json::Json;
    try {
        const Json document = ml::json::parse(std::string_view(reinterpret_cast<const char*>(data), size));
        const Json& item = document.is_object() && document.contains("cases") &&
                                   document["cases"].is_array() && !document["cases"].empty()
                               ? document["cases"][0]
                               : document;
        ml::json::checkKeys(item, {"id", "embeddings", "labels", "weights", "loss", "miner", "seed"}, "");
        const ml::Points x =
            ml::json::readBoundedMatrix(ml::json::member(item, "embeddings", ""), "embeddings");
        const ml::Labels y = ml::json::readLabels(ml::json::member(item, "labels", ""), "labels");
        const ml::LossConfig config = ml::json::readLossConfig(ml::json::member(item, "loss", ""), "loss");
        std::optional<ml::MinerConfig> minerConfig;
        if (const Json* m = ml::json::optionalMember(item, "miner", ""))
            minerConfig = ml::json::readMinerConfig(*m, "miner");
        std::optional<ml::Points> weights;
        if (const Json* w = ml::json::optionalMember(item, "weights", ""))
            weights = ml::json::readBoundedMatrix(*w, "weights");
        std::string message;
        const auto loss = ml::makeLoss(config, &message);
        if (!loss || y.size() != static_cast<std::size_t>(x.rows()) || x.rows() > 64) return 0;
        const ml::LossInfo& info = *ml::findLoss(config.name);
        // The CLI's own checks before it evaluates (app/cli/main.cpp, evaluateCase).
        if (info.ownedBlocks > 0) {
            if (!weights || weights->cols() != x.cols() || weights->rows() % info.ownedBlocks != 0) return 0;
            for (const int label : y)
                if (label < 0 || label >= weights->rows() / info.ownedBlocks) return 0;
        } else if (weights) {
            return 0;
        }
        std::optional<ml::Tuples> tuples;
        if (minerConfig) {
            if (!info.acceptsMiner) return 0;
            const auto miner = ml::makeMiner(*minerConfig, &message);
            if (!miner) return 0;
            tuples = miner->mine(ml::MinerInput{x, y, 0});
        }
        (void)loss->evaluate(
            ml::LossInput{x, y, weights ? &*weights : nullptr, tuples ? &*tuples : nullptr, 0}, true);
    } catch (const ml::json::Error&) {
    }
    return 0;
}

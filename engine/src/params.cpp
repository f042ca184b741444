// SPDX-License-Identifier: MIT
#include "marginlab/params.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <sstream>

namespace marginlab {

ParamInfo numberParam(std::string name, double defaultValue, double minValue, double maxValue,
                      std::string description, ParamType type) {
    ParamInfo info;
    info.name = std::move(name);
    info.type = type;
    info.defaultValue = defaultValue;
    info.minValue = minValue;
    info.maxValue = maxValue;
    info.description = std::move(description);
    return info;
}

ParamInfo flagParam(std::string name, bool defaultValue, std::string description) {
    return numberParam(std::move(name), defaultValue ? 1.0 : 0.0, 0.0, 1.0, std::move(description), ParamType::Boolean);
}

ParamInfo choiceParam(std::string name, std::vector<std::string> choices, int defaultChoice, std::string description) {
    ParamInfo info;
    info.name = std::move(name);
    info.type = ParamType::Choice;
    info.choices = std::move(choices);
    info.defaultChoice = defaultChoice;
    info.description = std::move(description);
    return info;
}

double ParamValues::number(std::string_view name) const {
    const auto it = numbers.find(name);
    assert(it != numbers.end() && "parameter not completed");
    return it->second;
}

const std::string& ParamValues::choice(std::string_view name) const {
    const auto it = choices.find(name);
    assert(it != choices.end() && "parameter not completed");
    return it->second;
}

std::optional<ParamValues> completeParams(const std::vector<ParamInfo>& infos, const ParamValues& values,
                                          const std::string& owner, std::string* error) {
    auto fail = [&](const std::string& message) -> std::optional<ParamValues> {
        if (error) *error = owner + ": " + message;
        return std::nullopt;
    };
    auto find = [&](std::string_view name) {
        return std::find_if(infos.begin(), infos.end(), [&](const ParamInfo& p) { return p.name == name; });
    };
    for (const auto& [name, value] : values.numbers) {
        const auto info = find(name);
        if (info == infos.end()) return fail("unknown parameter '" + name + "'");
        if (info->type == ParamType::Choice) return fail("parameter '" + name + "' takes one of its named choices");
    }
    for (const auto& [name, value] : values.choices) {
        const auto info = find(name);
        if (info == infos.end()) return fail("unknown parameter '" + name + "'");
        if (info->type != ParamType::Choice) return fail("parameter '" + name + "' takes a number");
    }

    ParamValues out;
    for (const ParamInfo& info : infos) {
        if (info.type == ParamType::Choice) {
            const auto it = values.choices.find(info.name);
            const std::string value = it != values.choices.end() ? it->second : info.choices.at(info.defaultChoice);
            if (std::find(info.choices.begin(), info.choices.end(), value) == info.choices.end()) {
                std::ostringstream message;
                message << "parameter '" << info.name << "' is '" << value << "', expected one of";
                for (const auto& c : info.choices) message << " '" << c << "'";
                return fail(message.str());
            }
            out.choices[info.name] = value;
            continue;
        }
        const auto it = values.numbers.find(info.name);
        const double value = it != values.numbers.end() ? it->second : info.defaultValue;
        if (!std::isfinite(value)) return fail("parameter '" + info.name + "' must be a finite number");
        if (info.type == ParamType::Integer && value != std::floor(value))
            return fail("parameter '" + info.name + "' must be an integer");
        if (info.type == ParamType::Boolean && value != 0.0 && value != 1.0)
            return fail("parameter '" + info.name + "' must be true or false");
        if (value < info.minValue || value > info.maxValue) {
            std::ostringstream message;
            message << "parameter '" << info.name << "' = " << value << " is outside [" << info.minValue << ", "
                    << info.maxValue << "]";
            return fail(message.str());
        }
        out.numbers[info.name] = value;
    }
    return out;
}

}  // namespace marginlab

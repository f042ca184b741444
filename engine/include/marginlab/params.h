// SPDX-License-Identifier: MIT
/**
 * Named hyper-parameters shared by losses and miners.
 *
 * A parameter is either numeric (stored as double; integers and booleans too, booleans as 0/1)
 * or a choice among strings (e.g. a miner's `type_of_triplets`). Names and defaults follow
 * pytorch-metric-learning's constructor arguments where it has the loss or miner.
 */
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace marginlab {

enum class ParamType { Number, Integer, Boolean, Choice };

struct ParamInfo {
    std::string name;
    ParamType type = ParamType::Number;
    double defaultValue = 0.0;
    double minValue = -1e300;  ///< inclusive bounds, checked before a run starts
    double maxValue = 1e300;
    std::string description;
    std::vector<std::string> choices;  ///< for ParamType::Choice; the default is choices[defaultChoice]
    int defaultChoice = 0;
};

/// Factories for the catalogues' parameter lists.
ParamInfo numberParam(std::string name, double defaultValue, double minValue, double maxValue,
                      std::string description, ParamType type = ParamType::Number);
ParamInfo flagParam(std::string name, bool defaultValue, std::string description);
ParamInfo choiceParam(std::string name, std::vector<std::string> choices, int defaultChoice,
                      std::string description);

/// Values set by the user; missing entries take the defaults of the ParamInfo list.
struct ParamValues {
    std::map<std::string, double, std::less<>> numbers;
    std::map<std::string, std::string, std::less<>> choices;

    double number(std::string_view name) const;       ///< asserts presence (after completion)
    const std::string& choice(std::string_view name) const;
    bool flag(std::string_view name) const { return number(name) != 0.0; }
};

/**
 * Checks `values` against `infos` and fills in defaults. Unknown names, out-of-range values,
 * non-integers for integer parameters and unknown choices give an error message naming the
 * parameter; `owner` names the loss or miner in that message.
 */
std::optional<ParamValues> completeParams(const std::vector<ParamInfo>& infos, const ParamValues& values,
                                          const std::string& owner, std::string* error);

}  // namespace marginlab

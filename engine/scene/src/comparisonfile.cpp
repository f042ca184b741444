// SPDX-License-Identifier: MIT
#include "marginlab/scene/comparisonfile.h"

#include "marginlab/params.h"
#include "marginlab/runinfo.h"
#include "marginlab/trainer_group.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

namespace marginlab {

namespace {

using json::Error;
using json::Json;

// The entries a panel may override; everything else is shared so that the panels start alike.
const std::set<std::string> kPanelKeys = {"title", "loss", "miner", "optimizer"};

std::string shortName(const std::string& displayName) {
    // "CosFace (additive cosine margin)" → "CosFace": the explanation is too long for a panel title.
    const auto cut = displayName.find(" (");
    return cut == std::string::npos ? displayName : displayName.substr(0, cut);
}

std::string numberText(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

// Parameter name → value as text, with the catalogue's defaults filled in, so that a margin left
// at its default and one written out compare equal.
std::map<std::string, std::string> paramTexts(const std::vector<ParamInfo>* infos, const ParamValues& values,
                                              bool choicesOnly = false) {
    ParamValues complete = values;
    if (infos) {
        std::string ignored;
        if (auto filled = completeParams(*infos, values, "", &ignored)) complete = std::move(*filled);
    }
    std::map<std::string, std::string> out;
    if (!choicesOnly)
        for (const auto& [name, value] : complete.numbers) out[name] = numberText(value);
    for (const auto& [name, value] : complete.choices) out[name] = value;
    return out;
}

std::string distanceText(const std::optional<DistanceSpec>& distance) {
    return distance ? json::toJson(*distance).dump() : std::string();
}

// What one aspect (loss, miner or optimizer) of every panel looks like for the titles.
struct Aspect {
    std::string name;                          // "" for "no miner"
    std::string label;                         // shown when names differ
    std::map<std::string, std::string> params;  // compared one by one when names agree
};

void addDifferences(const std::vector<Aspect>& aspects, std::vector<std::vector<std::string>>& parts) {
    bool namesDiffer = false;
    for (const Aspect& a : aspects) namesDiffer |= a.name != aspects.front().name;
    if (namesDiffer) {
        for (std::size_t p = 0; p < aspects.size(); ++p) parts[p].push_back(aspects[p].label);
        return;
    }
    std::set<std::string> keys;
    for (const Aspect& a : aspects)
        for (const auto& [key, unused] : a.params) keys.insert(key);
    for (const std::string& key : keys) {
        auto valueOf = [&](const Aspect& a) {
            const auto it = a.params.find(key);
            return it == a.params.end() ? std::string("–") : it->second;
        };
        bool differs = false;
        for (const Aspect& a : aspects) differs |= valueOf(a) != valueOf(aspects.front());
        if (!differs) continue;
        for (std::size_t p = 0; p < aspects.size(); ++p) {
            std::string shown = key;
            for (char& c : shown)
                if (c == '_') c = ' ';
            parts[p].push_back(shown + " " + valueOf(aspects[p]));
        }
    }
}

Aspect lossAspect(const LossConfig& loss) {
    const LossInfo* info = findLoss(loss.name);
    Aspect a{loss.name, info ? shortName(info->displayName) : loss.name, paramTexts(info ? &info->params : nullptr, loss.params)};
    if (loss.distance) a.params["distance"] = distanceText(loss.distance);
    // A sum of losses: each term's loss and weight, then its parameters, compared like parameters.
    const std::vector<LossComponent> components = componentsOf(loss);
    for (std::size_t k = 0; k < components.size(); ++k) {
        const LossComponent& c = components[k];
        const LossInfo* part = findLoss(c.loss.name);
        const std::string term = "term " + std::to_string(k + 1);
        a.params[term] = numberText(c.weight) + " × " + (part ? shortName(part->displayName) : c.loss.name);
        for (const auto& [key, value] : paramTexts(part ? &part->params : nullptr, c.loss.params))
            a.params[term + " " + key] = value;
        if (c.loss.distance) a.params[term + " distance"] = distanceText(c.loss.distance);
    }
    return a;
}

Aspect minerAspect(const std::optional<MinerConfig>& miner) {
    if (!miner) return {"", "no miner", {}};
    const MinerInfo* info = findMiner(miner->name);
    Aspect a{miner->name, info ? shortName(info->displayName) : miner->name,
             paramTexts(info ? &info->params : nullptr, miner->params)};
    // Between different miners, a choice such as type_of_triplets says which variant it is.
    const auto choices = paramTexts(info ? &info->params : nullptr, miner->params, true);
    if (!choices.empty()) {
        std::string variant;
        for (const auto& [name, value] : choices) variant += (variant.empty() ? "" : ", ") + value;
        a.label += " (" + variant + ")";
    }
    if (miner->distance) a.params["distance"] = distanceText(miner->distance);
    return a;
}

Aspect optimizerAspect(const OptimizerConfig& optimizer) {
    const Json j = json::toJson(optimizer);
    Aspect a{optimizerName(optimizer.kind), optimizerName(optimizer.kind), {}};
    for (const auto& [key, value] : j.items()) {
        if (key == "type") continue;
        a.params[key] = value.is_boolean() ? (value.get<bool>() ? "on" : "off") : numberText(value.get<double>());
    }
    // Different optimizers: the learning rate goes with the name (SGD's 0.5 is not Adam's 0.5).
    a.label += " lr " + a.params["learning_rate"];
    return a;
}

}  // namespace

std::vector<TrainerConfig> ComparisonFile::trainers() const {
    std::vector<TrainerConfig> out;
    out.reserve(panels.size());
    for (const ComparisonPanel& panel : panels) out.push_back(panel.trainer);
    return out;
}

bool isComparisonDocument(const Json& document) { return document.is_object() && document.contains("panels"); }

std::vector<std::string> comparisonTitles(const std::vector<TrainerConfig>& panels) {
    std::vector<std::string> titles(panels.size());
    if (panels.empty()) return titles;
    if (panels.size() == 1) {
        const RunInfo run = describeRun(panels[0].loss, panels[0].miner);
        titles[0] = run.title.empty() ? panels[0].loss.name : run.title;
        return titles;
    }
    std::vector<std::vector<std::string>> parts(panels.size());
    std::vector<Aspect> aspects;
    for (const auto& p : panels) aspects.push_back(lossAspect(p.loss));
    addDifferences(aspects, parts);
    aspects.clear();
    for (const auto& p : panels) aspects.push_back(minerAspect(p.miner));
    addDifferences(aspects, parts);
    aspects.clear();
    for (const auto& p : panels) aspects.push_back(optimizerAspect(p.optimizer));
    addDifferences(aspects, parts);
    for (std::size_t p = 0; p < panels.size(); ++p) {
        if (parts[p].empty()) {
            titles[p] = "Panel " + std::to_string(p + 1);
            continue;
        }
        for (const std::string& part : parts[p]) titles[p] += (titles[p].empty() ? "" : " · ") + part;
    }
    return titles;
}

std::optional<ComparisonFile> parseComparison(const Json& document, const std::filesystem::path& baseDir,
                                              std::string* error) {
    ComparisonFile out;
    if (!isComparisonDocument(document)) {
        auto scene = parseScene(document, baseDir, error);
        if (!scene) return std::nullopt;
        out.title = scene->title;
        out.description = scene->description;
        out.data = scene->data;
        out.view = scene->view;
        out.panels.push_back({"", false, std::move(scene->trainer)});
        out.panels[0].title = comparisonTitles({out.panels[0].trainer})[0];
        return out;
    }
    try {
        const Json& panels = document.at("panels");
        if (!panels.is_array()) throw Error{"panels", "expected an array of panels"};
        if (panels.empty() || panels.size() > TrainerGroup::kMaxPanels)
            throw Error{"panels", "a comparison has 1 to " + std::to_string(TrainerGroup::kMaxPanels) + " panels, not " +
                                      std::to_string(panels.size())};
        if (document.contains("state"))
            throw Error{"state", "a comparison is saved at its start; a trained state is not supported"};
        for (std::size_t i = 0; i < panels.size(); ++i) {
            const std::string path = "panels[" + std::to_string(i) + "]";
            const Json& panel = panels[i];
            if (!panel.is_object()) throw Error{path, "expected an object"};
            for (const auto& [key, unused] : panel.items())
                if (!kPanelKeys.count(key))
                    throw Error{path, "\"" + key + "\" cannot differ between panels (they share data, seed, batch and "
                                                   "start); a panel sets only title, loss, miner and optimizer"};
            // The panel as the single scene it makes: the shared entries with its overrides.
            Json scene = document;
            scene.erase("panels");
            for (const auto& [key, value] : panel.items())
                if (key != "title") scene[key] = value;
            if (scene.contains("miner") && scene["miner"].is_null()) scene.erase("miner");
            if (!scene.contains("loss")) throw Error{path, "has no loss (and the comparison has none for all panels)"};
            std::optional<SceneFile> parsed;
            try {
                parsed = sceneFromJson(scene, baseDir);
            } catch (const Error& e) {
                // A key the panel sets is named at its place in the panel; a shared one at the
                // top level, with the panel whose combination it failed in.
                const std::string key = e.path.substr(0, e.path.find_first_of(".["));
                if (!key.empty() && panel.contains(key)) throw Error{path + "." + e.path, e.message};
                throw Error{path, e.what()};
            } catch (const std::exception& e) {
                throw Error{path, e.what()};
            }
            ComparisonPanel entry;
            if (const Json* title = json::optionalMember(panel, "title", path)) {
                entry.title = json::readString(*title, path + ".title");
                entry.titleGiven = true;
            }
            entry.trainer = std::move(parsed->trainer);
            if (i == 0) {
                out.title = parsed->title;
                out.description = parsed->description;
                out.data = parsed->data;
                out.view = parsed->view;
            }
            out.panels.push_back(std::move(entry));
        }
        std::string message;
        if (!TrainerGroup::isValid(out.trainers(), &message)) throw Error{"panels", message};
        const std::vector<std::string> titles = comparisonTitles(out.trainers());
        for (std::size_t i = 0; i < out.panels.size(); ++i)
            if (!out.panels[i].titleGiven) out.panels[i].title = titles[i];
        return out;
    } catch (const Error& e) {
        if (error) *error = e.what();
    } catch (const std::exception& e) {
        if (error) *error = e.what();
    }
    return std::nullopt;
}

std::optional<ComparisonFile> readComparisonFile(const std::filesystem::path& path, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        if (error) *error = "cannot open " + path.string();
        return std::nullopt;
    }
    Json document;
    try {
        document = Json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
        if (error) *error = path.string() + ": not valid JSON (" + e.what() + ")";
        return std::nullopt;
    }
    std::string message;
    auto comparison = parseComparison(document, path.parent_path(), &message);
    if (!comparison && error) *error = path.string() + ": " + message;
    return comparison;
}

Json comparisonToJson(const ComparisonFile& comparison) {
    if (comparison.panels.empty()) return Json::object();
    // The shared entries come from the first panel's scene; the panels keep only what differs.
    SceneFile shared;
    shared.title = comparison.title;
    shared.description = comparison.description;
    shared.data = comparison.data;
    shared.view = comparison.view;
    shared.trainer = comparison.panels.front().trainer;
    shared.trainer.start.reset();
    Json out = sceneToJson(shared);
    out.erase("loss");
    out.erase("miner");
    out.erase("optimizer");
    Json panels = Json::array();
    for (const ComparisonPanel& panel : comparison.panels) {
        Json entry = Json::object();
        if (panel.titleGiven) entry["title"] = panel.title;
        entry["loss"] = json::toJson(panel.trainer.loss);
        entry["miner"] = panel.trainer.miner ? json::toJson(*panel.trainer.miner) : Json(nullptr);
        entry["optimizer"] = json::toJson(panel.trainer.optimizer);
        panels.push_back(std::move(entry));
    }
    out["panels"] = std::move(panels);
    return out;
}

}  // namespace marginlab

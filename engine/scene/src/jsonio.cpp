// SPDX-License-Identifier: MIT
#include "marginlab/scene/jsonio.h"

#include "marginlab/limits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <unordered_set>

namespace marginlab::json {

namespace {

/**
 * Builds the document like nlohmann's DOM parser, but refuses deep nesting, long strings and
 * duplicate keys as they are read: nlohmann's copy, dump and comparison recurse, so a deep
 * document must never be built. It keeps the JSON path of the current value for the messages.
 */
class LimitedSax {
public:
    explicit LimitedSax(Json& root) : m_dom(root, true) {}

    bool null() { return value(m_dom.null()); }
    bool boolean(bool v) { return value(m_dom.boolean(v)); }
    bool number_integer(Json::number_integer_t v) { return value(m_dom.number_integer(v)); }
    bool number_unsigned(Json::number_unsigned_t v) { return value(m_dom.number_unsigned(v)); }
    bool number_float(Json::number_float_t v, const Json::string_t& text) { return value(m_dom.number_float(v, text)); }
    bool string(Json::string_t& v) {
        checkString(v);
        return value(m_dom.string(v));
    }
    bool binary(Json::binary_t& v) { return value(m_dom.binary(v)); }
    bool start_object(std::size_t size) {
        open(false);
        return m_dom.start_object(size);
    }
    bool key(Json::string_t& k) {
        checkString(k);
        Frame& frame = m_frames.back();
        frame.key = k;
        if (!frame.keys.insert(k).second) throw Error{path(), "duplicate key (each key may appear once in an object)"};
        return m_dom.key(k);
    }
    bool end_object() {
        m_frames.pop_back();
        return value(m_dom.end_object());
    }
    bool start_array(std::size_t size) {
        open(true);
        return m_dom.start_array(size);
    }
    bool end_array() {
        m_frames.pop_back();
        return value(m_dom.end_array());
    }
    bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
        m_errorPosition = position;
        m_errorToken = token;
        m_errorId = e.id;
        m_errorMessage = e.what();
        return false;
    }

    std::size_t errorPosition() const { return m_errorPosition; }
    int errorId() const { return m_errorId; }
    const std::string& errorMessage() const { return m_errorMessage; }
    const std::string& errorToken() const { return m_errorToken; }

private:
    struct Frame {
        bool array = false;
        std::size_t index = 0;
        std::string key;
        std::unordered_set<std::string> keys;
    };

    void open(bool array) {
        if (static_cast<int>(m_frames.size()) >= limits::kMaxJsonDepth)
            throw Error{path(), "nested deeper than " + std::to_string(limits::kMaxJsonDepth) +
                                    " arrays and objects (the limit)"};
        m_frames.push_back(Frame{array, 0, {}, {}});
    }
    void checkString(const std::string& text) const {
        if (text.size() > limits::kMaxStringBytes)
            throw Error{path(), "a string of " + std::to_string(text.size()) + " bytes (the limit is " +
                                    std::to_string(limits::kMaxStringBytes) + ")"};
    }
    bool value(bool keepGoing) {
        if (!m_frames.empty() && m_frames.back().array) ++m_frames.back().index;
        return keepGoing;
    }
    std::string path() const {
        std::string out;
        for (const Frame& frame : m_frames) {
            if (frame.array) out += "[" + std::to_string(frame.index) + "]";
            else if (!frame.key.empty() || frame.keys.size() > 0) out += (out.empty() ? "" : ".") + frame.key;
        }
        return out;
    }

    nlohmann::detail::json_sax_dom_parser<Json> m_dom;
    std::vector<Frame> m_frames;
    std::size_t m_errorPosition = 0;
    int m_errorId = 0;
    std::string m_errorMessage;
    std::string m_errorToken;
};

/// "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error ..." → the part after "] ".
std::string withoutPrefix(const std::string& message) {
    const auto bracket = message.find("] ");
    return message.rfind("[json.exception", 0) == 0 && bracket != std::string::npos ? message.substr(bracket + 2)
                                                                                   : message;
}

std::string typeName(const Json& value) {
    if (value.is_null()) return "null";
    if (value.is_boolean()) return "a boolean";
    if (value.is_number()) return "a number";
    if (value.is_string()) return "a string";
    if (value.is_array()) return "an array";
    return "an object";
}

std::string at(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }
std::string dot(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

}  // namespace

Json parse(std::string_view text) {
    Json root;
    LimitedSax sax(root);
    if (Json::sax_parse(text.begin(), text.end(), &sax)) return root;
    // Locate the error by line and column (1-based) from its byte position.
    const std::size_t position = std::min(sax.errorPosition(), text.size());
    int line = 1;
    std::size_t lineStart = 0;
    for (std::size_t i = 0; i < position; ++i)
        if (text[i] == '\n') ++line, lineStart = i + 1;
    const std::size_t column = position > lineStart ? position - lineStart : 1;
    std::string message = withoutPrefix(sax.errorMessage());
    if (message.rfind("parse error at line", 0) == 0) {
        // nlohmann's own "parse error at line L, column C: syntax error while parsing value - ..."
        const auto colon = message.find(": ");
        if (colon != std::string::npos) message = message.substr(colon + 2);
    }
    if (sax.errorId() == 406) message += " (numbers must be finite doubles, at most about ±1.8e308)";
    throw Error{"", "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message};
}

std::string readFile(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw Error{"", path + ": cannot open: no such file"};
    if (std::filesystem::is_directory(status)) throw Error{"", path + ": cannot open: a folder, not a file"};
    if (!std::filesystem::is_regular_file(status))
        throw Error{"", path + ": cannot open: not a regular file (a FIFO, socket or device)"};
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > limits::kMaxFileBytes)
        throw Error{"", path + ": " + std::to_string(size) + " bytes, larger than the limit of " +
                            std::to_string(limits::kMaxFileBytes) + " bytes"};
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error{"", path + ": cannot open for reading"};
    std::string text;
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad() || static_cast<std::uintmax_t>(in.gcount()) != size) throw Error{"", path + ": read error"};
    return text;
}

std::string readStandardInput() {
    std::string text;
    char buffer[1 << 16];
    while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
        if (text.size() > limits::kMaxFileBytes)
            throw Error{"", "standard input: more than the limit of " + std::to_string(limits::kMaxFileBytes) + " bytes"};
    }
    if (std::cin.bad()) throw Error{"", "standard input: read error"};
    return text;
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (byte < 0x20 || byte == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out;
}

namespace {

std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(previous, current);
    }
    return previous[b.size()];
}

}  // namespace

std::string didYouMean(std::string_view word, const std::vector<std::string>& known) {
    if (word.size() > 64) return "";
    const std::string* best = nullptr;
    std::size_t bestDistance = 0;
    for (const std::string& candidate : known) {
        const std::size_t distance = editDistance(word, candidate);
        if (!best || distance < bestDistance) best = &candidate, bestDistance = distance;
    }
    // A near miss: a typo or two, not a different word.
    if (!best || bestDistance == 0 || bestDistance > std::max<std::size_t>(1, std::min(word.size(), best->size()) / 3))
        return "";
    return " (did you mean \"" + *best + "\"?)";
}

void checkKeys(const Json& object, std::initializer_list<std::string_view> known, const std::string& path) {
    checkKeys(object, std::span<const std::string_view>(known.begin(), known.size()), path);
}

void checkKeys(const Json& object, std::span<const std::string_view> known, const std::string& path) {
    if (!object.is_object()) return;
    for (const auto& [key, unused] : object.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        const std::vector<std::string> names(known.begin(), known.end());
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
        throw Error{dot(path, key), "unknown key" + didYouMean(key, names) + "; expected one of " + list};
    }
}

const Json& member(const Json& object, const std::string& key, const std::string& path) {
    if (!object.is_object()) throw Error{path, "expected an object, found " + typeName(object)};
    const auto it = object.find(key);
    if (it == object.end()) throw Error{path, "missing \"" + key + "\""};
    return *it;
}

const Json* optionalMember(const Json& object, const std::string& key, const std::string& path) {
    if (!object.is_object()) throw Error{path, "expected an object, found " + typeName(object)};
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

Real readNumber(const Json& value, const std::string& path) {
    if (!value.is_number() || value.is_boolean()) throw Error{path, "expected a number, found " + typeName(value)};
    const Real number = value.get<Real>();
    if (!std::isfinite(number)) throw Error{path, "expected a finite number"};
    return number;
}

int readInteger(const Json& value, const std::string& path) {
    const std::string range = "an integer from " + std::to_string(INT32_MIN) + " to " + std::to_string(INT32_MAX);
    // Unsigned first: a value above 2⁶³ read as int64 would wrap to a negative number.
    if (value.is_number_unsigned()) {
        if (value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT32_MAX))
            throw Error{path, "expected " + range + ", found " + value.dump()};
        return static_cast<int>(value.get<std::uint64_t>());
    }
    if (value.is_number_integer()) {
        const auto number = value.get<std::int64_t>();
        if (number < INT32_MIN || number > INT32_MAX) throw Error{path, "expected " + range + ", found " + value.dump()};
        return static_cast<int>(number);
    }
    if (value.is_number_float()) {
        const double number = value.get<double>();
        if (std::isfinite(number) && std::floor(number) == number)
            throw Error{path, "expected an integer written without a decimal point or exponent (like 3, not 3.0 or 3e0)"};
        throw Error{path, "expected an integer, found a number with a fraction (" + value.dump() + ")"};
    }
    throw Error{path, "expected an integer, found " + typeName(value)};
}

bool readBool(const Json& value, const std::string& path) {
    if (!value.is_boolean()) throw Error{path, "expected true or false, found " + typeName(value)};
    return value.get<bool>();
}

std::string readString(const Json& value, const std::string& path) {
    if (!value.is_string()) throw Error{path, "expected a string, found " + typeName(value)};
    return value.get<std::string>();
}

Points readMatrix(const Json& value, const std::string& path) {
    if (!value.is_array() || value.empty()) throw Error{path, "expected a non-empty array of rows"};
    // Limits before the matrix is allocated.
    if (static_cast<std::int64_t>(value.size()) > limits::kMaxPoints)
        throw Error{path, "has " + std::to_string(value.size()) + " rows, more than the limit of " +
                              std::to_string(limits::kMaxPoints)};
    const Json& first = value.front();
    if (!first.is_array() || first.empty()) throw Error{at(path, 0), "expected a non-empty array of numbers"};
    if (static_cast<std::int64_t>(first.size()) > limits::kMaxDimension)
        throw Error{at(path, 0), "has " + std::to_string(first.size()) + " entries, more than the limit of " +
                                     std::to_string(limits::kMaxDimension) + " coordinates"};
    Points out(static_cast<Eigen::Index>(value.size()), static_cast<Eigen::Index>(first.size()));
    for (std::size_t i = 0; i < value.size(); ++i) {
        const Json& row = value[i];
        if (!row.is_array()) throw Error{at(path, i), "expected an array of numbers, found " + typeName(row)};
        if (row.size() != first.size())
            throw Error{at(path, i), "has " + std::to_string(row.size()) + " entries, expected " +
                                         std::to_string(first.size()) + " like row 0"};
        for (std::size_t j = 0; j < row.size(); ++j)
            out(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = readNumber(row[j], at(at(path, i), j));
    }
    return out;
}

Points readBoundedMatrix(const Json& value, const std::string& path) {
    Points out = readMatrix(value, path);
    for (Eigen::Index i = 0; i < out.rows(); ++i)
        for (Eigen::Index j = 0; j < out.cols(); ++j)
            if (std::abs(out(i, j)) > limits::kMaxMagnitude)
                throw Error{at(at(path, static_cast<std::size_t>(i)), static_cast<std::size_t>(j)),
                            "is beyond the supported range: magnitudes up to 1e150"};
    return out;
}

Labels readLabels(const Json& value, const std::string& path) {
    if (!value.is_array()) throw Error{path, "expected an array of integer labels, found " + typeName(value)};
    if (static_cast<std::int64_t>(value.size()) > limits::kMaxPoints)
        throw Error{path, "has " + std::to_string(value.size()) + " labels, more than the limit of " +
                              std::to_string(limits::kMaxPoints)};
    Labels out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        out.push_back(readInteger(value[i], at(path, i)));
        if (out.back() >= limits::kMaxClasses)
            throw Error{at(path, i), "label " + std::to_string(out.back()) + " is beyond the limit of " +
                                         std::to_string(limits::kMaxClasses) + " classes (labels 0 to " +
                                         std::to_string(limits::kMaxClasses - 1) + ")"};
    }
    return out;
}

DistanceSpec readDistance(const Json& value, const std::string& path) {
    const std::string type = readString(member(value, "type", path), dot(path, "type"));
    DistanceSpec spec;
    if (type == "lp" || type == "LpDistance") spec.kind = DistanceKind::Lp;
    else if (type == "cosine" || type == "CosineSimilarity") spec.kind = DistanceKind::Cosine;
    else if (type == "dot" || type == "DotProductSimilarity") spec.kind = DistanceKind::DotProduct;
    else throw Error{dot(path, "type"), "unknown distance '" + type + "', expected lp, cosine or dot"};
    if (const Json* power = optionalMember(value, "power", path)) {
        spec.power = readInteger(*power, dot(path, "power"));
        if (spec.power != 1 && spec.power != 2) throw Error{dot(path, "power"), "expected 1 or 2"};
    }
    if (const Json* p = optionalMember(value, "p", path))
        if (readNumber(*p, dot(path, "p")) != 2.0) throw Error{dot(path, "p"), "only p = 2 is supported"};
    if (const Json* normalize = optionalMember(value, "normalize_embeddings", path))
        spec.normalize = readBool(*normalize, dot(path, "normalize_embeddings"));
    if (spec.kind == DistanceKind::Cosine) spec.normalize = true;
    checkKeys(value, {"type", "power", "p", "normalize_embeddings"}, path);
    return spec;
}

ParamValues readParams(const Json& value, const std::string& path, const std::vector<ParamInfo>* infos) {
    if (!value.is_object()) throw Error{path, "expected an object of parameters, found " + typeName(value)};
    ParamValues out;
    for (const auto& [key, entry] : value.items()) {
        const std::string here = dot(path, key);
        if (infos) {
            const auto info = std::find_if(infos->begin(), infos->end(), [&name = key](const ParamInfo& p) { return p.name == name; });
            if (info == infos->end()) {
                std::vector<std::string> names;
                for (const ParamInfo& p : *infos) names.push_back(p.name);
                std::string list;
                for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
                throw Error{here, "unknown parameter" + didYouMean(key, names) +
                                      (names.empty() ? "; this takes no parameters" : "; expected one of " + list)};
            }
            // Booleans are not numbers: "margin": true is a mistake, not 1.0.
            if (info->type == ParamType::Boolean && !entry.is_boolean())
                throw Error{here, "expected true or false, found " + typeName(entry)};
            if (info->type == ParamType::Choice && !entry.is_string())
                throw Error{here, "expected a string, found " + typeName(entry)};
            if ((info->type == ParamType::Number || info->type == ParamType::Integer) && !entry.is_number())
                throw Error{here, "expected a number, found " + typeName(entry)};
        }
        if (entry.is_boolean()) out.numbers[key] = entry.get<bool>() ? 1.0 : 0.0;
        else if (entry.is_string()) out.choices[key] = entry.get<std::string>();
        else out.numbers[key] = readNumber(entry, here);
    }
    return out;
}

namespace {

// Losses and miners are written alike: a name, or {"name", "params", "distance"}.
const std::vector<ParamInfo>* paramsOf(const LossConfig& config) {
    const LossInfo* info = findLoss(config.name);
    return info ? &info->params : nullptr;
}

const std::vector<ParamInfo>* paramsOf(const MinerConfig& config) {
    const MinerInfo* info = findMiner(config.name);
    return info ? &info->params : nullptr;
}

template <typename Config>
Config readNamedConfig(const Json& value, const std::string& path) {
    Config config;
    if (value.is_string()) {
        config.name = value.get<std::string>();
        return config;
    }
    checkKeys(value, {"name", "params", "distance"}, path);
    config.name = readString(member(value, "name", path), dot(path, "name"));
    // Unknown names are left to makeLoss / makeMiner, whose messages list the catalogue.
    if (const Json* params = optionalMember(value, "params", path))
        config.params = readParams(*params, dot(path, "params"), paramsOf(config));
    if (const Json* distance = optionalMember(value, "distance", path))
        config.distance = readDistance(*distance, dot(path, "distance"));
    return config;
}

template <typename Config>
Json namedConfigToJson(const Config& config) {
    Json out = {{"name", config.name}, {"params", toJson(config.params)}};
    if (config.distance) out["distance"] = toJson(*config.distance);
    return out;
}

}  // namespace

LossConfig readLossConfig(const Json& value, const std::string& path) {
    // multiple_losses: {"name": "multiple_losses", "losses": [{"name", "params", "distance", "weight"},
    // ...]}.
    if (!value.is_object() || !value.contains("losses")) return readNamedConfig<LossConfig>(value, path);
    checkKeys(value, {"name", "losses"}, path);
    LossConfig config;
    config.name = readString(member(value, "name", path), dot(path, "name"));
    const std::string listPath = dot(path, "losses");
    const LossInfo* info = findLoss(config.name);
    if (info && !info->isWrapper())
        throw Error{listPath,
                    "loss " + config.name + " takes no \"losses\" (only multiple_losses has components)"};
    const Json& list = value.at("losses");
    if (!list.is_array()) throw Error{listPath, "expected an array of losses, found " + typeName(list)};
    if (list.size() < static_cast<std::size_t>(kMinLossComponents) ||
        list.size() > static_cast<std::size_t>(kMaxLossComponents))
        throw Error{listPath, "needs " + std::to_string(kMinLossComponents) + " to " +
                                  std::to_string(kMaxLossComponents) + " losses, found " +
                                  std::to_string(list.size())};
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Json& entry = list[i];
        const std::string here = at(listPath, i);
        if (entry.is_object() && entry.contains("losses"))
            throw Error{dot(here, "losses"),
                        "a component cannot hold losses of its own (no nested multiple_losses)"};
        LossComponent component;
        if (entry.is_object()) {
            checkKeys(entry, {"name", "params", "distance", "weight"}, here);
            if (const Json* weight = optionalMember(entry, "weight", here)) {
                component.weight = readNumber(*weight, dot(here, "weight"));
                if (component.weight < 0.0 || component.weight > 1e6)
                    throw Error{dot(here, "weight"), "must be between 0 and 1e6"};
            }
            Json plain = entry;
            plain.erase("weight");
            component.loss = readNamedConfig<LossConfig>(plain, here);
        } else if (entry.is_string()) {
            component.loss = readNamedConfig<LossConfig>(entry, here);
        } else {
            throw Error{
                here,
                "expected a loss name or an object {\"name\", \"params\", \"distance\", \"weight\"}, found " +
                    typeName(entry)};
        }
        if (const LossInfo* part = findLoss(component.loss.name); part && part->isWrapper())
            throw Error{dot(here, "name"), part->name + " cannot contain another " + part->name};
        config.components.push_back(std::move(component));
    }
    return config;
}

MinerConfig readMinerConfig(const Json& value, const std::string& path) {
    return readNamedConfig<MinerConfig>(value, path);
}

namespace {

// Every key readOptimizer reads, and no other: a key added there must be added here.
constexpr std::string_view kOptimizerKeys[] = {"type",      "learning_rate", "owned_learning_rate", "momentum",
                                               "dampening", "nesterov",      "beta1",               "beta2",
                                               "epsilon",   "weight_decay"};

}  // namespace

OptimizerConfig readOptimizer(const Json& value, const std::string& path) {
    OptimizerConfig config;
    checkKeys(value, kOptimizerKeys, path);
    const std::string type = readString(member(value, "type", path), dot(path, "type"));
    if (!parseOptimizerKind(type, &config.kind))
        throw Error{dot(path, "type"), "unknown optimizer '" + type + "', expected sgd, momentum, adam or adamw"};
    auto number = [&](const char* key, Real* target) {
        if (const Json* entry = optionalMember(value, key, path)) *target = readNumber(*entry, dot(path, key));
    };
    number("learning_rate", &config.learningRate);
    config.ownedLearningRate = config.learningRate;
    number("owned_learning_rate", &config.ownedLearningRate);
    number("momentum", &config.momentum);
    number("dampening", &config.dampening);
    number("beta1", &config.beta1);
    number("beta2", &config.beta2);
    number("epsilon", &config.epsilon);
    number("weight_decay", &config.weightDecay);
    if (const Json* nesterov = optionalMember(value, "nesterov", path))
        config.nesterov = readBool(*nesterov, dot(path, "nesterov"));
    std::string error;
    if (!config.isValid(&error)) throw Error{path, error};
    return config;
}

BatchConfig readBatch(const Json& value, const std::string& path) {
    BatchConfig config;
    const std::string mode = readString(member(value, "mode", path), dot(path, "mode"));
    if (mode == "full") {
        checkKeys(value, {"mode"}, path);
        config.mode = BatchConfig::Mode::Full;
    } else if (mode == "pk") {
        checkKeys(value, {"mode", "classes", "samples"}, path);
        config.mode = BatchConfig::Mode::ClassesTimesSamples;
        config.classesPerBatch = readInteger(member(value, "classes", path), dot(path, "classes"));
        config.samplesPerClass = readInteger(member(value, "samples", path), dot(path, "samples"));
        if (config.classesPerBatch < 1 || config.samplesPerClass < 1)
            throw Error{path, "classes and samples must be at least 1"};
        // The batch is allocated as P×K indices: bound it before anything is built.
        if (static_cast<std::int64_t>(config.classesPerBatch) * config.samplesPerClass > limits::kMaxBatchSize)
            throw Error{path, "a batch of " + std::to_string(config.classesPerBatch) + " × " +
                                  std::to_string(config.samplesPerClass) + " points is larger than the limit of " +
                                  std::to_string(limits::kMaxBatchSize)};
    } else {
        throw Error{dot(path, "mode"), "unknown batch mode '" + mode + "', expected full or pk"};
    }
    return config;
}

OptimizerState readOptimizerState(const Json& value, const std::string& path,
                                  const std::vector<std::pair<Eigen::Index, Eigen::Index>>& shapes) {
    OptimizerState state;
    const std::string type = readString(member(value, "type", path), dot(path, "type"));
    if (!parseOptimizerKind(type, &state.kind))
        throw Error{dot(path, "type"), "unknown optimizer '" + type + "', expected sgd, momentum, adam or adamw"};
    const char* groupNames[] = {"points", "owned"};
    checkKeys(value, {"type", "points", "owned"}, path);
    state.groups.resize(shapes.size());
    for (std::size_t g = 0; g < shapes.size() && g < 2; ++g) {
        const Json* group = optionalMember(value, groupNames[g], path);
        if (!group) continue;
        const std::string here = dot(path, groupNames[g]);
        OptimizerGroupState& out = state.groups[g];
        const int steps = readInteger(member(*group, "step", here), dot(here, "step"));
        if (steps < 0) throw Error{dot(here, "step"), "must be ≥ 0"};
        out.steps = steps;
        std::vector<std::string> buffers;
        if (state.kind == OptimizerKind::Momentum) buffers = {"momentum_buffer"};
        if (state.kind == OptimizerKind::Adam || state.kind == OptimizerKind::AdamW) buffers = {"exp_avg", "exp_avg_sq"};
        for (const auto& [key, unused] : group->items())
            if (key != "step" && std::find(buffers.begin(), buffers.end(), key) == buffers.end())
                throw Error{here, "unknown entry \"" + key + "\" for the " + type + " optimizer"};
        for (std::size_t b = 0; b < buffers.size(); ++b) {
            const std::string where = dot(here, buffers[b]);
            const Json* matrix = optionalMember(*group, buffers[b], here);
            if ((matrix != nullptr) != (steps > 0))
                throw Error{steps > 0 ? here : where,
                            steps > 0 ? "missing \"" + buffers[b] + "\" after " + std::to_string(steps) + " steps"
                                      : "a buffer before any step (step is 0)"};
            if (!matrix) continue;
            Points buffer = readMatrix(*matrix, where);
            const auto [rows, cols] = shapes[g];
            if (buffer.rows() != rows || buffer.cols() != cols)
                throw Error{where, "is " + std::to_string(buffer.rows()) + "×" + std::to_string(buffer.cols()) +
                                       ", expected " + std::to_string(rows) + "×" + std::to_string(cols)};
            if (buffers[b] == "exp_avg_sq" && buffer.minCoeff() < 0.0)
                throw Error{where, "a second moment must be ≥ 0"};
            (b == 0 ? out.first : out.second) = std::move(buffer);
        }
    }
    std::string message;
    if (!state.isValid(state.kind, shapes, &message)) throw Error{path, message};
    return state;
}

namespace {

struct HistoryColumn {
    const char* name;
    Real HistoryPoint::*field;
};

// "step" is the first column, read as an integer; the others are numbers or null.
constexpr HistoryColumn kHistoryColumns[] = {
    {"loss", &HistoryPoint::loss},
    {"active", &HistoryPoint::activeFraction},
    {"easy", &HistoryPoint::easy},
    {"semihard", &HistoryPoint::semiHard},
    {"hard", &HistoryPoint::hard},
    {"precision_at_1", &HistoryPoint::precisionAt1},
    {"map_at_r", &HistoryPoint::mapAtR},
    {"r_precision", &HistoryPoint::rPrecision},
    {"collapse", &HistoryPoint::collapse},
    {"uniformity", &HistoryPoint::uniformity},
    {"alignment", &HistoryPoint::alignment},
    // multiple_losses only: written when some point has them (HistoryPoint::kComponentFields).
    {"component_1", &HistoryPoint::component1},
    {"component_2", &HistoryPoint::component2},
    {"component_3", &HistoryPoint::component3},
    {"component_4", &HistoryPoint::component4},
};

bool isComponentColumn(const HistoryColumn& column) {
    return std::find(std::begin(kComponentFields), std::end(kComponentFields), column.field) !=
           std::end(kComponentFields);
}

}  // namespace

std::vector<HistoryPoint> readHistory(const Json& value, const std::string& path) {
    checkKeys(value, {"columns", "rows"}, path);
    const Json& columns = member(value, "columns", path);
    const std::string columnsPath = dot(path, "columns");
    if (!columns.is_array()) throw Error{columnsPath, "expected an array of column names, found " + typeName(columns)};
    std::vector<Real HistoryPoint::*> fields;  // nullptr: the step
    bool hasStep = false;
    for (std::size_t c = 0; c < columns.size(); ++c) {
        const std::string name = readString(columns[c], at(columnsPath, c));
        for (std::size_t d = 0; d < c; ++d)
            if (columns[d] == columns[c]) throw Error{at(columnsPath, c), "column \"" + name + "\" appears twice"};
        if (name == "step") {
            hasStep = true;
            fields.push_back(nullptr);
            continue;
        }
        const auto* column = std::find_if(std::begin(kHistoryColumns), std::end(kHistoryColumns),
                                          [&](const HistoryColumn& known) { return name == known.name; });
        if (column == std::end(kHistoryColumns)) throw Error{at(columnsPath, c), "unknown history column \"" + name + "\""};
        fields.push_back(column->field);
    }
    if (!hasStep) throw Error{columnsPath, "the \"step\" column is required"};
    const Json& rows = member(value, "rows", path);
    const std::string rowsPath = dot(path, "rows");
    if (!rows.is_array()) throw Error{rowsPath, "expected an array of rows, found " + typeName(rows)};
    std::vector<HistoryPoint> points;
    points.reserve(rows.size());
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const Json& row = rows[r];
        const std::string rowPath = at(rowsPath, r);
        if (!row.is_array() || row.size() != fields.size())
            throw Error{rowPath, "expected an array of " + std::to_string(fields.size()) + " values like \"columns\""};
        HistoryPoint point;
        for (std::size_t c = 0; c < fields.size(); ++c) {
            const std::string cell = at(rowPath, c);
            if (!fields[c]) {
                point.step = readInteger(row[c], cell);
                if (point.step < 0) throw Error{cell, "a step must be ≥ 0"};
            } else if (!row[c].is_null()) {
                point.*fields[c] = readNumber(row[c], cell);
            }
        }
        std::string message;
        if (!point.isValid(points.empty() ? nullptr : &points.back(), &message)) throw Error{rowPath, message};
        points.push_back(point);
    }
    return points;
}

namespace {

void formatInto(const Json& value, int indent, int depth, std::string& out) {
    const std::string pad(static_cast<std::size_t>(indent * (depth + 1)), ' ');
    const std::string closePad(static_cast<std::size_t>(indent * depth), ' ');
    if (value.is_object() && !value.empty()) {
        out += "{\n";
        std::size_t i = 0;
        for (const auto& [key, entry] : value.items()) {
            out += pad + Json(key).dump() + ": ";
            formatInto(entry, indent, depth + 1, out);
            out += ++i < value.size() ? ",\n" : "\n";
        }
        out += closePad + "}";
        return;
    }
    const bool scalars = std::all_of(value.begin(), value.end(), [](const Json& e) { return e.is_primitive(); });
    if (value.is_array() && !value.empty() && !scalars) {
        out += "[\n";
        for (std::size_t i = 0; i < value.size(); ++i) {
            out += pad;
            formatInto(value[i], indent, depth + 1, out);
            out += i + 1 < value.size() ? ",\n" : "\n";
        }
        out += closePad + "]";
        return;
    }
    std::string line = value.dump();
    const bool hasStrings = std::any_of(value.begin(), value.end(), [](const Json& e) { return e.is_string(); });
    if (value.is_array() && !hasStrings) {  // "[1,2]" → "[1, 2]": without strings every comma separates
        std::string spaced;
        for (char c : line) {
            spaced += c;
            if (c == ',') spaced += ' ';
        }
        line = spaced;
    }
    out += line;
}

}  // namespace

std::string format(const Json& value, int indent) {
    if (indent < 0) return value.dump();
    std::string out;
    formatInto(value, indent, 0, out);
    return out;
}

Json toJson(const Points& matrix) {
    Json rows = Json::array();
    for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
        Json row = Json::array();
        for (Eigen::Index j = 0; j < matrix.cols(); ++j) row.push_back(matrix(i, j));
        rows.push_back(std::move(row));
    }
    return rows;
}

Json toJson(const Labels& labels) { return Json(labels); }

Json toJson(const DistanceSpec& distance) {
    switch (distance.kind) {
    case DistanceKind::Lp:
        return {{"type", "lp"}, {"power", distance.power}, {"normalize_embeddings", distance.normalize}};
    case DistanceKind::Cosine:
        return {{"type", "cosine"}};
    case DistanceKind::DotProduct:
        return {{"type", "dot"}, {"normalize_embeddings", distance.normalize}};
    }
    return {};
}

Json toJson(const ParamValues& params) {
    Json out = Json::object();
    for (const auto& [key, value] : params.numbers) out[key] = value;
    for (const auto& [key, value] : params.choices) out[key] = value;
    return out;
}

Json toJson(const LossConfig& config) {
    if (config.components.empty()) return namedConfigToJson(config);
    Json list = Json::array();
    for (const LossComponent& c : config.components) {
        Json entry = namedConfigToJson(c.loss);
        entry["weight"] = c.weight;
        list.push_back(std::move(entry));
    }
    return Json{{"name", config.name}, {"losses", std::move(list)}};
}

Json toJson(const MinerConfig& config) { return namedConfigToJson(config); }

Json toJson(const OptimizerConfig& config) {
    return {{"type", optimizerName(config.kind)}, {"learning_rate", config.learningRate},
            {"owned_learning_rate", config.ownedLearningRate}, {"momentum", config.momentum},
            {"dampening", config.dampening}, {"nesterov", config.nesterov}, {"beta1", config.beta1}, {"beta2", config.beta2},
            {"epsilon", config.epsilon}, {"weight_decay", config.weightDecay}};
}

Json toJson(const BatchConfig& config) {
    if (config.mode == BatchConfig::Mode::Full) return {{"mode", "full"}};
    return {{"mode", "pk"}, {"classes", config.classesPerBatch}, {"samples", config.samplesPerClass}};
}

Json toJson(const LossStats& stats) {
    Json out = {{"tuple_kind", stats.tupleKind}, {"tuples", stats.tuples}, {"active", stats.active}};
    if (stats.hasRegions) {
        out["easy"] = stats.easy;
        out["semihard"] = stats.semiHard;
        out["hard"] = stats.hard;
    }
    return out;
}

Json toJson(const OptimizerState& state) {
    Json out = {{"type", optimizerName(state.kind)}};
    const char* groupNames[] = {"points", "owned"};
    for (std::size_t g = 0; g < state.groups.size() && g < 2; ++g) {
        const OptimizerGroupState& group = state.groups[g];
        if (group.steps == 0) continue;  // never stepped: nothing to remember
        Json entry = {{"step", group.steps}};
        if (state.kind == OptimizerKind::Momentum) entry["momentum_buffer"] = toJson(group.first);
        if (state.kind == OptimizerKind::Adam || state.kind == OptimizerKind::AdamW) {
            entry["exp_avg"] = toJson(group.first);
            entry["exp_avg_sq"] = toJson(group.second);
        }
        out[groupNames[g]] = std::move(entry);
    }
    return out;
}

Json toJson(const std::vector<HistoryPoint>& history) {
    // The component columns only for a run that has components: other files stay as they were.
    std::vector<const HistoryColumn*> written;
    for (const HistoryColumn& column : kHistoryColumns)
        if (!isComponentColumn(column) ||
            std::any_of(history.begin(), history.end(),
                        [&](const HistoryPoint& p) { return !std::isnan(p.*column.field); }))
            written.push_back(&column);
    Json columns = Json::array({"step"});
    for (const HistoryColumn* column : written) columns.push_back(column->name);
    Json rows = Json::array();
    for (const HistoryPoint& point : history) {
        Json row = Json::array({point.step});
        for (const HistoryColumn* column : written) {
            const Real value = point.*column->field;
            row.push_back(std::isfinite(value) ? Json(value) : Json(nullptr));
        }
        rows.push_back(std::move(row));
    }
    return {{"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

Json toJson(const MinerCounts& counts) {
    return {{"triplets", counts.triplets}, {"positive_pairs", counts.positivePairs},
            {"negative_pairs", counts.negativePairs}};
}

}  // namespace marginlab::json

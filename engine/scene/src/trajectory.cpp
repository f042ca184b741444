// SPDX-License-Identifier: MIT
#include "marginlab/scene/trajectory.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

#include "marginlab/csv.h"
#include "marginlab/scene/jsonio.h"
#include "marginlab/scene/npy.h"

namespace marginlab {

namespace {

namespace fs = std::filesystem;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string_view trim(std::string_view s) {
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> splitFields(std::string_view line) {
    std::vector<std::string_view> fields;
    for (;;) {
        const auto comma = line.find(',');
        fields.push_back(trim(line.substr(0, comma)));
        if (comma == std::string_view::npos) return fields;
        line.remove_prefix(comma + 1);
    }
}

std::string shown(std::string_view field) {
    if (field.empty()) return "an empty field";
    std::string text(field.substr(0, 40));
    if (field.size() > 40) text += "...";
    return "'" + text + "'";
}

std::string_view withoutPlus(std::string_view s) {
    if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
    return s;
}

bool parseReal(std::string_view field, double* value) {
    const std::string_view s = withoutPlus(field);
    if (s.empty()) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value, std::chars_format::general);
    return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*value);
}

bool parseInteger(std::string_view field, long long* value) {
    const std::string_view s = withoutPlus(field);
    if (s.empty()) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value);
    return ec == std::errc() && end == s.data() + s.size();
}

/// Thrown inside the readers, turned into a message by their callers.
struct Failure {
    std::string message;
};

[[noreturn]] void failAt(int line, int column, const std::string& what) {
    std::string prefix = "line " + std::to_string(line);
    if (column > 0) prefix += ", column " + std::to_string(column);
    throw Failure{prefix + ": " + what};
}

/// The shortest text that reads back to the same double.
void appendNumber(std::string& out, double value) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, ec == std::errc() ? end : buffer);
}

// ---------------------------------------------------------------------------------------------
// Writing: whole files under a temporary name, renamed when complete.

fs::path partialPath(const fs::path& path) {
    return path.parent_path() / ("." + path.filename().string() + ".partial");
}

class PartialFile {
public:
    explicit PartialFile(fs::path target) : m_target(std::move(target)), m_partial(partialPath(m_target)) {
        m_file = std::fopen(m_partial.c_str(), "wb");
        if (!m_file) m_errno = errno;
    }
    ~PartialFile() {
        if (m_file) std::fclose(m_file);
        if (!m_committed) {
            std::error_code ignored;
            fs::remove(m_partial, ignored);
        }
    }
    bool write(std::string_view bytes) {
        if (!m_file || m_errno) return false;
        if (std::fwrite(bytes.data(), 1, bytes.size(), m_file) != bytes.size()) m_errno = errno ? errno : EIO;
        return m_errno == 0;
    }
    /// Flushes and closes; the file is still under its temporary name.
    bool close(std::string* error) {
        if (m_file) {
            if (std::fflush(m_file) != 0 && !m_errno) m_errno = errno;
            if (std::fclose(m_file) != 0 && !m_errno) m_errno = errno;
            m_file = nullptr;
        }
        if (m_errno) {
            if (error) *error = "cannot write " + m_target.string() + ": " + std::strerror(m_errno);
            return false;
        }
        return true;
    }
    bool commit(std::string* error) {
        std::error_code ec;
        fs::rename(m_partial, m_target, ec);
        if (ec) {
            if (error) *error = "cannot write " + m_target.string() + ": " + ec.message();
            return false;
        }
        m_committed = true;
        return true;
    }

private:
    fs::path m_target;
    fs::path m_partial;
    std::FILE* m_file = nullptr;
    int m_errno = 0;
    bool m_committed = false;
};

bool writeCsv(const Trajectory& t, const fs::path& path, std::string* error) {
    PartialFile file(path);
    const int d = t.dimension();
    std::string out = d == 3 ? "step,kind,point,label,x,y,z\n" : "step,kind,point,label,x,y\n";
    auto row = [&](long step, const char* kind, Eigen::Index index, int label, const Points& m) {
        out += std::to_string(step);
        out += ',';
        out += kind;
        out += ',';
        out += std::to_string(index);
        out += ',';
        out += std::to_string(label);
        for (int k = 0; k < d; ++k) {
            out += ',';
            appendNumber(out, m(index, k));
        }
        out += '\n';
        if (out.size() > (1 << 16)) {
            file.write(out);
            out.clear();
        }
    };
    for (std::size_t f = 0; f < t.positions.size(); ++f) {
        for (Eigen::Index i = 0; i < t.positions[f].rows(); ++i)
            row(t.steps[f], "point", i, t.labels[static_cast<std::size_t>(i)], t.positions[f]);
        if (!t.owned.empty())
            for (Eigen::Index r = 0; r < t.owned[f].rows(); ++r)
                row(t.steps[f], "owned", r, static_cast<int>(r % t.numClasses), t.owned[f]);
    }
    file.write(out);
    return file.close(error) && file.commit(error);
}

std::vector<double> flatten(const std::vector<Points>& frames) {
    std::vector<double> values;
    for (const Points& m : frames)
        for (Eigen::Index i = 0; i < m.rows(); ++i)
            for (Eigen::Index k = 0; k < m.cols(); ++k) values.push_back(m(i, k));
    return values;
}

bool writeNpy(const Trajectory& t, const fs::path& path, std::string* error) {
    const auto frames = static_cast<std::int64_t>(t.frameCount());
    const auto d = static_cast<std::int64_t>(t.dimension());
    std::vector<std::int64_t> labels(t.labels.begin(), t.labels.end()), steps(t.steps.begin(), t.steps.end());
    struct Part {
        fs::path path;
        std::string bytes;
    };
    std::vector<Part> parts;
    parts.push_back(
        {npySibling(path, "-labels"), npy::encode({static_cast<std::int64_t>(labels.size())}, labels)});
    parts.push_back({npySibling(path, "-steps"), npy::encode({frames}, steps)});
    if (!t.owned.empty())
        parts.push_back(
            {npySibling(path, "-owned"),
             npy::encode({frames, static_cast<std::int64_t>(t.owned.front().rows()), d}, flatten(t.owned))});
    parts.push_back(
        {path, npy::encode({frames, static_cast<std::int64_t>(t.pointCount()), d}, flatten(t.positions))});
    // Every file complete under its temporary name before any is renamed.
    std::vector<std::unique_ptr<PartialFile>> files;
    for (const Part& part : parts) {
        files.push_back(std::make_unique<PartialFile>(part.path));
        files.back()->write(part.bytes);
        if (!files.back()->close(error)) return false;
    }
    for (auto& file : files)
        if (!file->commit(error)) return false;
    if (t.owned.empty()) {
        // A stale -owned file from an earlier run would be read as this run's parameters.
        std::error_code ignored;
        fs::remove(npySibling(path, "-owned"), ignored);
    }
    return true;
}

bool writeJson(const Trajectory& t, const fs::path& path, std::string* error) {
    json::Json frames = json::Json::array();
    for (std::size_t f = 0; f < t.positions.size(); ++f) {
        json::Json frame = {{"step", t.steps[f]}, {"positions", json::toJson(t.positions[f])}};
        if (!t.owned.empty()) frame["owned"] = json::toJson(t.owned[f]);
        frames.push_back(std::move(frame));
    }
    const json::Json document = {{"format", "marginlab-trajectory"}, {"version", 1},
                                 {"dimension", t.dimension()},       {"num_classes", t.numClasses},
                                 {"labels", json::toJson(t.labels)}, {"frames", std::move(frames)}};
    PartialFile file(path);
    file.write(json::format(document) + "\n");
    return file.close(error) && file.commit(error);
}

// ---------------------------------------------------------------------------------------------
// Reading.

Points toPoints(const double* values, std::int64_t rows, std::int64_t cols) {
    Points m(rows, cols);
    std::copy(values, values + rows * cols, m.data());  // both row-major
    return m;
}

void checkDimension(std::int64_t d, const std::string& what) {
    if (d != 2 && d != 3)
        throw Failure{what + " has " + std::to_string(d) + " coordinates per point; expected 2 or 3"};
}

Labels readLabelsArray(const fs::path& path, std::int64_t expected) {
    if (!fs::exists(path))
        throw Failure{"the labels are missing: expected " + path.filename().string() +
                      " next to it (N integers)"};
    std::string message;
    const auto array = npy::read(path, kMaxTrajectoryPoints, &message);
    if (!array) throw Failure{path.string() + ": " + message};
    if (!array->isInteger) throw Failure{path.string() + ": labels must be integers, the file holds floats"};
    if (array->shape.size() != 1 || array->shape[0] != expected)
        throw Failure{path.string() + ": expected " + std::to_string(expected) + " labels in a 1-D array"};
    Labels labels;
    for (std::size_t i = 0; i < array->integers.size(); ++i) {
        const std::int64_t v = array->integers[i];
        if (v < 0 || v >= kMaxTrajectoryPoints)
            throw Failure{path.string() + ": label " + std::to_string(v) + " at index " + std::to_string(i) +
                          " is outside 0 ... " + std::to_string(kMaxTrajectoryPoints - 1)};
        labels.push_back(static_cast<int>(v));
    }
    return labels;
}

int classCount(const Labels& labels) {
    int top = -1;
    for (int label : labels) top = std::max(top, label);
    return top + 1;
}

Trajectory readNpy(const fs::path& path) {
    std::string message;
    const auto positions = npy::read(path, kMaxTrajectoryValues, &message);
    if (!positions) throw Failure{message};
    if (positions->isInteger || positions->shape.size() != 3)
        throw Failure{"expected an F×N×D float array of positions (frames × points × 2 or 3)"};
    const std::int64_t frames = positions->shape[0], n = positions->shape[1], d = positions->shape[2];
    if (frames < 1 || n < 1) throw Failure{"has no frames or no points"};
    if (frames > kMaxTrajectoryFrames)
        throw Failure{"has more than " + std::to_string(kMaxTrajectoryFrames) + " frames (the limit)"};
    if (n > kMaxTrajectoryPoints)
        throw Failure{"has more than " + std::to_string(kMaxTrajectoryPoints) + " points (the limit)"};
    checkDimension(d, "the array");
    Trajectory t;
    t.labels = readLabelsArray(npySibling(path, "-labels"), n);
    t.numClasses = classCount(t.labels);
    for (std::int64_t f = 0; f < frames; ++f)
        t.positions.push_back(toPoints(positions->reals.data() + f * n * d, n, d));
    const fs::path stepsPath = npySibling(path, "-steps");
    if (fs::exists(stepsPath)) {
        const auto steps = npy::read(stepsPath, kMaxTrajectoryFrames, &message);
        if (!steps) throw Failure{stepsPath.string() + ": " + message};
        if (!steps->isInteger || steps->shape.size() != 1 || steps->shape[0] != frames)
            throw Failure{stepsPath.string() + ": expected " + std::to_string(frames) +
                          " integer steps in a 1-D array"};
        for (auto s : steps->integers) t.steps.push_back(static_cast<long>(s));
    } else {
        for (std::int64_t f = 0; f < frames; ++f) t.steps.push_back(static_cast<long>(f));
    }
    const fs::path ownedPath = npySibling(path, "-owned");
    if (fs::exists(ownedPath)) {
        const auto owned = npy::read(ownedPath, kMaxTrajectoryValues - frames * n * d, &message);
        if (!owned) throw Failure{ownedPath.string() + ": " + message};
        if (owned->isInteger || owned->shape.size() != 3 || owned->shape[0] != frames || owned->shape[2] != d)
            throw Failure{ownedPath.string() + ": expected an F×R×D float array with F = " +
                          std::to_string(frames) + " and D = " + std::to_string(d)};
        const std::int64_t r = owned->shape[1];
        for (std::int64_t f = 0; f < frames; ++f)
            t.owned.push_back(toPoints(owned->reals.data() + f * r * d, r, d));
    }
    return t;
}

/// Through json::parse, whose limits (nesting, string length, numbers beyond double range) refuse
/// what would otherwise escape as an exception or overflow the stack.
json::Json parseJsonFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
        return json::parse(text);
    } catch (const json::Error& e) {
        throw Failure{"not valid JSON (" + e.what() + ")"};
    }
}

Trajectory readJson(const fs::path& path) {
    std::error_code ec;
    if (fs::file_size(path, ec) > kMaxTrajectoryJsonBytes)
        throw Failure{"is larger than " + std::to_string(kMaxTrajectoryJsonBytes >> 20) +
                      " MiB (the limit for JSON; use NPY)"};
    const json::Json document = parseJsonFile(path);
    try {
        if (!document.is_object()) throw json::Error{"", "a trajectory is a JSON object"};
        if (const auto* format = json::optionalMember(document, "format", ""))
            if (json::readString(*format, "format") != "marginlab-trajectory")
                throw json::Error{"format", "this is not a MarginLab trajectory"};
        const int version = json::readInteger(json::member(document, "version", ""), "version");
        if (version != 1) throw json::Error{"version", "this MarginLab reads version 1"};
        Trajectory t;
        t.labels = json::readLabels(json::member(document, "labels", ""), "labels");
        t.numClasses = classCount(t.labels);
        if (const auto* classes = json::optionalMember(document, "num_classes", ""))
            t.numClasses = json::readInteger(*classes, "num_classes");
        const auto& frames = json::member(document, "frames", "");
        if (!frames.is_array() || frames.empty()) throw json::Error{"frames", "expected a non-empty array"};
        for (std::size_t f = 0; f < frames.size(); ++f) {
            const std::string at = "frames[" + std::to_string(f) + "]";
            const int step = json::readInteger(json::member(frames[f], "step", at), at + ".step");
            t.steps.push_back(step);
            t.positions.push_back(
                json::readMatrix(json::member(frames[f], "positions", at), at + ".positions"));
            if (const auto* owned = json::optionalMember(frames[f], "owned", at))
                t.owned.push_back(json::readMatrix(*owned, at + ".owned"));
            else if (!t.owned.empty())
                throw json::Error{at, "has no \"owned\" though frame 0 has"};
            if (f > 0 && t.owned.size() != f + 1 && !t.owned.empty())
                throw json::Error{at, "frame 0 has no \"owned\""};
        }
        if (const auto* dimension = json::optionalMember(document, "dimension", ""))
            if (json::readInteger(*dimension, "dimension") != t.dimension())
                throw json::Error{"dimension", "does not match the positions"};
        return t;
    } catch (const json::Error& e) {
        throw Failure{e.what()};
    }
}

/// The first non-blank line's first field, lower case ("step" marks a trajectory CSV).
std::string firstField(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
        std::string_view text(line);
        if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
        if (trim(text).empty()) continue;
        return lower(std::string(splitFields(text).front()));
    }
    return {};
}

void requireFile(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Failure{"cannot open: no such file"};
    if (!fs::is_regular_file(path, ec)) throw Failure{"cannot open: not a regular file"};
}

}  // namespace

fs::path npySibling(const fs::path& positions, const std::string& suffix) {
    return positions.parent_path() / (positions.stem().string() + suffix + ".npy");
}

std::optional<TrajectoryFormat> trajectoryFormatFor(const fs::path& path, std::string* error) {
    const std::string extension = lower(path.extension().string());
    if (extension == ".csv") return TrajectoryFormat::Csv;
    if (extension == ".npy") return TrajectoryFormat::Npy;
    if (extension == ".json") return TrajectoryFormat::Json;
    if (error) *error = path.string() + ": unknown trajectory format; use .csv, .npy or .json";
    return std::nullopt;
}

bool validateTrajectory(const Trajectory& t, std::string* error) {
    auto fail = [&](const std::string& message) {
        if (error) *error = message;
        return false;
    };
    if (t.positions.empty()) return fail("a trajectory needs at least one frame");
    if (t.frameCount() > kMaxTrajectoryFrames)
        return fail("more than " + std::to_string(kMaxTrajectoryFrames) + " frames");
    if (t.steps.size() != t.positions.size()) return fail("one step per frame is needed");
    if (!t.owned.empty() && t.owned.size() != t.positions.size())
        return fail("owned parameters for every frame or none");
    const Eigen::Index n = t.positions.front().rows(), d = t.positions.front().cols();
    if (n < 1) return fail("a trajectory needs at least one point");
    if (d != 2 && d != 3) return fail("points must have 2 or 3 coordinates");
    const Eigen::Index r = t.owned.empty() ? 0 : t.owned.front().rows();
    if (n + r > kMaxTrajectoryPoints)
        return fail("more than " + std::to_string(kMaxTrajectoryPoints) + " points per frame");
    if (static_cast<std::int64_t>(t.positions.size()) * (n + r) * d > kMaxTrajectoryValues)
        return fail("more than " + std::to_string(kMaxTrajectoryValues) + " coordinates in all (the limit)");
    if (static_cast<Eigen::Index>(t.labels.size()) != n) return fail("one label per point is needed");
    if (t.numClasses < 1) return fail("at least one class is needed");
    for (std::size_t i = 0; i < t.labels.size(); ++i)
        if (t.labels[i] < 0 || t.labels[i] >= t.numClasses)
            return fail("label " + std::to_string(t.labels[i]) + " of point " + std::to_string(i) +
                        " is outside 0 ... " + std::to_string(t.numClasses - 1));
    for (std::size_t f = 0; f < t.positions.size(); ++f) {
        if (t.steps[f] < 0 || (f > 0 && t.steps[f] <= t.steps[f - 1]))
            return fail("steps must be ≥ 0 and increasing (frame " + std::to_string(f) + ")");
        if (t.positions[f].rows() != n || t.positions[f].cols() != d)
            return fail("frame " + std::to_string(f) + " has a different shape than frame 0");
        if (!t.positions[f].allFinite())
            return fail("frame " + std::to_string(f) + " has a non-finite position");
        if (!t.owned.empty()) {
            if (t.owned[f].rows() != r || t.owned[f].cols() != d)
                return fail("owned parameters of frame " + std::to_string(f) +
                            " have a different shape than frame 0");
            if (!t.owned[f].allFinite())
                return fail("owned parameters of frame " + std::to_string(f) + " are not finite");
        }
    }
    return true;
}

bool writeTrajectory(const Trajectory& trajectory, const fs::path& path, std::string* error) {
    const auto format = trajectoryFormatFor(path, error);
    if (!format) return false;
    std::string message;
    if (!validateTrajectory(trajectory, &message)) {
        if (error) *error = path.string() + ": " + message;
        return false;
    }
    switch (*format) {
        case TrajectoryFormat::Csv:
            return writeCsv(trajectory, path, error);
        case TrajectoryFormat::Npy:
            return writeNpy(trajectory, path, error);
        case TrajectoryFormat::Json:
            return writeJson(trajectory, path, error);
    }
    return false;
}

std::optional<Trajectory> parseTrajectoryCsv(std::istream& in, std::string* error) {
    try {
        Trajectory t;
        std::vector<std::string> columns;
        bool hasKind = false;
        int dimension = 0;
        long currentStep = -1;
        int frameStartLine = 0;
        std::vector<double> points, owned;  // the frame being read
        long pointRows = 0, ownedRows = 0;  // of the frame being read
        long framePoints = -1, frameOwned = -1;
        std::int64_t values = 0;

        auto closeFrame = [&](int line) {
            if (pointRows == 0)
                failAt(frameStartLine, 0, "step " + std::to_string(currentStep) + " has no point rows");
            if (framePoints < 0) {
                framePoints = pointRows;
                frameOwned = ownedRows;
            } else if (pointRows != framePoints || ownedRows != frameOwned) {
                failAt(line, 0,
                       "step " + std::to_string(currentStep) + " has " + std::to_string(pointRows) +
                           " points and " + std::to_string(ownedRows) + " owned rows, step " +
                           std::to_string(t.steps.front()) + " had " + std::to_string(framePoints) + " and " +
                           std::to_string(frameOwned));
            }
            t.steps.push_back(currentStep);
            t.positions.push_back(toPoints(points.data(), pointRows, dimension));
            if (ownedRows > 0) t.owned.push_back(toPoints(owned.data(), ownedRows, dimension));
            points.clear();
            owned.clear();
            pointRows = ownedRows = 0;
        };

        std::string line;
        int lineNumber = 0, lastDataLine = 0;
        while (std::getline(in, line)) {
            ++lineNumber;
            if (line.size() > kMaxTrajectoryLine)
                failAt(lineNumber, 0, "longer than " + std::to_string(kMaxTrajectoryLine) + " characters");
            std::string_view text(line);
            if (lineNumber == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
            if (trim(text).empty()) continue;
            const auto fields = splitFields(text);
            if (columns.empty()) {
                for (auto f : fields) columns.push_back(lower(std::string(f)));
                const std::vector<std::vector<std::string>> accepted = {
                    {"step", "point", "label", "x", "y"},
                    {"step", "point", "label", "x", "y", "z"},
                    {"step", "kind", "point", "label", "x", "y"},
                    {"step", "kind", "point", "label", "x", "y", "z"}};
                if (std::find(accepted.begin(), accepted.end(), columns) == accepted.end())
                    failAt(lineNumber, 0,
                           "expected the header step,kind,point,label,x,y[,z] or step,point,label,x,y[,z], "
                           "found " +
                               shown(text));
                hasKind = columns[1] == "kind";
                dimension = columns.back() == "z" ? 3 : 2;
                continue;
            }
            if (fields.size() != columns.size())
                failAt(lineNumber, static_cast<int>(std::min(fields.size(), columns.size())) + 1,
                       "expected " + std::to_string(columns.size()) + " fields like the header, found " +
                           std::to_string(fields.size()));
            lastDataLine = lineNumber;
            int column = 1;
            long long step = 0;
            if (!parseInteger(fields[0], &step) || step < 0 || step > 1'000'000'000'000LL)
                failAt(lineNumber, column, "expected a step (an integer ≥ 0), found " + shown(fields[0]));
            if (step != currentStep) {
                if (currentStep >= 0) {
                    if (step < currentStep)
                        failAt(lineNumber, 1,
                               "step " + std::to_string(step) + " comes after step " +
                                   std::to_string(currentStep) +
                                   "; rows must be grouped by step in increasing order");
                    closeFrame(lineNumber - 1);
                }
                if (static_cast<long>(t.steps.size()) >= kMaxTrajectoryFrames)
                    failAt(lineNumber, 1,
                           "more than " + std::to_string(kMaxTrajectoryFrames) + " frames (the limit)");
                currentStep = static_cast<long>(step);
                frameStartLine = lineNumber;
            }
            bool isOwned = false;
            if (hasKind) {
                ++column;
                if (fields[1] == "owned")
                    isOwned = true;
                else if (fields[1] != "point")
                    failAt(lineNumber, column, "expected point or owned, found " + shown(fields[1]));
            }
            ++column;
            long long index = 0;
            const long expectedIndex = isOwned ? ownedRows : pointRows;
            if (!parseInteger(fields[static_cast<std::size_t>(column - 1)], &index))
                failAt(lineNumber, column,
                       "expected an index, found " + shown(fields[static_cast<std::size_t>(column - 1)]));
            if (index != expectedIndex)
                failAt(lineNumber, column,
                       "expected " + std::string(isOwned ? "owned row " : "point ") +
                           std::to_string(expectedIndex) + " of step " + std::to_string(currentStep) +
                           ", found " + std::to_string(index));
            ++column;
            long long label = 0;
            const std::string_view labelField = fields[static_cast<std::size_t>(column - 1)];
            if (!parseInteger(labelField, &label) || label < 0 || label >= kMaxTrajectoryPoints)
                failAt(lineNumber, column, "expected a label (an integer ≥ 0), found " + shown(labelField));
            if (!isOwned) {
                if (framePoints < 0) {
                    t.labels.push_back(static_cast<int>(label));
                } else if (index >= framePoints) {
                    failAt(lineNumber, column - 1,
                           "step " + std::to_string(currentStep) + " has more than the " +
                               std::to_string(framePoints) + " points of step " +
                               std::to_string(t.steps.front()));
                } else if (t.labels[static_cast<std::size_t>(index)] != label) {
                    failAt(lineNumber, column,
                           "point " + std::to_string(index) + " has label " + std::to_string(label) +
                               " here but " + std::to_string(t.labels[static_cast<std::size_t>(index)]) +
                               " at step " + std::to_string(t.steps.front()));
                }
            }
            for (int k = 0; k < dimension; ++k) {
                ++column;
                double value = 0;
                const std::string_view field = fields[static_cast<std::size_t>(column - 1)];
                if (!parseReal(field, &value))
                    failAt(lineNumber, column, "expected a finite number, found " + shown(field));
                (isOwned ? owned : points).push_back(value);
            }
            (isOwned ? ownedRows : pointRows)++;
            if (pointRows + ownedRows > kMaxTrajectoryPoints)
                failAt(lineNumber, 0,
                       "more than " + std::to_string(kMaxTrajectoryPoints) + " rows in one step (the limit)");
            if ((values += dimension) > kMaxTrajectoryValues)
                failAt(lineNumber, 0,
                       "more than " + std::to_string(kMaxTrajectoryValues) + " coordinates (the limit)");
        }
        if (in.bad()) failAt(lineNumber, 0, "read error after this line");
        if (columns.empty())
            throw Failure{"the file is empty (expected a header step,kind,point,label,x,y[,z])"};
        if (currentStep < 0) throw Failure{"the file has a header but no rows"};
        closeFrame(lastDataLine);
        t.numClasses = classCount(t.labels);
        return t;
    } catch (const Failure& failure) {
        if (error) *error = failure.message;
    }
    return std::nullopt;
}

std::optional<Trajectory> readTrajectory(const fs::path& path, std::string* error) {
    const auto format = trajectoryFormatFor(path, error);
    if (!format) return std::nullopt;
    std::optional<Trajectory> t;
    std::string message;
    try {
        requireFile(path);
        switch (*format) {
            case TrajectoryFormat::Csv: {
                std::ifstream in(path, std::ios::binary);
                if (!in) throw Failure{"cannot open for reading"};
                t = parseTrajectoryCsv(in, &message);
                if (!t) throw Failure{message};
                break;
            }
            case TrajectoryFormat::Npy:
                t = readNpy(path);
                break;
            case TrajectoryFormat::Json:
                t = readJson(path);
                break;
        }
        if (!validateTrajectory(*t, &message)) throw Failure{message};
        return t;
    } catch (const Failure& failure) {
        if (error) *error = path.string() + ": " + failure.message;
    }
    return std::nullopt;
}

std::optional<Dataset> readInitialPoints(const fs::path& path, std::string* error) {
    auto lastFrame = [&](const Trajectory& t) {
        Dataset data;
        data.points = t.positions.back();
        data.labels = t.labels;
        data.numClasses = t.numClasses;
        return data;
    };
    try {
        requireFile(path);
        const std::string extension = lower(path.extension().string());
        if (extension == ".csv" && firstField(path) != "step") {
            auto result = readCsvFile(path.string());
            if (const auto* failure = std::get_if<CsvError>(&result)) throw Failure{failure->message};
            return std::get<Dataset>(std::move(result));
        }
        if (extension == ".npy") {
            std::string message;
            const auto array = npy::read(path, kMaxTrajectoryValues, &message);
            if (!array) throw Failure{message};
            if (array->isInteger || (array->shape.size() != 2 && array->shape.size() != 3))
                throw Failure{"expected an N×D float array of positions (or F×N×D: its last frame is used)"};
            const std::size_t dims = array->shape.size();
            const std::int64_t n = array->shape[dims - 2], d = array->shape[dims - 1];
            const std::int64_t frames = dims == 3 ? array->shape[0] : 1;
            if (frames < 1 || n < 1) throw Failure{"holds no points"};
            checkDimension(d, "the array");
            Dataset data;
            data.points = toPoints(array->reals.data() + (frames - 1) * n * d, n, d);
            data.labels = readLabelsArray(npySibling(path, "-labels"), n);
            data.numClasses = classCount(data.labels);
            return data;
        }
        std::string message;
        const auto t = readTrajectory(path, &message);
        if (!t) {
            if (error) *error = message;  // already names the file
            return std::nullopt;
        }
        return lastFrame(*t);
    } catch (const Failure& failure) {
        if (error) *error = path.string() + ": " + failure.message;
    }
    return std::nullopt;
}

std::optional<Points> readInitialOwned(const fs::path& path, std::string* error) {
    try {
        requireFile(path);
        const std::string extension = lower(path.extension().string());
        if (extension == ".csv" && firstField(path) != "step") {
            // Rows of 2 or 3 numbers; a header when line 1's first field is not a number.
            std::ifstream in(path, std::ios::binary);
            std::vector<double> values;
            std::size_t width = 0;
            std::string line;
            int lineNumber = 0;
            long rows = 0;
            while (std::getline(in, line)) {
                ++lineNumber;
                if (line.size() > kMaxTrajectoryLine)
                    failAt(lineNumber, 0,
                           "longer than " + std::to_string(kMaxTrajectoryLine) + " characters");
                std::string_view text(line);
                if (lineNumber == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
                if (trim(text).empty()) continue;
                const auto fields = splitFields(text);
                double unused = 0;
                if (rows == 0 && width == 0 && !parseReal(fields[0], &unused) && lineNumber == 1) continue;
                if (width == 0) {
                    if (fields.size() != 2 && fields.size() != 3)
                        failAt(lineNumber, 0,
                               "expected 2 or 3 numbers (x,y[,z]), found " + std::to_string(fields.size()) +
                                   " fields");
                    width = fields.size();
                } else if (fields.size() != width) {
                    failAt(lineNumber, static_cast<int>(std::min(fields.size(), width)) + 1,
                           "expected " + std::to_string(width) + " fields like the first row, found " +
                               std::to_string(fields.size()));
                }
                for (std::size_t k = 0; k < fields.size(); ++k) {
                    double value = 0;
                    if (!parseReal(fields[k], &value))
                        failAt(lineNumber, static_cast<int>(k) + 1,
                               "expected a finite number, found " + shown(fields[k]));
                    values.push_back(value);
                }
                if (++rows > kMaxTrajectoryPoints) failAt(lineNumber, 0, "more rows than the limit");
            }
            if (rows == 0) throw Failure{"holds no rows (expected x,y[,z] per row)"};
            return toPoints(values.data(), rows, static_cast<std::int64_t>(width));
        }
        if (extension == ".npy") {
            std::string message;
            const auto array = npy::read(path, kMaxTrajectoryValues, &message);
            if (!array) throw Failure{message};
            if (array->isInteger || (array->shape.size() != 2 && array->shape.size() != 3))
                throw Failure{"expected an R×D float array (or F×R×D: its last frame is used)"};
            const std::size_t dims = array->shape.size();
            const std::int64_t r = array->shape[dims - 2], d = array->shape[dims - 1];
            const std::int64_t frames = dims == 3 ? array->shape[0] : 1;
            if (frames < 1 || r < 1) throw Failure{"holds no rows"};
            checkDimension(d, "the array");
            return toPoints(array->reals.data() + (frames - 1) * r * d, r, d);
        }
        if (extension == ".json") {
            const json::Json document = parseJsonFile(path);
            if (document.is_array()) {
                try {
                    return json::readMatrix(document, "");
                } catch (const json::Error& e) {
                    throw Failure{e.what()};
                }
            }
        }
        std::string message;
        const auto t = readTrajectory(path, &message);
        if (!t) {
            if (error) *error = message;
            return std::nullopt;
        }
        if (t->owned.empty())
            throw Failure{"the trajectory has no owned parameters (class weights, proxies, centers)"};
        return t->owned.back();
    } catch (const Failure& failure) {
        if (error) *error = path.string() + ": " + failure.message;
    }
    return std::nullopt;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "compare.h"

#include "marginlab/history.h"
#include "marginlab/scene/jsonio.h"
#include "marginlab/trainer_group.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace marginlab::cli {

namespace {

/// printf-style formatting into a string of the length it needs: no fixed buffer to cut a row.
template <typename... Args>
std::string formatted(const char* format, Args... args) {
    std::string text(128, '\0');  // enough for ordinary rows; measured and redone for longer ones
    int length = std::snprintf(text.data(), text.size(), format, args...);
    if (length < 0) throw std::runtime_error("cannot format a row");
    if (static_cast<std::size_t>(length) >= text.size()) {
        text.resize(static_cast<std::size_t>(length) + 1);
        length = std::snprintf(text.data(), text.size(), format, args...);
    }
    text.resize(static_cast<std::size_t>(length));
    return text;
}

std::string fraction(Real value) {
    if (std::isnan(value)) return "nan";
    return formatted("%.6f", value);
}

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace

int trainComparison(const ComparisonFile& comparison, long steps, int metricsEvery, std::ostream& out, std::ostream& err) {
    std::vector<TrainerConfig> configs = comparison.trainers();
    if (metricsEvery > 0)  // 0: --metrics-every not given, each panel keeps its scene's
        for (TrainerConfig& config : configs) config.metricsEvery = metricsEvery;
    TrainerGroup group(std::move(configs));
    std::vector<bool> stopped(group.size(), false);

    // The header goes out with the first row, so a run that fails before any row prints nothing.
    bool headerDone = false;
    auto printRows = [&](const GroupSnapshot& snapshots) {
        for (std::size_t p = 0; p < snapshots.panels.size(); ++p) {
            if (stopped[p]) continue;
            const Snapshot& s = *snapshots.panels[p];
            if (s.status == TrainStatus::Diverged) {
                // Its last finite state was printed already; the other panels go on.
                stopped[p] = true;
                err << "marginlab-cli: panel " << p << " (" << json::printable(comparison.panels[p].title)
                    << ") stopped at step " << s.step << ": " << json::printable(s.message) << "\n";
                continue;
            }
            if (!headerDone) out << "step,panel,loss,active,precision_at_1,map_at_r,easy,semi_hard,hard,collapse,title\n";
            headerDone = true;
            const HistoryPoint point = HistoryPoint::of(s);
            out << formatted("%ld,%zu,%.10g,%lld,%.6f,%.6f,", s.step, p, s.loss, static_cast<long long>(s.stats.active),
                             s.metrics.precisionAt1, s.metrics.mapAtR)
                << fraction(point.easy) << ',' << fraction(point.semiHard) << ',' << fraction(point.hard) << ','
                << fraction(s.metrics.collapse) << ',' << quoted(comparison.panels[p].title) << '\n';
        }
        // A full disk or a closed pipe ends the run with a message, not a silent exit 0 (the
        // stream fails when its buffer is written out; the end flushes and checks once more).
        return static_cast<bool>(out);
    };
    // Thrown, not printed: the caller reports it once, as every other failure (exit 2).
    auto writeFailed = []() -> int { throw std::runtime_error("cannot write to standard output"); };
    if (!printRows(group.snapshot())) return writeFailed();
    for (long s = 0; s < steps; ++s) {
        if (!printRows(group.step(1))) return writeFailed();
        if (std::all_of(stopped.begin(), stopped.end(), [](bool diverged) { return diverged; })) break;
    }
    if (!out.flush()) return writeFailed();
    for (bool diverged : stopped)
        if (diverged) return 3;
    return 0;
}

}  // namespace marginlab::cli

// SPDX-License-Identifier: MIT
#include "compare.h"

#include "marginlab/history.h"
#include "marginlab/trainer_group.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace marginlab::cli {

namespace {

std::string fraction(Real value) {
    if (std::isnan(value)) return "nan";
    char text[32];
    std::snprintf(text, sizeof text, "%.6f", value);
    return text;
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

    out << "step,panel,loss,active,precision_at_1,map_at_r,easy,semi_hard,hard,collapse,title\n";
    auto printRows = [&](const GroupSnapshot& snapshots) {
        for (std::size_t p = 0; p < snapshots.panels.size(); ++p) {
            if (stopped[p]) continue;
            const Snapshot& s = *snapshots.panels[p];
            if (s.status == TrainStatus::Diverged) {
                // Its last finite state was printed already; the other panels go on.
                stopped[p] = true;
                err << "marginlab-cli: panel " << p << " (" << comparison.panels[p].title
                    << ") stopped at step " << s.step << ": " << s.message << "\n";
                continue;
            }
            const HistoryPoint point = HistoryPoint::of(s);
            char line[256];
            std::snprintf(line, sizeof line, "%ld,%zu,%.10g,%lld,%.6f,%.6f,", s.step, p, s.loss,
                          static_cast<long long>(s.stats.active), s.metrics.precisionAt1, s.metrics.mapAtR);
            out << line << fraction(point.easy) << ',' << fraction(point.semiHard) << ',' << fraction(point.hard) << ','
                << fraction(s.metrics.collapse) << ',' << quoted(comparison.panels[p].title) << '\n';
        }
    };
    printRows(group.snapshot());
    for (long s = 0; s < steps; ++s) printRows(group.step(1));
    for (bool diverged : stopped)
        if (diverged) return 3;
    return 0;
}

}  // namespace marginlab::cli

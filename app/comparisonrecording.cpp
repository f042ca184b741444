// SPDX-License-Identifier: MIT
#include "comparisonrecording.h"

#include "comparisoncharts.h"
#include "comparisonpanelview.h"
#include "comparisonview.h"
#include "frameexport.h"

#include "marginlab/trainer_group.h"

#include <QRectF>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>

namespace marginlab {

namespace {

constexpr double kStripShare = 0.3;  // the overlaid charts need a little more room than one run's

/// Trains the panels and paints their frames; one instance per recording.
class ComparisonFrames {
public:
    ComparisonFrames(const ComparisonFile& comparison, const RecordSettings& settings)
        : m_comparison(comparison), m_settings(settings), m_group(comparison.trainers()) {
        m_view = viewSettingsFromJson(comparison.view);
        m_view.options.showDescription = false;
        m_view.options.textScale = settings.textScale > 0.0 ? settings.textScale : std::max(0.75, settings.size.height() / 900.0);
        for (const ComparisonPanel& panel : comparison.panels) {
            m_runs.push_back(describeRun(panel.trainer.loss, panel.trainer.miner));
            m_titles.push_back(QString::fromStdString(panel.title));
        }
        m_histories.resize(comparison.panels.size());
        m_renderers.resize(comparison.panels.size());
        m_state = m_group.snapshot();
        for (std::size_t k = 0; k < m_histories.size(); ++k) m_histories[k].append(*m_state.panels[k]);
    }

    QSize gridSize() const {
        if (!m_settings.chartStrip) return m_settings.size;
        return {m_settings.size.width(), std::max(1, static_cast<int>(std::lround(m_settings.size.height() * (1.0 - kStripShare))))};
    }

    int totalFrames() const { return static_cast<int>(1 + m_settings.steps / std::max(1, m_settings.stepsPerFrame)); }

    /// Steps every panel on; false when the recording is over.
    bool advance() {
        if (m_done + m_settings.stepsPerFrame > m_settings.steps) return false;
        m_state = m_group.step(m_settings.stepsPerFrame);
        m_done += m_settings.stepsPerFrame;
        for (std::size_t k = 0; k < m_histories.size(); ++k) m_histories[k].append(*m_state.panels[k]);
        return true;
    }

    void paint(QPainter& painter) {
        const QSize grid = gridSize();
        const int count = static_cast<int>(m_state.panels.size());
        std::vector<Frame2D> frames(static_cast<std::size_t>(count));
        QRectF bounds;
        for (int k = 0; k < count; ++k) {
            Frame2D& f = frames[static_cast<std::size_t>(k)];
            f.snapshot = m_state.panels[static_cast<std::size_t>(k)];
            f.run = m_runs[static_cast<std::size_t>(k)];
            f.options = m_view.options;
            f.selection = m_view.selection;
            bounds = k == 0 ? Renderer2D::dataBounds(f) : bounds.united(Renderer2D::dataBounds(f));
        }
        // Linked cameras, as in the app: one camera for every panel, fitted to all of them; 3D
        // data on the sphere, from the saved 3D camera, turning by the turntable path.
        const QRect first = ComparisonView::cellRect(0, count, grid, ComparisonLayout::Auto);
        const QSize picture(first.width(), std::max(1, first.height() - ComparisonPanelView::kTitleHeight));
        const Camera2D fitted = Camera2D::fitting(bounds, picture);
        if (!m_camera) m_camera = fitted;
        else if (m_view.options.followData) m_camera = m_camera->easedTowards(fitted, 0.25);
        if (!m_camera3d) {
            double radius = 0.0;
            for (const Frame2D& f : frames) radius = std::max(radius, Renderer3D::fitted(Renderer3D::sphereFrame(f, {})).worldRadius);
            m_camera3d = m_view.camera3d.value_or(Camera3D{});
            if (!m_view.camera3d) m_camera3d->worldRadius = radius;
        } else {
            m_camera3d = m_camera3d->turned(m_settings.turntableDegreesPerFrame * std::numbers::pi / 180.0);
        }
        for (int k = 0; k < count; ++k) {
            Frame2D& f = frames[static_cast<std::size_t>(k)];
            f.camera = *m_camera;
            ComparisonPanelView::paintPanel(painter, m_renderers[static_cast<std::size_t>(k)], f, *m_camera3d,
                                            m_titles[static_cast<std::size_t>(k)], k,
                                            ComparisonView::cellRect(k, count, grid, ComparisonLayout::Auto));
        }
        if (!m_settings.chartStrip) return;
        ComparisonCharts::Input input;
        for (std::size_t k = 0; k < m_histories.size(); ++k) {
            input.runs.push_back(&m_histories[k].points());
            input.ghosts.push_back(&m_noGhost);
            input.titles.push_back(m_titles[k]);
            input.terms.push_back(ComparisonCharts::termsOf(m_runs[k]));
        }
        const QRectF strip(0, grid.height(), m_settings.size.width(), m_settings.size.height() - grid.height());
        painter.fillRect(strip, Qt::white);
        ComparisonCharts::paintCharts(painter, strip, input);
    }

private:
    const ComparisonFile& m_comparison;
    RecordSettings m_settings;
    TrainerGroup m_group;
    GroupSnapshot m_state;
    ViewSettings m_view;
    std::vector<RunInfo> m_runs;
    std::vector<QString> m_titles;
    std::vector<RunHistory> m_histories;
    std::vector<HistoryPoint> m_noGhost;
    std::optional<Camera2D> m_camera;
    std::optional<Camera3D> m_camera3d;
    std::vector<ComparisonPanelView::Renderers> m_renderers;  // one per panel: each keeps its caches
    long m_done = 0;
};

}  // namespace

bool recordComparison(const ComparisonFile& comparison, const RecordSettings& settings, FrameSink& sink,
                      const std::function<bool(const RecordProgress&)>& progress, QString* error) {
    ComparisonFrames frames(comparison, settings);
    bool first = true;
    auto paintNext = [&](QPainter& painter) {
        if (!first && !frames.advance()) return false;
        first = false;
        frames.paint(painter);
        return true;
    };
    return recordFrames(sink, settings.size, settings.fps, frames.totalFrames(), paintNext, progress, error);
}

bool recordComparisonStill(const ComparisonFile& comparison, const RecordSettings& settings, const QString& path,
                           QString* error) {
    ComparisonFrames frames(comparison, settings);
    while (frames.advance()) {
    }
    return exportPainting(path, settings.size, [&](QPainter& painter) { frames.paint(painter); }, error);
}

}  // namespace marginlab

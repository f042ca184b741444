// SPDX-License-Identifier: MIT
#include "recorder.h"

#include "chartstrip.h"
#include "classpalette.h"
#include "frameexport.h"

#include "marginlab/metrics.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <deque>
#include <numbers>

namespace marginlab {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("Recorder", text); }

/// Share of the frame height the chart strip takes.
constexpr double kStripShare = 0.28;

/// `from` eased towards `to` by t ∈ (0, 1) (smoothstep): the in-between frames of slow motion.
std::shared_ptr<const Snapshot> between(const Snapshot& from, const Snapshot& to, double t) {
    auto out = std::make_shared<Snapshot>(from);
    const double e = t * t * (3.0 - 2.0 * t);
    if (from.positions.rows() == to.positions.rows() && from.positions.cols() == to.positions.cols())
        out->positions = from.positions + (to.positions - from.positions) * e;
    if (from.owned.rows() == to.owned.rows() && from.owned.cols() == to.owned.cols() && from.owned.size())
        out->owned = from.owned + (to.owned - from.owned) * e;
    return out;
}

bool finalState(const Snapshot& snapshot, const LossInfo* loss) {
    const Diagnosis d = diagnose(snapshot, loss);
    return d.kind == Diagnosis::Kind::Converged || d.kind == Diagnosis::Kind::Stuck ||
           d.kind == Diagnosis::Kind::Diverged;
}

}  // namespace

TrainerSource::TrainerSource(const TrainerConfig& config, bool splitForces)
    : m_trainer(std::make_unique<Trainer>(config)), m_run(describeRun(config.loss, config.miner)) {
    m_trainer->setSplitForces(splitForces);
}

TrainerSource::~TrainerSource() = default;

std::shared_ptr<const Snapshot> TrainerSource::current() const { return m_trainer->snapshot(); }

std::shared_ptr<const Snapshot> TrainerSource::advance(int steps) { return m_trainer->step(steps); }

TrajectorySource::TrajectorySource(Trajectory trajectory) : m_trajectory(std::move(trajectory)) {
    if (!m_trajectory.positions.empty())
        m_initialSpread = meanPairwiseDistance(m_trajectory.positions.front(), DistanceSpec::lp(1, false),
                                               metricQueries(m_trajectory.positions.front().rows()));
    m_current = snapshotAt(0);
}

std::shared_ptr<const Snapshot> TrajectorySource::snapshotAt(std::size_t frame) const {
    auto s = std::make_shared<Snapshot>();
    if (frame >= m_trajectory.positions.size()) return s;
    s->step = m_trajectory.steps[frame];
    s->positions = m_trajectory.positions[frame];
    s->labels = m_trajectory.labels;
    s->numClasses = m_trajectory.numClasses;
    if (frame < m_trajectory.owned.size()) s->owned = m_trajectory.owned[frame];
    // What can be computed from positions alone: retrieval and the spread.
    const DistanceSpec euclidean = DistanceSpec::lp(1, false);
    // Large trajectories: the trainer's sample of queries (metrics.h), so a frame stays O(Q·N).
    const std::vector<Eigen::Index> queries = metricQueries(s->positions.rows());
    const RetrievalMetrics retrieval = retrievalMetrics(s->positions, s->labels, euclidean, queries);
    s->metrics.step = s->step;
    s->metrics.precisionAt1 = retrieval.precisionAt1;
    s->metrics.rPrecision = retrieval.rPrecision;
    s->metrics.mapAtR = retrieval.mapAtR;
    s->metrics.collapse =
        m_initialSpread > 0.0 ? meanPairwiseDistance(s->positions, euclidean, queries) / m_initialSpread : 1.0;
    s->loss = std::numeric_limits<Real>::quiet_NaN();
    return s;
}

std::shared_ptr<const Snapshot> TrajectorySource::advance(int frames) {
    const std::size_t next = m_frame + static_cast<std::size_t>(std::max(1, frames));
    if (next >= m_trajectory.positions.size()) return nullptr;
    m_frame = next;
    m_current = snapshotAt(m_frame);
    return m_current;
}

Recorder::Recorder(std::unique_ptr<FrameSource> source, const ViewSettings& view, const RecordSettings& settings,
                   QString title, std::uint64_t seed)
    : m_source(std::move(source)), m_view(view), m_settings(settings), m_title(std::move(title)), m_seed(seed) {
    m_settings.stepsPerFrame = std::max(1, m_settings.stepsPerFrame);
    m_settings.inBetween = std::clamp(m_settings.inBetween, 0, 60);
    // A recording shows no description card and starts with the data fitted in the picture.
    m_view.options.showDescription = false;
    m_view.options.textScale = m_settings.textScale > 0.0 ? m_settings.textScale
                                                          : std::max(0.75, m_settings.size.height() / 720.0);
}

Recorder::~Recorder() = default;

QSize Recorder::viewSize() const {
    if (!m_settings.chartStrip) return m_settings.size;
    const int strip = static_cast<int>(std::lround(m_settings.size.height() * kStripShare));
    return {m_settings.size.width(), std::max(1, m_settings.size.height() - strip)};
}

int Recorder::totalFrames() const {
    long states = 0;
    if (const auto* replay = dynamic_cast<const TrajectorySource*>(m_source.get())) {
        const long frames = m_settings.steps > 0 ? std::min(m_settings.steps, replay->frameCount() - 1) : replay->frameCount() - 1;
        states = std::max(0L, frames) / m_settings.stepsPerFrame;
    } else {
        states = m_settings.steps / m_settings.stepsPerFrame;
    }
    return static_cast<int>(1 + states * (m_settings.inBetween + 1));
}

Frame2D Recorder::frameOf(std::shared_ptr<const Snapshot> snapshot) {
    Frame2D frame;
    frame.snapshot = std::move(snapshot);
    frame.run = m_source->run();
    frame.options = m_view.options;
    frame.size = viewSize();
    frame.selection = m_view.selection;
    if (m_settings.captions && !m_title.isEmpty())
        frame.captions.title = m_seed ? tr("%1 · seed %2").arg(m_title).arg(m_seed) : m_title;
    if (frame.snapshot) {
        const Camera2D fitted = Camera2D::fitting(Renderer2D::dataBounds(frame), frame.size);
        if (!m_camera) m_camera = fitted;
        else if (frame.options.followData) m_camera = m_camera->easedTowards(fitted, 0.25);
        if (frame.options.forceScaleMode == ViewOptions::ForceScale::Fixed && frame.options.forcePixelsPerUnit <= 0.0) {
            // Calibrated once, on the first forces, as the app does: arrows then shrink as forces die away.
            const double scale = Renderer2D::calibratedForceScale(*frame.snapshot, frame.options.splitForces);
            if (scale > 0.0) m_view.options.forcePixelsPerUnit = frame.options.forcePixelsPerUnit = scale;
        }
    }
    frame.camera = m_camera.value_or(Camera2D{});
    return frame;
}

void Recorder::paint(QPainter& painter, const Frame2D& frame) {
    if (Renderer3D::isThreeD(frame.snapshot.get())) {
        // 3D data: the sphere view, fitted on the first frame, turning by the turntable path.
        Frame3D frame3d = Renderer3D::sphereFrame(frame, Camera3D{});
        if (!m_camera3d) {
            // The scene's saved camera, if any, is where the turntable starts.
            m_camera3d = m_view.camera3d ? *m_view.camera3d : Renderer3D::fitted(frame3d);
        } else {
            m_camera3d = m_camera3d->turned(m_settings.turntableDegreesPerFrame * std::numbers::pi / 180.0);
        }
        frame3d.camera = *m_camera3d;
        m_renderer3d.paint(painter, frame3d);
    } else {
        m_renderer.paint(painter, frame);
    }
    if (!m_settings.chartStrip) return;
    const QRectF strip(0, frame.size.height(), m_settings.size.width(), m_settings.size.height() - frame.size.height());
    const long last = m_source->lastStep() >= 0 ? m_source->lastStep() : m_firstStep + m_settings.steps;
    paintChartStrip(painter, strip, m_history.points(), last, m_view.options.textScale, m_source->run().componentTitles);
}

std::shared_ptr<const Snapshot> Recorder::start() {
    if (m_settings.fromStep > 0 && !dynamic_cast<const TrajectorySource*>(m_source.get())) {
        const long current = m_source->current()->step;
        if (m_settings.fromStep > current) m_source->advance(static_cast<int>(m_settings.fromStep - current));
    }
    const auto first = m_source->current();
    m_firstStep = first->step;
    m_stepsDone = 0;
    m_over = false;
    m_history.clear();
    m_history.append(*first);
    return first;
}

std::shared_ptr<const Snapshot> Recorder::next() {
    const bool replay = dynamic_cast<const TrajectorySource*>(m_source.get()) != nullptr;
    if (m_over || m_stopRequested || (m_settings.steps > 0 && m_stepsDone + m_settings.stepsPerFrame > m_settings.steps) ||
        (!replay && m_settings.steps <= 0))
        return nullptr;
    auto state = m_source->advance(m_settings.stepsPerFrame);
    if (!state) return nullptr;
    m_stepsDone += m_settings.stepsPerFrame;
    m_history.append(*state);
    if (state->status == TrainStatus::Diverged || (m_settings.untilConverged && finalState(*state, m_source->run().loss)))
        m_over = true;  // this state is still shown, as the last one
    return state;
}

bool recordFrames(FrameSink& sink, QSize size, double fps, int totalFrames,
                  const std::function<bool(QPainter&)>& paintNext,
                  const std::function<bool(const RecordProgress&)>& progress, QString* error) {
    if (!sink.open(size, fps, error)) return false;
    QImage image(size, QImage::Format_RGB32);
    QElapsedTimer clock;
    clock.start();
    int written = 0;
    for (;;) {
        image.fill(Qt::white);
        QPainter painter(&image);
        const bool more = paintNext(painter);
        painter.end();
        if (!more) break;
        if (!sink.write(image, error)) {
            sink.cancel();
            return false;
        }
        ++written;
        if (!progress) continue;
        RecordProgress p{written, std::max(totalFrames, written), -1.0};
        if (written >= 3) {
            const double perFrame = static_cast<double>(clock.elapsed()) / 1000.0 / written;
            p.secondsLeft = perFrame * std::max(0, p.totalFrames - written);
        }
        if (!progress(p)) {
            if (error) *error = tr("Recording cancelled.");
            sink.cancel();
            return false;
        }
    }
    return sink.finish(error);
}

bool Recorder::record(FrameSink& sink, const std::function<bool(const RecordProgress&)>& progress, QString* error) {
    // Frames to show, in order: the start; then for each new state its eased in-between frames
    // and the state itself.
    std::deque<std::shared_ptr<const Snapshot>> queue;
    std::shared_ptr<const Snapshot> previous;
    auto paintNext = [&](QPainter& painter) {
        if (!previous) queue.push_back(previous = start());
        if (queue.empty()) {
            const auto state = next();
            if (!state) return false;
            for (int k = 1; k <= m_settings.inBetween; ++k)
                queue.push_back(between(*previous, *state, static_cast<double>(k) / (m_settings.inBetween + 1)));
            queue.push_back(previous = state);
        }
        paint(painter, frameOf(queue.front()));
        queue.pop_front();
        return true;
    };
    return recordFrames(sink, m_settings.size, m_settings.fps, totalFrames(), paintNext, progress, error);
}

GifPalette recordingPalette(int classes) {
    QList<QColor> colours;
    for (const QColor& c : ClassPalette::frameColors(classes)) colours.append(c);
    return GifPalette::fromColours(colours);
}

bool recordStill(Recorder& recorder, const QString& path, QString* error) {
    std::shared_ptr<const Snapshot> last = recorder.start();
    while (const auto state = recorder.next()) last = state;
    const Frame2D frame = recorder.frameOf(last);
    return exportPainting(path, recorder.settings().size, [&](QPainter& painter) { recorder.paint(painter, frame); }, error);
}

}  // namespace marginlab

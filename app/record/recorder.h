// SPDX-License-Identifier: MIT
/**
 * Recorder: drives a frame source (a trainer, or a trajectory file for replay) through the
 * renderer into a frame sink, at a fixed size and rate. Frames are painted from snapshots, never
 * grabbed from a screen, so a recording is the same whatever the display does, and the same
 * scene and seed give the same frames on the same machine.
 *
 * One recorded frame shows the state after every `stepsPerFrame` training steps; `inBetween`
 * extra frames ease the points from one state to the next (smoothstep), for smooth slow motion.
 * The first frame is the state the recording starts at (step 0, or `fromStep`).
 */
#pragma once

#include "framesink.h"
#include "frame2d.h"
#include "renderer2d.h"
#include "renderer3d.h"
#include "viewsettings.h"

#include "marginlab/history.h"
#include "marginlab/trainer.h"
#include "marginlab/scene/scenefile.h"
#include "marginlab/scene/trajectory.h"

#include <QSize>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace marginlab {

/// Where recorded states come from.
class FrameSource {
public:
    virtual ~FrameSource() = default;
    /// The state the recording starts at.
    virtual std::shared_ptr<const Snapshot> current() const = 0;
    /// Moves `steps` training steps on (a trajectory: to its frame `steps` further); the new state,
    /// or nullptr at the end of a trajectory.
    virtual std::shared_ptr<const Snapshot> advance(int steps) = 0;
    virtual const RunInfo& run() const = 0;
    /// The last step the source can reach (a trajectory's last step; −1: no end).
    virtual long lastStep() const { return -1; }
};

/// Trains the scene's configuration (from step 0, or the saved moment it holds).
class TrainerSource final : public FrameSource {
public:
    explicit TrainerSource(const TrainerConfig& config, bool splitForces = false);
    ~TrainerSource() override;
    std::shared_ptr<const Snapshot> current() const override;
    std::shared_ptr<const Snapshot> advance(int steps) override;
    const RunInfo& run() const override { return m_run; }

private:
    std::unique_ptr<Trainer> m_trainer;
    RunInfo m_run;
};

/// Replays a trajectory logged elsewhere: positions, labels and owned rows per frame; the
/// retrieval metrics are computed from the positions. There is no loss, so overlays that need
/// one (forces, triplet zones, the margin band) are not drawn.
class TrajectorySource final : public FrameSource {
public:
    explicit TrajectorySource(Trajectory trajectory);
    std::shared_ptr<const Snapshot> current() const override { return m_current; }
    std::shared_ptr<const Snapshot> advance(int frames) override;
    const RunInfo& run() const override { return m_run; }
    long lastStep() const override { return m_trajectory.steps.empty() ? 0 : m_trajectory.steps.back(); }
    long frameCount() const { return m_trajectory.frameCount(); }

private:
    std::shared_ptr<const Snapshot> snapshotAt(std::size_t frame) const;

    Trajectory m_trajectory;
    std::size_t m_frame = 0;
    std::shared_ptr<const Snapshot> m_current;
    RunInfo m_run;
    Real m_initialSpread = 0.0;
};

struct RecordSettings {
    QSize size{1280, 720};
    double fps = 30.0;
    int stepsPerFrame = 1;
    long steps = 300;             ///< training steps recorded (a trajectory: frames, 0 = all of it)
    bool untilConverged = false;  ///< stop early once the run converged, got stuck or diverged
    int inBetween = 0;            ///< eased frames between two states (slow motion)
    bool chartStrip = false;      ///< loss / retrieval / tuple charts under the view
    bool captions = false;        ///< the scene's title burned in at the top (with the seed)
    long fromStep = 0;            ///< train this far before the first frame
    double textScale = 0.0;       ///< 0: from the frame height (1 at 720 lines)
    /// 3D data: degrees the camera turns about the vertical axis per frame (a turntable path; 0: still).
    double turntableDegreesPerFrame = 1.0;
};

struct RecordProgress {
    int frame = 0;            ///< frames written
    int totalFrames = 0;      ///< an upper bound when recording until converged
    double secondsLeft = -1;  ///< estimate (−1 until one is possible)
};

class Recorder {
public:
    Recorder(std::unique_ptr<FrameSource> source, const ViewSettings& view, const RecordSettings& settings,
             QString title = {}, std::uint64_t seed = 0);
    ~Recorder();

    /// Frames of the whole recording (an upper bound with untilConverged).
    int totalFrames() const;
    /**
     * Records into `sink` (not yet opened). `progress` is called after each frame; returning
     * false cancels (the sink then removes what it wrote). True only when the file is complete.
     */
    bool record(FrameSink& sink, const std::function<bool(const RecordProgress&)>& progress, QString* error);
    /// The frame of a state, as recorded (also used for single-frame PNG / SVG / PDF output).
    Frame2D frameOf(std::shared_ptr<const Snapshot> snapshot);
    /// Paints a frame with its chart strip (when set) into `painter` at settings.size.
    void paint(QPainter& painter, const Frame2D& frame);
    /// Trains to fromStep and returns the first state (called by record()).
    std::shared_ptr<const Snapshot> start();
    /// The next recorded state, or nullptr when the recording is over.
    std::shared_ptr<const Snapshot> next();
    const RecordSettings& settings() const { return m_settings; }
    /// Ends the recording after the current frame (thread-safe); the file is finished normally.
    void requestStop() { m_stopRequested = true; }

private:
    QSize viewSize() const;

    std::unique_ptr<FrameSource> m_source;
    ViewSettings m_view;
    RecordSettings m_settings;
    QString m_title;
    std::uint64_t m_seed = 0;
    Renderer2D m_renderer;
    Renderer3D m_renderer3d;
    std::optional<Camera3D> m_camera3d;
    RunHistory m_history;
    std::optional<Camera2D> m_camera;
    long m_firstStep = 0;
    long m_stepsDone = 0;
    bool m_over = false;
    std::atomic<bool> m_stopRequested{false};
};

/**
 * The frame loop every recording shares: opens `sink` at `size` and `fps`, asks `paintNext` to
 * paint each frame into a cleared image (it returns false when there is none left), writes it,
 * reports progress with the time left (`progress` returning false cancels), and finishes — or
 * cancels the sink, leaving no file, on any failure.
 */
bool recordFrames(FrameSink& sink, QSize size, double fps, int totalFrames, const std::function<bool(QPainter&)>& paintNext,
                  const std::function<bool(const RecordProgress&)>& progress, QString* error);

/// The GIF palette of a recording: every colour a frame is made of, so none of them is approximated.
GifPalette recordingPalette(int classes);

/// One still frame (the state after settings.fromStep + settings.steps steps) as PNG, SVG or PDF.
bool recordStill(Recorder& recorder, const QString& path, QString* error);

}  // namespace marginlab

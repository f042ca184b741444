// SPDX-License-Identifier: MIT
// ReplayPlayer: plays back a trajectory logged elsewhere (per-step positions from a PyTorch loop,
// or marginlab-cli's --trajectory) in the view: Play / Step / Reset walk through its frames, and
// the charts show what can be computed from positions (retrieval metrics). There is no loss, so
// nothing trains and nothing that needs a loss is drawn.
#pragma once

#include "recorder.h"

#include <QObject>
#include <QTimer>

#include <memory>

namespace marginlab {

class ReplayPlayer : public QObject {
    Q_OBJECT
public:
    explicit ReplayPlayer(QObject* parent = nullptr);
    ~ReplayPlayer() override;

    /// Loads a CSV / NPY / JSON trajectory; on failure keeps what was playing and says why.
    bool open(const QString& path, QString* error);
    bool isActive() const { return m_source != nullptr; }
    bool isPlaying() const { return m_timer.isActive(); }
    const RunInfo& run() const;
    std::shared_ptr<const Snapshot> current() const;
    QString title() const { return m_title; }
    /// The trajectory being replayed (nullptr when none), e.g. to record it.
    const Trajectory* trajectory() const { return m_trajectory.get(); }

public slots:
    void play();
    void pause();
    void togglePlay();
    void step();
    /// Back to the first frame.
    void reset();
    /// Leaves replay (a scene was opened).
    void close();
    /// Frames per tick of the timer (the steps-per-frame of the toolbar).
    void setFramesPerTick(int frames) { m_framesPerTick = std::max(1, frames); }

signals:
    void snapshotChanged(std::shared_ptr<const marginlab::Snapshot> snapshot);
    /// Back at the first frame: clear the charts.
    void restarted();
    void playingChanged(bool playing);

private:
    void advance(int frames);

    QString m_path;
    QString m_title;
    std::unique_ptr<Trajectory> m_trajectory;  // kept to rewind
    std::unique_ptr<TrajectorySource> m_source;
    QTimer m_timer;
    int m_framesPerTick = 1;
};

}  // namespace marginlab

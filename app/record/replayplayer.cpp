// SPDX-License-Identifier: MIT
#include "replayplayer.h"

#include <QFileInfo>

namespace marginlab {

namespace {

constexpr int kTickMilliseconds = 33;  // about 30 frames a second

}  // namespace

ReplayPlayer::ReplayPlayer(QObject* parent) : QObject(parent) {
    connect(&m_timer, &QTimer::timeout, this, [this] { advance(m_framesPerTick); });
}

ReplayPlayer::~ReplayPlayer() = default;

bool ReplayPlayer::open(const QString& path, QString* error) {
    std::string message;
    auto trajectory = readTrajectory(path.toStdString(), &message);
    if (!trajectory) {
        if (error) *error = QString::fromStdString(message);
        return false;
    }
    if (trajectory->dimension() != 2 && trajectory->dimension() != 3) {
        if (error) *error = tr("%1: a trajectory to replay needs 2 or 3 coordinates per point").arg(path);
        return false;
    }
    pause();
    m_path = path;
    m_title = QFileInfo(path).fileName();
    m_trajectory = std::make_unique<Trajectory>(std::move(*trajectory));
    reset();
    return true;
}

const RunInfo& ReplayPlayer::run() const {
    static const RunInfo none;
    return m_source ? m_source->run() : none;
}

std::shared_ptr<const Snapshot> ReplayPlayer::current() const { return m_source ? m_source->current() : nullptr; }

void ReplayPlayer::play() {
    if (!m_source || m_timer.isActive()) return;
    m_timer.start(kTickMilliseconds);
    emit playingChanged(true);
}

void ReplayPlayer::pause() {
    if (!m_timer.isActive()) return;
    m_timer.stop();
    emit playingChanged(false);
}

void ReplayPlayer::togglePlay() { isPlaying() ? pause() : play(); }

void ReplayPlayer::step() {
    pause();
    advance(1);
}

void ReplayPlayer::reset() {
    if (!m_trajectory) return;
    pause();
    m_source = std::make_unique<TrajectorySource>(*m_trajectory);
    emit restarted();
    emit snapshotChanged(m_source->current());
}

void ReplayPlayer::close() {
    pause();
    m_source.reset();
    m_trajectory.reset();
}

void ReplayPlayer::advance(int frames) {
    if (!m_source) return;
    if (const auto next = m_source->advance(frames)) emit snapshotChanged(next);
    else pause();  // the end of the file
}

}  // namespace marginlab

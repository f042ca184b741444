// SPDX-License-Identifier: MIT
// RecordDialog: File › Record… — what to record (the view, with or without the chart strip), the
// size, rate, steps per frame, length, slow-motion in-between frames, captions, where the run
// starts (the scene's start or the moment on screen) and the file. The recording trains its own
// copy of the run on a background thread, so the live view is never disturbed and its frame rate
// never changes the recording; a progress dialog shows the time left and can stop (keeping what
// was recorded when the length is "until stopped") or cancel (leaving no file).
#pragma once

#include "marginlab/scene/comparisonfile.h"
#include "marginlab/scene/scenefile.h"
#include "marginlab/scene/trajectory.h"
#include "viewsettings.h"

#include <QDialog>

#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace marginlab {

struct RecordSettings;

class RecordDialog : public QDialog {
    Q_OBJECT
public:
    /// `scene`: what to record (its start); `now`: the same scene at the moment on screen, if any.
    /// With `comparison`, the grid of its panels is recorded from its start instead of the view.
    RecordDialog(const SceneFile& scene, std::optional<SceneFile> now, const ViewSettings& view, QWidget* parent = nullptr,
                 std::optional<ComparisonFile> comparison = std::nullopt);
    /// Records a replayed trajectory (its frames, from the first) instead of training the scene.
    void setReplay(const Trajectory& trajectory, const QString& title);

    /// Runs the dialog and, when accepted, the recording with its progress dialog. Returns a
    /// one-line summary of what was written, or an empty string when nothing was.
    QString exec(QString* error);

private:
    RecordSettings settings() const;
    void chooseFile();
    void updateEnabled();

    SceneFile m_scene;
    std::optional<SceneFile> m_now;
    std::optional<ComparisonFile> m_comparison;
    std::optional<Trajectory> m_replay;
    QString m_replayTitle;
    ViewSettings m_view;
    QComboBox* m_what;
    QComboBox* m_size;
    QSpinBox* m_width;
    QSpinBox* m_height;
    QDoubleSpinBox* m_fps;
    QSpinBox* m_stepsPerFrame;
    QComboBox* m_length;
    QSpinBox* m_steps;
    QSpinBox* m_inBetween;
    QCheckBox* m_captions;
    QComboBox* m_start;
    QLineEdit* m_file;
};

}  // namespace marginlab

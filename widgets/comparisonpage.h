// SPDX-License-Identifier: MIT
// ComparisonPage: a whole comparison in one widget, for the main window's Compare mode — the
// "what to look for" text, the transport (play / pause, step, restart, run to step N, steps per
// frame, the step reached), the ComparisonView above the ComparisonCharts, the panel settings
// (a ControlPanel showing the chosen panel's loss, miner and optimizer, with copy and remove),
// and the ComparisonController that trains the panels in lockstep. It owns the open ComparisonFile.
#pragma once

#include "comparisoncharts.h"
#include "comparisoncontroller.h"
#include "comparisonview.h"
#include "controlpanel.h"

#include "marginlab/scene/comparisonfile.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace marginlab {

class ComparisonPage : public QWidget {
    Q_OBJECT
public:
    explicit ComparisonPage(QWidget* parent = nullptr);

    /// Shows `comparison` and starts it at step 0, paused. False (nothing changed) when its
    /// panels cannot train together (TrainerGroup::isValid).
    bool open(const ComparisonFile& comparison, QString* error);
    /// loadComparison + open: a path or a ":/comparisons/..." resource.
    bool openFile(const QString& path, QString* error);
    /// Saves the comparison as it is configured now (at its start).
    bool saveFile(const QString& path, QString* error) const;
    const ComparisonFile& comparison() const { return m_comparison; }
    bool hasComparison() const { return !m_comparison.panels.empty(); }

    /// A panel's loss / miner / optimizer from `settings` (its data, seed and batch are ignored);
    /// the comparison restarts from step 0 so every panel again starts alike (the charts keep a
    /// ghost of the old curves when the ghost is on). False with a message when invalid.
    bool setPanelSettings(int panel, const TrainerConfig& settings, QString* error);
    /// Copies panel `from`'s loss, miner and optimizer (and title) to panel `to`, then restarts.
    bool copyPanelSettings(int from, int to, QString* error);
    /// Adds a panel (up to 4) with the loss, miner and optimizer of `scene` (e.g. the main view's
    /// current scene), then restarts.
    bool addPanel(const TrainerConfig& scene, const QString& title, QString* error);
    bool removePanel(int panel, QString* error);

    /// The panel whose settings the settings form shows and edits.
    int settingsPanel() const;
    void setSettingsPanel(int panel);
    ControlPanel* panelControls() const { return m_panelControls; }

    ComparisonController* controller() const { return m_controller; }
    ComparisonView* view() const { return m_view; }
    ComparisonCharts* charts() const { return m_charts; }

public slots:
    /// Starts every panel again at step 0 (same configuration).
    void restart();

signals:
    /// The comparison opened or changed (title for the window, what to look for).
    void comparisonChanged(const QString& title, const QString& description);
    void statusMessage(const QString& message);

private:
    bool apply(ComparisonFile comparison, QString* error);
    void updateStepLabel();
    /// Fills the panel choices from the comparison and shows the chosen panel's settings.
    void refreshSettings();
    QWidget* createSettings();

    ComparisonFile m_comparison;
    ComparisonController* m_controller = nullptr;
    ComparisonView* m_view = nullptr;
    ComparisonCharts* m_charts = nullptr;
    QLabel* m_description = nullptr;
    QLabel* m_stepLabel = nullptr;
    QPushButton* m_playButton = nullptr;
    QSpinBox* m_targetStep = nullptr;
    QSpinBox* m_stepsPerFrame = nullptr;
    // The settings form: the chosen panel as a scene (data, batch and seed shared, hidden).
    SceneFile m_panelScene;
    QWidget* m_settings = nullptr;
    QComboBox* m_panelChoice = nullptr;
    ControlPanel* m_panelControls = nullptr;
    QComboBox* m_copyTarget = nullptr;
    QPushButton* m_removeButton = nullptr;
};

}  // namespace marginlab

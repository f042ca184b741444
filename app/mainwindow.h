// SPDX-License-Identifier: MIT
// MainWindow: wiring only. The view in the middle, the controls and the charts in docks,
// menus, toolbar and status bar. The scene lives in the SceneDocument; training in the
// TrainingController's worker; pictures come from the render library.
#pragma once

#include <QMainWindow>
#include <QTimer>

class QAction;
class QLabel;
class QSpinBox;
class QStackedWidget;

namespace marginlab {

class ChartsPanel;
class ComparisonPage;
class ControlPanel;
class PlotView2D;
class PlotView3D;
class ReplayPlayer;
class SceneDocument;
class TrainingController;
struct ViewSettings;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens a scene file or resource; on failure shows why and keeps the current scene.
    bool openScene(const QString& path);
    /// Replays a trajectory file (CSV / NPY / JSON); on failure shows why and keeps the current scene.
    bool replay(const QString& path);
    SceneDocument* document() const { return m_document; }
    PlotView2D* view() const { return m_view; }
    TrainingController* controller() const { return m_controller; }

protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void createActions();
    void createDocks();
    void openDialog();
    void saveDialog();
    void importDataDialog();
    void exportDialog();
    void recordDialog();
    /// What the views show now (both cameras, options, anchor, speed): saved with the scene.
    ViewSettings currentViewSettings() const;
    void replayDialog();
    void setPresentation(bool on);
    /// Shows the 2D or the 3D view, whichever fits the data's dimension.
    void showViewFor(int dimension);
    bool is3D() const;
    /// Opens a comparison (a file or a ":/comparisons/" resource) side by side.
    bool openComparison(const QString& path);
    /// Adds the current scene as a panel of the comparison (starting one with it if none is open).
    void compareCurrentScene();
    /// Between the single run and the comparison: the docks belong to the single run.
    void showComparison(bool on);
    bool comparing() const;
    void updateStatus();

    TrainingController* m_controller;
    ReplayPlayer* m_replay;
    SceneDocument* m_document;
    PlotView2D* m_view;
    PlotView3D* m_view3d;
    QStackedWidget* m_views;
    ComparisonPage* m_comparison;
    QStackedWidget* m_pages;  // the single run's views, or the comparison
    ControlPanel* m_controls;
    ChartsPanel* m_charts;
    QAction* m_playAction = nullptr;
    QAction* m_recordAction = nullptr;
    QAction* m_threeD = nullptr;
    QSpinBox* m_stepsPerFrame = nullptr;
    QLabel* m_statusStep;
    QLabel* m_statusRate;
    QLabel* m_statusFrames;
    QLabel* m_statusState;
    QTimer m_statusTimer;
    int m_framesPerSecond = 0;
    QByteArray m_dockState;  // the docks as they were before presentation mode
};

}  // namespace marginlab

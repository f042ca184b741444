// SPDX-License-Identifier: MIT
// MainWindow: wiring only. The view in the middle, the controls and the charts in docks,
// menus, toolbar and status bar; scenes are opened and saved through sceneio.
#pragma once

#include "marginlab/scene/scenefile.h"

#include <QMainWindow>
#include <QTimer>

class QAction;
class QLabel;
class QSpinBox;

namespace marginlab {

class ChartsPanel;
class ControlPanel;
class PlotView2D;
class PointEditor;
class TrainingController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens a scene file or resource; on failure shows why and keeps the current scene.
    bool openScene(const QString& path);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions();
    void createDocks();
    void applyScene(const SceneFile& scene, bool fitView);
    void openDialog();
    void saveDialog();
    void importCsvDialog();
    void exportDialog();
    void updateStatus();

    TrainingController* m_controller;
    PlotView2D* m_view;
    ControlPanel* m_controls;
    ChartsPanel* m_charts;
    PointEditor* m_editor;
    QAction* m_playAction = nullptr;
    QSpinBox* m_stepsPerFrame = nullptr;
    QLabel* m_statusStep;
    QLabel* m_statusRate;
    QLabel* m_statusFrames;
    QLabel* m_statusState;
    QTimer m_statusTimer;
    int m_framesPerSecond = 0;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "chartspanel.h"
#include "controlpanel.h"
#include "plotview2d.h"
#include "pointedit.h"
#include "sceneio.h"
#include "trainingcontroller.h"
#include "viewexport.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QGuiApplication>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QToolBar>

namespace marginlab {

namespace {

struct BuiltInScene {
    const char* resource;
    const char* title;
};

// The teaching scenes, in menu order; the first one opens at start.
constexpr BuiltInScene kBuiltInScenes[] = {
    {":/scenes/triplet-regions.json", "Triplet regions on blobs"},
    {":/scenes/mining-batch-all.json", "Mining 1/3: batch-all triplets"},
    {":/scenes/mining-batch-hard.json", "Mining 2/3: batch-hard"},
    {":/scenes/mining-semihard.json", "Mining 3/3: semi-hard"},
    {":/scenes/contrastive-blobs.json", "Contrastive loss on blobs"},
    {":/scenes/triplet-vs-contrastive.json", "Triplet loss on the same blobs"},
    {":/scenes/softmax-circle.json", "Normalized softmax on the circle"},
    {":/scenes/cosface-circle.json", "CosFace on the circle"},
    {":/scenes/arcface-circle.json", "ArcFace on the circle"},
    {":/scenes/collapse.json", "Collapse: attraction without repulsion"},
    {":/scenes/batch-hard-stuck.json", "Stuck: hardest triplets from the start"},
    {":/scenes/angular.json", "Angular loss"},
};

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_controller(new TrainingController(this)),
      m_view(new PlotView2D),
      m_controls(new ControlPanel),
      m_charts(new ChartsPanel),
      m_editor(new PointEditor(m_controller, this)),
      m_statusStep(new QLabel),
      m_statusRate(new QLabel),
      m_statusFrames(new QLabel),
      m_statusState(new QLabel) {
    setWindowTitle(tr("MarginLab"));
    setCentralWidget(m_view);
    createDocks();
    createActions();

    for (QLabel* label : {m_statusState, m_statusStep, m_statusRate, m_statusFrames}) statusBar()->addPermanentWidget(label);
    m_statusStep->setToolTip(tr("Training step"));
    m_statusRate->setToolTip(tr("Training speed"));
    m_statusFrames->setToolTip(tr("Frames painted per second"));
    m_statusState->setToolTip(tr("Training status"));

    connect(m_controller, &TrainingController::snapshotChanged, m_view, &PlotView2D::setSnapshot);
    connect(m_controller, &TrainingController::snapshotChanged, m_charts, &ChartsPanel::append);
    connect(m_controller, &TrainingController::runRestarted, m_charts, &ChartsPanel::clear);
    connect(m_controller, &TrainingController::snapshotChanged, this, [this] { updateStatus(); });
    connect(m_controller, &TrainingController::playingChanged, this, [this](bool playing) {
        m_playAction->setText(playing ? tr("Pause") : tr("Play"));
        m_playAction->setChecked(playing);
        updateStatus();
    });
    connect(m_controller, &TrainingController::diverged, this, [this](const QString& message) {
        m_controls->showMessage(tr("Training stopped: %1").arg(message), true);
        statusBar()->showMessage(tr("Diverged: %1").arg(message));
    });
    connect(m_controls, &ControlPanel::sceneEdited, this, [this](const SceneFile& scene) { applyScene(scene, false); });
    connect(m_controls, &ControlPanel::viewOptionsChanged, m_view, &PlotView2D::setOptions);
    connect(m_controls, &ControlPanel::viewOptionsChanged, m_controller,
            [this](const ViewOptions& options) { m_controller->setSplitForces(options.showForces && options.splitForces); });
    connect(m_view, &PlotView2D::pointAddRequested, this,
            [this](QPointF at) { m_editor->addPoint(at, m_controls->newPointClass()); });
    connect(m_view, &PlotView2D::pointMoveRequested, m_editor, &PointEditor::movePoint);
    connect(m_view, &PlotView2D::pointRemoveRequested, m_editor, &PointEditor::removePoint);
    connect(m_controller, &TrainingController::pointsEdited, this, [this] {
        m_controls->setData(m_controller->config().points, m_controller->config().labels);
        m_view->setLabels(m_controller->config().labels);
    });

    m_statusTimer.setInterval(1000);
    connect(&m_statusTimer, &QTimer::timeout, this, [this] {
        m_framesPerSecond = m_view->takeFrameCount();
        updateStatus();
    });
    m_statusTimer.start();

    QSettings settings;
    // First start: nearly the whole screen (the view needs room); later starts restore the last geometry.
    if (const QScreen* screen = QGuiApplication::primaryScreen())
        resize(screen->availableGeometry().size().boundedTo(QSize(1920, 1200)));
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());

    openScene(QString::fromLatin1(kBuiltInScenes[0].resource));
}

MainWindow::~MainWindow() = default;

void MainWindow::createDocks() {
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_controls);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setMinimumWidth(m_controls->sizeHint().width() + 24);
    auto* controlsDock = new QDockWidget(tr("Controls"), this);
    controlsDock->setObjectName(QStringLiteral("controlsDock"));
    controlsDock->setWidget(scroll);
    addDockWidget(Qt::LeftDockWidgetArea, controlsDock);

    auto* chartsDock = new QDockWidget(tr("Charts"), this);
    chartsDock->setObjectName(QStringLiteral("chartsDock"));
    chartsDock->setWidget(m_charts);
    m_charts->setMinimumWidth(340);
    addDockWidget(Qt::RightDockWidgetArea, chartsDock);
}

void MainWindow::createActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open scene…"), this, &MainWindow::openDialog);
    open->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_O));
    open->setToolTip(tr("Open a MarginLab scene (JSON)"));
    QAction* save = file->addAction(tr("&Save scene…"), this, &MainWindow::saveDialog);
    save->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_S));
    save->setToolTip(tr("Save the current configuration and view as a scene"));
    QAction* exportView = file->addAction(tr("&Export view…"), this, &MainWindow::exportDialog);
    exportView->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportView->setToolTip(tr("Save the current picture of the view as PNG or SVG (Ctrl+E)"));
    QAction* import = file->addAction(tr("&Import CSV…"), this, &MainWindow::importCsvDialog);
    import->setToolTip(tr("Replace the data by points and labels from a CSV file"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_editor->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    undo->setToolTip(tr("Undo the last point edit (Ctrl+Z)"));
    QAction* redo = m_editor->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    redo->setToolTip(tr("Redo the last undone point edit (Ctrl+Shift+Z)"));
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* scenes = menuBar()->addMenu(tr("&Scenes"));
    for (const BuiltInScene& scene : kBuiltInScenes) {
        const QString resource = QString::fromLatin1(scene.resource);
        QAction* action = scenes->addAction(tr(scene.title), this, [this, resource] { openScene(resource); });
        action->setToolTip(tr("Open the built-in scene \"%1\"").arg(tr(scene.title)));
    }

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    m_playAction = run->addAction(tr("Play"), m_controller, &TrainingController::togglePlay);
    m_playAction->setCheckable(true);
    m_playAction->setShortcut(QKeySequence(Qt::Key_Space));
    m_playAction->setToolTip(tr("Start or pause training (Space)"));
    QAction* step = run->addAction(tr("Step"), m_controller, &TrainingController::step);
    step->setShortcuts({QKeySequence(Qt::Key_S), QKeySequence(Qt::Key_Right)});
    step->setToolTip(tr("Advance one step (S or →)"));
    QAction* reset = run->addAction(tr("Reset"), m_controller, &TrainingController::reset);
    reset->setShortcut(QKeySequence(Qt::Key_R));
    reset->setToolTip(tr("Back to step 0: same data and seed, same trajectory (R)"));
    QAction* slow = run->addAction(tr("Slow motion"), m_controller, &TrainingController::setSlowMotion);
    slow->setCheckable(true);
    slow->setToolTip(tr("One step every quarter second"));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* fit = view->addAction(tr("Fit to data"), m_view, &PlotView2D::fitToData);
    fit->setShortcut(QKeySequence(Qt::Key_F));
    fit->setToolTip(tr("Zoom and pan so that every point is visible (F)"));
    QAction* clear = view->addAction(tr("Clear anchor"), this, [this] { m_view->setAnchor(-1); });
    clear->setShortcut(QKeySequence(Qt::Key_Escape));
    clear->setToolTip(tr("Hide the triplet overlay (Esc)"));
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());

    QToolBar* toolbar = addToolBar(tr("Training"));
    toolbar->setObjectName(QStringLiteral("trainingToolbar"));
    toolbar->addAction(m_playAction);
    toolbar->addAction(step);
    toolbar->addAction(reset);
    toolbar->addAction(slow);
    toolbar->addSeparator();
    auto* label = new QLabel(tr(" Steps per frame "));
    m_stepsPerFrame = new QSpinBox;
    m_stepsPerFrame->setRange(1, 1000);
    m_stepsPerFrame->setValue(m_controller->stepsPerFrame());
    m_stepsPerFrame->setToolTip(tr("Training steps between two pictures (speed)"));
    label->setToolTip(m_stepsPerFrame->toolTip());
    connect(m_stepsPerFrame, &QSpinBox::valueChanged, m_controller, &TrainingController::setStepsPerFrame);
    toolbar->addWidget(label);
    toolbar->addWidget(m_stepsPerFrame);
    toolbar->addSeparator();
    toolbar->addAction(fit);
}

bool MainWindow::openScene(const QString& path) {
    QString error;
    auto scene = sceneio::openScene(path, &error);
    if (!scene) {
        QMessageBox::warning(this, tr("Cannot open scene"), error + tr("\n\nThe current scene is unchanged."));
        return false;
    }
    m_controls->setScene(*scene);
    applyScene(*scene, true);
    m_view->applyViewSettings(scene->view);
    m_controls->setViewOptions(m_view->options());
    m_controller->setSplitForces(m_view->options().showForces && m_view->options().splitForces);
    if (scene->view.is_object() && scene->view.contains("steps_per_frame") && scene->view["steps_per_frame"].is_number_integer())
        m_stepsPerFrame->setValue(scene->view["steps_per_frame"].get<int>());
    setWindowTitle(tr("MarginLab — %1").arg(scene->title.empty() ? QFileInfo(path).fileName() : QString::fromStdString(scene->title)));
    if (!scene->description.empty()) m_controls->showMessage(QString::fromStdString(scene->description), false);
    return true;
}

void MainWindow::applyScene(const SceneFile& scene, bool fitView) {
    QString error;
    if (!m_controller->setConfig(scene.trainer, &error)) {
        m_controls->showMessage(error, true);
        return;
    }
    m_editor->forgetHistory();
    m_view->setConfig(scene.trainer, fitView);
}

void MainWindow::openDialog() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open scene"), settings.value(QStringLiteral("files/lastDir")).toString(),
                                                      tr("MarginLab scenes (*.json);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    openScene(path);
}

void MainWindow::saveDialog() {
    QSettings settings;
    QString path = QFileDialog::getSaveFileName(this, tr("Save scene"), settings.value(QStringLiteral("files/lastDir")).toString(),
                                                tr("MarginLab scenes (*.json)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(QStringLiteral(".json"))) path += QStringLiteral(".json");
    settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    SceneFile scene = m_controls->scene();
    scene.view = m_view->viewSettings();
    scene.view["steps_per_frame"] = m_stepsPerFrame->value();
    QString error;
    if (!sceneio::saveScene(scene, path, &error)) QMessageBox::warning(this, tr("Cannot save scene"), error);
    else statusBar()->showMessage(tr("Saved %1").arg(path), 4000);
}

void MainWindow::exportDialog() {
    QSettings settings;
    QString path = QFileDialog::getSaveFileName(this, tr("Export view"), settings.value(QStringLiteral("files/lastDir")).toString(),
                                                tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".png");
    settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    QString error;
    if (!exportView(*m_view, path, m_view->size(), &error)) QMessageBox::warning(this, tr("Cannot export the view"), error);
    else statusBar()->showMessage(tr("Exported %1").arg(path), 4000);
}

void MainWindow::importCsvDialog() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(this, tr("Import CSV"), settings.value(QStringLiteral("files/lastDir")).toString(),
                                                      tr("CSV files (*.csv);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    QString error;
    auto scene = sceneio::importCsv(m_controls->scene(), path, &error);
    if (!scene) {
        QMessageBox::warning(this, tr("Cannot import CSV"), error + tr("\n\nThe current scene is unchanged."));
        return;
    }
    m_controls->setScene(*scene);
    applyScene(*scene, true);
}

void MainWindow::updateStatus() {
    const auto snapshot = m_controller->snapshot();
    m_statusStep->setText(tr("step %1").arg(m_controller->currentStep()));
    m_statusRate->setText(tr("%1 steps/s").arg(m_controller->stepsPerSecond(), 0, 'f', 0));
    m_statusFrames->setText(tr("%1 frames/s").arg(m_framesPerSecond));
    QString state = m_controller->isPlaying() ? tr("playing") : tr("paused");
    if (snapshot && snapshot->status == TrainStatus::Diverged) state = tr("diverged");
    m_statusState->setText(state);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    m_controller->pause();
    event->accept();
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "builtincomparisons.h"
#include "chartspanel.h"
#include "comparisoncontroller.h"
#include "comparisonpage.h"
#include "controlpanel.h"
#include "frameexport.h"
#include "plotview2d.h"
#include "plotview3d.h"
#include "renderer3d.h"
#include "recorddialog.h"
#include "replayplayer.h"
#include "scenedocument.h"
#include "sceneio.h"
#include "trainingcontroller.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVector3D>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QToolButton>

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
    {":/scenes/arcface-sphere.json", "ArcFace on the sphere (3D)"},
    {":/scenes/collapse.json", "Collapse: attraction without repulsion"},
    {":/scenes/batch-hard-stuck.json", "Stuck: hardest triplets from the start"},
    {":/scenes/angular.json", "Angular loss"},
    {":/scenes/sampling-matters.json", "Sampling matters: margin loss + distance weighting"},
    {":/scenes/soft-triple-modes.json", "SoftTriple: several centers per class"},
    {":/scenes/subcenter-noisy-labels.json", "Sub-center ArcFace with noisy labels"},
    {":/scenes/cross-batch-memory.json", "Cross-batch memory: negatives from past batches"},
    {":/scenes/triplet-arcface.json", "Triplet + ArcFace: two losses together"},
};

constexpr double kPresentationTextScale = 1.5;

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_controller(new TrainingController(this)),
      m_replay(new ReplayPlayer(this)),
      m_document(new SceneDocument(m_controller, this)),
      m_view(new PlotView2D),
      m_view3d(new PlotView3D),
      m_views(new QStackedWidget),
      m_comparison(new ComparisonPage),
      m_pages(new QStackedWidget),
      m_controls(new ControlPanel(m_document)),
      m_charts(new ChartsPanel),
      m_statusStep(new QLabel),
      m_statusRate(new QLabel),
      m_statusFrames(new QLabel),
      m_statusState(new QLabel) {
    setWindowTitle(tr("MarginLab"));
    m_views->addWidget(m_view);
    m_views->addWidget(m_view3d);
    m_pages->addWidget(m_views);
    m_pages->addWidget(m_comparison);
    setCentralWidget(m_pages);
    connect(m_comparison, &ComparisonPage::statusMessage, this, [this](const QString& m) { statusBar()->showMessage(m, 5000); });
    connect(m_comparison, &ComparisonPage::comparisonChanged, this,
            [this](const QString& title, const QString&) { setWindowTitle(tr("MarginLab — %1").arg(title)); });
    m_controls->setFocusTarget(m_view);
    createDocks();
    createActions();

    for (QLabel* label : {m_statusState, m_statusStep, m_statusRate, m_statusFrames}) statusBar()->addPermanentWidget(label);
    m_statusStep->setToolTip(tr("Training step"));
    m_statusRate->setToolTip(tr("Training speed"));
    m_statusFrames->setToolTip(tr("Frames painted per second"));
    m_statusState->setToolTip(tr("Training status"));

    // While a trajectory is replayed, a late answer of the paused trainer must not cover it.
    connect(m_controller, &TrainingController::snapshotChanged, this, [this](std::shared_ptr<const Snapshot> s) {
        if (m_replay->isActive()) return;
        if (s && s->positions.cols() == 3) m_view3d->setSnapshot(s);
        else m_view->setSnapshot(s);
        m_charts->append(s);
    });
    // A restart shows the history the scene starts with: none, or the one saved with a trained moment.
    connect(m_controller, &TrainingController::runRestarted, m_charts, [this] {
        if (m_document->scene().history.empty() || !m_charts->setHistory(m_document->scene().history)) m_charts->clear();
    });
    connect(m_controller, &TrainingController::snapshotChanged, this, [this] { updateStatus(); });
    connect(m_controller, &TrainingController::playingChanged, this, [this](bool playing) {
        m_playAction->setText(playing ? tr("Pause") : tr("Play"));
        m_playAction->setIcon(style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
        m_playAction->setChecked(playing);
        updateStatus();
    });
    // A replayed trajectory feeds the same view and charts; nothing trains meanwhile.
    connect(m_replay, &ReplayPlayer::snapshotChanged, this, [this](std::shared_ptr<const Snapshot> s) {
        if (s->positions.cols() == 3) m_view3d->setSnapshot(s);
        else m_view->setSnapshot(s);
    });
    connect(m_replay, &ReplayPlayer::snapshotChanged, m_charts, &ChartsPanel::append);
    connect(m_replay, &ReplayPlayer::snapshotChanged, this, [this](std::shared_ptr<const Snapshot> s) {
        m_statusStep->setText(tr("frame at step %1").arg(s->step));
    });
    connect(m_replay, &ReplayPlayer::restarted, m_charts, &ChartsPanel::clear);
    connect(m_replay, &ReplayPlayer::playingChanged, this, [this](bool playing) {
        m_playAction->setText(playing ? tr("Pause") : tr("Play"));
        m_playAction->setChecked(playing);
        m_statusState->setText(playing ? tr("replaying") : tr("replay paused"));
    });
    connect(m_comparison->controller(), &ComparisonController::playingChanged, this, [this](bool playing) {
        m_playAction->setText(playing ? tr("Pause") : tr("Play"));
        m_playAction->setChecked(playing);
        m_statusState->setText(playing ? tr("comparing") : tr("comparison paused"));
    });
    connect(m_controller, &TrainingController::diverged, this, [this](const QString& message) {
        m_controls->showMessage(tr("Training stopped: %1").arg(message), true);
        statusBar()->showMessage(tr("Diverged: %1").arg(message));
    });
    connect(m_controls, &ControlPanel::sceneEdited, this, [this](const SceneFile& scene) {
        QString error;
        if (!m_document->edit(scene, &error)) m_controls->showMessage(tr("Not applied: %1").arg(error), true);
    });
    connect(m_document, &SceneDocument::changed, this, [this](SceneDocument::Change change) {
        m_charts->setLoss(m_document->scene().trainer.loss);
        m_view->setRun(m_document->run());
        m_view3d->setRun(m_document->run());
        showViewFor(m_document->dimension());
        if (change != SceneDocument::Change::PointsEdited) m_controls->refresh();
        if (change == SceneDocument::Change::Restarted)
            m_controls->showMessage(tr("New data or seed: the run restarted at step 0."), false);
        else if (change == SceneDocument::Change::Training)
            statusBar()->showMessage(tr("Applied to the running state: the points stay where they are."), 3000);
    });
    connect(m_controls, &ControlPanel::viewOptionsChanged, m_view, &PlotView2D::setOptions);
    connect(m_controls, &ControlPanel::viewOptionsChanged, m_view3d, &PlotView3D::setOptions);
    connect(m_view, &PlotView2D::optionsChanged, m_controls, &ControlPanel::setViewOptions);
    connect(m_view3d, &PlotView3D::optionsChanged, m_controls, &ControlPanel::setViewOptions);
    connect(m_controls, &ControlPanel::viewOptionsChanged, m_controller,
            [this](const ViewOptions& options) { m_controller->setSplitForces(options.showForces && options.splitForces); });
    connect(m_view, &PlotView2D::pointAddRequested, this,
            [this](QPointF at) { m_document->addPoint(at, m_controls->newPointClass()); });
    connect(m_view, &PlotView2D::pointMoveRequested, m_document, &SceneDocument::movePoint);
    connect(m_view, &PlotView2D::pointRemoveRequested, m_document, &SceneDocument::removePoint);
    connect(m_view3d, &PlotView3D::pointRemoveRequested, m_document, &SceneDocument::removePoint);
    connect(m_view3d, &PlotView3D::pointMoveRequested3D, this, [this](int index, QVector3D to) {
        m_document->movePointTo(index, Eigen::RowVector3d(to.x(), to.y(), to.z()));
    });
    connect(m_view3d, &PlotView3D::pointAddRequested3D, this, [this](QVector3D at) {
        m_document->addPointAt(Eigen::RowVector3d(at.x(), at.y(), at.z()), m_controls->newPointClass());
    });

    m_statusTimer.setInterval(1000);
    connect(&m_statusTimer, &QTimer::timeout, this, [this] {
        m_framesPerSecond = m_view->takeFrameCount() + m_view3d->takeFrameCount();
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

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    // Space, S and R work from the first second: the keyboard starts on the canvas.
    m_views->currentWidget()->setFocus(Qt::OtherFocusReason);
}

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
    save->setToolTip(tr("Save the scene, the trained moment (step, positions, class weights, optimizer, charts) and the view"));
    QAction* exportView = file->addAction(tr("&Export view…"), this, &MainWindow::exportDialog);
    exportView->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportView->setToolTip(tr("Save the current picture of the view as PNG, SVG or PDF (Ctrl+E)"));
    QAction* record = file->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("&Record…"), this,
                                      &MainWindow::recordDialog);
    record->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    record->setToolTip(tr("Record an animation of the run: MP4, WebM, GIF, PNG frames, or one PNG / SVG / PDF frame (Ctrl+R)"));
    m_recordAction = record;
    QAction* replay = file->addAction(tr("Replay a &trajectory…"), this, &MainWindow::replayDialog);
    replay->setToolTip(tr("Play back per-step embeddings logged elsewhere (CSV or NPY with labels; see docs/trajectories.md)"));
    QAction* import = file->addAction(tr("&Import data (CSV, NPY)…"), this, &MainWindow::importDataDialog);
    import->setToolTip(tr("Replace the data by points and labels (2 or 3 columns) from a CSV file or a NumPy array\n"
                          "with its labels in NAME-labels.npy"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_document->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    undo->setToolTip(tr("Undo the last point edit (Ctrl+Z)"));
    QAction* redo = m_document->undoStack()->createRedoAction(this, tr("&Redo"));
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

    scenes->addSeparator();
    QMenu* comparisons = scenes->addMenu(tr("Side by side"));
    for (const BuiltInComparison& entry : builtInComparisons()) {
        const QString resource = entry.resource;
        QAction* action = comparisons->addAction(entry.title, this, [this, resource] { openComparison(resource); });
        action->setToolTip(tr("Open the ready comparison \"%1\": every strategy from the same start, in lockstep").arg(entry.title));
    }
    comparisons->addSeparator();
    QAction* compareThis = comparisons->addAction(tr("Add this scene as a panel"), this, &MainWindow::compareCurrentScene);
    compareThis->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    compareThis->setToolTip(tr("Put the current scene side by side with the comparison (up to 4 panels; Ctrl+K)"));
    // Per-panel settings: edit the scene in the single run's controls, then put it into a panel.
    QMenu* setPanel = comparisons->addMenu(tr("Set a panel from this scene"));
    for (int panel = 0; panel < 4; ++panel) {
        QAction* action = setPanel->addAction(tr("Panel %1").arg(panel + 1), this, [this, panel] {
            QString error;
            if (!m_comparison->hasComparison() || panel >= static_cast<int>(m_comparison->comparison().panels.size()))
                error = tr("there is no panel %1 (open a comparison, or add this scene as a panel)").arg(panel + 1);
            else if (m_comparison->setPanelSettings(panel, m_document->scene().trainer, &error))
                return showComparison(true);
            QMessageBox::warning(this, tr("Cannot set the panel"), error);
        });
        action->setToolTip(tr("Give panel %1 this scene's loss, miner and optimizer (the comparison restarts from its start)")
                               .arg(panel + 1));
    }
    QMenu* copyPanel = comparisons->addMenu(tr("Copy a panel's settings"));
    for (int from = 0; from < 4; ++from)
        for (int to = 0; to < 4; ++to) {
            if (from == to) continue;
            copyPanel->addAction(tr("Panel %1 → panel %2").arg(from + 1).arg(to + 1), this, [this, from, to] {
                QString error;
                if (!m_comparison->copyPanelSettings(from, to, &error))
                    QMessageBox::warning(this, tr("Cannot copy the settings"), error);
            });
        }
    QAction* single = comparisons->addAction(tr("Back to the single run"), this, [this] { showComparison(false); });
    single->setToolTip(tr("Leave the comparison and show the scene that was open"));

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    m_playAction = run->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Play"), this, [this] {
        if (comparing()) m_comparison->controller()->togglePlay();
        else if (m_replay->isActive()) m_replay->togglePlay();
        else m_controller->togglePlay();
    });
    m_playAction->setCheckable(true);
    m_playAction->setShortcut(QKeySequence(Qt::Key_Space));
    m_playAction->setToolTip(tr("Start or pause training (Space)"));
    QAction* step = run->addAction(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Step"), this, [this] {
        if (comparing()) m_comparison->controller()->step();
        else if (m_replay->isActive()) m_replay->step();
        else m_controller->step();
    });
    step->setShortcuts({QKeySequence(Qt::Key_S), QKeySequence(Qt::Key_Right)});
    step->setToolTip(tr("Advance one step (S or →)"));
    QAction* reset = run->addAction(style()->standardIcon(QStyle::SP_MediaSkipBackward), tr("Reset"), this, [this] {
        if (comparing()) m_comparison->restart();
        else if (m_replay->isActive()) m_replay->reset();
        else m_document->reset();
    });
    reset->setShortcut(QKeySequence(Qt::Key_R));
    reset->setToolTip(tr("Back to step 0: same data and seed, same trajectory (R)"));
    QAction* slow = run->addAction(tr("Slow motion"), m_controller, &TrainingController::setSlowMotion);
    slow->setCheckable(true);
    slow->setToolTip(tr("One step every quarter second"));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* fit = view->addAction(tr("Fit to data"), m_view, &PlotView2D::fitToData);
    fit->setShortcut(QKeySequence(Qt::Key_F));
    fit->setToolTip(tr("Zoom and pan so that every point is visible (F)"));
    QAction* clear = view->addAction(tr("Clear anchor / close the description"), this, [this] {
        if (m_view->anchor() >= 0) {
            m_view->setAnchor(-1);
        } else {
            ViewOptions options = m_view->options();
            options.showDescription = false;
            m_view->setOptions(options);
        }
    });
    clear->setShortcut(QKeySequence(Qt::Key_Escape));
    clear->setToolTip(tr("Hide the triplet overlay, then the scene's description (Esc)"));
    QAction* describe = view->addAction(tr("Show the scene's description"), this, [this] {
        ViewOptions options = m_view->options();
        options.showDescription = true;
        m_view->setOptions(options);
    });
    describe->setToolTip(tr("Show the scene's teaching text on the canvas again"));
    m_threeD = view->addAction(tr("3D (points in space, D = 3)"), this, [this](bool on) {
        QString error;
        if (!m_document->setDimension(on ? 3 : 2, &error)) {
            QMessageBox::warning(this, tr("Cannot switch the dimension"), error);
            m_threeD->setChecked(is3D());
        }
    });
    m_threeD->setCheckable(true);
    m_threeD->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_3));
    m_threeD->setToolTip(tr("Train the same scene in 3D (or back in 2D): the same loss, miner, optimizer, classes and "
                            "seed, with the data's 3D form (Ctrl+3). In 3D: drag to rotate, T turntable, 1/2/3 views."));
    QAction* trails = view->addAction(tr("Trails of the last steps (3D)"), this,
                                      [this](bool on) { m_view3d->setTrailLength(on ? 12 : 0); });
    trails->setCheckable(true);
    trails->setToolTip(tr("In the 3D view, a faint trail behind every point: where it was over the last snapshots"));
    QAction* presentation = view->addAction(tr("Presentation mode"), this, &MainWindow::setPresentation);
    presentation->setCheckable(true);
    presentation->setShortcut(QKeySequence(Qt::Key_F5));
    presentation->setToolTip(tr("Hide the docks and enlarge the text on the canvas, for a lecture (F5)"));
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());

    QToolBar* toolbar = addToolBar(tr("Training"));
    toolbar->setObjectName(QStringLiteral("trainingToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addAction(m_playAction);
    // The play control is the first thing a lecturer looks for: large, with its name.
    if (auto* button = qobject_cast<QToolButton*>(toolbar->widgetForAction(m_playAction))) {
        button->setIconSize(QSize(32, 32));
        QFont font = button->font();
        font.setPointSizeF(font.pointSizeF() * 1.4);
        font.setBold(true);
        button->setFont(font);
        button->setMinimumWidth(120);
    }
    toolbar->addAction(step);
    toolbar->addAction(reset);
    toolbar->addAction(slow);
    toolbar->addSeparator();
    auto* label = new QLabel(tr(" Steps per frame "));
    m_stepsPerFrame = new QSpinBox;
    m_stepsPerFrame->setRange(1, 1000);
    m_stepsPerFrame->setValue(m_controller->stepsPerFrame());
    m_stepsPerFrame->setFocusPolicy(Qt::ClickFocus);  // never steals the keyboard from the canvas
    m_stepsPerFrame->setToolTip(tr("Training steps between two pictures (speed)"));
    label->setToolTip(m_stepsPerFrame->toolTip());
    connect(m_stepsPerFrame, &QSpinBox::valueChanged, m_controller, &TrainingController::setStepsPerFrame);
    connect(m_stepsPerFrame, &QSpinBox::valueChanged, m_replay, &ReplayPlayer::setFramesPerTick);
    connect(m_stepsPerFrame, &QSpinBox::valueChanged, m_comparison->controller(), &ComparisonController::setStepsPerFrame);
    connect(m_stepsPerFrame, &QSpinBox::editingFinished, m_view, [this] { m_view->setFocus(); });
    toolbar->addWidget(label);
    toolbar->addWidget(m_stepsPerFrame);
    toolbar->addSeparator();
    toolbar->addAction(fit);
    toolbar->addAction(m_threeD);
    toolbar->addAction(presentation);
    toolbar->addSeparator();
    toolbar->addAction(m_recordAction);
}

void MainWindow::setPresentation(bool on) {
    ViewOptions options = m_view->options();
    options.textScale = on ? kPresentationTextScale : 1.0;
    m_view->setOptions(options);
    m_view3d->setOptions(options);
    m_controls->setViewOptions(options);
    if (on) {
        m_dockState = saveState();
        for (QDockWidget* dock : findChildren<QDockWidget*>()) dock->hide();
    } else if (!m_dockState.isEmpty()) {
        restoreState(m_dockState);
    }
    m_views->currentWidget()->setFocus();
}

bool MainWindow::comparing() const { return m_pages->currentWidget() == m_comparison; }

void MainWindow::showComparison(bool on) {
    if (on == comparing()) return;
    if (on) {
        m_controller->pause();
        m_replay->pause();
        m_dockState = saveState();
        for (QDockWidget* dock : findChildren<QDockWidget*>()) dock->hide();
        m_pages->setCurrentWidget(m_comparison);
    } else {
        m_comparison->controller()->pause();
        m_pages->setCurrentWidget(m_views);
        if (!m_dockState.isEmpty()) restoreState(m_dockState);
        setWindowTitle(tr("MarginLab — %1").arg(QString::fromStdString(m_document->scene().title)));
    }
    m_pages->currentWidget()->setFocus();
}

bool MainWindow::openComparison(const QString& path) {
    QString error;
    if (!m_comparison->openFile(path, &error)) {
        QMessageBox::warning(this, tr("Cannot open the comparison"), error + tr("\n\nWhat was open is unchanged."));
        return false;
    }
    showComparison(true);
    return true;
}

void MainWindow::compareCurrentScene() {
    QString error;
    const QString title = QString::fromStdString(m_document->run().title);
    bool ok = false;
    if (m_comparison->hasComparison() && m_comparison->comparison().panels.size() < 4) {
        ok = m_comparison->addPanel(m_document->scene().trainer, title, &error);
    } else {
        // A new comparison starts with the scene twice, from its start: change a panel's settings
        // (or add another scene as a panel) to compare.
        ComparisonFile comparison;
        comparison.title = m_document->scene().title;
        comparison.description = tr("The current scene in two panels from the same start.").toStdString();
        comparison.data = m_document->scene().data;
        ComparisonPanel panel;
        panel.trainer = m_document->scene().trainer;
        panel.trainer.start.reset();
        comparison.panels = {panel, panel};
        ok = m_comparison->open(comparison, &error);
    }
    if (!ok) {
        QMessageBox::warning(this, tr("Cannot compare"), error);
        return;
    }
    showComparison(true);
}

bool MainWindow::is3D() const { return m_views->currentWidget() == m_view3d; }

void MainWindow::showViewFor(int dimension) {
    QWidget* wanted = dimension == 3 ? static_cast<QWidget*>(m_view3d) : m_view;
    if (m_threeD) m_threeD->setChecked(dimension == 3);
    if (m_views->currentWidget() == wanted) return;
    const bool focused = m_views->currentWidget()->hasFocus();
    m_views->setCurrentWidget(wanted);
    if (focused || !QApplication::focusWidget()) wanted->setFocus();
}

bool MainWindow::openScene(const QString& path) {
    QString error;
    // A file with several panels is a comparison: it opens side by side. A comparison with a bad
    // panel is refused with that panel's message, not opened as its shared single scene.
    if (const auto document = sceneio::readDocument(path, &error); document && isComparisonDocument(*document)) {
        const auto comparison = loadComparison(path, &error);
        if (!comparison) {
            QMessageBox::warning(this, tr("Cannot open the comparison"), error + tr("\n\nThe current scene is unchanged."));
            return false;
        }
        if (comparison->panels.size() > 1) return openComparison(path);
    }
    auto scene = sceneio::openScene(path, &error);
    if (!scene || !m_document->open(*scene, &error)) {
        QMessageBox::warning(this, tr("Cannot open scene"), error + tr("\n\nThe current scene is unchanged."));
        return false;
    }
    m_replay->close();
    m_controls->setEnabled(true);
    showComparison(false);
    ViewSettings settings = viewSettingsFromJson(scene->view);
    settings.options.textScale = m_view->options().textScale;  // presentation mode stays as it is
    settings.options.showDescription = true;
    m_view->setRun(m_document->run());
    m_view3d->setRun(m_document->run());
    m_view->setDescription(QString::fromStdString(scene->description));
    m_view3d->setDescription(QString::fromStdString(scene->description));
    m_view->applyViewSettings(settings);
    m_view3d->setOptions(m_view->options());
    m_view3d->setAnchor(settings.selection.anchor, settings.selection.positive);
    m_view3d->resetCamera();
    if (settings.camera3d) m_view3d->setCamera(*settings.camera3d);
    showViewFor(m_document->dimension());
    m_controls->setViewOptions(m_view->options());
    m_controller->setSplitForces(m_view->options().showForces && m_view->options().splitForces);
    if (settings.stepsPerFrame) m_stepsPerFrame->setValue(*settings.stepsPerFrame);
    setWindowTitle(tr("MarginLab — %1").arg(scene->title.empty() ? QFileInfo(path).fileName() : QString::fromStdString(scene->title)));
    m_controls->showMessage(QString(), false);
    return true;
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
    if (comparing()) {
        QString error;
        if (!m_comparison->saveFile(path, &error)) QMessageBox::warning(this, tr("Cannot save the comparison"), error);
        else statusBar()->showMessage(tr("Saved %1").arg(path), 4000);
        return;
    }
    // The moment the run is at, with its chart history: reopened, it continues bit for bit.
    const std::optional<TrainerStart> state = m_controller->savedState();
    SceneFile scene = state ? m_document->sceneAt(*state, m_charts->history().points()) : m_document->scene();
    scene.view = viewSettingsToJson(currentViewSettings());
    QString error;
    if (!sceneio::saveScene(scene, path, &error)) QMessageBox::warning(this, tr("Cannot save scene"), error);
    else statusBar()->showMessage(tr("Saved %1").arg(path), 4000);
}

void MainWindow::exportDialog() {
    QSettings settings;
    QString path = QFileDialog::getSaveFileName(this, tr("Export view"), settings.value(QStringLiteral("files/lastDir")).toString(),
                                                tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".png");
    settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    QString error;
    bool written;
    if (is3D()) {
        Renderer3D renderer;
        const Frame3D frame = m_view3d->frame();
        written = exportPainting(path, frame.size, [&](QPainter& painter) { renderer.paint(painter, frame); }, &error);
    } else {
        Renderer2D renderer;
        written = exportFrame(renderer, m_view->frame(), path, &error);
    }
    if (!written) QMessageBox::warning(this, tr("Cannot export the view"), error);
    else statusBar()->showMessage(tr("Exported %1").arg(path), 4000);
}

ViewSettings MainWindow::currentViewSettings() const {
    ViewSettings view = m_view->viewSettings();
    if (is3D()) view.selection = m_view3d->frame().selection;  // the anchor chosen on the sphere
    view.stepsPerFrame = m_stepsPerFrame->value();
    if (m_document->dimension() == 3) view.camera3d = m_view3d->camera();
    return view;
}

void MainWindow::recordDialog() {
    // The recording trains its own copy: from the scene's start, or from the moment on screen.
    if (comparing()) m_comparison->controller()->pause();
    const std::optional<TrainerStart> state =
        comparing() || m_replay->isActive() ? std::nullopt : m_controller->savedState();
    std::optional<SceneFile> now;
    if (state) now = m_document->sceneAt(*state, m_charts->history().points());
    const ViewSettings view = currentViewSettings();
    std::optional<ComparisonFile> comparison;
    if (comparing()) comparison = m_comparison->comparison();
    RecordDialog dialog(m_document->scene(), now, view, this, comparison);
    if (!comparing() && m_replay->isActive() && m_replay->trajectory()) {
        m_replay->pause();
        dialog.setReplay(*m_replay->trajectory(), m_replay->title());
    }
    QString error;
    const QString done = dialog.exec(&error);
    if (!error.isEmpty()) QMessageBox::warning(this, tr("Recording failed"), error);
    else if (!done.isEmpty()) statusBar()->showMessage(done, 6000);
    m_view->setFocus();
}

void MainWindow::replayDialog() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(this, tr("Replay a trajectory"),
                                                      settings.value(QStringLiteral("files/lastDir")).toString(),
                                                      tr("Trajectories (*.csv *.npy *.json);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    replay(path);
}

bool MainWindow::replay(const QString& path) {
    m_controller->pause();
    QString error;
    if (!m_replay->open(path, &error)) {
        QMessageBox::warning(this, tr("Cannot replay"), error + tr("\n\nThe current scene is unchanged."));
        return false;
    }
    // The controls edit a training scene; a replay has none (open a scene to train again).
    m_controls->setEnabled(false);
    m_view->setRun(m_replay->run());
    m_view->setDescription(tr("Replaying %1: Space plays the logged frames, S steps, R rewinds. Open a scene to train again.")
                               .arg(m_replay->title()));
    ViewOptions options = m_view->options();
    options.showDescription = true;
    m_view->setOptions(options);
    m_view->setAnchor(-1);
    m_view->fitToData();
    setWindowTitle(tr("MarginLab — replay of %1").arg(m_replay->title()));
    return true;
}

void MainWindow::importDataDialog() {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(this, tr("Import data"), settings.value(QStringLiteral("files/lastDir")).toString(),
                                                      tr("Points (*.csv *.npy);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    QString error;
    auto scene = sceneio::importData(m_document->scene(), path, &error);
    if (!scene || !m_document->edit(*scene, &error)) {
        QMessageBox::warning(this, tr("Cannot import the data"), error + tr("\n\nThe current scene is unchanged."));
        return;
    }
    m_view->fitToData();
}

void MainWindow::updateStatus() {
    m_statusFrames->setText(tr("%1 frames/s").arg(m_framesPerSecond));
    if (comparing()) {
        m_statusStep->clear();
        m_statusRate->clear();
        return;
    }
    if (m_replay->isActive()) {
        m_statusState->setText(m_replay->isPlaying() ? tr("replaying") : tr("replay paused"));
        m_statusRate->clear();
        return;
    }
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

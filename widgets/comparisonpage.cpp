// SPDX-License-Identifier: MIT
#include "comparisonpage.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>

#include "builtincomparisons.h"
#include "marginlab/runinfo.h"
#include "viewsettings.h"

namespace marginlab {

ComparisonPage::ComparisonPage(QWidget* parent) : QWidget(parent) {
    m_controller = new ComparisonController(this);
    m_view = new ComparisonView(this);
    m_charts = new ComparisonCharts(this);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_description = new QLabel(this);
    m_description->setWordWrap(true);
    m_description->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_description);

    auto* transport = new QHBoxLayout;
    m_playButton = new QPushButton(tr("Play"), this);
    auto* stepButton = new QPushButton(tr("Step"), this);
    auto* restartButton = new QPushButton(tr("Restart"), this);
    auto* runTo = new QPushButton(tr("Run to step"), this);
    m_targetStep = new QSpinBox(this);
    m_targetStep->setRange(1, 1000000);
    m_targetStep->setValue(100);
    runTo->setToolTip(tr("Play until every panel is at this step, and pause there"));
    m_stepsPerFrame = new QSpinBox(this);
    m_stepsPerFrame->setRange(1, 100);
    m_stepsPerFrame->setValue(m_controller->stepsPerFrame());
    m_stepsPerFrame->setPrefix(tr("steps/frame "));
    m_stepLabel = new QLabel(this);
    for (QWidget* w : {static_cast<QWidget*>(m_playButton), static_cast<QWidget*>(stepButton),
                       static_cast<QWidget*>(restartButton), static_cast<QWidget*>(runTo),
                       static_cast<QWidget*>(m_targetStep), static_cast<QWidget*>(m_stepsPerFrame)})
        transport->addWidget(w);
    transport->addStretch(1);
    transport->addWidget(m_stepLabel);
    layout->addLayout(transport);

    auto* settingsButton = new QPushButton(tr("Panel settings"), this);
    settingsButton->setCheckable(true);
    settingsButton->setChecked(true);
    settingsButton->setToolTip(tr("Show or hide the settings of one panel (its loss, miner and optimizer)"));
    transport->insertWidget(transport->count() - 2, settingsButton);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_charts);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    auto* sides = new QSplitter(Qt::Horizontal, this);
    sides->addWidget(splitter);
    m_settings = createSettings();
    sides->addWidget(m_settings);
    sides->setStretchFactor(0, 1);
    sides->setStretchFactor(1, 0);
    layout->addWidget(sides, 1);
    connect(settingsButton, &QPushButton::toggled, m_settings, &QWidget::setVisible);

    connect(m_playButton, &QPushButton::clicked, m_controller, &ComparisonController::togglePlay);
    connect(stepButton, &QPushButton::clicked, m_controller, &ComparisonController::step);
    connect(restartButton, &QPushButton::clicked, this, &ComparisonPage::restart);
    connect(runTo, &QPushButton::clicked, this, [this] { m_controller->runToStep(m_targetStep->value()); });
    connect(m_stepsPerFrame, &QSpinBox::valueChanged, m_controller, &ComparisonController::setStepsPerFrame);
    connect(m_controller, &ComparisonController::playingChanged, this,
            [this](bool playing) { m_playButton->setText(playing ? tr("Pause") : tr("Play")); });
    connect(m_controller, &ComparisonController::runRestarted, m_charts, &ComparisonCharts::clear);
    connect(m_controller, &ComparisonController::stateChanged, m_view, &ComparisonView::setState);
    connect(m_controller, &ComparisonController::stateChanged, m_charts, &ComparisonCharts::append);
    connect(m_controller, &ComparisonController::stateChanged, this, &ComparisonPage::updateStepLabel);
    connect(m_controller, &ComparisonController::panelDiverged, this, [this](int panel, const QString& message) {
        const QString title = panel < static_cast<int>(m_comparison.panels.size())
                                  ? QString::fromStdString(m_comparison.panels[static_cast<std::size_t>(panel)].title)
                                  : QString::number(panel + 1);
        emit statusMessage(tr("%1 stopped: %2").arg(title, message));
    });
    connect(m_controller, &ComparisonController::reachedStep, this,
            [this](long step) { emit statusMessage(tr("Every panel is at step %1").arg(step)); });
    updateStepLabel();
}

QWidget* ComparisonPage::createSettings() {
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* inside = new QWidget;
    auto* layout = new QVBoxLayout(inside);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* top = new QFormLayout;
    m_panelChoice = new QComboBox;
    m_panelChoice->setToolTip(tr("The panel whose loss, miner and optimizer are shown below; an edit restarts every\n"
                                 "panel from the shared start. The data, batch and seed are shared by all panels."));
    top->addRow(tr("Panel"), m_panelChoice);
    layout->addLayout(top);
    m_panelControls = new ControlPanel([this]() -> const SceneFile& { return m_panelScene; });
    m_panelControls->setSharedSettingsVisible(false);
    layout->addWidget(m_panelControls);
    auto* copyRow = new QHBoxLayout;
    auto* copyButton = new QPushButton(tr("Copy to"));
    copyButton->setToolTip(tr("Give another panel this panel's loss, miner and optimizer"));
    m_copyTarget = new QComboBox;
    copyRow->addWidget(copyButton);
    copyRow->addWidget(m_copyTarget, 1);
    layout->addLayout(copyRow);
    m_removeButton = new QPushButton(tr("Remove this panel"));
    layout->addWidget(m_removeButton);
    scroll->setWidget(inside);
    scroll->setMinimumWidth(inside->sizeHint().width() + 24);

    connect(m_panelChoice, &QComboBox::activated, this, [this] { refreshSettings(); });
    connect(m_panelControls, &ControlPanel::sceneEdited, this, [this](const SceneFile& scene) {
        QString error;
        if (!setPanelSettings(settingsPanel(), scene.trainer, &error))
            m_panelControls->showMessage(tr("Not applied: %1").arg(error), true);
        else
            emit statusMessage(tr("Every panel restarted from the shared start"));
    });
    connect(m_panelControls, &ControlPanel::viewOptionsChanged, m_view, &ComparisonView::setOptions);
    connect(copyButton, &QPushButton::clicked, this, [this] {
        QString error;
        const int to = m_copyTarget->currentData().toInt();
        if (!copyPanelSettings(settingsPanel(), to, &error)) m_panelControls->showMessage(error, true);
    });
    connect(m_removeButton, &QPushButton::clicked, this, [this] {
        QString error;
        if (!removePanel(settingsPanel(), &error)) m_panelControls->showMessage(error, true);
    });
    return scroll;
}

int ComparisonPage::settingsPanel() const { return std::max(0, m_panelChoice->currentIndex()); }

void ComparisonPage::setSettingsPanel(int panel) {
    if (panel < 0 || panel >= m_panelChoice->count()) return;
    m_panelChoice->setCurrentIndex(panel);
    refreshSettings();
}

void ComparisonPage::refreshSettings() {
    const int count = static_cast<int>(m_comparison.panels.size());
    const int chosen = std::clamp(m_panelChoice->currentIndex(), 0, std::max(0, count - 1));
    m_panelChoice->clear();
    for (int i = 0; i < count; ++i)
        m_panelChoice->addItem(tr("%1: %2").arg(i + 1).arg(QString::fromStdString(m_comparison.panels[static_cast<std::size_t>(i)].title)));
    m_panelChoice->setCurrentIndex(chosen);
    m_copyTarget->clear();
    for (int i = 0; i < count; ++i)
        if (i != chosen) m_copyTarget->addItem(tr("panel %1").arg(i + 1), i);
    m_removeButton->setEnabled(count > 1);
    if (count == 0) return;
    // The chosen panel as a single scene: its own loss, miner and optimizer on the shared data.
    const ComparisonPanel& panel = m_comparison.panels[static_cast<std::size_t>(chosen)];
    m_panelScene = SceneFile{};
    m_panelScene.title = panel.title;
    m_panelScene.data = m_comparison.data;
    m_panelScene.trainer = panel.trainer;
    m_panelControls->refresh();
    m_panelControls->setViewOptions(m_view->options());
    m_panelControls->showMessage(QString(), false);
}

bool ComparisonPage::open(const ComparisonFile& comparison, QString* error) {
    if (!apply(comparison, error)) return false;
    const ViewSettings settings = viewSettingsFromJson(comparison.view);
    m_view->setOptions(settings.options);
    m_panelControls->setViewOptions(settings.options);
    if (settings.camera3d) m_view->setInitialCamera3D(*settings.camera3d);
    if (settings.selection.anchor >= 0) m_view->setAnchor(settings.selection.anchor, settings.selection.positive);
    if (settings.stepsPerFrame) m_stepsPerFrame->setValue(*settings.stepsPerFrame);
    return true;
}

bool ComparisonPage::apply(ComparisonFile comparison, QString* error) {
    std::string message;
    if (comparison.panels.empty() || !TrainerGroup::isValid(comparison.trainers(), &message)) {
        if (error) *error = comparison.panels.empty() ? tr("a comparison needs a panel") : QString::fromStdString(message);
        return false;
    }
    // Computed titles follow the configurations; titles from the file stay.
    const std::vector<std::string> titles = comparisonTitles(comparison.trainers());
    for (std::size_t i = 0; i < comparison.panels.size(); ++i)
        if (!comparison.panels[i].titleGiven) comparison.panels[i].title = titles[i];
    const int anchor = m_view->anchor();
    const bool panelsChanged = comparison.panels.size() != m_comparison.panels.size();
    m_comparison = std::move(comparison);
    std::vector<QString> shown;
    for (const ComparisonPanel& panel : m_comparison.panels) shown.push_back(QString::fromStdString(panel.title));
    m_view->setPanels(m_comparison.trainers(), shown);
    if (!panelsChanged && anchor >= 0) m_view->setAnchor(anchor);
    if (panelsChanged) m_charts->setPanels(shown);  // a ghost of other panels would mislead
    else m_charts->setTitles(shown);
    std::vector<std::vector<QString>> terms;
    for (const ComparisonPanel& panel : m_comparison.panels)
        terms.push_back(ComparisonCharts::termsOf(describeRun(panel.trainer.loss, panel.trainer.miner)));
    m_charts->setTerms(terms);
    m_description->setText(QString::fromStdString(m_comparison.description));
    m_description->setVisible(!m_comparison.description.empty());
    m_controller->restart(m_comparison.trainers());
    refreshSettings();
    emit comparisonChanged(QString::fromStdString(m_comparison.title), QString::fromStdString(m_comparison.description));
    return true;
}

bool ComparisonPage::openFile(const QString& path, QString* error) {
    auto comparison = loadComparison(path, error);
    return comparison && open(*comparison, error);
}

bool ComparisonPage::saveFile(const QString& path, QString* error) const {
    ComparisonFile saved = m_comparison;
    json::Json view = saved.view.is_object() ? saved.view : json::Json::object();
    view["steps_per_frame"] = m_controller->stepsPerFrame();
    if (m_view->anchor() >= 0) view["anchor"] = m_view->anchor();
    else view.erase("anchor");
    if (m_view->panelCount() > 0 && m_view->panel(0)->isThreeD()) {
        ViewSettings cameraOnly;
        cameraOnly.camera3d = m_view->panel(0)->camera3d();
        view["camera3d"] = viewSettingsToJson(cameraOnly)["camera3d"];
    }
    saved.view = view;
    return saveComparison(saved, path, error);
}

void ComparisonPage::restart() {
    if (hasComparison()) m_controller->restart(m_comparison.trainers());
}

bool ComparisonPage::setPanelSettings(int panel, const TrainerConfig& settings, QString* error) {
    if (panel < 0 || panel >= static_cast<int>(m_comparison.panels.size())) {
        if (error) *error = tr("there is no panel %1").arg(panel + 1);
        return false;
    }
    ComparisonFile next = m_comparison;
    TrainerConfig& trainer = next.panels[static_cast<std::size_t>(panel)].trainer;
    // Given owned parameters fit only a loss that owns the same shape; otherwise the new loss seeds its own.
    if (!findLoss(trainer.loss.name) || !findLoss(settings.loss.name) ||
        ownedBlocksOf(trainer.loss) != ownedBlocksOf(settings.loss))
        trainer.owned.reset();
    trainer.loss = settings.loss;
    trainer.miner = settings.miner;
    trainer.optimizer = settings.optimizer;
    next.panels[static_cast<std::size_t>(panel)].titleGiven = false;
    return apply(std::move(next), error);
}

bool ComparisonPage::copyPanelSettings(int from, int to, QString* error) {
    if (from < 0 || from >= static_cast<int>(m_comparison.panels.size())) {
        if (error) *error = tr("there is no panel %1").arg(from + 1);
        return false;
    }
    return setPanelSettings(to, m_comparison.panels[static_cast<std::size_t>(from)].trainer, error);
}

bool ComparisonPage::addPanel(const TrainerConfig& scene, const QString& title, QString* error) {
    if (m_comparison.panels.size() >= TrainerGroup::kMaxPanels) {
        if (error) *error = tr("a comparison has at most %1 panels").arg(TrainerGroup::kMaxPanels);
        return false;
    }
    if (m_comparison.panels.empty()) {
        if (error) *error = tr("open a comparison first");
        return false;
    }
    ComparisonFile next = m_comparison;
    ComparisonPanel added = next.panels.front();  // the shared data, seed, batch and start
    added.trainer.loss = scene.loss;
    added.trainer.miner = scene.miner;
    added.trainer.optimizer = scene.optimizer;
    added.title = title.toStdString();
    added.titleGiven = !title.isEmpty();
    next.panels.push_back(std::move(added));
    return apply(std::move(next), error);
}

bool ComparisonPage::removePanel(int panel, QString* error) {
    if (panel < 0 || panel >= static_cast<int>(m_comparison.panels.size()) || m_comparison.panels.size() < 2) {
        if (error) *error = tr("cannot remove panel %1").arg(panel + 1);
        return false;
    }
    ComparisonFile next = m_comparison;
    next.panels.erase(next.panels.begin() + panel);
    return apply(std::move(next), error);
}

void ComparisonPage::updateStepLabel() {
    m_stepLabel->setText(tr("step %1").arg(m_controller->currentStep()));
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "controlpanel.h"

#include <QAbstractScrollArea>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QKeyEvent>
#include <QLabel>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>
#include <cmath>

#include "distancechooser.h"
#include "losscomponentseditor.h"
#include "marginlab/generators.h"
#include "marginlab/limits.h"
#include "paramform.h"
#include "sceneio.h"

namespace marginlab {

namespace {

constexpr const char* kFromFile = "";  // generator combo data of the "(points from the file)" entry

QString qs(const std::string& s) { return QString::fromStdString(s); }

QDoubleSpinBox* rateBox(double minimum, double maximum, double step, int decimals) {
    auto* box = new QDoubleSpinBox;
    box->setRange(minimum, maximum);
    box->setSingleStep(step);
    box->setDecimals(decimals);
    box->setKeyboardTracking(false);
    box->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);  // steps follow the value's magnitude
    return box;
}

/// The losses whose rows make up the owned matrix, in order (the loss itself unless it is a sum).
std::vector<std::string> ownerNames(const LossConfig& loss) {
    const std::vector<LossComponent> components = componentsOf(loss);
    if (components.empty()) return {loss.name};
    std::vector<std::string> names;
    for (const LossComponent& c : components)
        if (ownedBlocksOf(c.loss) > 0) names.push_back(c.loss.name);
    return names;
}

QString formatValue(const ParamInfo& info, const ParamValues& values) {
    if (info.type == ParamType::Choice) return qs(values.choice(info.name));
    const double v = values.number(info.name);
    if (info.type == ParamType::Boolean) return v != 0.0 ? QStringLiteral("true") : QStringLiteral("false");
    return QString::number(v, 'g', 5);
}

}  // namespace

ControlPanel::ControlPanel(const SceneDocument* document, QWidget* parent)
    : ControlPanel([document]() -> const SceneFile& { return document->scene(); }, parent) {}

ControlPanel::ControlPanel(std::function<const SceneFile&()> scene, QWidget* parent)
    : QWidget(parent), m_scene(std::move(scene)) {
    auto* layout = new QVBoxLayout(this);

    // Data
    auto* dataBox = new QGroupBox(tr("Data"));
    m_dataBox = dataBox;
    auto* dataForm = new QFormLayout(dataBox);
    m_generator = new QComboBox;
    m_generator->setToolTip(tr("The data generator (seeded). Changing it or its parameters makes new points and restarts."));
    for (const auto& info : generatorCatalog())
        m_generator->addItem(tr("%1 (%2D)").arg(qs(info.name)).arg(info.dimension), qs(info.name));
    m_generator->addItem(tr("(points from the scene file)"), QString::fromLatin1(kFromFile));
    dataForm->addRow(tr("Generator"), m_generator);
    m_generatorParams = new ParamForm;
    dataForm->addRow(m_generatorParams);
    layout->addWidget(dataBox);

    // Loss
    auto* lossBox = new QGroupBox(tr("Loss"));
    auto* lossForm = new QFormLayout(lossBox);
    m_lossForm = lossForm;
    m_loss = new QComboBox;
    m_loss->setToolTip(tr("The loss, grouped by family. Parameters and defaults follow pytorch-metric-learning."));
    auto* model = qobject_cast<QStandardItemModel*>(m_loss->model());
    std::optional<LossFamily> family;
    for (const auto& info : lossCatalog()) {
        if (!family || *family != info.family) {
            family = info.family;
            m_loss->addItem(QStringLiteral("— %1 —").arg(qs(std::string(familyName(info.family)))), QString());
            if (model) model->item(m_loss->count() - 1)->setEnabled(false);
        }
        m_loss->addItem(qs(info.displayName), qs(info.name));
        m_loss->setItemData(m_loss->count() - 1, qs(info.formula), Qt::ToolTipRole);
    }
    lossForm->addRow(tr("Loss"), m_loss);
    m_lossPreset = new QComboBox;
    m_lossPreset->setToolTip(tr("Parameter sets: PML's defaults, or a 2D preset where the paper's defaults fail on a circle."));
    lossForm->addRow(tr("Preset"), m_lossPreset);
    m_lossParams = new ParamForm;
    lossForm->addRow(m_lossParams);
    m_lossComponents = new LossComponentsEditor;
    lossForm->addRow(m_lossComponents);
    m_distance = new DistanceChooser;
    lossForm->addRow(tr("Distance"), m_distance);
    m_formula = new QLabel;
    m_formula->setWordWrap(true);
    m_formula->setTextFormat(Qt::RichText);
    m_formula->setFrameShape(QFrame::StyledPanel);
    m_formula->setMargin(6);
    m_formula->setToolTip(tr("The loss's formula and the values in use."));
    m_formula->setTextInteractionFlags(Qt::TextSelectableByMouse);
    lossForm->addRow(m_formula);
    layout->addWidget(lossBox);

    // Miner
    auto* minerBox = new QGroupBox(tr("Miner"));
    auto* minerForm = new QFormLayout(minerBox);
    m_miner = new QComboBox;
    m_miner->setToolTip(tr("Which tuples the loss trains on (tuple losses only); 'none' uses every valid tuple."));
    m_miner->addItem(tr("none (all tuples)"), QString());
    for (const auto& info : minerCatalog()) {
        m_miner->addItem(qs(info.displayName.empty() ? info.name : info.displayName), qs(info.name));
        m_miner->setItemData(m_miner->count() - 1, qs(info.description), Qt::ToolTipRole);
    }
    minerForm->addRow(tr("Miner"), m_miner);
    m_minerParams = new ParamForm;
    minerForm->addRow(m_minerParams);
    layout->addWidget(minerBox);

    // Optimizer, batch, seed
    auto* trainBox = new QGroupBox(tr("Training"));
    auto* trainForm = new QFormLayout(trainBox);
    m_trainForm = trainForm;
    m_optimizer = new QComboBox;
    m_optimizer->addItem(tr("SGD"), QStringLiteral("sgd"));
    m_optimizer->addItem(tr("Momentum"), QStringLiteral("momentum"));
    m_optimizer->addItem(tr("Adam"), QStringLiteral("adam"));
    m_optimizer->addItem(tr("AdamW"), QStringLiteral("adamw"));
    m_optimizer->setToolTip(tr("The update rule (torch.optim's): SGD, SGD with momentum, Adam, or AdamW (decoupled weight decay)."));
    trainForm->addRow(tr("Optimizer"), m_optimizer);
    m_learningRate = rateBox(1e-5, 100.0, 0.005, 5);
    m_learningRate->setToolTip(tr("Learning rate of the points."));
    trainForm->addRow(tr("Learning rate"), m_learningRate);
    m_ownedLearningRate = rateBox(1e-5, 100.0, 0.005, 5);
    m_ownedLearningRate->setToolTip(tr("Learning rate of the loss's own parameters (class weights, proxies, centers)."));
    trainForm->addRow(tr("Loss parameters rate"), m_ownedLearningRate);
    m_momentum = rateBox(0.0, 0.999, 0.05, 3);
    m_momentum->setToolTip(tr("Momentum factor μ (momentum optimizer only)."));
    trainForm->addRow(tr("Momentum"), m_momentum);
    m_weightDecay = rateBox(0.0, 10.0, 0.001, 4);
    m_weightDecay->setToolTip(tr("Weight decay λ: adds λθ to every gradient, pulling points to the origin."));
    trainForm->addRow(tr("Weight decay"), m_weightDecay);
    m_batchMode = new QComboBox;
    m_batchMode->addItem(tr("Full (all points)"));
    m_batchMode->addItem(tr("P classes × K samples"));
    m_batchMode->setToolTip(tr("Every step uses all points, or a random batch of P classes with K samples each."));
    trainForm->addRow(tr("Batch"), m_batchMode);
    m_classesPerBatch = new QSpinBox;
    m_classesPerBatch->setRange(1, 1000);
    m_classesPerBatch->setToolTip(tr("P: classes per batch."));
    m_samplesPerClass = new QSpinBox;
    m_samplesPerClass->setRange(1, 1000);
    m_samplesPerClass->setToolTip(tr("K: samples per class (drawn with replacement when a class is smaller)."));
    trainForm->addRow(tr("P"), m_classesPerBatch);
    trainForm->addRow(tr("K"), m_samplesPerClass);
    m_crossBatchMemory = new QCheckBox(tr("Cross-batch memory"));
    m_crossBatchMemory->setToolTip(
        tr("PML's CrossBatchMemory: the loss also compares each batch with a queue of the last embeddings of "
           "past batches (drawn faded), so every step sees more negatives (the MoCo idea). Needs P×K batches "
           "and "
           "a loss and miner that take a reference set."));
    m_memorySize = new QSpinBox;
    m_memorySize->setRange(1, static_cast<int>(limits::kMaxMemorySize));
    m_memorySize->setValue(256);
    m_memorySize->setToolTip(
        tr("memory_size: how many past embeddings the queue keeps (at least one batch)."));
    trainForm->addRow(QString(), m_crossBatchMemory);
    trainForm->addRow(tr("Memory size"), m_memorySize);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1000000000);
    m_seed->setToolTip(tr("Seed of the run: the same scene and seed give the same trajectory."));
    trainForm->addRow(tr("Seed"), m_seed);
    layout->addWidget(trainBox);

    // View
    auto* viewBox = new QGroupBox(tr("View"));
    auto* viewForm = new QFormLayout(viewBox);
    m_viewForm = viewForm;
    m_showRegions = new QCheckBox(tr("class regions"));
    m_showRegions->setToolTip(tr("Colour the background by the predicted class (class weights) or the nearest class centroid.\n"
                                 "Softmax family: the margin band is striped, and the colour fades where the softmax is unsure."));
    m_nearestNeighbourRegions = new QCheckBox(tr("by nearest point (1-NN)"));
    m_nearestNeighbourRegions->setToolTip(tr("Tuple losses: colour the background by the class of the nearest point (the 1-NN\n"
                                             "classifier that precision@1 measures) instead of the nearest class centroid."));
    m_showMarginInset = new QCheckBox(tr("loss inset (θ, ranking, histograms)"));
    m_showMarginInset->setToolTip(tr("Softmax family: plot the target logit φ(θ) against cos θ, with a tick per sample\n"
                                     "at its angle to its class weight. Other losses with a picture of their own: the\n"
                                     "clicked anchor's ranked list, the positive / negative pair histograms with the\n"
                                     "loss's thresholds, the SNR distance of the clicked pair."));
    m_showNormalized = new QCheckBox(tr("normalized copies"));
    m_showNormalized->setToolTip(tr("Draw each point faintly where the loss sees it: on the unit circle (normalizing losses)."));
    m_showForces = new QCheckBox(tr("forces −∂L/∂x"));
    m_showForces->setToolTip(tr("Arrows along the negative gradient of the last step (where the loss pushes each point)."));
    m_splitForces = new QCheckBox(tr("split: attraction / repulsion"));
    m_splitForces->setToolTip(tr("Two arrows per point: blue, the force through its same-class terms (positives, its own class\n"
                                 "weight); red, the force through the other-class terms (negatives, other classes). They add up\n"
                                 "to −∂L/∂x."));
    m_forceScale = rateBox(0.05, 20.0, 0.25, 2);
    m_forceScale->setToolTip(tr("Arrow length: at 1 the strongest force is 40 pixels long."));
    m_fixedForceScale = new QCheckBox(tr("fixed force scale"));
    m_fixedForceScale->setToolTip(tr("Keep one length per unit of force (set from the forces when it is switched on),\n"
                                     "so arrows shrink as the loss dies away; the read-out says what 40 pixels mean."));
    m_followData = new QCheckBox(tr("follow the points"));
    m_followData->setToolTip(tr("The view eases to keep every point in the picture as they travel (off when you pan or zoom)."));
    viewForm->addRow(m_showRegions);
    viewForm->addRow(m_nearestNeighbourRegions);
    viewForm->addRow(m_showMarginInset);
    viewForm->addRow(m_showNormalized);
    viewForm->addRow(m_showForces);
    viewForm->addRow(m_splitForces);
    viewForm->addRow(tr("Force scale"), m_forceScale);
    viewForm->addRow(m_fixedForceScale);
    viewForm->addRow(m_followData);
    m_newPointClass = new QSpinBox;
    m_newPointClass->setRange(0, 0);
    m_newPointClass->setToolTip(tr("Class of the points added with Ctrl+click on the canvas."));
    viewForm->addRow(tr("New point class"), m_newPointClass);
    layout->addWidget(viewBox);

    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::PlainText);
    layout->addWidget(m_message);
    layout->addStretch(1);

    connect(m_generator, &QComboBox::currentIndexChanged, this, [this] { onGeneratorChanged(); });
    connect(m_generatorParams, &ParamForm::changed, this, [this] { applyEdits(true); });
    connect(m_loss, &QComboBox::currentIndexChanged, this, [this] { onLossChanged(); });
    connect(m_lossParams, &ParamForm::changed, this, [this] { applyEdits(false); });
    connect(m_lossComponents, &LossComponentsEditor::changed, this, [this] { applyEdits(false); });
    connect(m_lossComponents, &LossComponentsEditor::rebuilt, this, &ControlPanel::guardFields);
    connect(m_lossPreset, &QComboBox::activated, this, [this](int index) { applyPreset(index); });
    connect(m_distance, &DistanceChooser::changed, this, [this] { applyEdits(false); });
    connect(m_miner, &QComboBox::currentIndexChanged, this, [this] { onMinerChanged(); });
    connect(m_minerParams, &ParamForm::changed, this, [this] { applyEdits(false); });
    for (QComboBox* box : {m_optimizer, m_batchMode})
        connect(box, &QComboBox::currentIndexChanged, this, [this] { applyEdits(false); });
    for (QDoubleSpinBox* box : {m_learningRate, m_ownedLearningRate, m_momentum, m_weightDecay})
        connect(box, &QDoubleSpinBox::valueChanged, this, [this] { applyEdits(false); });
    for (QSpinBox* box : {m_classesPerBatch, m_samplesPerClass, m_seed, m_memorySize})
        connect(box, &QSpinBox::valueChanged, this, [this] { applyEdits(false); });
    connect(m_crossBatchMemory, &QCheckBox::toggled, this, [this] { applyEdits(false); });

    for (QCheckBox* box : {m_showRegions, m_nearestNeighbourRegions, m_showMarginInset, m_showNormalized, m_showForces,
                           m_splitForces, m_fixedForceScale, m_followData})
        connect(box, &QCheckBox::toggled, this, [this] { emit viewOptionsChanged(viewOptions()); });
    connect(m_forceScale, &QDoubleSpinBox::valueChanged, this, [this] { emit viewOptionsChanged(viewOptions()); });

    guardFields();
    // Parameter forms rebuild their fields when the loss, miner or generator changes.
    for (ParamForm* form : {m_generatorParams, m_lossParams, m_minerParams})
        connect(form, &ParamForm::rebuilt, this, &ControlPanel::guardFields);
}

void ControlPanel::guardFields() {
    // Safe in front of a class: fields take the wheel only when they have focus (else the panel
    // scrolls), and Enter / Escape give the keyboard back to the canvas.
    const auto fields = findChildren<QWidget*>();
    for (QWidget* field : fields) {
        if (!qobject_cast<QAbstractSpinBox*>(field) && !qobject_cast<QComboBox*>(field)) continue;
        if (field->property("marginlabGuarded").toBool()) continue;
        field->setProperty("marginlabGuarded", true);
        field->setFocusPolicy(Qt::StrongFocus);
        field->installEventFilter(this);
    }
}

bool ControlPanel::eventFilter(QObject* watched, QEvent* event) {
    auto* field = qobject_cast<QWidget*>(watched);
    if (field && event->type() == QEvent::Wheel && !field->hasFocus()) {
        // Hand the wheel to the scroll area around the panel (if any) instead of the field.
        for (QWidget* up = parentWidget(); up; up = up->parentWidget())
            if (auto* area = qobject_cast<QAbstractScrollArea*>(up)) {
                QCoreApplication::sendEvent(area->viewport(), event);
                break;
            }
        return true;
    }
    if (field && event->type() == QEvent::KeyPress && m_focusTarget) {
        const int key = static_cast<QKeyEvent*>(event)->key();
        if (key == Qt::Key_Return || key == Qt::Key_Enter || key == Qt::Key_Escape) {
            if (auto* box = qobject_cast<QAbstractSpinBox*>(field); box && key != Qt::Key_Escape) box->interpretText();
            m_focusTarget->setFocus(Qt::OtherFocusReason);
            return key == Qt::Key_Escape;  // Enter still commits the value in the field
        }
    }
    return QWidget::eventFilter(watched, event);
}


int ControlPanel::newPointClass() const { return m_newPointClass->value(); }

ViewOptions ControlPanel::viewOptions() const {
    ViewOptions options = m_viewOptions;
    options.showRegions = m_showRegions->isChecked();
    options.nearestNeighbourRegions = m_nearestNeighbourRegions->isChecked();
    options.showMarginInset = m_showMarginInset->isChecked();
    options.showNormalized = m_showNormalized->isChecked();
    options.showForces = m_showForces->isChecked();
    options.forceScale = m_forceScale->value();
    options.splitForces = m_splitForces->isChecked();
    options.forceScaleMode = m_fixedForceScale->isChecked() ? ViewOptions::ForceScale::Fixed : ViewOptions::ForceScale::Relative;
    if (options.forceScaleMode == ViewOptions::ForceScale::Relative) options.forcePixelsPerUnit = 0.0;
    options.followData = m_followData->isChecked();
    return options;
}

void ControlPanel::setViewOptions(const ViewOptions& options) {
    const QSignalBlocker b1(m_showForces), b2(m_forceScale), b3(m_showRegions), b4(m_showNormalized),
        b5(m_nearestNeighbourRegions), b6(m_showMarginInset), b7(m_splitForces), b8(m_fixedForceScale), b9(m_followData);
    m_viewOptions = options;
    m_fixedForceScale->setChecked(options.forceScaleMode == ViewOptions::ForceScale::Fixed);
    m_followData->setChecked(options.followData);
    m_showForces->setChecked(options.showForces);
    m_forceScale->setValue(options.forceScale);
    m_showRegions->setChecked(options.showRegions);
    m_nearestNeighbourRegions->setChecked(options.nearestNeighbourRegions);
    m_showMarginInset->setChecked(options.showMarginInset);
    m_showNormalized->setChecked(options.showNormalized);
    m_splitForces->setChecked(options.splitForces);
}

void ControlPanel::showMessage(const QString& text, bool isError) {
    m_message->setText(text);
    m_message->setStyleSheet(isError ? QStringLiteral("color: #b00000;") : QString());
}

void ControlPanel::populateGenerator(const json::Json& dataObject) {
    std::string name;
    ParamValues params;
    if (dataObject.is_object() && dataObject.contains("generator") && dataObject["generator"].is_string()) {
        name = dataObject["generator"].get<std::string>();
        if (dataObject.contains("params")) {
            try {
                params = json::readParams(dataObject["params"], "data.params");
            } catch (const json::Error&) {
                // Already validated by parseScene; nothing sensible to show otherwise.
            }
        }
    }
    int index = name.empty() ? -1 : m_generator->findData(qs(name));
    if (index < 0) index = m_generator->findData(QString::fromLatin1(kFromFile));
    m_generator->setCurrentIndex(index);
    const GeneratorInfo* info = nullptr;
    for (const auto& g : generatorCatalog())
        if (g.name == name) info = &g;
    m_generatorParams->setParams(info ? info->params : std::vector<ParamInfo>{}, params);
}

void ControlPanel::populateLoss(const LossConfig& loss) {
    m_loss->setCurrentIndex(std::max(0, m_loss->findData(qs(loss.name))));
    const LossInfo* info = findLoss(loss.name);
    m_lossParams->setParams(info ? info->params : std::vector<ParamInfo>{}, loss.params);
    m_lossComponents->setComponents(componentsOf(loss));
    populatePresets(info);
    const DistanceSpec distance = loss.distance.value_or(info ? info->defaultDistance : DistanceSpec{});
    m_distance->setDistance(distance);
}

void ControlPanel::populateMiner(const std::optional<MinerConfig>& miner, bool acceptsMiner) {
    const int index = miner ? m_miner->findData(qs(miner->name)) : 0;
    m_miner->setCurrentIndex(acceptsMiner ? std::max(0, index) : 0);
    const MinerInfo* info = miner ? findMiner(miner->name) : nullptr;
    m_minerParams->setParams(info && acceptsMiner ? info->params : std::vector<ParamInfo>{},
                             miner ? miner->params : ParamValues{});
}

void ControlPanel::setSharedSettingsVisible(bool visible) {
    m_dataBox->setVisible(visible);
    // The memory too: a comparison's panels are reconfigured with loss, miner and optimizer only.
    for (QWidget* field : {static_cast<QWidget*>(m_batchMode), static_cast<QWidget*>(m_classesPerBatch),
                           static_cast<QWidget*>(m_samplesPerClass), static_cast<QWidget*>(m_seed),
                           static_cast<QWidget*>(m_crossBatchMemory), static_cast<QWidget*>(m_memorySize)})
        m_trainForm->setRowVisible(field, visible);
    m_viewForm->setRowVisible(m_newPointClass, visible);
}

void ControlPanel::refresh() {
    m_updating = true;
    const SceneFile& scene = m_scene();
    const TrainerConfig& t = scene.trainer;
    populateGenerator(scene.data);
    populateLoss(t.loss);
    populateMiner(t.miner, acceptsMinerOf(t.loss));
    m_optimizer->setCurrentIndex(static_cast<int>(t.optimizer.kind));
    m_learningRate->setValue(t.optimizer.learningRate);
    m_ownedLearningRate->setValue(t.optimizer.ownedLearningRate);
    m_momentum->setValue(t.optimizer.momentum);
    m_weightDecay->setValue(t.optimizer.weightDecay);
    m_batchMode->setCurrentIndex(t.batch.mode == BatchConfig::Mode::Full ? 0 : 1);
    m_classesPerBatch->setValue(t.batch.classesPerBatch);
    m_samplesPerClass->setValue(t.batch.samplesPerClass);
    m_crossBatchMemory->setChecked(t.crossBatchMemory.has_value());
    if (t.crossBatchMemory) m_memorySize->setValue(t.crossBatchMemory->memorySize);
    m_seed->setValue(static_cast<int>(std::min<std::uint64_t>(t.seed, 1000000000)));
    m_newPointClass->setRange(0, std::max(0, t.numClasses - 1));
    updateEnabled();
    updateFormula();
    m_updating = false;
}

LossConfig ControlPanel::editedLoss() const {
    LossConfig loss;
    loss.name = m_loss->currentData().toString().toStdString();
    const LossInfo* info = findLoss(loss.name);
    if (!info) return loss;
    if (info->isWrapper()) {
        // A sum of losses has no parameters or distance of its own: its components carry them.
        loss.components = m_lossComponents->components();
        return loss;
    }
    loss.params = m_lossParams->values();
    if (info->distanceConfigurable) {
        const DistanceSpec chosen = m_distance->distance();
        if (!(chosen == info->defaultDistance)) loss.distance = chosen;
    }
    return loss;
}

void ControlPanel::updateEnabled() {
    const LossInfo* info = findLoss(m_loss->currentData().toString().toStdString());
    const bool wrapper = info && info->isWrapper();
    const bool configurable = info && info->distanceConfigurable && !wrapper;
    m_distance->setConfigurable(configurable);
    m_lossForm->setRowVisible(m_lossComponents, wrapper);
    m_lossForm->setRowVisible(m_lossPreset, !wrapper);
    m_lossForm->setRowVisible(m_distance, !wrapper);
    const LossConfig loss = editedLoss();
    m_miner->setEnabled(acceptsMinerOf(loss));
    m_ownedLearningRate->setEnabled(ownedBlocksOf(loss) > 0);
    m_momentum->setEnabled(m_optimizer->currentIndex() == static_cast<int>(OptimizerKind::Momentum));
    const bool pk = m_batchMode->currentIndex() == 1;
    m_classesPerBatch->setEnabled(pk);
    m_samplesPerClass->setEnabled(pk);
    QString why;
    const bool memory = memoryAllowed(&why);
    m_crossBatchMemory->setEnabled(memory);
    m_crossBatchMemory->setToolTip(memory
                                       ? m_crossBatchMemory->toolTip().section(QStringLiteral("\n\n"), 0, 0)
                                       : m_crossBatchMemory->toolTip().section(QStringLiteral("\n\n"), 0, 0) +
                                             QStringLiteral("\n\n") + why);
    m_memorySize->setEnabled(memory && m_crossBatchMemory->isChecked());
}

bool ControlPanel::memoryAllowed(QString* why) const {
    // Asks the catalogue which losses and miners take a reference set (PML's ref_emb).
    const LossInfo* info = findLoss(m_loss->currentData().toString().toStdString());
    const std::string minerName = m_miner->currentData().toString().toStdString();
    const MinerInfo* miner = minerName.empty() ? nullptr : findMiner(minerName);
    if (!info || !info->acceptsReference) {
        *why = tr("Not with this loss (those that can: %1).").arg(qs(lossesAcceptingReference()));
        return false;
    }
    if (miner && info->acceptsMiner && !miner->acceptsReference) {
        *why = tr("Not with this miner (those that can: %1).").arg(qs(minersAcceptingReference()));
        return false;
    }
    if (m_batchMode->currentIndex() != 1) {
        *why = tr("Needs P×K batches: with the full batch every point would meet stale copies of itself.");
        return false;
    }
    return true;
}

void ControlPanel::updateFormula() {
    const LossInfo* info = findLoss(m_scene().trainer.loss.name);
    if (!info) {
        m_formula->clear();
        return;
    }
    QString text = QStringLiteral("<b>%1</b>").arg(qs(info->displayName).toHtmlEscaped());
    if (!info->pmlName.empty()) text += QStringLiteral(" <i>(PML %1)</i>").arg(qs(info->pmlName).toHtmlEscaped());
    text += QStringLiteral("<br><span style='font-family:monospace'>%1</span>").arg(qs(info->formula).toHtmlEscaped());
    if (info->isWrapper()) {
        // One line per weighted term: its name, weight and the values in use.
        for (const LossComponent& c : componentsOf(m_scene().trainer.loss)) {
            const LossInfo* part = findLoss(c.loss.name);
            if (!part) continue;
            QStringList parts;
            if (auto values = completeParams(part->params, c.loss.params, part->name, nullptr))
                for (const ParamInfo& p : part->params)
                    parts << QStringLiteral("%1 = %2").arg(qs(p.name), formatValue(p, *values));
            text += QStringLiteral("<br>%1 × <b>%2</b> <small>(%3)</small>")
                        .arg(QString::number(c.weight, 'g', 4), qs(part->displayName).toHtmlEscaped(),
                             (QStringList{qs(lossDistanceOf(c.loss).describe())} + parts)
                                 .join(QStringLiteral(", "))
                                 .toHtmlEscaped());
        }
        m_formula->setText(text);
        return;
    }
    const DistanceSpec distance = m_scene().trainer.loss.distance.value_or(info->defaultDistance);
    text += QStringLiteral("<br><small>%1 · %2</small>")
                .arg(qs(std::string(familyName(info->family))).toHtmlEscaped(), qs(distance.describe()).toHtmlEscaped());
    if (auto values = completeParams(info->params, m_scene().trainer.loss.params, info->name, nullptr); values && !info->params.empty()) {
        QStringList parts;
        for (const ParamInfo& p : info->params) parts << QStringLiteral("%1 = %2").arg(qs(p.name), formatValue(p, *values));
        text += QStringLiteral("<br>") + parts.join(QStringLiteral(", ")).toHtmlEscaped();
    }
    m_formula->setText(text);
}

void ControlPanel::onGeneratorChanged() {
    if (m_updating) return;
    const std::string name = m_generator->currentData().toString().toStdString();
    const GeneratorInfo* info = nullptr;
    for (const auto& g : generatorCatalog())
        if (g.name == name) info = &g;
    {
        const QSignalBlocker blocker(m_generatorParams);
        m_generatorParams->setParams(info ? info->params : std::vector<ParamInfo>{}, {});
    }
    if (info) applyEdits(true);
}

void ControlPanel::populatePresets(const LossInfo* info) {
    // Item 0 is a prompt, 1 the defaults, then the loss's presets with their reason as tooltip.
    const QSignalBlocker blocker(m_lossPreset);
    m_lossPreset->clear();
    m_lossPreset->addItem(tr("choose…"));
    m_lossPreset->addItem(tr("PML defaults"));
    if (info)
        for (const LossPreset& preset : info->presets) {
            m_lossPreset->addItem(qs(preset.name));
            m_lossPreset->setItemData(m_lossPreset->count() - 1, qs(preset.why), Qt::ToolTipRole);
        }
}

void ControlPanel::applyPreset(int index) {
    const LossInfo* info = findLoss(m_loss->currentData().toString().toStdString());
    if (!info || index < 1) return;
    const bool defaults = index == 1;
    const LossPreset* preset = defaults ? nullptr : &info->presets.at(static_cast<std::size_t>(index - 2));
    m_updating = true;
    m_lossParams->setParams(info->params, preset ? preset->params : ParamValues{});
    m_updating = false;
    {
        const QSignalBlocker blocker(m_lossPreset);
        m_lossPreset->setCurrentIndex(0);
    }
    applyEdits(false);
    // After applyEdits, whose own message would replace the reason.
    showMessage(preset ? tr("%1: %2").arg(qs(preset->name), qs(preset->why)) : tr("PML's defaults restored."), false);
}

void ControlPanel::onLossChanged() {
    if (m_updating) return;
    const LossInfo* info = findLoss(m_loss->currentData().toString().toStdString());
    if (!info) return;
    // A new loss starts from its own defaults (PML's), distance included.
    m_updating = true;
    m_lossParams->setParams(info->params, {});
    m_lossComponents->setComponents(info->defaultComponents);
    populatePresets(info);
    m_distance->setDistance(info->defaultDistance);
    if (!info->acceptsMiner) populateMiner(std::nullopt, false);
    m_updating = false;
    applyEdits(false);
}

void ControlPanel::onMinerChanged() {
    if (m_updating) return;
    const MinerInfo* info = findMiner(m_miner->currentData().toString().toStdString());
    {
        const QSignalBlocker blocker(m_minerParams);
        m_minerParams->setParams(info ? info->params : std::vector<ParamInfo>{}, {});
    }
    applyEdits(false);
}

void ControlPanel::applyEdits(bool dataChanged) {
    if (m_updating) return;
    updateEnabled();
    SceneFile next = m_scene();
    TrainerConfig& t = next.trainer;

    if (dataChanged) {
        const std::string generator = m_generator->currentData().toString().toStdString();
        if (generator.empty()) return;
        QString error;
        auto generated = sceneio::withGenerator(next, generator, m_generatorParams->values(), &error);
        if (!generated) {
            showMessage(error, true);
            return;
        }
        next = std::move(*generated);
    }

    LossConfig loss = editedLoss();
    if (!findLoss(loss.name)) return;
    // The old loss's parameters mean nothing to another one (for a sum: when the losses that own
    // rows are not the same ones in the same order).
    if (ownerNames(t.loss) != ownerNames(loss)) t.owned.reset();
    t.loss = std::move(loss);
    t.miner.reset();
    const std::string minerName = m_miner->currentData().toString().toStdString();
    if (acceptsMinerOf(t.loss) && !minerName.empty())
        t.miner = MinerConfig{minerName, m_minerParams->values(), std::nullopt};

    t.optimizer.kind = static_cast<OptimizerKind>(m_optimizer->currentIndex());
    t.optimizer.learningRate = m_learningRate->value();
    t.optimizer.ownedLearningRate = m_ownedLearningRate->value();
    t.optimizer.momentum = m_momentum->value();
    t.optimizer.weightDecay = m_weightDecay->value();
    t.batch.mode = m_batchMode->currentIndex() == 0 ? BatchConfig::Mode::Full : BatchConfig::Mode::ClassesTimesSamples;
    t.batch.classesPerBatch = m_classesPerBatch->value();
    t.batch.samplesPerClass = m_samplesPerClass->value();
    t.seed = static_cast<std::uint64_t>(m_seed->value());
    // A memory the new loss, miner or batch cannot use is dropped (the box greys out and says why).
    QString why;
    t.crossBatchMemory.reset();
    if (m_crossBatchMemory->isChecked() && memoryAllowed(&why))
        t.crossBatchMemory = CrossBatchMemoryConfig{m_memorySize->value()};
    updateEnabled();

    std::string message;
    if (!t.isValid(&message)) {
        showMessage(tr("Not applied: %1").arg(qs(message)), true);
        return;
    }
    m_newPointClass->setRange(0, std::max(0, next.trainer.numClasses - 1));
    showMessage(QString(), false);
    emit sceneEdited(next);
    updateFormula();
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// ControlPanel: shows a scene (data generator, loss and its parameters, miner, distance,
// optimizer, batch, seed) and the loss's formula card, and turns every edit into a new scene
// (sceneEdited); an invalid one only shows its message and the current run continues untouched.
// It keeps no copy of the scene: it reads the single run's document, or a comparison panel's
// scene (where the data, batch and seed are shared by every panel and hidden). Also holds the
// view options.
// Its fields are safe in front of a class: the wheel never changes a field without focus, and
// Enter or Escape hands the keyboard back to the canvas.
#pragma once

#include "marginlab/scene/scenefile.h"
#include "scenedocument.h"
#include "viewoptions.h"

#include <QWidget>

#include <functional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QSpinBox;

namespace marginlab {

class DistanceChooser;
class LossComponentsEditor;
class ParamForm;

class ControlPanel : public QWidget {
    Q_OBJECT
public:
    explicit ControlPanel(const SceneDocument* document, QWidget* parent = nullptr);
    /// Shows the scene `scene()` returns (it must outlive the panel).
    explicit ControlPanel(std::function<const SceneFile&()> scene, QWidget* parent = nullptr);
    /// Shows or hides what a comparison's panels share (data, batch, seed, the new point's class).
    void setSharedSettingsVisible(bool visible);
    /// Shows the document's scene in the controls (emits nothing).
    void refresh();
    void setViewOptions(const ViewOptions& options);
    /// Where Enter / Escape in a field sends the keyboard focus (the canvas).
    void setFocusTarget(QWidget* target) { m_focusTarget = target; }
    /// The class a Ctrl+click adds.
    int newPointClass() const;
    /// Applies a row of the preset box: 1 = PML's defaults, 2… = the loss's 2D presets (emits sceneEdited).
    void applyPreset(int index);
    /// Shows a message under the controls (errors in red).
    void showMessage(const QString& text, bool isError);
    /// The components of multiple_losses (shown only while that loss is chosen).
    LossComponentsEditor* lossComponents() const { return m_lossComponents; }

signals:
    void sceneEdited(const marginlab::SceneFile& scene);
    void viewOptionsChanged(const marginlab::ViewOptions& options);

private:
    ViewOptions viewOptions() const;
    bool eventFilter(QObject* watched, QEvent* event) override;
    void guardFields();
    ViewOptions m_viewOptions;  // the options not edited here (camera follow state, text scale)
    void populateLoss(const LossConfig& loss);
    void populatePresets(const LossInfo* info);
    void populateMiner(const std::optional<MinerConfig>& miner, bool acceptsMiner);
    void populateGenerator(const json::Json& dataObject);
    void updateFormula();
    void updateEnabled();
    /// Whether the chosen loss, miner and batch can take a cross-batch memory; `why` says why not.
    bool memoryAllowed(QString* why) const;
    void onLossChanged();
    void onMinerChanged();
    void onGeneratorChanged();
    /// Builds a configuration from the controls; regenerates the data when `dataChanged`.
    void applyEdits(bool dataChanged);
    /// The loss as the controls show it (name, parameters, distance, components).
    LossConfig editedLoss() const;

    std::function<const SceneFile&()> m_scene;
    QGroupBox* m_dataBox = nullptr;
    QFormLayout* m_trainForm = nullptr;
    QFormLayout* m_viewForm = nullptr;
    QWidget* m_focusTarget = nullptr;
    bool m_updating = false;  // set while populating: programmatic changes are not edits

    QComboBox* m_generator;
    ParamForm* m_generatorParams;
    QComboBox* m_loss;
    QComboBox* m_lossPreset;
    ParamForm* m_lossParams;
    LossComponentsEditor* m_lossComponents;
    QFormLayout* m_lossForm = nullptr;
    DistanceChooser* m_distance;
    QLabel* m_formula;
    QComboBox* m_miner;
    ParamForm* m_minerParams;
    QComboBox* m_optimizer;
    QDoubleSpinBox* m_learningRate;
    QDoubleSpinBox* m_ownedLearningRate;
    QDoubleSpinBox* m_momentum;
    QDoubleSpinBox* m_weightDecay;
    QComboBox* m_batchMode;
    QSpinBox* m_classesPerBatch;
    QSpinBox* m_samplesPerClass;
    QCheckBox* m_crossBatchMemory;  ///< PML's CrossBatchMemory around the loss
    QSpinBox* m_memorySize;
    QSpinBox* m_seed;
    QLabel* m_message;
    QCheckBox* m_showForces;
    QDoubleSpinBox* m_forceScale;
    QCheckBox* m_showRegions;
    QCheckBox* m_nearestNeighbourRegions;
    QCheckBox* m_showNormalized;
    QCheckBox* m_showMarginInset;
    QCheckBox* m_splitForces;
    QCheckBox* m_fixedForceScale;
    QCheckBox* m_followData;
    QSpinBox* m_newPointClass;
};

}  // namespace marginlab

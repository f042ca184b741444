// SPDX-License-Identifier: MIT
#include "losscomponentseditor.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QPushButton>
#include <QSignalBlocker>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "distancechooser.h"
#include "paramform.h"

namespace marginlab {

namespace {

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

}  // namespace

LossComponentsEditor::LossComponentsEditor(QWidget* parent) : QWidget(parent), m_layout(new QVBoxLayout) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_layout->setContentsMargins(0, 0, 0, 0);
    outer->addLayout(m_layout);
    auto* buttons = new QHBoxLayout;
    m_add = new QPushButton(tr("Add a loss"));
    m_add->setToolTip(tr("Add one more weighted loss to the sum (at most %1).").arg(kMaxLossComponents));
    m_remove = new QPushButton(tr("Remove the last"));
    m_remove->setToolTip(tr("Remove the last loss of the sum (at least %1 stay).").arg(kMinLossComponents));
    buttons->addWidget(m_add);
    buttons->addWidget(m_remove);
    outer->addLayout(buttons);
    connect(m_add, &QPushButton::clicked, this, [this] {
        if (count() >= kMaxLossComponents) return;
        // A new term starts as the first catalogue loss that is no wrapper, weighted 1.
        for (const LossInfo& info : lossCatalog())
            if (!info.isWrapper()) {
                addRow({LossConfig{info.name, {}, std::nullopt, {}}, 1.0});
                break;
            }
        updateButtons();
        emit rebuilt();
        emit changed();
    });
    connect(m_remove, &QPushButton::clicked, this, [this] {
        if (count() <= kMinLossComponents) return;
        removeLastRow();
        updateButtons();
        emit changed();
    });
}

void LossComponentsEditor::setComponents(const std::vector<LossComponent>& components) {
    m_updating = true;
    // Rows showing the same loss are updated in place (the field being edited keeps its focus
    // when the edited scene comes back); the others are made anew.
    std::size_t same = 0;
    while (same < m_rows.size() && same < components.size() &&
           m_rows[same].loss->currentData().toString().toStdString() == components[same].loss.name)
        ++same;
    while (m_rows.size() > same) removeLastRow();
    for (std::size_t i = 0; i < same; ++i) {
        Row& row = m_rows[i];
        const LossComponent& c = components[i];
        {
            const QSignalBlocker blocker(row.weight);
            row.weight->setValue(c.weight);
        }
        if (!(row.params->values().numbers == c.loss.params.numbers &&
              row.params->values().choices == c.loss.params.choices)) {
            const QSignalBlocker blocker(row.params);
            const LossInfo* info = findLoss(c.loss.name);
            row.params->setParams(info ? info->params : std::vector<ParamInfo>{}, c.loss.params);
        }
        showDistance(row, c.loss);
    }
    for (std::size_t i = same; i < components.size(); ++i) addRow(components[i]);
    updateButtons();
    m_updating = false;
    emit rebuilt();
}

std::vector<LossComponent> LossComponentsEditor::components() const {
    std::vector<LossComponent> out;
    for (const Row& row : m_rows) {
        LossComponent c;
        c.loss.name = row.loss->currentData().toString().toStdString();
        c.loss.params = row.params->values();
        const LossInfo* info = findLoss(c.loss.name);
        if (info && info->distanceConfigurable && !(row.distance->distance() == info->defaultDistance))
            c.loss.distance = row.distance->distance();
        c.weight = row.weight->value();
        out.push_back(std::move(c));
    }
    return out;
}

void LossComponentsEditor::addRow(const LossComponent& component) {
    Row row;
    const std::size_t index = m_rows.size();
    row.box = new QGroupBox(tr("Loss %1").arg(index + 1));
    auto* form = new QFormLayout(row.box);
    row.loss = new QComboBox;
    row.loss->setToolTip(tr("One term of the sum: any loss of the catalogue with its own parameters."));
    auto* model = qobject_cast<QStandardItemModel*>(row.loss->model());
    std::optional<LossFamily> family;
    for (const LossInfo& info : lossCatalog()) {
        if (info.isWrapper()) continue;  // no multiple_losses inside multiple_losses
        if (!family || *family != info.family) {
            family = info.family;
            row.loss->addItem(QStringLiteral("— %1 —").arg(qs(std::string(familyName(info.family)))),
                              QString());
            if (model) model->item(row.loss->count() - 1)->setEnabled(false);
        }
        row.loss->addItem(qs(info.displayName), qs(info.name));
        row.loss->setItemData(row.loss->count() - 1, qs(info.formula), Qt::ToolTipRole);
    }
    row.loss->setCurrentIndex(std::max(0, row.loss->findData(qs(component.loss.name))));
    form->addRow(tr("Loss"), row.loss);
    row.weight = new QDoubleSpinBox;
    row.weight->setRange(0.0, 1000.0);
    row.weight->setDecimals(3);
    row.weight->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    row.weight->setKeyboardTracking(false);
    row.weight->setValue(component.weight);
    row.weight->setToolTip(tr("w: this loss enters the sum as w · L (PML's weights; default 1)."));
    form->addRow(tr("Weight"), row.weight);
    row.params = new ParamForm;
    const LossInfo* info = findLoss(component.loss.name);
    row.params->setParams(info ? info->params : std::vector<ParamInfo>{}, component.loss.params);
    form->addRow(row.params);
    row.distance = new DistanceChooser;
    showDistance(row, component.loss);
    form->addRow(tr("Distance"), row.distance);
    m_layout->addWidget(row.box);

    connect(row.loss, &QComboBox::currentIndexChanged, this, [this, index] { onRowLossChanged(index); });
    connect(row.weight, &QDoubleSpinBox::valueChanged, this, [this] {
        if (!m_updating) emit changed();
    });
    connect(row.params, &ParamForm::changed, this, [this] {
        if (!m_updating) emit changed();
    });
    connect(row.distance, &DistanceChooser::changed, this, [this] {
        if (!m_updating) emit changed();
    });
    connect(row.params, &ParamForm::rebuilt, this, &LossComponentsEditor::rebuilt);
    m_rows.push_back(row);
}

void LossComponentsEditor::showDistance(Row& row, const LossConfig& loss) {
    const LossInfo* info = findLoss(loss.name);
    row.distance->setDistance(loss.distance.value_or(info ? info->defaultDistance : DistanceSpec{}));
    row.distance->setConfigurable(info && info->distanceConfigurable);
}

void LossComponentsEditor::removeLastRow() {
    Row row = m_rows.back();
    m_rows.pop_back();
    m_layout->removeWidget(row.box);
    // Later: the row may be removed from inside one of its own signals.
    row.box->deleteLater();
    row.box->hide();
}

void LossComponentsEditor::updateButtons() {
    m_add->setEnabled(count() < kMaxLossComponents);
    m_remove->setEnabled(count() > kMinLossComponents);
}

void LossComponentsEditor::onRowLossChanged(std::size_t index) {
    if (m_updating || index >= m_rows.size()) return;
    Row& row = m_rows[index];
    const LossInfo* info = findLoss(row.loss->currentData().toString().toStdString());
    if (!info) return;
    // A new loss starts from its own defaults (PML's), distance included, as in the main combo.
    showDistance(row, LossConfig(info->name));
    {
        const QSignalBlocker blocker(row.params);
        row.params->setParams(info->params, {});
    }
    emit rebuilt();
    emit changed();
}

}  // namespace marginlab

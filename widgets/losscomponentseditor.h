// SPDX-License-Identifier: MIT
// LossComponentsEditor: the components of multiple_losses (PML's MultipleLosses), one group per
// component — its loss (any catalogue loss but a wrapper), its weight and its parameter form —
// with Add / Remove buttons (2 to kMaxLossComponents components). Emits changed() on every edit;
// the ControlPanel turns that into a new scene like any other setting.
#pragma once

#include <QWidget>
#include <vector>

#include "marginlab/loss.h"

class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QPushButton;
class QVBoxLayout;

namespace marginlab {

class ParamForm;

class LossComponentsEditor : public QWidget {
    Q_OBJECT
public:
    explicit LossComponentsEditor(QWidget* parent = nullptr);

    /// Shows `components` (emits nothing).
    void setComponents(const std::vector<LossComponent>& components);
    /// The components as edited; each keeps the distance it was shown with until its loss changes.
    std::vector<LossComponent> components() const;
    int count() const { return static_cast<int>(m_rows.size()); }

    // For the tests, which drive the widgets as a user does.
    QComboBox* lossBox(int index) const { return m_rows.at(static_cast<std::size_t>(index)).loss; }
    QDoubleSpinBox* weightBox(int index) const { return m_rows.at(static_cast<std::size_t>(index)).weight; }
    ParamForm* paramForm(int index) const { return m_rows.at(static_cast<std::size_t>(index)).params; }
    QPushButton* addButton() const { return m_add; }
    QPushButton* removeButton() const { return m_remove; }

signals:
    void changed();
    /// Fields were created (new widgets to look after, e.g. to guard against the wheel).
    void rebuilt();

private:
    struct Row {
        QGroupBox* box = nullptr;
        QComboBox* loss = nullptr;
        QDoubleSpinBox* weight = nullptr;
        ParamForm* params = nullptr;
        std::optional<DistanceSpec> distance;
    };
    void addRow(const LossComponent& component);
    void removeLastRow();
    void updateButtons();
    void onRowLossChanged(std::size_t index);

    QVBoxLayout* m_layout;
    QPushButton* m_add;
    QPushButton* m_remove;
    std::vector<Row> m_rows;
    bool m_updating = false;
};

}  // namespace marginlab

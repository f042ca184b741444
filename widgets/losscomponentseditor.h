// SPDX-License-Identifier: MIT
// LossComponentsEditor: the components of multiple_losses (PML's MultipleLosses), one group per
// component — its loss (any catalogue loss but a wrapper), its weight, its parameter form and its
// distance (where the loss takes another than its own) —
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

class DistanceChooser;
class ParamForm;

class LossComponentsEditor : public QWidget {
    Q_OBJECT
public:
    explicit LossComponentsEditor(QWidget* parent = nullptr);

    /// Shows `components` (emits nothing).
    void setComponents(const std::vector<LossComponent>& components);
    /// The components as edited; a distance equal to the term's default is left out (as in files).
    std::vector<LossComponent> components() const;
    int count() const { return static_cast<int>(m_rows.size()); }

    // For the tests, which drive the widgets as a user does.
    QComboBox* lossBox(int index) const { return m_rows.at(static_cast<std::size_t>(index)).loss; }
    QDoubleSpinBox* weightBox(int index) const { return m_rows.at(static_cast<std::size_t>(index)).weight; }
    ParamForm* paramForm(int index) const { return m_rows.at(static_cast<std::size_t>(index)).params; }
    DistanceChooser* distanceChooser(int index) const {
        return m_rows.at(static_cast<std::size_t>(index)).distance;
    }
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
        DistanceChooser* distance = nullptr;
    };
    /// Shows `distance` (or the loss's default) in the row's chooser, greyed out where the loss
    /// keeps its own.
    static void showDistance(Row& row, const LossConfig& loss);
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

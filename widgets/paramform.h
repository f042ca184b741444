// SPDX-License-Identifier: MIT
// ParamForm: one editor per ParamInfo (spin box, check box or combo box), defaults from the
// catalogue (PML's), tooltips from the descriptions. Emits changed() on every edit.
#pragma once

#include "marginlab/params.h"

#include <QWidget>

#include <vector>

class QFormLayout;

namespace marginlab {

class ParamForm : public QWidget {
    Q_OBJECT
public:
    explicit ParamForm(QWidget* parent = nullptr);

    /// Rebuilds the editors for `infos`, showing `values` (defaults where missing).
    void setParams(const std::vector<ParamInfo>& infos, const ParamValues& values);
    /// The values as edited: only those that differ from the defaults, so files stay short.
    ParamValues values() const;
    bool isEmpty() const { return m_infos.empty(); }

signals:
    void changed();
    /// The editors were rebuilt by setParams (new widgets to look after).
    void rebuilt();

private:
    QFormLayout* m_layout;
    std::vector<ParamInfo> m_infos;
    std::vector<QWidget*> m_editors;
};

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "paramform.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSpinBox>

#include <algorithm>
#include <cmath>

namespace marginlab {

ParamForm::ParamForm(QWidget* parent) : QWidget(parent), m_layout(new QFormLayout(this)) {
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
}

void ParamForm::setParams(const std::vector<ParamInfo>& infos, const ParamValues& values) {
    while (m_layout->rowCount() > 0) m_layout->removeRow(0);
    m_infos = infos;
    m_editors.clear();
    for (const ParamInfo& info : infos) {
        const QString tip = QString::fromStdString(info.description);
        const auto number = values.numbers.find(info.name);
        const double value = number != values.numbers.end() ? number->second : info.defaultValue;
        QWidget* editor = nullptr;
        switch (info.type) {
        case ParamType::Boolean: {
            auto* box = new QCheckBox;
            box->setChecked(value != 0.0);
            connect(box, &QCheckBox::toggled, this, &ParamForm::changed);
            editor = box;
            break;
        }
        case ParamType::Integer: {
            auto* box = new QSpinBox;
            box->setRange(static_cast<int>(std::max(info.minValue, -1e9)), static_cast<int>(std::min(info.maxValue, 1e9)));
            box->setValue(static_cast<int>(value));
            connect(box, &QSpinBox::valueChanged, this, &ParamForm::changed);
            editor = box;
            break;
        }
        case ParamType::Number: {
            auto* box = new QDoubleSpinBox;
            box->setDecimals(4);
            box->setRange(std::max(info.minValue, -1e6), std::min(info.maxValue, 1e6));
            // Steps follow the value's magnitude (0.1 at 2.0, 0.01 at 0.2): one click is a visible
            // change whatever the parameter's scale.
            box->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
            box->setValue(value);
            box->setKeyboardTracking(false);
            connect(box, &QDoubleSpinBox::valueChanged, this, &ParamForm::changed);
            editor = box;
            break;
        }
        case ParamType::Choice: {
            auto* box = new QComboBox;
            for (const auto& choice : info.choices) box->addItem(QString::fromStdString(choice));
            const auto chosen = values.choices.find(info.name);
            box->setCurrentIndex(chosen != values.choices.end() ? std::max(0, box->findText(QString::fromStdString(chosen->second)))
                                                                : info.defaultChoice);
            connect(box, &QComboBox::currentIndexChanged, this, &ParamForm::changed);
            editor = box;
            break;
        }
        }
        editor->setToolTip(tip);
        m_layout->addRow(QString::fromStdString(info.name), editor);
        if (QWidget* labelWidget = m_layout->labelForField(editor)) labelWidget->setToolTip(tip);
        m_editors.push_back(editor);
    }
    emit rebuilt();
}

ParamValues ParamForm::values() const {
    ParamValues out;
    for (std::size_t i = 0; i < m_infos.size(); ++i) {
        const ParamInfo& info = m_infos[i];
        QWidget* editor = m_editors[i];
        switch (info.type) {
        case ParamType::Boolean: {
            const double v = static_cast<QCheckBox*>(editor)->isChecked() ? 1.0 : 0.0;
            if (v != info.defaultValue) out.numbers[info.name] = v;
            break;
        }
        case ParamType::Integer: {
            const double v = static_cast<QSpinBox*>(editor)->value();
            if (v != info.defaultValue) out.numbers[info.name] = v;
            break;
        }
        case ParamType::Number: {
            const double v = static_cast<QDoubleSpinBox*>(editor)->value();
            // The spin box rounds to 4 decimals: keep the exact default when it was not moved.
            if (std::abs(v - info.defaultValue) > 5e-5) out.numbers[info.name] = v;
            break;
        }
        case ParamType::Choice: {
            const int index = static_cast<QComboBox*>(editor)->currentIndex();
            if (index != info.defaultChoice && index >= 0)
                out.choices[info.name] = info.choices[static_cast<std::size_t>(index)];
            break;
        }
        }
    }
    return out;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// DistanceChooser: the distance a loss compares pairs with — Euclidean, squared Euclidean, cosine
// similarity or dot product — and whether the embeddings are normalized first (PML's
// LpDistance(power) / CosineSimilarity / DotProductSimilarity with normalize_embeddings). Used
// for the loss of a scene and for each term of a sum of losses.
#pragma once

#include <QWidget>

#include "marginlab/distance.h"

class QCheckBox;
class QComboBox;

namespace marginlab {

class DistanceChooser : public QWidget {
    Q_OBJECT
public:
    explicit DistanceChooser(QWidget* parent = nullptr);

    /// Shows `distance` (emits nothing).
    void setDistance(const DistanceSpec& distance);
    DistanceSpec distance() const;
    /// Off for losses whose distance is fixed: both fields greyed out. Cosine similarity always
    /// normalizes, so the checkbox is greyed out with it too.
    void setConfigurable(bool on);

    // For the tests, which drive the widgets as a user does.
    QComboBox* kindBox() const { return m_kind; }
    QCheckBox* normalizeBox() const { return m_normalize; }

signals:
    void changed();

private:
    void updateEnabled();

    QComboBox* m_kind;
    QCheckBox* m_normalize;
    bool m_configurable = true;
};

}  // namespace marginlab

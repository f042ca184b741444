// SPDX-License-Identifier: MIT
#include "distancechooser.h"

#include <QCheckBox>
#include <QComboBox>
#include <QSignalBlocker>
#include <QVBoxLayout>

namespace marginlab {

namespace {

// The combo's entries in order: index ↔ (kind, power).
enum Entry { kEuclidean = 0, kSquaredEuclidean = 1, kCosine = 2, kDot = 3 };

DistanceSpec distanceOf(int entry, bool normalize) {
    switch (entry) {
        case kSquaredEuclidean:
            return DistanceSpec::lp(2, normalize);
        case kCosine:
            return DistanceSpec::cosine();
        case kDot:
            return DistanceSpec::dot(normalize);
        default:
            return DistanceSpec::lp(1, normalize);
    }
}

int entryOf(const DistanceSpec& d) {
    if (d.kind == DistanceKind::Cosine) return kCosine;
    if (d.kind == DistanceKind::DotProduct) return kDot;
    return d.power == 2 ? kSquaredEuclidean : kEuclidean;
}

}  // namespace

DistanceChooser::DistanceChooser(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_kind = new QComboBox;
    m_kind->addItems({tr("Euclidean"), tr("Squared Euclidean"), tr("Cosine similarity"), tr("Dot product")});
    m_kind->setToolTip(
        tr("The distance the loss compares pairs with (only for losses that accept another one)."));
    m_normalize = new QCheckBox(tr("normalize embeddings"));
    m_normalize->setToolTip(
        tr("Project the points onto the unit circle / sphere before measuring (PML's normalize_embeddings).\n"
           "The gradient flows through the normalization."));
    layout->addWidget(m_kind);
    layout->addWidget(m_normalize);
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        updateEnabled();
        emit changed();
    });
    connect(m_normalize, &QCheckBox::toggled, this, &DistanceChooser::changed);
}

void DistanceChooser::setDistance(const DistanceSpec& distance) {
    const QSignalBlocker kind(m_kind), normalize(m_normalize);
    m_kind->setCurrentIndex(entryOf(distance));
    m_normalize->setChecked(distance.normalizes());
    updateEnabled();
}

DistanceSpec DistanceChooser::distance() const {
    return distanceOf(m_kind->currentIndex(), m_normalize->isChecked());
}

void DistanceChooser::setConfigurable(bool on) {
    m_configurable = on;
    updateEnabled();
}

void DistanceChooser::updateEnabled() {
    m_kind->setEnabled(m_configurable);
    m_normalize->setEnabled(m_configurable && m_kind->currentIndex() != kCosine);
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
/**
 * Frame2D: everything a 2D frame depends on. A frame is a pure function of these inputs — the
 * snapshot (positions, labels, owned parameters, forces, statistics), the run description from
 * the catalogue, the view options, the camera and the target size — so the widget, the exporter,
 * the recorder, the comparison panels and the benchmark all paint the same picture from them.
 */
#pragma once

#include "camera2d.h"
#include "viewoptions.h"

#include "marginlab/runinfo.h"
#include "marginlab/trainer.h"

#include <QSize>
#include <QString>

#include <memory>

namespace marginlab {

/// The clicked anchor of the triplet overlay (−1: none) and its positive (−1: the hardest).
struct Selection {
    int anchor = -1;
    int positive = -1;
    bool operator==(const Selection&) const = default;
};

/// A point being dragged: drawn at `world` instead of its snapshot position.
struct DragPreview {
    int point = -1;
    QPointF world;
};

/// Text burned into a frame (recordings; the widget shows the scene's description the same way).
struct Captions {
    QString title;        ///< large, top centre (empty: none)
    QString description;  ///< the scene's teaching text in a card (empty: none)
};

struct Frame2D {
    std::shared_ptr<const Snapshot> snapshot;
    RunInfo run;
    ViewOptions options;
    Camera2D camera;
    QSize size{800, 600};  ///< device-independent pixels of the target
    Selection selection;
    DragPreview drag;
    Captions captions;
};

}  // namespace marginlab

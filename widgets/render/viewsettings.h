// SPDX-License-Identifier: MIT
// ViewSettings: the "view" object of a scene file — what a frame shows (options), where the
// cameras look (2D and 3D), the selected anchor and the playing speed — shared by the app and the recorder.
#pragma once

#include "camera2d.h"
#include "camera3d.h"
#include "frame2d.h"
#include "viewoptions.h"

#include "marginlab/scene/jsonio.h"

#include <optional>

namespace marginlab {

struct ViewSettings {
    ViewOptions options;
    std::optional<Camera2D> camera;  ///< empty: fit the data
    std::optional<Camera3D> camera3d;  ///< the 3D view's camera; empty: the front view, fitted
    Selection selection;
    std::optional<int> stepsPerFrame;
};

/// Reads a scene's "view" object. Lenient on purpose: the view is cosmetic, a missing or odd entry
/// keeps the default (the scene's data and loss are checked strictly elsewhere).
ViewSettings viewSettingsFromJson(const json::Json& view);
json::Json viewSettingsToJson(const ViewSettings& settings);

}  // namespace marginlab

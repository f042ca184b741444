// SPDX-License-Identifier: MIT
#include "viewsettings.h"

#include <algorithm>
#include <cmath>

namespace marginlab {

namespace {

bool finiteNumbers(const json::Json& array, std::size_t count) {
    if (!array.is_array() || array.size() != count) return false;
    for (const json::Json& v : array)
        if (!v.is_number() || !std::isfinite(v.get<double>())) return false;
    return true;
}

/// {"rotation": [w, x, y, z], "zoom", "world_radius", "pan": [x, y]}; nothing unless the rotation
/// is a usable quaternion (the rest falls back to the defaults).
std::optional<Camera3D> camera3dFromJson(const json::Json& value) {
    if (!value.is_object()) return std::nullopt;
    const auto rotation = value.find("rotation");
    if (rotation == value.end() || !finiteNumbers(*rotation, 4)) return std::nullopt;
    Eigen::Quaterniond q((*rotation)[0].get<double>(), (*rotation)[1].get<double>(), (*rotation)[2].get<double>(),
                         (*rotation)[3].get<double>());
    if (!(q.norm() > 1e-6)) return std::nullopt;
    Camera3D camera;
    camera.rotation = q.normalized();
    auto number = [&](const char* key, double fallback, double low, double high) {
        const auto it = value.find(key);
        const bool usable = it != value.end() && it->is_number() && std::isfinite(it->get<double>());
        return std::clamp(usable ? it->get<double>() : fallback, low, high);
    };
    camera.zoom = number("zoom", camera.zoom, Camera3D::kMinZoom, Camera3D::kMaxZoom);
    camera.worldRadius = number("world_radius", camera.worldRadius, 1e-6, 1e12);
    if (const auto pan = value.find("pan"); pan != value.end() && finiteNumbers(*pan, 2))
        camera.pan = QPointF(std::clamp((*pan)[0].get<double>(), -1e6, 1e6), std::clamp((*pan)[1].get<double>(), -1e6, 1e6));
    return camera;
}

}  // namespace

ViewSettings viewSettingsFromJson(const json::Json& view) {
    ViewSettings s;
    if (!view.is_object()) return s;
    auto number = [&](const char* key, double fallback) {
        const auto it = view.find(key);
        return it != view.end() && it->is_number() && std::isfinite(it->get<double>()) ? it->get<double>() : fallback;
    };
    auto flag = [&](const char* key, bool fallback) {
        const auto it = view.find(key);
        return it != view.end() && it->is_boolean() ? it->get<bool>() : fallback;
    };
    ViewOptions& o = s.options;
    o.showForces = flag("show_forces", o.showForces);
    o.forceScale = std::clamp(number("force_scale", o.forceScale), 0.0, 1e3);
    if (const auto it = view.find("force_scale_mode"); it != view.end() && it->is_string())
        o.forceScaleMode = it->get<std::string>() == "fixed" ? ViewOptions::ForceScale::Fixed : ViewOptions::ForceScale::Relative;
    o.forcePixelsPerUnit = std::clamp(number("force_pixels_per_unit", o.forcePixelsPerUnit), 0.0, 1e12);
    o.splitForces = flag("split_forces", o.splitForces);
    o.showRegions = flag("show_regions", o.showRegions);
    o.showNormalized = flag("show_normalized", o.showNormalized);
    o.nearestNeighbourRegions = flag("nearest_neighbour_regions", o.nearestNeighbourRegions);
    o.showMarginInset = flag("show_margin_inset", o.showMarginInset);
    o.followData = flag("follow_data", o.followData);
    const auto center = view.find("center");
    const double zoom = number("pixels_per_unit", 0.0);
    if (center != view.end() && center->is_array() && center->size() == 2 && (*center)[0].is_number() &&
        (*center)[1].is_number() && zoom > 0.0) {
        Camera2D camera;
        camera.center = QPointF((*center)[0].get<double>(), (*center)[1].get<double>());
        camera.pixelsPerUnit = std::clamp(zoom, Camera2D::kMinPixelsPerUnit, Camera2D::kMaxPixelsPerUnit);
        if (std::isfinite(camera.center.x()) && std::isfinite(camera.center.y())) s.camera = camera;
    }
    if (const auto it = view.find("camera3d"); it != view.end()) s.camera3d = camera3dFromJson(*it);
    s.selection.anchor = static_cast<int>(std::clamp(number("anchor", -1.0), -1.0, 1e9));
    s.selection.positive = static_cast<int>(std::clamp(number("positive", -1.0), -1.0, 1e9));
    if (const auto it = view.find("steps_per_frame"); it != view.end() && it->is_number_integer())
        s.stepsPerFrame = std::clamp(it->get<int>(), 1, 1000);
    return s;
}

json::Json viewSettingsToJson(const ViewSettings& s) {
    const ViewOptions& o = s.options;
    json::Json view = {{"show_forces", o.showForces},
                       {"force_scale", o.forceScale},
                       {"force_scale_mode", o.forceScaleMode == ViewOptions::ForceScale::Fixed ? "fixed" : "relative"},
                       {"split_forces", o.splitForces},
                       {"show_regions", o.showRegions},
                       {"show_normalized", o.showNormalized},
                       {"nearest_neighbour_regions", o.nearestNeighbourRegions},
                       {"show_margin_inset", o.showMarginInset},
                       {"follow_data", o.followData}};
    if (o.forcePixelsPerUnit > 0.0) view["force_pixels_per_unit"] = o.forcePixelsPerUnit;
    if (s.camera) {
        view["center"] = {s.camera->center.x(), s.camera->center.y()};
        view["pixels_per_unit"] = s.camera->pixelsPerUnit;
    }
    if (s.camera3d) {
        const Eigen::Quaterniond& q = s.camera3d->rotation;
        view["camera3d"] = {{"rotation", {q.w(), q.x(), q.y(), q.z()}},
                            {"zoom", s.camera3d->zoom},
                            {"world_radius", s.camera3d->worldRadius},
                            {"pan", {s.camera3d->pan.x(), s.camera3d->pan.y()}}};
    }
    if (s.selection.anchor >= 0) view["anchor"] = s.selection.anchor;
    if (s.selection.positive >= 0) view["positive"] = s.selection.positive;
    if (s.stepsPerFrame) view["steps_per_frame"] = *s.stepsPerFrame;
    return view;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
// ComparisonView: 2, 3 or 4 ComparisonPanelViews in a row or a 2×2 grid, each painted by
// Renderer2D (or, for 3D data, on the sphere by Renderer3D) with its own RunInfo and titled with
// what differs. Cameras are linked by default (a pan, zoom or 3D rotation in one panel moves all;
// a toggle unlinks them), and an anchor selected in one panel is shown in all (the panels share
// their points, so an index means the same point).
#pragma once

#include "comparisonpanelview.h"
#include "comparisonworker.h"

#include "marginlab/scene/comparisonfile.h"

#include <QImage>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

class QCheckBox;
class QGridLayout;

namespace marginlab {

enum class ComparisonLayout {
    Auto,  ///< a row for 2 and 3 panels, a 2×2 grid for 4
    Row,
    Grid,  ///< 2 columns
};

class ComparisonView : public QWidget {
    Q_OBJECT
public:
    explicit ComparisonView(QWidget* parent = nullptr);

    /// Replaces the panels: one per configuration, titled `titles[i]` (empty: computed with
    /// comparisonTitles), RunInfo from the catalogue. Keeps the link setting and the options.
    void setPanels(const std::vector<TrainerConfig>& panels, const std::vector<QString>& titles = {});
    /// One panel's new loss / miner (its RunInfo and the titles of all panels are recomputed
    /// unless `titles` gives them).
    void setPanelConfig(int panel, const TrainerConfig& config);
    void setPanelTitle(int panel, const QString& title);
    int panelCount() const { return static_cast<int>(m_panels.size()); }
    ComparisonPanelView* panel(int index) const { return m_panels.at(static_cast<std::size_t>(index)); }

    bool camerasLinked() const { return m_linked; }
    const ViewOptions& options() const { return m_options; }
    /// The sphere's camera for 3D data, used by the next fit instead of the front view (a saved one).
    void setInitialCamera3D(const Camera3D& camera);
    ComparisonLayout layoutMode() const { return m_layout; }
    int anchor() const { return m_anchor; }
    /// The cell of panel `index` among `count` in a picture of `size` (the widget's and renderImage's layout).
    static QRect cellRect(int index, int count, QSize size, ComparisonLayout layout);
    /// The whole comparison (every panel with its title bar) as an image of `size` pixels, laid out
    /// as on screen: for recording, export and tests.
    QImage renderImage(QSize size) const;

public slots:
    void setState(std::shared_ptr<const marginlab::ComparisonState> state);
    void setCamerasLinked(bool linked);
    void setLayoutMode(marginlab::ComparisonLayout layout);
    /// Shows `anchor` (and `positive`, −1: the hardest) in every panel.
    void setAnchor(int anchor, int positive = -1);
    void setOptions(const marginlab::ViewOptions& options);
    /// Linked: one camera that shows every panel's data; unlinked: each panel fits its own.
    void fitToData();

signals:
    void anchorChanged(int anchor, int positive);
    void camerasLinkedChanged(bool linked);

protected:
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void onPanelCamera(int index, const Camera2D& camera);
    void onPanelCamera3D(int index, const Camera3D& camera);
    /// The sphere's radius that shows every panel's 3D data (linked) or one panel's.
    double fittedRadius(const ComparisonPanelView* only = nullptr) const;
    void relayout();
    void follow();

    std::vector<ComparisonPanelView*> m_panels;
    std::vector<TrainerConfig> m_configs;
    std::vector<bool> m_titleGiven;
    QWidget* m_grid = nullptr;
    QGridLayout* m_gridLayout = nullptr;
    QCheckBox* m_linkBox = nullptr;
    ViewOptions m_options;
    ComparisonLayout m_layout = ComparisonLayout::Auto;
    bool m_linked = true;
    bool m_fitPending = true;
    std::optional<Camera3D> m_initialCamera3d;
    int m_anchor = -1;
    int m_positive = -1;
};

}  // namespace marginlab

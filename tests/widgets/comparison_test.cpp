// SPDX-License-Identifier: MIT
// The comparison in the app: linked cameras move every panel (and unlinked ones do not), an
// anchor clicked in one panel is shown in all, a comparison saved from the page opens the same,
// every ready comparison opens and trains, a 2×2 grid renders four distinct panels into a
// QImage, "run to step N" stops every panel exactly at N, and the charts keep a ghost. 3D data:
// panels on the sphere that rotate together, pick in 3D, render and save their camera; the page's
// settings form edits one panel, copies it and removes it.
#include <QComboBox>
#include <QDir>
#include <QMouseEvent>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWheelEvent>
#include <filesystem>
#include <numbers>

#include "builtincomparisons.h"
#include "comparisoncharts.h"
#include "comparisoncontroller.h"
#include "comparisonpage.h"
#include "comparisonview.h"
#include "controlpanel.h"
#include "marginlab/runinfo.h"
#include "marginlab/trainer_group.h"
#include "viewsettings.h"

using namespace marginlab;

namespace {

QString sourcePath(const QString& relative) {
    return QDir(QStringLiteral(MARGINLAB_SOURCE_DIR)).filePath(relative);
}

ComparisonFile sphere() {
    QString error;
    auto c = loadComparison(sourcePath(QStringLiteral("resources/comparisons/margins-on-the-sphere.json")), &error);
    if (!c) qFatal("%s", qPrintable(error));
    return *c;
}

ComparisonFile mining() {
    QString error;
    auto c = loadComparison(sourcePath(QStringLiteral("resources/comparisons/mining-strategies.json")), &error);
    if (!c) qFatal("%s", qPrintable(error));
    return *c;
}

void mouse(QWidget* w, QEvent::Type type, QPointF at, Qt::MouseButtons buttons, Qt::KeyboardModifiers mods = {}) {
    QMouseEvent event(type, at, w->mapToGlobal(at), type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton, buttons, mods);
    QCoreApplication::sendEvent(w, &event);
}

void drag(QWidget* w, QPointF from, QPointF to) {
    mouse(w, QEvent::MouseButtonPress, from, Qt::LeftButton);
    mouse(w, QEvent::MouseMove, (from + to) / 2, Qt::LeftButton);
    mouse(w, QEvent::MouseMove, to, Qt::LeftButton);
    mouse(w, QEvent::MouseButtonRelease, to, Qt::NoButton);
}

/// Shows `view` at `size` with the panels of `c` (false when the window never appears).
bool showPanels(ComparisonView& view, const ComparisonFile& c, QSize size) {
    view.resize(size);
    view.setPanels(c.trainers());
    view.show();
    return QTest::qWaitForWindowExposed(&view);
}

std::shared_ptr<const ComparisonState> stateOf(TrainerGroup& group, int steps) {
    auto state = std::make_shared<ComparisonState>();
    state->group = steps > 0 ? group.step(steps) : group.snapshot();
    state->step = group.step();
    return state;
}

bool sameColor(QRgb a, QColor b, int tolerance = 2) {
    return std::abs(qRed(a) - b.red()) <= tolerance && std::abs(qGreen(a) - b.green()) <= tolerance &&
           std::abs(qBlue(a) - b.blue()) <= tolerance;
}

}  // namespace

class ComparisonTest : public QObject {
    Q_OBJECT

private slots:
    void linkedCameraMovesEveryPanel() {
        const ComparisonFile c = mining();
        ComparisonView view;
        QVERIFY(showPanels(view, c, QSize(1200, 700)));
        TrainerGroup group(c.trainers());
        view.setState(stateOf(group, 0));
        QCOMPARE(view.panelCount(), 4);
        QVERIFY(view.camerasLinked());
        const Camera2D start = view.panel(0)->camera();
        for (int i = 1; i < 4; ++i) QCOMPARE(view.panel(i)->camera(), start);  // fitted together

        // A drag in panel 2 pans all four, while the mouse moves.
        ComparisonPanelView* third = view.panel(2);
        const QPointF middle(third->width() / 2.0, third->height() / 2.0);
        mouse(third, QEvent::MouseButtonPress, middle, Qt::LeftButton);
        mouse(third, QEvent::MouseMove, middle + QPointF(40, 25), Qt::LeftButton);
        QVERIFY(third->camera() != start);
        for (int i = 0; i < 4; ++i) QCOMPARE(view.panel(i)->camera(), third->camera());
        mouse(third, QEvent::MouseButtonRelease, middle + QPointF(40, 25), Qt::NoButton);

        // A wheel zoom in panel 0 zooms all.
        const double before = view.panel(0)->camera().pixelsPerUnit;
        QWheelEvent wheel(middle, view.panel(0)->mapToGlobal(middle), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(view.panel(0), &wheel);
        QVERIFY(view.panel(0)->camera().pixelsPerUnit > before * 1.2);
        for (int i = 1; i < 4; ++i) QCOMPARE(view.panel(i)->camera(), view.panel(0)->camera());

        // Unlinked, a pan moves only its own panel.
        view.setCamerasLinked(false);
        const Camera2D linked = view.panel(1)->camera();
        drag(view.panel(3), middle, middle + QPointF(-30, 10));
        QVERIFY(view.panel(3)->camera() != linked);
        for (int i = 0; i < 3; ++i) QCOMPARE(view.panel(i)->camera(), linked);
        // Linking again brings every panel to the first one's camera.
        view.setCamerasLinked(true);
        for (int i = 1; i < 4; ++i) QCOMPARE(view.panel(i)->camera(), view.panel(0)->camera());
    }

    void anchorSelectedInOnePanelShowsInAll() {
        const ComparisonFile c = mining();
        ComparisonView view;
        QVERIFY(showPanels(view, c, QSize(1200, 700)));
        TrainerGroup group(c.trainers());
        view.setState(stateOf(group, 3));
        QSignalSpy changed(&view, &ComparisonView::anchorChanged);
        // Click point 17 where panel 1 draws it.
        ComparisonPanelView* panel = view.panel(1);
        const QPointF at = panel->toScreen(Renderer2D::rawPositions(panel->frame())[17]);
        mouse(panel, QEvent::MouseButtonPress, at, Qt::LeftButton);
        mouse(panel, QEvent::MouseButtonRelease, at, Qt::NoButton);
        QCOMPARE(changed.count(), 1);
        // Point 17 might share its pixel with a neighbour: whichever was picked, all panels show it.
        const int anchor = changed.front().at(0).toInt();
        QVERIFY(anchor >= 0);
        QCOMPARE(view.anchor(), anchor);
        for (int i = 0; i < 4; ++i) QCOMPARE(view.panel(i)->anchor(), anchor);
        // The anchor stays through new snapshots, and Escape clears it everywhere.
        view.setState(stateOf(group, 2));
        for (int i = 0; i < 4; ++i) QCOMPARE(view.panel(i)->anchor(), anchor);
        QTest::keyClick(view.panel(3), Qt::Key_Escape);
        for (int i = 0; i < 4; ++i) QCOMPARE(view.panel(i)->anchor(), -1);
    }

    void saveOpenRoundTrip() {
        ComparisonPage page;
        QString error;
        QVERIFY2(page.openFile(sourcePath(QStringLiteral("resources/comparisons/adam-vs-sgd.json")), &error), qPrintable(error));
        // Change one panel and copy another, as a user would, then save and open again.
        TrainerConfig settings = page.comparison().panels[1].trainer;
        settings.optimizer.learningRate = 0.25;
        QVERIFY2(page.setPanelSettings(1, settings, &error), qPrintable(error));
        QVERIFY2(page.copyPanelSettings(0, 2, &error), qPrintable(error));
        QCOMPARE(QString::fromStdString(page.comparison().panels[1].title), QStringLiteral("sgd lr 0.25"));
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("saved.json"));
        QVERIFY2(page.saveFile(path, &error), qPrintable(error));

        const auto reopened = loadComparison(path, &error);
        QVERIFY2(reopened, qPrintable(error));
        QCOMPARE(reopened->panels.size(), page.comparison().panels.size());
        for (std::size_t i = 0; i < reopened->panels.size(); ++i) {
            const TrainerConfig& a = page.comparison().panels[i].trainer;
            const TrainerConfig& b = reopened->panels[i].trainer;
            QVERIFY(json::toJson(a.optimizer) == json::toJson(b.optimizer));
            QVERIFY(json::toJson(a.loss) == json::toJson(b.loss));
            QVERIFY(a.points == b.points);
            QCOMPARE(reopened->panels[i].title, page.comparison().panels[i].title);
        }
        QCOMPARE(reopened->panels[1].trainer.optimizer.learningRate, 0.25);
        QVERIFY(json::toJson(reopened->panels[2].trainer.optimizer) == json::toJson(reopened->panels[0].trainer.optimizer));
        QCOMPARE(reopened->description, page.comparison().description);
        // Saving what was opened writes the same file again.
        QFile saved(path);
        QVERIFY(saved.open(QIODevice::ReadOnly));
        const QByteArray bytes = saved.readAll();
        QVERIFY(json::Json::parse(bytes.constBegin(), bytes.constEnd()) == comparisonToJson(*reopened));
        QCOMPARE(reopened->view.value("steps_per_frame", 0), page.controller()->stepsPerFrame());
        // A panel count that cannot train together is refused and changes nothing.
        ComparisonFile five = *reopened;
        five.panels.push_back(five.panels[0]);
        five.panels.push_back(five.panels[0]);
        QVERIFY(!page.open(five, &error));
        QCOMPARE(page.comparison().panels.size(), reopened->panels.size());
    }

    void everyReadyComparisonOpensAndTrains() {
        QCOMPARE(builtInComparisons().size(), std::size_t{6});
        for (const BuiltInComparison& entry : builtInComparisons()) {
            QString error;
            const auto c = loadComparison(sourcePath(QStringLiteral("resources/comparisons/") + entry.fileName), &error);
            QVERIFY2(c, qPrintable(error));
            QCOMPARE(QString::fromStdString(c->title), entry.title);
            QVERIFY(QFile::exists(sourcePath(QStringLiteral("resources/") + entry.resource.mid(2))));

            ComparisonPage page;
            page.resize(1200, 900);
            QVERIFY2(page.open(*c, &error), qPrintable(error));
            QSignalSpy reached(page.controller(), &ComparisonController::reachedStep);
            page.controller()->runToStep(20);
            QVERIFY2(reached.wait(30000), qPrintable(entry.title));
            QCOMPARE(reached.front().at(0).toLongLong(), 20LL);
            const auto state = page.controller()->state();
            QCOMPARE(state->group.panels.size(), c->panels.size());
            for (std::size_t p = 0; p < c->panels.size(); ++p) {
                const Snapshot& s = *state->group.panels[p];
                QVERIFY2(s.status == TrainStatus::Running, qPrintable(entry.title + QStringLiteral(": ") + QString::fromStdString(s.message)));
                QCOMPARE(s.step, 20L);
                QVERIFY(s.positions.allFinite());
                QVERIFY(std::isfinite(s.loss));
                // The panels started alike and differ now: the comparison shows something.
                if (p > 0) QVERIFY2(s.positions != state->group.panels[0]->positions, qPrintable(entry.title));
                QCOMPARE(page.charts()->history(static_cast<int>(p)).points().back().step, 20L);
            }
        }
    }

    void gridRendersFourDistinctPanels() {
        const ComparisonFile c = mining();
        ComparisonView view;
        QVERIFY(showPanels(view, c, QSize(1000, 800)));
        TrainerGroup group(c.trainers());
        view.setState(stateOf(group, 15));
        const QSize size(800, 600);
        const QImage image = view.renderImage(size);
        QCOMPARE(image.size(), size);
        const QRect cells[4] = {ComparisonView::cellRect(0, 4, size, ComparisonLayout::Auto),
                                ComparisonView::cellRect(1, 4, size, ComparisonLayout::Auto),
                                ComparisonView::cellRect(2, 4, size, ComparisonLayout::Auto),
                                ComparisonView::cellRect(3, 4, size, ComparisonLayout::Auto)};
        // A 2×2 grid: two columns, two rows, no overlap, and the gap between them left blank.
        QCOMPARE(cells[0].top(), cells[1].top());
        QCOMPARE(cells[0].left(), cells[2].left());
        QVERIFY(cells[1].left() > cells[0].right());
        QVERIFY(cells[2].top() > cells[0].bottom());
        QCOMPARE(QColor(image.pixel(cells[0].right() + 2, cells[0].center().y())), QColor(Qt::white));
        QImage cellImages[4];
        for (int i = 0; i < 4; ++i) {
            // The title bar in the panel's colour (the colour of its curves).
            QVERIFY(sameColor(image.pixel(cells[i].left() + 2, cells[i].top() + 2), comparisonPanelColor(i)));
            QVERIFY(sameColor(image.pixel(cells[i].right() - 2, cells[i].top() + 12), comparisonPanelColor(i)));
            // Below it a painted frame, not blank.
            const QRect picture = cells[i].adjusted(0, ComparisonPanelView::kTitleHeight, 0, 0);
            cellImages[i] = image.copy(picture);
            QSet<QRgb> colors;
            for (int y = 0; y < cellImages[i].height(); y += 3)
                for (int x = 0; x < cellImages[i].width(); x += 3) colors.insert(cellImages[i].pixel(x, y));
            QVERIFY2(colors.size() > 20, "a panel drew almost nothing");
        }
        // Different miners after 15 steps: four different pictures.
        for (int i = 0; i < 4; ++i)
            for (int j = i + 1; j < 4; ++j) QVERIFY2(cellImages[i] != cellImages[j], qPrintable(QStringLiteral("%1 = %2").arg(i).arg(j)));
        // The same comparison as a row: four cells side by side.
        view.setLayoutMode(ComparisonLayout::Row);
        const QRect last = ComparisonView::cellRect(3, 4, size, ComparisonLayout::Row);
        QCOMPARE(last.top(), 0);
        QVERIFY(last.left() > size.width() * 3 / 4 - 10);
        const QImage row = view.renderImage(size);
        QVERIFY(sameColor(row.pixel(last.left() + 2, 2), comparisonPanelColor(3)));
    }

    void threeDPanelsRotateZoomAndPickTogether() {
        const ComparisonFile c = sphere();
        ComparisonView view;
        QVERIFY(showPanels(view, c, QSize(1500, 650)));
        TrainerGroup group(c.trainers());
        view.setState(stateOf(group, 5));
        QCOMPARE(view.panelCount(), 3);
        for (int i = 0; i < 3; ++i) QVERIFY(view.panel(i)->isThreeD());
        // Fitted together: one radius that holds every panel's points.
        const Camera3D start = view.panel(0)->camera3d();
        for (int i = 1; i < 3; ++i) QCOMPARE(view.panel(i)->camera3d(), start);
        for (int i = 0; i < 3; ++i)
            QVERIFY(start.worldRadius >= Renderer3D::fitted(view.panel(i)->sphereFrame()).worldRadius - 1e-12);
        // A left drag in the middle panel rotates all three spheres (arcball), the same way.
        ComparisonPanelView* middle = view.panel(1);
        const QPointF centre(middle->width() / 2.0, ComparisonPanelView::kTitleHeight + middle->pictureSize().height() / 2.0);
        drag(middle, centre, centre + QPointF(60, 25));
        const Camera3D rotated = middle->camera3d();
        QVERIFY(!rotated.rotation.isApprox(start.rotation));
        QVERIFY(rotated.rotation.isApprox(start.arcball(centre - QPointF(0, ComparisonPanelView::kTitleHeight),
                                                         centre + QPointF(60, 25 - ComparisonPanelView::kTitleHeight),
                                                         middle->pictureSize()).rotation));
        for (int i = 0; i < 3; ++i) QCOMPARE(view.panel(i)->camera3d(), rotated);
        // The wheel zooms all of them.
        QWheelEvent wheel(centre, middle->mapToGlobal(centre), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(view.panel(2), &wheel);
        QVERIFY(view.panel(2)->camera3d().zoom > 1.0);
        for (int i = 0; i < 3; ++i) QCOMPARE(view.panel(i)->camera3d(), view.panel(2)->camera3d());
        // Arrow keys turn every sphere about the vertical axis.
        const Camera3D beforeKey = view.panel(0)->camera3d();
        QTest::keyClick(view.panel(0), Qt::Key_Right);
        QVERIFY(view.panel(0)->camera3d().rotation.isApprox(beforeKey.turned(5.0 * std::numbers::pi / 180.0).rotation));
        for (int i = 1; i < 3; ++i) QCOMPARE(view.panel(i)->camera3d(), view.panel(0)->camera3d());
        // A click picks on the rotated sphere (the front-most point under it) and shows it in all.
        const Frame3D frame = view.panel(0)->sphereFrame();
        const std::vector<Eigen::Vector3d> raw = Renderer3D::rawPositions(frame);
        QPointF target;
        int expected = -1;
        for (std::size_t i = 0; i < raw.size() && expected < 0; ++i) {
            const Projection p = frame.camera.project(raw[i], frame.size);
            if (p.depth > 0.3 && QRectF(QPointF(0, 0), QSizeF(frame.size)).adjusted(80, 80, -80, -80).contains(p.screen))
                target = p.screen, expected = Renderer3D::pick(frame, p.screen);
        }
        QVERIFY(expected >= 0);
        const QPointF click = target + QPointF(0, ComparisonPanelView::kTitleHeight);
        mouse(view.panel(0), QEvent::MouseButtonPress, click, Qt::LeftButton);
        mouse(view.panel(0), QEvent::MouseButtonRelease, click, Qt::NoButton);
        for (int i = 0; i < 3; ++i) QCOMPARE(view.panel(i)->anchor(), expected);
        // Unlinked, a rotation stays in its panel.
        view.setCamerasLinked(false);
        const Camera3D before = view.panel(1)->camera3d();
        drag(view.panel(0), centre, centre + QPointF(-40, 10));
        QVERIFY(!view.panel(0)->camera3d().rotation.isApprox(before.rotation));
        QCOMPARE(view.panel(1)->camera3d(), before);
        // The grid renders each panel on the sphere: the sphere's surface at the cell's centre.
        const QSize size(1200, 500);
        const QImage image = view.renderImage(size);
        for (int i = 0; i < 3; ++i) {
            const QRect cell = ComparisonView::cellRect(i, 3, size, ComparisonLayout::Auto);
            QVERIFY(sameColor(image.pixel(cell.left() + 2, cell.top() + 2), comparisonPanelColor(i)));
            const QRgb middlePixel = image.pixel(cell.center().x(), cell.top() + ComparisonPanelView::kTitleHeight +
                                                                      (cell.height() - ComparisonPanelView::kTitleHeight) / 2);
            QVERIFY2(QColor(middlePixel) != QColor(Qt::white), "no sphere in a 3D panel");
        }
    }

    void aSavedSphereCameraReopens() {
        ComparisonPage page;
        page.resize(1500, 900);
        QString error;
        QVERIFY2(page.open(sphere(), &error), qPrintable(error));
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QSignalSpy reached(page.controller(), &ComparisonController::reachedStep);
        page.controller()->runToStep(2);
        QVERIFY(reached.wait(30000));
        // The file's camera, not the fitted front view.
        const Camera3D camera = page.view()->panel(0)->camera3d();
        QVERIFY(camera.rotation.isApprox(Eigen::Quaterniond(0.95, 0.2, 0.23, 0.0).normalized()));
        QCOMPARE(camera.worldRadius, 1.8);
        // Turned and saved, it comes back as turned.
        const Camera3D turned = camera.turned(0.5);
        for (int i = 0; i < page.view()->panelCount(); ++i) page.view()->panel(i)->setCamera3D(turned);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sphere.json"));
        QVERIFY2(page.saveFile(path, &error), qPrintable(error));
        const auto reopened = loadComparison(path, &error);
        QVERIFY2(reopened, qPrintable(error));
        const ViewSettings settings = viewSettingsFromJson(reopened->view);
        QVERIFY(settings.camera3d);
        QVERIFY(settings.camera3d->rotation.isApprox(turned.rotation, 1e-12));
    }

    void theSettingsFormEditsCopiesAndRemovesPanels() {
        ComparisonPage page;
        page.resize(1400, 900);
        QString error;
        QVERIFY2(page.open(mining(), &error), qPrintable(error));
        const std::vector<TrainerConfig> before = page.comparison().trainers();
        page.setSettingsPanel(1);
        QCOMPARE(page.settingsPanel(), 1);
        // The form shows panel 2's loss and miner; the shared data, batch and seed are hidden.
        ControlPanel* form = page.panelControls();
        QComboBox* loss = nullptr;
        QComboBox* miner = nullptr;
        for (QComboBox* box : form->findChildren<QComboBox*>()) {
            if (box->findData(QStringLiteral("contrastive")) >= 0) loss = box;
            if (box->findData(QStringLiteral("batch_hard")) >= 0) miner = box;
        }
        QVERIFY(loss && miner);
        QCOMPARE(loss->currentData().toString(), QString::fromStdString(before[1].loss.name));
        QCOMPARE(miner->currentData().toString(), QString::fromStdString(before[1].miner->name));
        for (QComboBox* box : form->findChildren<QComboBox*>())
            if (box->findData(QStringLiteral("blobs")) >= 0) QVERIFY(!box->isVisibleTo(form));
        // Choosing another loss there changes panel 2 only, and restarts every panel at step 0.
        loss->setCurrentIndex(loss->findData(QStringLiteral("contrastive")));
        QCOMPARE(page.comparison().panels[1].trainer.loss.name, std::string("contrastive"));
        for (int i : {0, 2, 3})
            QVERIFY(json::toJson(page.comparison().panels[static_cast<std::size_t>(i)].trainer.loss) ==
                    json::toJson(before[static_cast<std::size_t>(i)].loss));
        QCOMPARE(page.controller()->currentStep(), 0L);
        QCOMPARE(page.settingsPanel(), 1);  // the form stays on the edited panel
        // "Copy to" gives another panel these settings.
        QComboBox* target = nullptr;
        for (QComboBox* box : page.findChildren<QComboBox*>())
            if (box->count() == 3 && box->itemData(0).toInt() == 0 && box->itemText(0).startsWith(QStringLiteral("panel")))
                target = box;
        QVERIFY(target);
        target->setCurrentIndex(target->findData(3));
        QPushButton* copy = nullptr;
        QPushButton* remove = nullptr;
        for (QPushButton* button : page.findChildren<QPushButton*>()) {
            if (button->text() == QStringLiteral("Copy to")) copy = button;
            if (button->text() == QStringLiteral("Remove this panel")) remove = button;
        }
        QVERIFY(copy && remove);
        copy->click();
        QCOMPARE(page.comparison().panels[3].trainer.loss.name, std::string("contrastive"));
        QVERIFY(json::toJson(page.comparison().panels[3].trainer.miner.value()) ==
                json::toJson(page.comparison().panels[1].trainer.miner.value()));
        // Remove the panel shown: three remain, the fourth moved up.
        remove->click();
        QCOMPARE(page.comparison().panels.size(), std::size_t{3});
        QCOMPARE(page.view()->panelCount(), 3);
        QCOMPARE(page.comparison().panels[2].trainer.loss.name, std::string("contrastive"));
        QVERIFY(json::toJson(page.comparison().panels[1].trainer.loss) == json::toJson(before[2].loss));
    }

    void aBadComparisonFileIsRefusedWithAMessage() {
        QTemporaryDir dir;
        const QString deep = dir.filePath(QStringLiteral("deep.json"));
        QFile file(deep);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(100000, '['));
        file.close();
        QString error;
        QVERIFY(!loadComparison(deep, &error));
        QVERIFY2(error.contains(QStringLiteral("deep.json")) && error.contains(QStringLiteral("nest")), qPrintable(error));
        QVERIFY(!loadComparison(dir.path(), &error));
        QVERIFY2(error.contains(QStringLiteral("not a regular file")), qPrintable(error));
    }

    void runToStepStopsEveryPanelAtTheSameStep() {
        const ComparisonFile c = mining();
        ComparisonController controller;
        controller.setStepsPerFrame(7);  // 23 is not a multiple: the last chunk must be cut short
        controller.restart(c.trainers());
        QSignalSpy reached(&controller, &ComparisonController::reachedStep);
        QSignalSpy states(&controller, &ComparisonController::stateChanged);
        controller.runToStep(23);
        QVERIFY(controller.isPlaying());
        QVERIFY(reached.wait(30000));
        QCOMPARE(reached.front().at(0).toLongLong(), 23LL);
        QVERIFY(!controller.isPlaying());
        QCOMPARE(controller.currentStep(), 23L);
        for (const auto& s : controller.state()->group.panels) QCOMPARE(s->step, 23L);
        // Every state shown on the way had all panels at one step, and never past the target.
        for (const auto& args : states) {
            const auto state = args.at(0).value<std::shared_ptr<const ComparisonState>>();
            QVERIFY(state->step <= 23);
            for (const auto& s : state->group.panels) QCOMPARE(s->step, state->step);
        }
        // Nothing more arrives while paused.
        const qsizetype count = states.count();
        QTest::qWait(100);
        QCOMPARE(states.count(), count);
        // The panels equal the group stepped alone to 23.
        TrainerGroup reference(c.trainers());
        const GroupSnapshot expected = reference.step(23);
        for (std::size_t p = 0; p < expected.panels.size(); ++p)
            QVERIFY(controller.state()->group.panels[p]->positions == expected.panels[p]->positions);
        // On to 30 from there, and a target already passed only reports where it is.
        controller.runToStep(30);
        QVERIFY(reached.wait(30000));
        QCOMPARE(controller.currentStep(), 30L);
        controller.runToStep(10);
        QCOMPARE(reached.count(), 3);
        QCOMPARE(reached.back().at(0).toLongLong(), 30LL);
        QCOMPARE(controller.currentStep(), 30L);
    }

    void aDivergedPanelStopsWhileTheOthersPlayOn() {
        ComparisonFile c = mining();
        c.panels.resize(2);
        c.panels[1].trainer.optimizer.kind = OptimizerKind::Sgd;
        c.panels[1].trainer.optimizer.learningRate = 1e300;
        ComparisonController controller;
        QSignalSpy diverged(&controller, &ComparisonController::panelDiverged);
        QSignalSpy reached(&controller, &ComparisonController::reachedStep);
        controller.restart(c.trainers());
        controller.runToStep(12);
        QVERIFY(reached.wait(30000));
        QCOMPARE(diverged.count(), 1);  // once, not on every chunk
        QCOMPARE(diverged.front().at(0).toInt(), 1);
        const auto state = controller.state();
        QCOMPARE(state->step, 12L);
        QCOMPARE(state->group.panels[0]->step, 12L);
        QVERIFY(state->group.panels[0]->status == TrainStatus::Running);
        QVERIFY(state->group.panels[1]->status == TrainStatus::Diverged);
        QVERIFY(state->group.panels[1]->positions.allFinite());
        // A reconfigured panel recovers and catches up with the others.
        TrainerConfig fixed = c.panels[1].trainer;
        fixed.optimizer.learningRate = 0.1;
        QSignalSpy states(&controller, &ComparisonController::stateChanged);
        controller.reconfigurePanel(1, fixed);
        QVERIFY(states.wait(30000));
        controller.runToStep(15);
        QVERIFY(reached.wait(30000));
        QCOMPARE(controller.state()->group.panels[1]->step, 15L);
        QVERIFY(controller.state()->group.panels[1]->status == TrainStatus::Running);
    }

    // A panel training a sum of losses: the loss chart draws each weighted term under the total,
    // in the panel's colour with the term's dash pattern, and a key names the terms.
    void chartsDrawTheTermsOfASumOfLosses() {
        ComparisonPage page;
        QString error;
        ComparisonFile c = mining();
        c.panels[1].trainer.loss = LossConfig("multiple_losses", {}, std::nullopt,
                                              {LossComponent{LossConfig("triplet_margin"), 1.0},
                                               LossComponent{LossConfig("contrastive"), 0.5}});
        c.panels[1].titleGiven = false;
        QVERIFY2(page.open(c, &error), qPrintable(error));
        const auto& terms = page.charts()->terms();
        QCOMPARE(terms.size(), c.panels.size());
        QVERIFY(terms[0].empty());
        const std::vector<std::string> expected =
            describeRun(c.panels[1].trainer.loss, c.panels[1].trainer.miner).componentTitles;
        QCOMPARE(terms[1].size(), std::size_t{2});
        for (std::size_t k = 0; k < 2; ++k) QCOMPARE(terms[1][k], QString::fromStdString(expected[k]));

        // Painted by hand: a total of 2 whose terms are 1.5 and 0.5 on every step.
        std::vector<HistoryPoint> run;
        for (long step = 0; step <= 10; ++step) {
            HistoryPoint p;
            p.step = step;
            p.loss = 2.0;
            p.component1 = 1.5;
            p.component2 = 0.5;
            run.push_back(p);
        }
        const std::vector<HistoryPoint> none;
        auto paint = [&](bool withTerms) {
            QImage image(QSize(1200, 260), QImage::Format_RGB32);
            image.fill(Qt::white);
            QPainter painter(&image);
            ComparisonCharts::Input input;
            input.runs = {&run};
            input.ghosts = {&none};
            input.titles = {QStringLiteral("sum")};
            if (withTerms)
                input.terms = {{QStringLiteral("1 × triplet"), QStringLiteral("0.5 × contrastive")}};
            ComparisonCharts::paintCharts(painter, QRectF(0, 0, 1200, 260), input);
            return image;
        };
        const QRectF loss = ComparisonCharts::chartRects(QRectF(0, 0, 1200, 260))[0];
        // Rows of the loss chart holding the panel's colour, below the key's rows.
        auto colouredRows = [&](const QImage& image) {
            std::vector<int> rows;
            for (int y = static_cast<int>(loss.top() + loss.height() * 0.4);
                 y < static_cast<int>(loss.bottom()); ++y)
                for (int x = static_cast<int>(loss.left()); x < static_cast<int>(loss.right()); ++x)
                    if (sameColor(image.pixel(x, y), comparisonPanelColor(0), 30)) {
                        rows.push_back(y);
                        break;
                    }
            return rows;
        };
        // Without terms the y range is [0, 2] and the lower part of the chart holds no curve; with
        // them the 0.5 term is drawn a quarter of the way up and the 1.5 term above the middle.
        const QImage withTerms = paint(true), without = paint(false);
        QVERIFY(colouredRows(without).empty());
        QVERIFY(!colouredRows(withTerms).empty());
        int keyInk = 0;  // the key's text, top left of the plot
        for (int y = static_cast<int>(loss.top()); y < static_cast<int>(loss.top() + loss.height() * 0.4);
             ++y)
            for (int x = static_cast<int>(loss.left()); x < static_cast<int>(loss.right()); ++x)
                keyInk += withTerms.pixel(x, y) != without.pixel(x, y);
        QVERIFY(keyInk > 50);
    }

    void chartsKeepAGhostOfThePreviousRun() {
        const ComparisonFile c = mining();
        ComparisonCharts charts;
        charts.resize(1200, 260);
        std::vector<QString> titles;
        for (const auto& p : c.panels) titles.push_back(QString::fromStdString(p.title));
        charts.setPanels(titles);
        TrainerGroup group(c.trainers());
        charts.append(stateOf(group, 0));
        for (int i = 0; i < 5; ++i) charts.append(stateOf(group, 2));
        QCOMPARE(charts.history(0).size(), std::size_t{6});
        // Without the ghost a restart forgets the curves.
        charts.clear();
        QVERIFY(charts.ghost(0).empty());
        QVERIFY(charts.history(0).empty());
        // With it, the old curves stay (faint) while the new run draws.
        TrainerGroup again(c.trainers());
        charts.append(stateOf(again, 0));
        charts.append(stateOf(again, 4));
        charts.setGhostEnabled(true);
        charts.clear();
        QCOMPARE(charts.ghost(2).points().size(), std::size_t{2});
        QCOMPARE(charts.ghost(2).points().back().step, 4L);
        QVERIFY(charts.history(2).empty());
        // Painted: every panel's colour appears in the loss chart, with the log scale on too.
        charts.append(stateOf(again, 0));
        charts.append(stateOf(again, 3));
        charts.setLogScale(true);
        QImage image(QSize(1200, 260), QImage::Format_RGB32);
        image.fill(Qt::white);
        {
            QPainter painter(&image);
            ComparisonCharts::Input input;
            std::vector<std::vector<HistoryPoint>> runs(4), ghosts(4);
            for (int p = 0; p < 4; ++p) {
                runs[static_cast<std::size_t>(p)] = charts.history(p).points();
                ghosts[static_cast<std::size_t>(p)] = charts.ghost(p).points();
                input.runs.push_back(&runs[static_cast<std::size_t>(p)]);
                input.ghosts.push_back(&ghosts[static_cast<std::size_t>(p)]);
            }
            input.titles = titles;
            input.logScale = true;
            ComparisonCharts::paintCharts(painter, QRectF(0, 0, 1200, 260), input);
        }
        const QRectF loss = ComparisonCharts::chartRects(QRectF(0, 0, 1200, 260))[0];
        for (int p = 0; p < 4; ++p) {
            bool found = false;
            for (int y = static_cast<int>(loss.top()); y < static_cast<int>(loss.bottom()) && !found; ++y)
                for (int x = static_cast<int>(loss.left()); x < static_cast<int>(loss.right()) && !found; ++x)
                    found = sameColor(image.pixel(x, y), comparisonPanelColor(p), 24);  // anti-aliased curves
            QVERIFY2(found, qPrintable(QStringLiteral("panel %1's loss curve is missing").arg(p)));
        }
        // Turning the ghost off forgets it.
        charts.setGhostEnabled(false);
        QVERIFY(charts.ghost(0).empty());
    }
};

QTEST_MAIN(ComparisonTest)
#include "comparison_test.moc"

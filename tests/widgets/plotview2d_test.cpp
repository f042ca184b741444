// SPDX-License-Identifier: MIT
// PlotView2D is input and camera only (its pictures are the render library's, tested in
// tests/render): mouse and keys turn into anchor selection, edit requests and camera moves.
#include "plotview2d.h"

#include "classpalette.h"

#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>

using namespace marginlab;

namespace {

constexpr QSize kSize(400, 300);

/// Two classes left and right of the origin, and one class-1 point inside class 0.
std::shared_ptr<Snapshot> tinySnapshot() {
    auto s = std::make_shared<Snapshot>();
    s->positions = Points(5, 2);
    s->positions << -1.0, 0.0, -1.0, 0.5, 1.0, 0.0, 1.0, -0.5, -1.3, -0.2;
    s->labels = {0, 0, 1, 1, 1};
    s->numClasses = 2;
    return s;
}

}  // namespace

class PlotView2DTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_view = std::make_unique<PlotView2D>();
        m_view->resize(kSize);
        LossConfig loss;
        loss.name = "triplet_margin";
        loss.params.numbers["margin"] = 1.0;
        loss.distance = DistanceSpec::lp(1, false);
        m_view->setRun(describeRun(loss, std::nullopt));
        m_view->setSnapshot(tinySnapshot());
        m_view->setCamera({QPointF(0, 0), 100.0});  // world (x, y) → pixel (200 + 100x, 150 − 100y)
    }

    void cameraMapsWorldToPixels() {
        QCOMPARE(m_view->toScreen(QPointF(-1.0, 0.0)), QPointF(100.0, 150.0));
        QCOMPARE(m_view->toWorld(QPointF(300.0, 50.0)), QPointF(1.0, 1.0));
    }

    void mouseEditsAreRequested() {
        QSignalSpy added(m_view.get(), &PlotView2D::pointAddRequested);
        QSignalSpy moved(m_view.get(), &PlotView2D::pointMoveRequested);
        QSignalSpy removed(m_view.get(), &PlotView2D::pointRemoveRequested);
        // Ctrl+click on empty space asks for a point there (world (0.5, 1.0) = pixel (250, 50)).
        send(QEvent::MouseButtonPress, QPointF(250, 50), Qt::LeftButton, Qt::ControlModifier);
        send(QEvent::MouseButtonRelease, QPointF(250, 50), Qt::NoButton, Qt::ControlModifier);
        QCOMPARE(added.count(), 1);
        QCOMPARE(added.front().at(0).toPointF(), QPointF(0.5, 1.0));
        // Dragging point 2 (pixel (300, 150)) to pixel (320, 130) asks to move it to (1.2, 0.2),
        // and the frame draws it there meanwhile.
        send(QEvent::MouseButtonPress, QPointF(300, 150), Qt::LeftButton);
        send(QEvent::MouseMove, QPointF(320, 130), Qt::LeftButton);
        QCOMPARE(m_view->frame().drag.point, 2);
        Renderer2D renderer;
        Frame2D frame = m_view->frame();
        frame.size = kSize;
        QCOMPARE(renderer.image(frame).pixelColor(320, 130), ClassPalette::color(1));
        send(QEvent::MouseButtonRelease, QPointF(320, 130), Qt::NoButton);
        QCOMPARE(moved.count(), 1);
        QCOMPARE(moved.front().at(0).toInt(), 2);
        QVERIFY((moved.front().at(1).toPointF() - QPointF(1.2, 0.2)).manhattanLength() < 1e-9);
        QCOMPARE(m_view->anchor(), -1);  // a drag is not a click
        QCOMPARE(m_view->frame().drag.point, -1);
        // A click selects point 3 as the anchor; Delete asks to remove it.
        send(QEvent::MouseButtonPress, QPointF(300, 200), Qt::LeftButton);
        send(QEvent::MouseButtonRelease, QPointF(300, 200), Qt::NoButton);
        QCOMPARE(m_view->anchor(), 3);
        QTest::keyClick(m_view.get(), Qt::Key_Delete);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(removed.front().at(0).toInt(), 3);
        QCOMPARE(m_view->anchor(), -1);
    }

    void clickingEmptySpaceClearsTheAnchorUnlessItOnlyTookTheFocus() {
        m_view->setAnchor(0);
        QCOMPARE(m_view->anchor(), 0);
        // The press that brings the keyboard focus to the canvas keeps the overlay.
        QFocusEvent focusIn(QEvent::FocusIn, Qt::MouseFocusReason);
        QCoreApplication::sendEvent(m_view.get(), &focusIn);
        send(QEvent::MouseButtonPress, QPointF(200, 40), Qt::LeftButton);
        send(QEvent::MouseButtonRelease, QPointF(200, 40), Qt::NoButton);
        QCOMPARE(m_view->anchor(), 0);
        // A second click on empty space clears it.
        send(QEvent::MouseButtonPress, QPointF(200, 40), Qt::LeftButton);
        send(QEvent::MouseButtonRelease, QPointF(200, 40), Qt::NoButton);
        QCOMPARE(m_view->anchor(), -1);
    }

    void anchorWithoutPositiveUsesTheHardest() {
        QSignalSpy anchored(m_view.get(), &PlotView2D::anchorChanged);
        m_view->setAnchor(0);
        QCOMPARE(anchored.count(), 1);
        QCOMPARE(anchored.front().at(1).toInt(), 1);  // the only same-class point
        QCOMPARE(m_view->overlay().query.hard, 1);
    }

    void dragPansAndStopsFollowing() {
        ViewOptions options = m_view->options();
        options.followData = true;
        m_view->setOptions(options);
        m_view->setCamera({QPointF(0, 0), 100.0});
        QSignalSpy optionsChanged(m_view.get(), &PlotView2D::optionsChanged);
        send(QEvent::MouseButtonPress, QPointF(200, 40), Qt::LeftButton);
        send(QEvent::MouseMove, QPointF(250, 40), Qt::LeftButton);
        send(QEvent::MouseButtonRelease, QPointF(250, 40), Qt::NoButton);
        QVERIFY(std::abs(m_view->camera().center.x() - (-0.5)) < 1e-12);  // dragged 50 px = 0.5 right
        QVERIFY(!m_view->options().followData);  // a manual pan turns following off
        QVERIFY(optionsChanged.count() >= 1);
    }

    void followEasesTowardsPointsThatLeaveThePicture() {
        ViewOptions options = m_view->options();
        options.followData = true;
        m_view->setOptions(options);
        m_view->setCamera({QPointF(0, 0), 100.0});
        auto far = tinySnapshot();
        far->positions *= 10.0;  // everything now spans x ∈ [−13, 10]: far outside the picture
        m_view->setSnapshot(far);
        QVERIFY(m_view->camera().pixelsPerUnit < 100.0);  // zooming out
        for (int i = 0; i < 60; ++i) m_view->setSnapshot(far);
        const QRectF visible = m_view->camera().visibleWorld(kSize);
        QVERIFY(visible.contains(QPointF(-13.0, -2.0)) && visible.contains(QPointF(10.0, 5.0)));
    }

    void fixedForceScaleIsCalibratedOnceFromTheFirstForces() {
        auto s = tinySnapshot();
        s->gradient = Points::Zero(5, 2);
        s->gradient(0, 0) = 0.5;
        ViewOptions options = m_view->options();
        options.forceScaleMode = ViewOptions::ForceScale::Fixed;
        options.forcePixelsPerUnit = 0.0;
        m_view->setOptions(options);
        m_view->setSnapshot(s);
        QCOMPARE(m_view->options().forcePixelsPerUnit, 80.0);  // the longest arrow (0.5) is 40 px
        auto weaker = tinySnapshot();
        weaker->gradient = s->gradient * 0.1;
        m_view->setSnapshot(weaker);
        QCOMPARE(m_view->options().forcePixelsPerUnit, 80.0);  // kept: arrows shrink as forces die away
    }

private:
    void send(QEvent::Type type, QPointF at, Qt::MouseButtons buttons, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
        QMouseEvent event(type, at, m_view->mapToGlobal(at), type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton,
                          buttons, modifiers);
        QCoreApplication::sendEvent(m_view.get(), &event);
    }

    std::unique_ptr<PlotView2D> m_view;
};

QTEST_MAIN(PlotView2DTest)
#include "plotview2d_test.moc"

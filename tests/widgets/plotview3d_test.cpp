// SPDX-License-Identifier: MIT
// PlotView3D is input and camera only (its pictures are Renderer3D's, tested in tests/render):
// mouse and keys turn into camera moves, anchor selection and move requests.
#include "plotview3d.h"

#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>
#include <cmath>

using namespace marginlab;
using Eigen::Vector3d;

namespace {

constexpr QSize kSize(400, 300);

}  // namespace

class PlotView3DTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_view = std::make_unique<PlotView3D>();
        m_view->resize(kSize);
        auto s = std::make_shared<Snapshot>();
        s->positions = Points(4, 3);
        // 0 and 1 on the same line of sight (front view): 1 is in front.
        s->positions << 0.3, 0.2, -0.9, 0.3, 0.2, 0.9, -0.6, -0.3, 0.5, 0.0, -0.8, 0.5;
        s->labels = {0, 0, 1, 0};
        s->numClasses = 2;
        LossConfig loss;
        loss.name = "triplet_margin";
        m_view->setRun(describeRun(loss, std::nullopt));
        m_view->setSnapshot(s);
        Camera3D camera;
        camera.worldRadius = 1.0;  // 400×300: 126 px per unit, origin at (200, 150)
        m_view->setCamera(camera);
    }

    void dragOnEmptySpaceRotatesByTheArcball() {
        const Camera3D start = m_view->camera();
        const QPointF from(150, 200), to(190, 170);
        send(QEvent::MouseButtonPress, from, Qt::LeftButton);
        send(QEvent::MouseMove, QPointF(170, 185), Qt::LeftButton);
        send(QEvent::MouseMove, to, Qt::LeftButton);
        send(QEvent::MouseButtonRelease, to, Qt::NoButton);
        const Camera3D expected = start.arcball(from, to, kSize);
        QVERIFY(m_view->camera().rotation.isApprox(expected.rotation, 1e-12));
        QVERIFY(!m_view->camera().rotation.isApprox(start.rotation, 1e-3));  // guard: it did turn
        QCOMPARE(m_view->anchor(), -1);
    }

    void clickPicksTheFrontMostPointAndShiftClickThePositive() {
        QSignalSpy anchors(m_view.get(), &PlotView3D::anchorChanged);
        const QPointF at = m_view->camera().project(Vector3d(0.3, 0.2, 0.9), kSize).screen;
        click(at);
        QCOMPARE(m_view->anchor(), 1);
        QCOMPARE(anchors.count(), 1);
        // Turned half way round, point 0 is in front at the same place.
        m_view->setCamera(m_view->camera().rotatedInView(Vector3d::UnitY(), std::numbers::pi));
        m_view->setAnchor(-1);
        click(m_view->camera().project(Vector3d(0.3, 0.2, -0.9), kSize).screen);
        QCOMPARE(m_view->anchor(), 0);
        click(m_view->camera().project(Vector3d(0.3, 0.2, 0.9), kSize).screen +
              QPointF(20, 0));  // empty: clears
        QCOMPARE(m_view->anchor(), -1);
        // Shift+click: the positive (point 3, of the anchor's class).
        click(m_view->camera().project(Vector3d(0.0, -0.8, 0.5), kSize).screen, Qt::ShiftModifier);
        QCOMPARE(m_view->anchor(), 3);  // no anchor yet: a Shift+click picks the anchor
        m_view->setAnchor(0);
        click(m_view->camera().project(Vector3d(0.0, -0.8, 0.5), kSize).screen, Qt::ShiftModifier);
        QCOMPARE(m_view->anchor(), 0);
        QCOMPARE(m_view->frame().selection.positive, 3);
    }

    void draggingAPointRequestsAMoveOverItsSphere() {
        QSignalSpy moved(m_view.get(), &PlotView3D::pointMoveRequested3D);
        const Vector3d p(-0.6, -0.3, 0.5);
        const QPointF from = m_view->camera().project(p, kSize).screen, to = from + QPointF(30, -20);
        send(QEvent::MouseButtonPress, from, Qt::LeftButton);
        send(QEvent::MouseMove, to, Qt::LeftButton);
        QCOMPARE(m_view->frame().drag.point, 2);
        send(QEvent::MouseButtonRelease, to, Qt::NoButton);
        QCOMPARE(moved.count(), 1);
        QCOMPARE(moved.front().at(0).toInt(), 2);
        const QVector3D target = moved.front().at(1).value<QVector3D>();
        const Vector3d expected = *m_view->camera().unprojectToSphere(to, kSize, p.norm());
        QVERIFY(std::abs(target.x() - expected.x()) < 1e-6 && std::abs(target.y() - expected.y()) < 1e-6 &&
                std::abs(target.z() - expected.z()) < 1e-6);
        QVERIFY(std::abs(double(target.length()) - p.norm()) < 1e-6);  // kept its distance from the origin
        QCOMPARE(m_view->frame().drag.point, -1);
    }

    void ctrlClickOnTheSphereRequestsAPoint() {
        QSignalSpy added(m_view.get(), &PlotView3D::pointAddRequested3D);
        const Camera3D start = m_view->camera();
        const QPointF at(180, 120);  // view (−0.16, 0.24): on the sphere, no point near
        QCOMPARE(Renderer3D::pick(m_view->frame(), at), -1);
        send(QEvent::MouseButtonPress, at, Qt::LeftButton, Qt::ControlModifier);
        send(QEvent::MouseButtonRelease, at, Qt::NoButton, Qt::ControlModifier);
        QCOMPARE(added.count(), 1);
        const QVector3D p = added.front().at(0).value<QVector3D>();
        const Vector3d expected = *start.unprojectToSphere(at, kSize);
        QVERIFY(std::abs(p.x() - expected.x()) < 1e-6 && std::abs(p.y() - expected.y()) < 1e-6 &&
                std::abs(p.z() - expected.z()) < 1e-6);
        QVERIFY(expected.z() > 0.9);
        // Off the sphere nothing is asked.
        send(QEvent::MouseButtonPress, QPointF(5, 5), Qt::LeftButton, Qt::ControlModifier);
        send(QEvent::MouseButtonRelease, QPointF(5, 5), Qt::NoButton, Qt::ControlModifier);
        QCOMPARE(added.count(), 1);
        QVERIFY(m_view->camera() == start);
    }

    void keysAndWheelMoveTheCamera() {
        const double zoom = m_view->camera().zoom;
        QTest::keyClick(m_view.get(), Qt::Key_Plus);
        QVERIFY(std::abs(m_view->camera().zoom - zoom * 1.2) < 1e-12);
        QTest::keyClick(m_view.get(), Qt::Key_2);
        QVERIFY((m_view->camera().toView(Vector3d::UnitY()) - Vector3d::UnitZ()).norm() < 1e-12);
        QTest::keyClick(m_view.get(), Qt::Key_1);
        QVERIFY(m_view->camera().rotation.isApprox(Eigen::Quaterniond::Identity(), 1e-12));
        QTest::keyClick(m_view.get(), Qt::Key_Right);
        QVERIFY((m_view->camera().toView(Vector3d::UnitY()) - Vector3d::UnitY()).norm() < 1e-12);
        QVERIFY(!m_view->camera().rotation.isApprox(Eigen::Quaterniond::Identity(), 1e-3));
        // 3: along the anchor's class (its points' mean direction for a tuple loss).
        m_view->setAnchor(2);
        QTest::keyClick(m_view.get(), Qt::Key_3);
        const Vector3d mean = Vector3d(-0.6, -0.3, 0.5).normalized();  // class 1 is point 2 alone
        QVERIFY((m_view->camera().toView(mean) - Vector3d::UnitZ()).norm() < 1e-12);
        QTest::keyClick(m_view.get(), Qt::Key_0);
        QVERIFY(m_view->camera().rotation.isApprox(Eigen::Quaterniond::Identity(), 1e-12));
        QCOMPARE(m_view->camera().zoom, 1.0);
        QWheelEvent wheel(QPointF(200, 150), m_view->mapToGlobal(QPointF(200, 150)), QPoint(), QPoint(0, 120),
                          Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(m_view.get(), &wheel);
        QVERIFY(std::abs(m_view->camera().zoom - std::pow(1.0015, 120)) < 1e-12);
    }

    void turntableTurnsAboutTheVerticalAxis() {
        QVERIFY(!m_view->turntable());
        QTest::keyClick(m_view.get(), Qt::Key_T);
        QVERIFY(m_view->turntable());
        QSignalSpy changed(m_view.get(), &PlotView3D::cameraChanged);
        QVERIFY(changed.wait(1000));
        QVERIFY((m_view->camera().toView(Vector3d::UnitY()) - Vector3d::UnitY()).norm() < 1e-12);
        QVERIFY(!m_view->camera().rotation.isApprox(Eigen::Quaterniond::Identity(), 1e-6));
        QTest::keyClick(m_view.get(), Qt::Key_T);
        QVERIFY(!m_view->turntable());
    }

    void deleteRequestsRemovalAndTrailsFollowSnapshots() {
        QSignalSpy removed(m_view.get(), &PlotView3D::pointRemoveRequested);
        m_view->setAnchor(3);
        QTest::keyClick(m_view.get(), Qt::Key_Delete);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(removed.front().at(0).toInt(), 3);
        QCOMPARE(m_view->anchor(), -1);
        m_view->setTrailLength(2);
        auto next = std::make_shared<Snapshot>(*m_view->snapshot());
        for (int k = 0; k < 3; ++k) {
            next = std::make_shared<Snapshot>(*next);
            next->positions *= 1.1;
            m_view->setSnapshot(next);
        }
        QCOMPARE(static_cast<int>(m_view->frame().trail.size()), 2);
        QVERIFY(m_view->frame().trail.back().isApprox(next->positions / 1.1));
    }

private:
    void send(QEvent::Type type, QPointF at, Qt::MouseButtons buttons,
              Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
        QMouseEvent event(type, at, m_view->mapToGlobal(at),
                          type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton, buttons, modifiers);
        QCoreApplication::sendEvent(m_view.get(), &event);
    }
    void click(QPointF at, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
        send(QEvent::MouseButtonPress, at, Qt::LeftButton, modifiers);
        send(QEvent::MouseButtonRelease, at, Qt::NoButton, modifiers);
    }

    std::unique_ptr<PlotView3D> m_view;
};

QTEST_MAIN(PlotView3DTest)
#include "plotview3d_test.moc"

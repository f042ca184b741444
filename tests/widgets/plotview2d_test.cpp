// SPDX-License-Identifier: MIT
// PlotView2D renders a fixed tiny scene offscreen; the test reads pixels at known positions.
#include "chartspanel.h"
#include "classpalette.h"
#include "plotview2d.h"

#include <QImage>
#include <QTest>

#include <cmath>

using namespace marginlab;

namespace {

constexpr QSize kSize(400, 300);

/// Two classes left and right of the origin, and one class-1 point inside class 0 (a hard negative).
TrainerConfig tinyScene() {
    TrainerConfig config;
    config.points = Points(5, 2);
    config.points << -1.0, 0.0,   // 0: the anchor
        -1.0, 0.5,                // 1: its only positive (d_ap = 0.5)
        1.0, 0.0,                 // 2: easy negative
        1.0, -0.5,                // 3: easy negative
        -1.3, -0.2;               // 4: hard negative (d_an ≈ 0.36 < 0.5)
    config.labels = {0, 0, 1, 1, 1};
    config.numClasses = 2;
    config.loss.name = "triplet_margin";
    config.loss.params.numbers["margin"] = 1.0;
    config.loss.distance = DistanceSpec::lp(1, false);
    return config;
}

int colorDistance(QColor a, QColor b) {
    return std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) + std::abs(a.blue() - b.blue());
}

}  // namespace

class PlotView2DTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_view = std::make_unique<PlotView2D>();
        m_view->resize(kSize);
        m_view->setConfig(tinyScene(), false);
        m_view->setView(QPointF(0, 0), 100.0);  // world (x, y) → pixel (200 + 100x, 150 − 100y)
    }

    void screenTransformIsAsExpected() {
        QCOMPARE(m_view->toScreen(QPointF(-1.0, 0.0), kSize), QPointF(100.0, 150.0));
        QCOMPARE(m_view->toWorld(QPointF(300.0, 50.0), kSize), QPointF(1.0, 1.0));
    }

    void pointHasItsClassColour() {
        const QImage image = m_view->renderImage(kSize);
        QCOMPARE(image.pixelColor(100, 150), ClassPalette::color(0));  // point 0
        QCOMPARE(image.pixelColor(300, 200), ClassPalette::color(1));  // point 3 at (1, −0.5)
    }

    void backgroundShowsNearestCentroidRegion() {
        const QImage image = m_view->renderImage(kSize);
        // World (−1.5, −1.2): nearest to the class-0 centroid; (1.5, −1.2): to class 1.
        QCOMPARE(image.pixelColor(50, 270), ClassPalette::background(0));
        QCOMPARE(image.pixelColor(350, 270), ClassPalette::background(1));
        m_view->setShowRegions(false);
        QCOMPARE(m_view->renderImage(kSize).pixelColor(50, 270), QColor(Qt::white));
    }

    void classWeightsColourTheBackgroundByCosine() {
        TrainerConfig config = tinyScene();
        config.loss = LossConfig{"normalized_softmax", {}, std::nullopt};
        QVERIFY(findLoss("normalized_softmax"));
        m_view->setConfig(config, false);
        m_view->setView(QPointF(0, 0), 100.0);
        auto snapshot = std::make_shared<Snapshot>();
        snapshot->positions = config.points;
        snapshot->owned = Points(2, 2);
        snapshot->owned << 0.0, 3.0,  // W_0 points up
            0.0, -0.5;                // W_1 points down (its length does not matter)
        m_view->setSnapshot(snapshot);
        const QImage image = m_view->renderImage(kSize);
        QCOMPARE(image.pixelColor(350, 70), ClassPalette::background(0));   // world (1.5, 0.8)
        QCOMPARE(image.pixelColor(350, 260), ClassPalette::background(1));  // world (1.5, −1.1)
    }

    void tripletOverlayClassifiesNegatives() {
        m_view->setAnchor(0);
        const TripletOverlay& overlay = m_view->overlay();
        QVERIFY(overlay.valid);
        QCOMPARE(overlay.positive, 1);  // the hardest (only) positive
        QCOMPARE(overlay.query.hard, 1);
        QCOMPARE(overlay.query.semiHard, 0);
        QCOMPARE(overlay.query.easy, 2);
        QCOMPARE(overlay.query.regions[4], Region::Hard);
        QCOMPARE(overlay.query.regions[2], Region::Easy);
        QVERIFY(std::abs(overlay.hardRadius - 0.5) < 1e-12);
        QVERIFY(std::abs(overlay.ringRadius - 1.5) < 1e-12);
    }

    void tripletOverlayPaintsDiskAndRing() {
        m_view->setAnchor(0);
        const QImage image = m_view->renderImage(kSize);
        const QColor plain = ClassPalette::background(0);
        // World (−1.7, −0.5), 0.86 from the anchor: in the semi-hard ring (0.5 … 1.5).
        const QColor ring = image.pixelColor(30, 200);
        QVERIFY2(colorDistance(ring, ClassPalette::semiHardColor()) < colorDistance(plain, ClassPalette::semiHardColor()),
                 qPrintable(ring.name()));
        // World (−1.25, 0), 0.25 from the anchor: in the hard disk.
        const QColor disk = image.pixelColor(75, 150);
        QVERIFY2(colorDistance(disk, ClassPalette::hardColor()) < colorDistance(plain, ClassPalette::hardColor()),
                 qPrintable(disk.name()));
        QVERIFY(disk != ring);
        // Far outside the ring the background is untouched.
        QCOMPARE(image.pixelColor(350, 270), ClassPalette::background(1));
    }

    void shiftChoosesAnotherPositive() {
        m_view->setAnchor(0, 2);  // not the anchor's class: falls back to the hardest positive
        QCOMPARE(m_view->overlay().positive, 1);
        m_view->setAnchor(-1);
        QVERIFY(!m_view->overlay().valid);
    }

    void viewSettingsRoundTrip() {
        m_view->setAnchor(0);
        m_view->setForceScale(2.5);
        const auto settings = m_view->viewSettings();
        PlotView2D other;
        other.resize(kSize);
        other.setConfig(tinyScene(), true);
        other.applyViewSettings(settings);
        QCOMPARE(other.anchor(), 0);
        QCOMPARE(other.forceScale(), 2.5);
        QCOMPARE(other.center(), m_view->center());
        QCOMPARE(other.pixelsPerUnit(), 100.0);
    }

    void chartsDecimateLongHistories() {
        QList<QPointF> history;
        for (int i = 0; i < 5000; ++i) history.append(QPointF(i, i * 0.5));
        const QList<QPointF> small = ChartsPanel::decimate(history.mid(0, 10), 1000);
        QCOMPARE(small.size(), 10);
        const QList<QPointF> decimated = ChartsPanel::decimate(history, 1000);
        QCOMPARE(decimated.size(), 1000);
        QCOMPARE(decimated.front(), history.front());
        QCOMPARE(decimated.back(), history.back());
    }

private:
    std::unique_ptr<PlotView2D> m_view;
};

QTEST_MAIN(PlotView2DTest)
#include "plotview2d_test.moc"

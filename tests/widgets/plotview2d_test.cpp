// SPDX-License-Identifier: MIT
// PlotView2D renders a fixed tiny scene offscreen; the test reads pixels at known positions.
#include "chartspanel.h"
#include "classpalette.h"
#include "plotview2d.h"
#include "viewexport.h"

#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QTemporaryDir>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>

#include <cmath>
#include <map>

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
        ViewOptions options = m_view->options();
        options.showRegions = false;
        m_view->setOptions(options);
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

    /// Two class weights at right angles (W_0 along +x, W_1 along +y) for a softmax-family loss.
    void showClassWeights(const std::string& loss, std::map<std::string, double, std::less<>> params,
                          double lengthW0 = 1.0) {
        TrainerConfig config = tinyScene();
        config.loss = LossConfig{loss, {}, std::nullopt};
        config.loss.params.numbers = std::move(params);
        m_view->setConfig(config, false);
        m_view->setView(QPointF(0, 0), 100.0);
        auto snapshot = std::make_shared<Snapshot>();
        snapshot->positions = config.points;
        snapshot->owned = Points(2, 2);
        snapshot->owned << lengthW0, 0.0, 0.0, 1.0;
        m_view->setSnapshot(snapshot);
    }

    /// How many degrees of the arc of radius 1.2 between the two weights are striped (margin band).
    int bandDegrees() {
        const QImage image = m_view->renderImage(kSize);
        int striped = 0;
        for (int degree = 1; degree < 90; ++degree) {
            const double a = degree * M_PI / 180.0;
            const QColor c = image.pixelColor(m_view->toScreen(QPointF(1.2 * std::cos(a), 1.2 * std::sin(a)), kSize).toPoint());
            striped += c.red() == c.green() && c.green() == c.blue() && c.red() < 230;
        }
        return striped;
    }

    void marginBandIsStripedAndWidensWithTheMargin() {
        // CosFace: a sample of the winning class c is inside the band while cos θ_c − m ≤ cos θ_other,
        // i.e. within asin(m/√2) of the 45° bisector: ±8.1° for m = 0.2, ±16.4° for m = 0.4.
        showClassWeights("cosface", {{"margin", 0.2}, {"scale", 64.0}});
        const int narrow = bandDegrees();
        QVERIFY2(std::abs(narrow - 16) <= 2, qPrintable(QString::number(narrow)));
        const QImage image = m_view->renderImage(kSize);
        QCOMPARE(image.pixelColor(m_view->toScreen(QPointF(1.2, 0.05), kSize).toPoint()), ClassPalette::background(0));
        showClassWeights("cosface", {{"margin", 0.4}, {"scale", 64.0}});
        const int wide = bandDegrees();
        QVERIFY2(std::abs(wide - 33) <= 2, qPrintable(QString::number(wide)));
        // No margin, no band.
        showClassWeights("normalized_softmax", {});
        QCOMPARE(bandDegrees(), 0);
    }

    void smallerScaleFadesTheBoundary() {
        // Same margin, lower scale: more of the arc is faded towards grey by the softmax's doubt.
        auto faded = [&](double scale) {
            showClassWeights("arcface", {{"margin", 10.0}, {"scale", scale}});
            const QImage image = m_view->renderImage(kSize);
            int count = 0;
            for (int degree = 1; degree < 90; ++degree) {
                const double a = degree * M_PI / 180.0;
                const QColor c = image.pixelColor(m_view->toScreen(QPointF(1.2 * std::cos(a), 1.2 * std::sin(a)), kSize).toPoint());
                count += c != ClassPalette::background(0) && c != ClassPalette::background(1);
            }
            return count;
        };
        QVERIFY(faded(4.0) > faded(64.0) + 10);
    }

    void plainSoftmaxRegionsFollowTheWeightNorms() {
        // w_0 = (3, 0), w_1 = (0, 1): at 60° the logits are 3·cos 60° = 1.5 against sin 60° ≈ 0.87,
        // so class 0 wins although the direction is nearer to w_1.
        showClassWeights("softmax", {}, 3.0);
        const QImage image = m_view->renderImage(kSize);
        const QColor at60 = image.pixelColor(m_view->toScreen(QPointF(1.2 * 0.5, 1.2 * 0.866), kSize).toPoint());
        QVERIFY(colorDistance(at60, ClassPalette::background(0)) < colorDistance(at60, ClassPalette::background(1)));
        const QColor at85 = image.pixelColor(m_view->toScreen(QPointF(1.2 * 0.087, 1.2 * 0.996), kSize).toPoint());
        QVERIFY(colorDistance(at85, ClassPalette::background(1)) < colorDistance(at85, ClassPalette::background(0)));
    }

    void marginInsetPlotsTheTargetCurve() {
        const QSize big(800, 600);
        m_view->resize(big);
        showClassWeights("arcface", {{"margin", 28.6}, {"scale", 64.0}});
        auto curvePixels = [&] {
            const QImage image = m_view->renderImage(big);
            int count = 0;
            for (int x = big.width() - 258; x < big.width() - 12; ++x)
                for (int y = big.height() - 196; y < big.height() - 26; ++y)
                    count += colorDistance(image.pixelColor(x, y), QColor(20, 60, 160)) < 40;
            return count;
        };
        QVERIFY(curvePixels() > 150);
        ViewOptions options = m_view->options();
        options.showMarginInset = false;
        m_view->setOptions(options);
        QCOMPARE(curvePixels(), 0);
    }

    void diagnosisBannerLeavesTheInsetVisible() {
        const QSize big(800, 600);
        m_view->resize(big);
        showClassWeights("arcface", {{"margin", 28.6}, {"scale", 64.0}});
        const QImage calm = m_view->renderImage(big);
        auto stuck = std::make_shared<Snapshot>(*m_view->snapshot());
        stuck->deadGradient = true;
        m_view->setSnapshot(stuck);
        const QImage flagged = m_view->renderImage(big);
        int bannerPixels = 0, insetChanged = 0;
        for (int x = 0; x < big.width(); ++x)
            for (int y = big.height() - 200; y < big.height(); ++y) {
                const bool differs = calm.pixel(x, y) != flagged.pixel(x, y);
                const bool inInset = x >= big.width() - 258 && y >= big.height() - 196 && y < big.height() - 26;
                (inInset ? insetChanged : bannerPixels) += differs;
            }
        QVERIFY(bannerPixels > 2000);
        QCOMPARE(insetChanged, 0);
    }

    void nearestNeighbourRegionsFollowSinglePoints() {
        // World (−1.3, −0.35) is next to point 4 (class 1) but nearer to the class-0 centroid.
        const QPoint probe = m_view->toScreen(QPointF(-1.3, -0.35), kSize).toPoint();
        QCOMPARE(m_view->renderImage(kSize).pixelColor(probe), ClassPalette::background(0));
        ViewOptions options = m_view->options();
        options.nearestNeighbourRegions = true;
        m_view->setOptions(options);
        QCOMPARE(m_view->renderImage(kSize).pixelColor(probe), ClassPalette::background(1));
        QCOMPARE(m_view->renderImage(kSize).pixelColor(350, 270), ClassPalette::background(1));
    }

    void send(QEvent::Type type, QPointF at, Qt::MouseButtons buttons, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
        QMouseEvent event(type, at, m_view->mapToGlobal(at), type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton,
                          buttons, modifiers);
        QCoreApplication::sendEvent(m_view.get(), &event);
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
        // and draws it there meanwhile.
        send(QEvent::MouseButtonPress, QPointF(300, 150), Qt::LeftButton);
        send(QEvent::MouseMove, QPointF(320, 130), Qt::LeftButton);
        QCOMPARE(m_view->renderImage(kSize).pixelColor(320, 130), ClassPalette::color(1));
        send(QEvent::MouseButtonRelease, QPointF(320, 130), Qt::NoButton);
        QCOMPARE(moved.count(), 1);
        QCOMPARE(moved.front().at(0).toInt(), 2);
        QVERIFY((moved.front().at(1).toPointF() - QPointF(1.2, 0.2)).manhattanLength() < 1e-9);
        QCOMPARE(m_view->anchor(), -1);  // a drag is not a click
        // A click selects point 3 as the anchor; Delete asks to remove it.
        send(QEvent::MouseButtonPress, QPointF(300, 200), Qt::LeftButton);
        send(QEvent::MouseButtonRelease, QPointF(300, 200), Qt::NoButton);
        QCOMPARE(m_view->anchor(), 3);
        QTest::keyClick(m_view.get(), Qt::Key_Delete);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(removed.front().at(0).toInt(), 3);
        QCOMPARE(m_view->anchor(), -1);
    }

    void splitForcesDrawAttractionAndRepulsionApart() {
        auto snapshot = std::make_shared<Snapshot>(*m_view->snapshot());
        snapshot->gradient = Points::Zero(5, 2);
        snapshot->gradient.row(0) << 0.5, -1.0;  // force (−0.5, 1): up and to the left
        snapshot->gradientFromPositives = Points::Zero(5, 2);
        snapshot->gradientFromPositives.row(0) << 0.0, -1.0;  // attraction straight up, repulsion left
        m_view->setSnapshot(snapshot);
        ViewOptions options = m_view->options();
        options.showRegions = false;
        options.splitForces = true;
        m_view->setOptions(options);
        const QImage split = m_view->renderImage(kSize);
        // Point 0 is at pixel (100, 150); the longest arrow (the attraction, |1|) is 40 px.
        auto blueish = [](QColor c) { return c.blue() > c.red() + 60; };
        auto reddish = [](QColor c) { return c.red() > c.blue() + 60; };
        QVERIFY(blueish(split.pixelColor(100, 138)));
        QVERIFY(reddish(split.pixelColor(88, 150)));
        // Unsplit: one dark arrow along the total force, nothing straight up or straight left.
        options.splitForces = false;
        m_view->setOptions(options);
        const QImage total = m_view->renderImage(kSize);
        QVERIFY(!blueish(total.pixelColor(100, 138)));
        QVERIFY(!reddish(total.pixelColor(88, 150)));
        const QColor along = total.pixelColor(91, 132);  // (100, 150) + t·(−0.5, −1)·… on the total arrow
        QVERIFY2(along.red() < 200 && std::abs(along.red() - along.blue()) < 30, qPrintable(along.name()));
    }

    void exportWritesPngAndSvgAndRefusesTheRest() {
        QTemporaryDir dir;
        QString error;
        const QString png = dir.filePath(QStringLiteral("view.png"));
        QVERIFY2(exportView(*m_view, png, kSize, &error), qPrintable(error));
        const QImage written(png);
        QCOMPARE(written.size(), kSize);
        QCOMPARE(written.pixelColor(100, 150), ClassPalette::color(0));  // point 0, as rendered
        QCOMPARE(written.pixelColor(50, 270), ClassPalette::background(0));

        const QString svg = dir.filePath(QStringLiteral("view.svg"));
        QVERIFY2(exportView(*m_view, svg, kSize, &error), qPrintable(error));
        QFile file(svg);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY(text.contains("<svg"));
        QVERIFY(text.contains("Triplet margin"));  // the read-out is vector text

        QVERIFY(!exportView(*m_view, dir.filePath(QStringLiteral("view.bmp")), kSize, &error));
        QVERIFY(error.contains(QStringLiteral(".png or .svg")));
        QVERIFY(!exportView(*m_view, dir.filePath(QStringLiteral("missing/dir/view.png")), kSize, &error));
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("view.bmp"))));
    }

    void labelsArrivingBeforeTheEditedPointsDrawSafely() {
        Labels longer = tinyScene().labels;
        longer.push_back(1);
        m_view->setLabels(longer);  // 6 labels, 5 positions until the next snapshot
        const QImage image = m_view->renderImage(kSize);
        QCOMPARE(image.pixelColor(100, 150), ClassPalette::color(0));
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
        ViewOptions options = m_view->options();
        options.forceScale = 2.5;
        options.nearestNeighbourRegions = true;
        options.showMarginInset = false;
        m_view->setOptions(options);
        const auto settings = m_view->viewSettings();
        PlotView2D other;
        other.resize(kSize);
        other.setConfig(tinyScene(), true);
        other.applyViewSettings(settings);
        QCOMPARE(other.anchor(), 0);
        QVERIFY(other.options() == options);
        QCOMPARE(other.center(), m_view->center());
        QCOMPARE(other.pixelsPerUnit(), 100.0);
    }

    void diagnosisNamesTheMostUrgentProblem() {
        auto state = std::make_shared<Snapshot>(*m_view->snapshot());
        state->step = 40;
        m_view->setSnapshot(state);
        QCOMPARE(m_view->diagnosis().kind, Diagnosis::Kind::None);
        const QImage healthy = m_view->renderImage(kSize);

        state = std::make_shared<Snapshot>(*state);
        state->metrics.step = 40;
        state->metrics.collapse = 0.5;  // shrinking, but not collapsed
        m_view->setSnapshot(state);
        QCOMPARE(m_view->diagnosis().kind, Diagnosis::Kind::None);
        state = std::make_shared<Snapshot>(*state);
        state->metrics.collapse = 0.05;
        m_view->setSnapshot(state);
        QCOMPARE(m_view->diagnosis().kind, Diagnosis::Kind::Collapse);
        QVERIFY(m_view->diagnosis().title.contains(QStringLiteral("5.0%")));

        state = std::make_shared<Snapshot>(*state);
        state->deadGradient = true;
        m_view->setSnapshot(state);
        QCOMPARE(m_view->diagnosis().kind, Diagnosis::Kind::DeadGradient);
        QVERIFY(m_view->diagnosis().sentence.contains(QStringLiteral("margin")));  // triplet advice

        state = std::make_shared<Snapshot>(*state);
        state->status = TrainStatus::Diverged;
        m_view->setSnapshot(state);
        QCOMPARE(m_view->diagnosis().kind, Diagnosis::Kind::Diverged);

        // The banner is painted at the bottom centre of the canvas, where the healthy run shows none.
        const QImage flagged = m_view->renderImage(kSize);
        int changed = 0;
        for (int x = 40; x < kSize.width() - 40; ++x)
            for (int y = kSize.height() - 90; y < kSize.height() - 24; ++y)
                changed += healthy.pixel(x, y) != flagged.pixel(x, y);
        QVERIFY2(changed > 2000, qPrintable(QString::number(changed)));
    }

    void aStuckTripletRunIsDiagnosedAsDead() {
        // Margin 0.05 on two far-apart groups: every triplet is easy from the start.
        TrainerConfig config = tinyScene();
        config.points << -1.0, 0.0, -1.0, 0.1, 5.0, 0.0, 5.0, 0.1, 5.0, -0.1;
        config.loss.params.numbers["margin"] = 0.05;
        Trainer trainer(config);
        m_view->setConfig(config, false);
        m_view->setSnapshot(trainer.step(1));
        QCOMPARE(m_view->diagnosis().kind, Diagnosis::Kind::DeadGradient);
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

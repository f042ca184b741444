// SPDX-License-Identifier: MIT
// The loss-specific overlays of the 2D renderer, each asked from the catalogue (RunInfo): painted
// into images with no widget, read back at positions computed here from the overlay's definition,
// and compared with the same frame without the overlay so that a missing overlay fails.
// The camera maps world (x, y) to pixel (w/2 + 100x, h/2 − 100y).
#include <QGuiApplication>
#include <QImage>
#include <QTest>
#include <cmath>
#include <numbers>

#include "chartstrip.h"
#include "classpalette.h"
#include "frame2d.h"
#include "marginlab/loss_pictures.h"
#include "marginlab/runinfo.h"
#include "renderer2d.h"

using namespace marginlab;

namespace {

constexpr QSize kSize(800, 600);

Frame2D frameOf(std::shared_ptr<const Snapshot> snapshot, const LossConfig& loss) {
    Frame2D frame;
    frame.snapshot = std::move(snapshot);
    frame.run = describeRun(loss, std::nullopt);
    frame.camera.center = QPointF(0, 0);
    frame.camera.pixelsPerUnit = 100.0;
    frame.size = kSize;
    frame.options.showRegions = false;  // plain white behind the overlays, so greys can be read
    return frame;
}

QPoint pixelOf(const Frame2D& frame, QPointF world) {
    const QPointF p = frame.camera.toScreen(world, QSizeF(frame.size));
    return {static_cast<int>(std::floor(p.x())), static_cast<int>(std::floor(p.y()))};
}

/// Mean grey level (0 black … 255 white) over a circle of `radius` world units around `center`,
/// sampled at 360 angles inside the lower half-plane of the frame, away from the points above.
double meanGreyOnCircle(const QImage& image, const Frame2D& frame, QPointF center, double radius) {
    double sum = 0.0;
    int count = 0;
    for (int degree = 200; degree < 340; ++degree) {
        const double a = degree * std::numbers::pi / 180.0;
        const QPoint p = pixelOf(frame, center + radius * QPointF(std::cos(a), std::sin(a)));
        if (!image.rect().contains(p)) continue;
        sum += qGray(image.pixel(p));
        ++count;
    }
    return count ? sum / count : 255.0;
}

/// How many of 140 directions (200°…340°) have a dark pixel (grey ≤ 120: darker than
/// an axis line over the band) within ±2 px of radius r.
int darkDirections(const QImage& image, const Frame2D& frame, QPointF center, double radius) {
    int dark = 0;
    for (int degree = 200; degree < 340; ++degree) {
        const double a = degree * std::numbers::pi / 180.0;
        bool found = false;
        for (int offset = -2; offset <= 2 && !found; ++offset) {
            const double r = radius + offset / frame.camera.pixelsPerUnit;
            const QPoint p = pixelOf(frame, center + r * QPointF(std::cos(a), std::sin(a)));
            found = image.rect().contains(p) && qGray(image.pixel(p)) <= 120;
        }
        dark += found;
    }
    return dark;
}

/// The anchor at the origin and its classmates and negatives all above the x axis, so the lower
/// half of every ring around the anchor is empty paper.
std::shared_ptr<Snapshot> anchorAtOrigin() {
    auto s = std::make_shared<Snapshot>();
    s->positions = Points(5, 2);
    s->positions << 0.0, 0.0,  // 0: the anchor
        0.3, 0.1,              // 1: positive
        -0.2, 0.2,             // 2: positive
        1.8, 0.5,              // 3: negative
        -1.7, 0.9;             // 4: negative
    s->labels = {0, 0, 0, 1, 1};
    s->numClasses = 2;
    return s;
}

/// anchorAtOrigin() moved off the origin, for losses that normalize (a zero row has no direction).
std::shared_ptr<Snapshot> offOrigin() {
    auto s = anchorAtOrigin();
    s->positions.col(0).array() += 0.4;
    s->positions.col(1).array() += 0.3;
    return s;
}

LossConfig marginLoss(const std::string& name, double margin, double beta) {
    LossConfig loss;
    loss.name = name;
    loss.params.numbers["margin"] = margin;
    loss.params.numbers["beta"] = beta;
    loss.distance = DistanceSpec::lp(1, false);  // raw Euclidean: the rings are world circles
    return loss;
}

}  // namespace

class LossOverlaysTest : public QObject {
    Q_OBJECT

private slots:
    void marginLossDrawsTheBetaRingAndBandAroundTheAnchor() {
        Frame2D frame = frameOf(anchorAtOrigin(), marginLoss("margin", 0.3, 1.2));
        QVERIFY(frame.run.distanceBand);
        frame.selection.anchor = 0;
        const QImage image = Renderer2D().image(frame);
        Frame2D without = frame;
        without.selection.anchor = -1;
        const QImage plain = Renderer2D().image(without);
        const QPointF origin(0, 0);
        // The band between β − margin = 0.9 and β + margin = 1.5 is shaded, outside it is not.
        const double inBand = meanGreyOnCircle(image, frame, origin, 1.05);
        QVERIFY2(inBand < 240.0, qPrintable(QString::number(inBand)));
        QVERIFY2(meanGreyOnCircle(image, frame, origin, 0.75) > inBand + 15.0,
                 "inside the band is not lighter");
        QVERIFY2(meanGreyOnCircle(image, frame, origin, 1.7) > inBand + 15.0,
                 "outside the band is not lighter");
        QVERIFY(meanGreyOnCircle(plain, without, origin, 1.05) > inBand + 15.0);
        // The β ring (dash-dot) and the two band edges are dark lines at their radii.
        QVERIFY2(darkDirections(image, frame, origin, 1.2) > 60,
                 qPrintable(QString::number(darkDirections(image, frame, origin, 1.2))));
        QVERIFY(darkDirections(image, frame, origin, 0.9) > 120);
        QVERIFY(darkDirections(image, frame, origin, 1.5) > 120);
        QCOMPARE(darkDirections(plain, without, origin, 1.2), 0);
        QCOMPARE(darkDirections(image, frame, origin, 1.35), 0);  // between the ring and the outer edge
    }

    void learnedBetaRingUsesTheAnchorClassBeta() {
        auto s = anchorAtOrigin();
        s->owned = Points(2, 2);
        s->owned << 0.7, 0.0,  // β of class 0 (the anchor's)
            1.6, 0.0;          // β of class 1
        Frame2D frame = frameOf(s, marginLoss("margin_learn_beta", 0.1, 1.2));
        QVERIFY(frame.run.distanceBand && frame.run.distanceBand->boundaryPerClass);
        frame.selection.anchor = 0;
        const QImage image = Renderer2D().image(frame);
        QVERIFY(darkDirections(image, frame, QPointF(0, 0), 0.6) > 120);  // β_0 − margin
        QVERIFY(darkDirections(image, frame, QPointF(0, 0), 0.8) > 120);  // β_0 + margin
        QCOMPARE(darkDirections(image, frame, QPointF(0, 0), 1.1), 0);    // not the initial β's band
        QCOMPARE(darkDirections(image, frame, QPointF(0, 0), 1.3), 0);
        QCOMPARE(darkDirections(image, frame, QPointF(0, 0), 1.6), 0);  // nor class 1's β
    }

    void lossesWithoutABandDrawNoRing() {
        LossConfig triplet;
        triplet.name = "triplet_margin";
        triplet.distance = DistanceSpec::lp(1, false);
        Frame2D frame = frameOf(anchorAtOrigin(), triplet);
        QVERIFY(!frame.run.distanceBand);
        frame.selection.anchor = 0;
        QCOMPARE(darkDirections(Renderer2D().image(frame), frame, QPointF(0, 0), 1.2), 0);
    }

    void everyCenterOfEveryClassIsDrawnAndScoresItsClass() {
        // SoftTriple, C = 2, K = 10: row k·C + c is center k of class c. Every center of class 0
        // points along (1, 0.2), every center of class 1 along (−1, 0), except center 5 of class 1,
        // which points up: the regions above belong to class 1 only through that minor center.
        auto s = std::make_shared<Snapshot>();
        s->positions = Points(4, 2);
        s->positions << 2.0, -0.3, 2.0, -0.6, -2.0, -0.3, -2.0, -0.6;
        s->labels = {0, 0, 1, 1};
        s->numClasses = 2;
        s->owned = Points(20, 2);
        for (int k = 0; k < 10; ++k) {
            s->owned.row(2 * k) << 1.0, 0.2;
            s->owned.row(2 * k + 1) << -1.0, 0.0;
        }
        s->owned.row(2 * 5 + 1) << 0.0, 2.0;  // drawn at its direction, on the unit circle
        LossConfig loss;
        loss.name = "soft_triple";
        Frame2D frame = frameOf(s, loss);
        QCOMPARE(frame.run.centersPerClass(), 10);
        frame.options.showRegions = true;
        const QImage image = Renderer2D().image(frame);
        // The minor center's marker sits at (0, 1) in class 1's colour; class 0's at its direction.
        QCOMPARE(image.pixelColor(pixelOf(frame, QPointF(0.0, 1.0)) + QPoint(0, 1)), ClassPalette::color(1));
        const QPointF w0 = QPointF(1.0, 0.2) / std::hypot(1.0, 0.2);
        QCOMPARE(image.pixelColor(pixelOf(frame, w0) + QPoint(0, 1)), ClassPalette::color(0));
        // Direction (0.2, 1) is nearest to that minor center: class 1's region, though class 1's
        // first center (the only one a one-weight-per-class view would use) points the other way.
        QCOMPARE(image.pixelColor(pixelOf(frame, QPointF(0.3, 1.5))), ClassPalette::background(1));
        QCOMPARE(image.pixelColor(pixelOf(frame, QPointF(1.5, -1.2))), ClassPalette::background(0));
        // Without the minor center, that direction is class 0's.
        auto moved = std::make_shared<Snapshot>(*s);
        moved->owned.row(2 * 5 + 1) << -1.0, 0.0;
        frame.snapshot = moved;
        const QImage plain = Renderer2D().image(frame);
        QCOMPARE(plain.pixelColor(pixelOf(frame, QPointF(0.3, 1.5))), ClassPalette::background(0));
        QVERIFY(plain.pixelColor(pixelOf(frame, QPointF(0.0, 1.0)) + QPoint(0, 1)) != ClassPalette::color(1));
    }

    void subCentersAreDrawnForEachClass() {
        auto s = std::make_shared<Snapshot>();
        s->positions = Points(4, 2);
        s->positions << 2.0, -0.3, 2.0, -0.6, -2.0, -0.3, -2.0, -0.6;
        s->labels = {0, 0, 1, 1};
        s->numClasses = 2;
        s->owned = Points(6, 2);  // K = 3 sub-centers, row k·C + c
        s->owned << 1, 0, -1, 0, 0, 1, 0.6, 0.8, 0, -1, -0.6, 0.8;
        LossConfig loss;
        loss.name = "subcenter_arcface";
        const Frame2D frame = frameOf(s, loss);
        QCOMPARE(frame.run.centersPerClass(), 3);
        const QImage image = Renderer2D().image(frame);
        for (int row = 0; row < 6; ++row) {
            const QPointF at(s->owned(row, 0), s->owned(row, 1));
            QCOMPARE(image.pixelColor(pixelOf(frame, at) + QPoint(0, 1)), ClassPalette::color(row % 2));
        }
    }

    // ------------------------------------------------------------------- the loss pictures

    void rankedListStripMarksPositivesAtTheirRanks() {
        auto s = offOrigin();
        LossConfig loss;
        loss.name = "fast_ap";
        Frame2D frame = frameOf(s, loss);
        QVERIFY(frame.run.picture.kind == LossPicture::Kind::RankedList);
        frame.selection.anchor = 0;
        const QImage image = Renderer2D().image(frame);
        const auto ranked = rankedNeighbours(s->positions, s->labels, 0, frame.run.distance);
        QCOMPARE(ranked.size(), std::size_t(4));
        // The card sits where the θ inset would (300 × 200, 12 px from the right, 30 from the bottom).
        const QRectF box(kSize.width() - 312.0, kSize.height() - 230.0, 300.0, 200.0);
        const QRectF strip(box.left() + 8, box.bottom() - 26, box.width() - 16, 18);
        int blue = 0;
        for (std::size_t r = 0; r < ranked.size(); ++r) {
            const double x = strip.left() + strip.width() * (r + 0.5) / ranked.size();
            // Only positive ticks reach the top of the strip.
            const QColor top =
                image.pixelColor(static_cast<int>(std::floor(x)), static_cast<int>(strip.top() + 3));
            if (ranked[r].positive) {
                QVERIFY2(top.blue() > top.red() + 60, qPrintable(top.name()));
                ++blue;
            } else {
                QVERIFY2(top.blue() < 200 || top.red() > 200, qPrintable(top.name()));  // no blue tick
                const QColor low =
                    image.pixelColor(static_cast<int>(std::floor(x)), static_cast<int>(strip.bottom() - 3));
                QVERIFY2(low.red() > low.blue() + 60, qPrintable(low.name()));
            }
        }
        QCOMPARE(blue, 2);
        frame.selection.anchor = -1;  // no anchor, no list
        QCOMPARE(Renderer2D().image(frame).pixelColor(static_cast<int>(strip.left() + strip.width() / 8),
                                                      static_cast<int>(strip.top() + 3)),
                 QColor(Qt::white));
    }

    void pairHistogramsDrawTheLossThresholds() {
        LossConfig loss;
        loss.name = "threshold_consistent_margin";
        loss.params.numbers = {{"margin_plus", 0.6}, {"margin_minus", -0.4}};
        Frame2D frame = frameOf(anchorAtOrigin(), loss);
        QVERIFY(frame.run.picture.kind == LossPicture::Kind::PairHistograms);
        const QImage image = Renderer2D().image(frame);
        const QRectF box(kSize.width() - 312.0, kSize.height() - 230.0, 300.0, 200.0);
        const QRectF plot = box.adjusted(10, 40, -10, -22);
        // Cosine similarities span [−1, 1]: margin_plus at 80 % of the plot, margin_minus at 30 %.
        auto dashedColumn = [&](const QImage& img, double value, bool positive) {
            const int x = static_cast<int>(std::lround(plot.left() + plot.width() * (value + 1.0) / 2.0));
            int hits = 0;
            for (int y = static_cast<int>(plot.top()); y < static_cast<int>(plot.bottom()); ++y)
                for (int dx = -1; dx <= 1; ++dx) {
                    const QColor p = img.pixelColor(x + dx, y);
                    hits += positive ? p.blue() > p.red() + 50 && p.blue() < 200
                                     : p.red() > p.blue() + 50 && p.red() < 200;
                }
            return hits;
        };
        QVERIFY2(dashedColumn(image, 0.6, true) > 20,
                 qPrintable(QString::number(dashedColumn(image, 0.6, true))));
        QVERIFY2(dashedColumn(image, -0.4, false) > 20,
                 qPrintable(QString::number(dashedColumn(image, -0.4, false))));
        frame.options.showMarginInset = false;
        QCOMPARE(dashedColumn(Renderer2D().image(frame), 0.6, true), 0);
    }

    void softNeighbourRingsHaveTheAreaOfTheirProbability() {
        auto s = anchorAtOrigin();
        LossConfig loss;
        loss.name = "nca";
        loss.params.numbers["softmax_scale"] = 0.3;  // flat enough for the far neighbour's ring to be seen
        loss.distance = DistanceSpec::lp(2, false);
        Frame2D frame = frameOf(s, loss);
        frame.selection.anchor = 0;
        const QImage image = Renderer2D().image(frame);
        const auto p = softNeighbourProbabilities(s->positions, 0, frame.run.distance, 0.3);
        // Neighbour 3 (a negative, far): a red ring of radius 40·√p around its screen position,
        // looked for below the point, away from the others.
        const double radius = 40.0 * std::sqrt(p[3]);
        QVERIFY(radius > 8.0);
        const QPointF centre = frame.camera.toScreen(QPointF(1.8, 0.5), QSizeF(kSize));
        int red = 0;
        for (int degree = 30; degree < 150; degree += 5) {
            const double a = degree * std::numbers::pi / 180.0;
            for (int dr = -1; dr <= 1; ++dr) {
                const QColor c =
                    image.pixelColor((centre + (radius + dr) * QPointF(std::cos(a), std::sin(a))).toPoint());
                if (c.red() > c.blue() + 60) {
                    ++red;
                    break;
                }
            }
        }
        QVERIFY2(red > 18, qPrintable(QString::number(red)));
        frame.selection.anchor = -1;
        const QImage plain = Renderer2D().image(frame);
        const QColor c = plain.pixelColor((centre + radius * QPointF(0, 1)).toPoint());
        QVERIFY(!(c.red() > c.blue() + 60));
    }

    void snrCardAppearsForTheChosenPair() {
        LossConfig loss;
        loss.name = "snr_contrastive";
        Frame2D frame = frameOf(offOrigin(), loss);
        frame.selection.anchor = 0;
        const QRectF box(kSize.width() - 312.0, kSize.height() - 230.0, 300.0, 200.0);
        // Its three text lines sit at the bottom of the inset's place: some positive-blue text.
        auto bluePixels = [&](const QImage& image) {
            int blue = 0;
            for (int y = static_cast<int>(box.bottom() - 60); y < static_cast<int>(box.bottom()); ++y)
                for (int x = static_cast<int>(box.left()); x < static_cast<int>(box.right()); ++x) {
                    const QColor c = image.pixelColor(x, y);
                    blue += c.blue() > c.red() + 80;
                }
            return blue;
        };
        const int blue = bluePixels(Renderer2D().image(frame));
        QVERIFY2(blue > 30, qPrintable(QString::number(blue)));
        frame.selection.anchor = -1;  // no pair, no card
        QCOMPARE(bluePixels(Renderer2D().image(frame)), 0);
    }

    // A recorded chart strip of multiple_losses draws each weighted term beside the total.
    void chartStripDrawsTheTermsOfASumOfLosses() {
        LossConfig loss{"multiple_losses", {}, std::nullopt, {}};
        loss.components = {{LossConfig{"triplet_margin", {}, std::nullopt, {}}, 1.0},
                           {LossConfig{"arcface", {}, std::nullopt, {}}, 0.5}};
        const RunInfo run = describeRun(loss, std::nullopt);
        QCOMPARE(run.componentTitles.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(run.componentTitles[1]), QStringLiteral("0.5 × ArcFace (additive angular margin)"));
        std::vector<HistoryPoint> history(20);
        for (std::size_t i = 0; i < history.size(); ++i) {
            history[i].step = static_cast<long>(i);
            history[i].component1 = 2.0 - 0.1 * static_cast<double>(i);
            history[i].component2 = 1.0;
            history[i].loss = history[i].component1 + history[i].component2;
        }
        auto paint = [&](const std::vector<std::string>& titles) {
            QImage image(900, 160, QImage::Format_ARGB32_Premultiplied);
            image.fill(Qt::white);
            QPainter painter(&image);
            paintChartStrip(painter, QRectF(0, 0, 900, 160), history, 19, 1.0, titles);
            painter.end();
            return image;
        };
        // Pixels near a term's colour (orange for the first, green for the second), in the loss chart.
        auto count = [](const QImage& image, QColor colour) {
            int n = 0;
            for (int y = 0; y < image.height(); ++y)
                for (int x = 0; x < image.width() / 3; ++x) {
                    const QColor c = image.pixelColor(x, y);
                    n += std::abs(c.red() - colour.red()) + std::abs(c.green() - colour.green()) +
                             std::abs(c.blue() - colour.blue()) < 40;
                }
            return n;
        };
        const QImage plain = paint({});
        const QImage terms = paint(run.componentTitles);
        QCOMPARE(count(plain, QColor(213, 94, 0)), 0);
        QCOMPARE(count(plain, QColor(0, 158, 115)), 0);
        QVERIFY(count(terms, QColor(213, 94, 0)) > 50);
        QVERIFY(count(terms, QColor(0, 158, 115)) > 50);
    }
};

QTEST_MAIN(LossOverlaysTest)
#include "loss_overlays_test.moc"

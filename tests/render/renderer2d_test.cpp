// SPDX-License-Identifier: MIT
// Renderer2D paints frames with no widget at all: snapshots are built by hand (or by a Trainer),
// painted into images, SVG and PDF files, and the tests read pixels and elements at known places.
// The default camera maps world (x, y) to pixel (w/2 + 100x, h/2 − 100y).
#include "camera2d.h"
#include "classpalette.h"
#include "diagnosis.h"
#include "frame2d.h"
#include "frameexport.h"
#include "renderer2d.h"

#include "marginlab/runinfo.h"
#include "marginlab/trainer.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QImage>
#include <QMultiHash>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <map>
#include <numbers>
#include <random>

using namespace marginlab;

namespace {

constexpr QSize kSize(400, 300);
constexpr QSize kBig(800, 600);

/// Two classes left and right of the origin, and one class-1 point inside class 0 (a hard negative).
std::shared_ptr<Snapshot> tinySnapshot() {
    auto s = std::make_shared<Snapshot>();
    s->positions = Points(5, 2);
    s->positions << -1.0, 0.0,  // 0: the anchor
        -1.0, 0.5,              // 1: its only positive (d_ap = 0.5)
        1.0, 0.0,               // 2: easy negative
        1.0, -0.5,              // 3: easy negative
        -1.3, -0.2;             // 4: hard negative (d_an ≈ 0.36 < 0.5)
    s->labels = {0, 0, 1, 1, 1};
    s->numClasses = 2;
    return s;
}

LossConfig tripletLoss(double margin = 1.0) {
    LossConfig loss;
    loss.name = "triplet_margin";
    loss.params.numbers["margin"] = margin;
    loss.distance = DistanceSpec::lp(1, false);
    return loss;
}

Frame2D frameOf(std::shared_ptr<const Snapshot> snapshot, const LossConfig& loss, QSize size = kSize) {
    Frame2D frame;
    frame.snapshot = std::move(snapshot);
    frame.run = describeRun(loss, std::nullopt);
    frame.camera.center = QPointF(0, 0);
    frame.camera.pixelsPerUnit = 100.0;
    frame.size = size;
    return frame;
}

Frame2D tinyFrame(QSize size = kSize) {
    return frameOf(tinySnapshot(), tripletLoss(), size);
}

/// The tiny scene under a softmax-family loss with W_0 = (lengthW0, 0) and W_1 = (0, 1).
Frame2D classWeightFrame(const std::string& loss, std::map<std::string, double, std::less<>> params,
                         double lengthW0 = 1.0) {
    auto s = tinySnapshot();
    s->owned = Points(2, 2);
    s->owned << lengthW0, 0.0, 0.0, 1.0;
    LossConfig config;
    config.name = loss;
    config.params.numbers = std::move(params);
    return frameOf(s, config, kBig);
}

QPointF screenOf(const Frame2D& frame, QPointF world) {
    return frame.camera.toScreen(world, QSizeF(frame.size));
}

/// The pixel holding the screen point of `world`.
QPoint pixelOf(const Frame2D& frame, QPointF world) {
    const QPointF p = screenOf(frame, world);
    return {static_cast<int>(std::floor(p.x())), static_cast<int>(std::floor(p.y()))};
}

QColor colorAt(const QImage& image, QPoint p) {
    return image.pixelColor(p);
}

int colorDistance(QColor a, QColor b) {
    return std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) + std::abs(a.blue() - b.blue());
}

int chroma(QColor c) {
    return std::max({c.red(), c.green(), c.blue()}) - std::min({c.red(), c.green(), c.blue()});
}

QImage render(const Frame2D& frame) {
    return Renderer2D().image(frame);
}

/// The whole degrees of the arc of radius 0.85 between W_0 (0°) and W_1 (90°) that show the margin
/// band's stripes (exactly one of its two greys: the fade and the boundaries blend other colours).
/// The radius keeps the arc off the grid lines, the unit circle and the points.
std::vector<int> bandDegrees(const Frame2D& frame) {
    const QImage image = Renderer2D().image(frame);
    std::vector<int> striped;
    for (int degree = 1; degree < 90; ++degree) {
        const double a = degree * std::numbers::pi / 180.0;
        const QColor c = image.pixelColor(pixelOf(frame, QPointF(0.85 * std::cos(a), 0.85 * std::sin(a))));
        if (c == QColor(196, 196, 196) || c == QColor(228, 228, 228)) striped.push_back(degree);
    }
    return striped;
}

/// Pixels of `image` inside `area` within `tolerance` (sum of channel differences) of `color`.
int countNear(const QImage& image, QRect area, QColor color, int tolerance) {
    int count = 0;
    area = area.intersected(image.rect());
    for (int y = area.top(); y <= area.bottom(); ++y)
        for (int x = area.left(); x <= area.right(); ++x)
            count += colorDistance(image.pixelColor(x, y), color) < tolerance;
    return count;
}

/// N points of `classes` classes spread uniformly over [−3, 3] × [−2.4, 2.4] (seeded).
std::shared_ptr<Snapshot> crowdSnapshot(int n, int classes) {
    auto s = std::make_shared<Snapshot>();
    std::mt19937 random(7);
    std::uniform_real_distribution<double> x(-3.0, 3.0), y(-2.4, 2.4);
    s->positions = Points(n, 2);
    for (int i = 0; i < n; ++i) {
        s->positions(i, 0) = x(random);
        s->positions(i, 1) = y(random);
        s->labels.push_back(i % classes);
    }
    s->numClasses = classes;
    return s;
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

int countOf(const QByteArray& text, const char* what) {
    return static_cast<int>(text.count(what));
}

/// Centres of the SVG's circles and ellipses of a point's radius (4.5 px at text scale 1): the
/// points, which QSvgGenerator writes as <circle cx cy r> (or <ellipse cx cy rx ry>).
std::vector<QPointF> pointShapes(const QByteArray& svg) {
    static const QRegularExpression shape(QStringLiteral(
        "<(?:circle|ellipse)\\s+cx=\"([-0-9.e]+)\"\\s+cy=\"([-0-9.e]+)\"\\s+rx?=\"([-0-9.e]+)\""));
    std::vector<QPointF> centres;
    for (auto it = shape.globalMatch(QString::fromUtf8(svg)); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        if (std::abs(m.captured(3).toDouble() - 4.5) < 1e-3)
            centres.emplace_back(m.captured(1).toDouble(), m.captured(2).toDouble());
    }
    return centres;
}

QSet<QString> filesIn(const QString& directory) {
    QSet<QString> names;
    for (const QString& name : QDir(directory).entryList(QDir::Files)) names.insert(name);
    return names;
}

/// The horizontal extent (first, last column) of the pixels that differ between two images in rows
/// [top, bottom]; (−1, −1) when none do.
std::pair<int, int> changedColumns(const QImage& a, const QImage& b, int top, int bottom) {
    int first = -1, last = -1;
    for (int y = top; y <= bottom; ++y)
        for (int x = 0; x < a.width(); ++x)
            if (a.pixel(x, y) != b.pixel(x, y)) {
                if (first < 0 || x < first) first = x;
                last = std::max(last, x);
            }
    return {first, last};
}

}  // namespace

class Renderer2DTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        // The frames are painted with no widget: a QGuiApplication (fonts), never a QApplication.
        QVERIFY(qobject_cast<QGuiApplication*>(QCoreApplication::instance()));
        QVERIFY(!QCoreApplication::instance()->inherits("QApplication"));
    }

    // ---------------------------------------------------------------- points and class regions

    void pointHasItsClassColour() {
        const Frame2D frame = tinyFrame();
        const QImage image = render(frame);
        QCOMPARE(image.size(), kSize);
        QCOMPARE(pixelOf(frame, QPointF(-1.0, 0.0)), QPoint(100, 150));
        QCOMPARE(image.pixelColor(100, 150), ClassPalette::color(0));  // point 0
        QCOMPARE(image.pixelColor(300, 200), ClassPalette::color(1));  // point 3 at (1, −0.5)
    }

    void backgroundShowsNearestCentroidRegion() {
        Frame2D frame = tinyFrame();
        const QImage image = render(frame);
        // World (−1.5, −1.2): nearest to the class-0 centroid; (1.5, −1.2): to class 1.
        QCOMPARE(image.pixelColor(50, 270), ClassPalette::background(0));
        QCOMPARE(image.pixelColor(350, 270), ClassPalette::background(1));
        frame.options.showRegions = false;
        QCOMPARE(render(frame).pixelColor(50, 270), QColor(Qt::white));
    }

    void voronoiBoundaryIsTheBisectorOfTheCentroids() {
        const Frame2D frame = tinyFrame();
        const QImage image = render(frame);
        const Points& x = frame.snapshot->positions;
        // The centroids, computed here: class 0 of points 0–1, class 1 of points 2–4.
        const QPointF c0((x(0, 0) + x(1, 0)) / 2.0, (x(0, 1) + x(1, 1)) / 2.0);
        const QPointF c1((x(2, 0) + x(3, 0) + x(4, 0)) / 3.0, (x(2, 1) + x(3, 1) + x(4, 1)) / 3.0);
        const QPointF s0 = screenOf(frame, c0), s1 = screenOf(frame, c1);
        const QPointF middle = (s0 + s1) / 2.0;
        const QPointF across =
            (s1 - s0) / std::hypot(s1.x() - s0.x(), s1.y() - s0.y());  // unit, towards class 1
        const QPointF along(-across.y(), across.x());
        // Three places along the bisector, away from the grid, the axes, points, crosses and cards.
        for (double t : {-60.0, 40.0, 100.0}) {
            const QPointF onLine = middle + along * t;
            QVERIFY(onLine.x() > 20 && onLine.x() < kSize.width() - 20 && onLine.y() > 90 &&
                    onLine.y() < kSize.height() - 30);
            for (int side : {-1, 1}) {
                const QPointF p = onLine + across * (3.0 * side);
                const QPoint pixel(static_cast<int>(std::floor(p.x())), static_cast<int>(std::floor(p.y())));
                const QColor expected = ClassPalette::background(side < 0 ? 0 : 1);
                QVERIFY2(image.pixelColor(pixel) == expected,
                         qPrintable(QStringLiteral("t %1 side %2: %3 at (%4, %5)")
                                        .arg(t)
                                        .arg(side)
                                        .arg(image.pixelColor(pixel).name())
                                        .arg(pixel.x())
                                        .arg(pixel.y())));
            }
            // On the bisector itself the anti-aliased grey boundary is drawn.
            const QColor boundary = image.pixelColor(
                QPoint(static_cast<int>(std::floor(onLine.x())), static_cast<int>(std::floor(onLine.y()))));
            QVERIFY2(boundary != ClassPalette::background(0) && boundary != ClassPalette::background(1),
                     qPrintable(boundary.name()));
        }
    }

    void classWeightsColourTheBackgroundByCosine() {
        auto s = tinySnapshot();
        s->owned = Points(2, 2);
        s->owned << 0.0, 3.0,  // W_0 points up
            0.0, -0.5;         // W_1 points down (its length does not matter)
        LossConfig loss;
        loss.name = "normalized_softmax";
        const Frame2D frame = frameOf(s, loss);
        QVERIFY(frame.run.loss);
        QVERIFY(frame.run.hasClassWeights());
        const QImage image = render(frame);
        QCOMPARE(image.pixelColor(350, 70), ClassPalette::background(0));   // world (1.5, 0.8)
        QCOMPARE(image.pixelColor(350, 260), ClassPalette::background(1));  // world (1.5, −1.1)
        QCOMPARE(image.pixelColor(60, 70), ClassPalette::background(0));    // world (−1.4, 0.8)
    }

    void proxyRegionsFollowTheLossDistance() {
        // ProxyNCA predicts the class of the nearest proxy under its own distance. Two proxies in
        // the same direction, p_0 = (0.3, 0) and p_1 = (1.3, 0): with a plain Euclidean distance
        // the boundary is their bisector x = 0.8 (pixel 280); by direction alone p_0 would own
        // the whole plane.
        auto s = tinySnapshot();
        s->owned = Points(2, 2);
        s->owned << 0.3, 0.0, 1.3, 0.0;
        LossConfig loss;
        loss.name = "proxy_nca";
        loss.distance = DistanceSpec::lp(2, false);
        const Frame2D euclidean = frameOf(s, loss);
        QCOMPARE(euclidean.run.regions, ClassRegions::NearestProxy);
        QVERIFY(!euclidean.run.logits);
        const QImage image = render(euclidean);
        QCOMPARE(image.pixelColor(276, 240), ClassPalette::background(0));
        QCOMPARE(image.pixelColor(284, 240), ClassPalette::background(1));
        QCOMPARE(image.pixelColor(320, 90), ClassPalette::background(1));  // world (1.2, 0.6)
        QCOMPARE(image.pixelColor(50, 270), ClassPalette::background(0));
        // Normalized (the default): the proxies' directions decide, and both point along +x.
        loss.distance = DistanceSpec::lp(2, true);
        const Frame2D normalized = frameOf(s, loss);
        QCOMPARE(render(normalized).pixelColor(320, 90), ClassPalette::background(0));
        // An unnormalized dot product: argmax x·p_c, so the proxies' lengths count, as for a plain
        // softmax. p_0 = (3, 0), p_1 = (0, 1): at 60° 3·cos 60° = 1.5 beats sin 60° ≈ 0.87.
        s = std::make_shared<Snapshot>(*s);
        s->owned << 3.0, 0.0, 0.0, 1.0;
        loss.distance = DistanceSpec::dot(false);
        const Frame2D dot = frameOf(s, loss, kBig);
        const QImage dotImage = render(dot);
        const double a60 = std::numbers::pi / 3.0, a85 = 85.0 * std::numbers::pi / 180.0;
        QCOMPARE(colorAt(dotImage, pixelOf(dot, QPointF(1.2 * std::cos(a60), 1.2 * std::sin(a60)))),
                 ClassPalette::background(0));
        QCOMPARE(colorAt(dotImage, pixelOf(dot, QPointF(1.2 * std::cos(a85), 1.2 * std::sin(a85)))),
                 ClassPalette::background(1));
    }

    void marginBandIsStripedAndWidensWithTheMargin() {
        // CosFace: a sample of the winning class c is inside the band while cos θ_c − m ≤ cos θ_other;
        // between W_0 (0°) and W_1 (90°) that is cos a − sin a ≤ m, i.e. a from acos(m/√2) − 45° to
        // its mirror image: 36.87° … 53.13° for m = 0.2, 28.57° … 61.43° for m = 0.4.
        auto check = [&](double margin, double from, double to) {
            const Frame2D frame = classWeightFrame("cosface", {{"margin", margin}, {"scale", 64.0}});
            QVERIFY(frame.run.logits && frame.run.logits->hasMargin);
            const std::vector<int> band = bandDegrees(frame);
            const QString where = QStringLiteral("m %1: %2 degrees, %3 … %4")
                                      .arg(margin)
                                      .arg(band.size())
                                      .arg(band.empty() ? -1 : band.front())
                                      .arg(band.empty() ? -1 : band.back());
            QVERIFY2(std::abs(static_cast<double>(band.size()) - (to - from)) <= 2.0, qPrintable(where));
            QVERIFY2(!band.empty() && band.front() >= from - 1.0 && band.back() <= to + 1.0,
                     qPrintable(where));
            const QImage image = render(frame);
            QCOMPARE(image.pixelColor(pixelOf(frame, QPointF(0.85 * std::cos(0.3), 0.85 * std::sin(0.3)))),
                     ClassPalette::background(0));
            QCOMPARE(image.pixelColor(pixelOf(frame, QPointF(0.85 * std::sin(0.3), 0.85 * std::cos(0.3)))),
                     ClassPalette::background(1));
        };
        const double narrowEdge = std::acos(0.2 / std::numbers::sqrt2) * 180.0 / std::numbers::pi - 45.0;
        const double wideEdge = std::acos(0.4 / std::numbers::sqrt2) * 180.0 / std::numbers::pi - 45.0;
        check(0.2, narrowEdge, 90.0 - narrowEdge);
        check(0.4, wideEdge, 90.0 - wideEdge);
        // The band holds both greys of its stripes.
        const Frame2D frame = classWeightFrame("cosface", {{"margin", 0.2}, {"scale", 64.0}});
        const QImage image = render(frame);
        int dark = 0, light = 0;
        for (int degree = 40; degree <= 50; ++degree)
            for (double r = 1.1; r <= 2.0; r += 0.02) {
                const double a = degree * std::numbers::pi / 180.0;
                const QColor c = image.pixelColor(pixelOf(frame, QPointF(r * std::cos(a), r * std::sin(a))));
                dark += c == QColor(196, 196, 196);
                light += c == QColor(228, 228, 228);
            }
        QVERIFY2(dark > 20 && light > 20, qPrintable(QStringLiteral("%1 %2").arg(dark).arg(light)));
        // No margin, no band.
        QCOMPARE(bandDegrees(classWeightFrame("normalized_softmax", {})).size(), std::size_t{0});
    }

    void smallerScaleFadesTheBoundary() {
        // Same margin, lower scale: more of the arc is faded towards grey by the softmax's doubt.
        auto faded = [&](double scale) {
            const Frame2D frame = classWeightFrame("arcface", {{"margin", 10.0}, {"scale", scale}});
            const QImage image = render(frame);
            int count = 0;
            for (int degree = 1; degree < 90; ++degree) {
                const double a = degree * std::numbers::pi / 180.0;
                const QColor c =
                    colorAt(image, pixelOf(frame, QPointF(1.2 * std::cos(a), 1.2 * std::sin(a))));
                count += c != ClassPalette::background(0) && c != ClassPalette::background(1);
            }
            return count;
        };
        const int soft = faded(4.0), sharp = faded(64.0);
        QVERIFY2(soft > sharp + 10, qPrintable(QStringLiteral("%1 %2").arg(soft).arg(sharp)));
    }

    void plainSoftmaxRegionsFollowTheWeightNorms() {
        // w_0 = (3, 0), w_1 = (0, 1): at 60° the logits are 3·cos 60° = 1.5 against sin 60° ≈ 0.87,
        // so class 0 wins although the direction is nearer to w_1; at 85° class 1 wins.
        const Frame2D frame = classWeightFrame("softmax", {}, 3.0);
        QVERIFY(frame.run.logits && frame.run.logits->weightNorms);
        const QImage image = render(frame);
        for (double radius : {1.2, 2.4}) {
            const double a60 = std::numbers::pi / 3.0, a85 = 85.0 * std::numbers::pi / 180.0;
            const QColor at60 =
                colorAt(image, pixelOf(frame, QPointF(radius * std::cos(a60), radius * std::sin(a60))));
            QVERIFY2(colorDistance(at60, ClassPalette::background(0)) <
                         colorDistance(at60, ClassPalette::background(1)),
                     qPrintable(at60.name()));
            const QColor at85 =
                colorAt(image, pixelOf(frame, QPointF(radius * std::cos(a85), radius * std::sin(a85))));
            QVERIFY2(colorDistance(at85, ClassPalette::background(1)) <
                         colorDistance(at85, ClassPalette::background(0)),
                     qPrintable(at85.name()));
        }
    }

    void nearestNeighbourRegionsFollowSinglePoints() {
        // World (−1.3, −0.35) is next to point 4 (class 1) but nearer to the class-0 centroid.
        Frame2D frame = tinyFrame();
        const QPoint probe = pixelOf(frame, QPointF(-1.3, -0.35));
        QCOMPARE(render(frame).pixelColor(probe), ClassPalette::background(0));
        frame.options.nearestNeighbourRegions = true;
        const QImage nearest = render(frame);
        QCOMPARE(nearest.pixelColor(probe), ClassPalette::background(1));
        QCOMPARE(nearest.pixelColor(350, 270), ClassPalette::background(1));
        QCOMPARE(nearest.pixelColor(50, 90), ClassPalette::background(0));  // world (−1.5, 0.6): by point 1
    }

    void dragPreviewDrawsThePointWhereItIsDragged() {
        Frame2D frame = tinyFrame();
        QCOMPARE(render(frame).pixelColor(300, 150), ClassPalette::color(1));  // point 2 at (1, 0)
        frame.drag = DragPreview{2, QPointF(1.2, 0.2)};
        const QImage image = render(frame);
        QCOMPARE(image.pixelColor(320, 130), ClassPalette::color(1));
        QVERIFY(image.pixelColor(300, 150) != ClassPalette::color(1));
    }

    void mismatchedLabelsPaintABlankFrame() {
        // Labels arriving before the edited points: nothing of the scene is drawn, nothing crashes.
        auto s = tinySnapshot();
        s->labels.push_back(1);
        const QImage image = render(frameOf(s, tripletLoss()));
        QCOMPARE(image.size(), kSize);
        int coloured = 0;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x) coloured += image.pixel(x, y) != qRgb(255, 255, 255);
        QCOMPARE(coloured, 0);
    }

    // ---------------------------------------------------------------- softmax cards

    void marginInsetPlotsTheTargetCurve() {
        Frame2D frame = classWeightFrame("arcface", {{"margin", 28.6}, {"scale", 64.0}});
        // The inset card sits 12 px from the right and 30 px from the bottom, 300 × 200.
        const QRect inset(kBig.width() - 312, kBig.height() - 230, 300, 200);
        const int shown = countNear(render(frame), inset, QColor(20, 60, 160), 40);
        QVERIFY2(shown > 150, qPrintable(QString::number(shown)));
        frame.options.showMarginInset = false;
        QCOMPARE(countNear(render(frame), inset, QColor(20, 60, 160), 40), 0);
    }

    void diagnosisBannerLeavesTheInsetVisible() {
        Frame2D frame = classWeightFrame("arcface", {{"margin", 28.6}, {"scale", 64.0}});
        const QImage calm = render(frame);
        auto stuck = std::make_shared<Snapshot>(*frame.snapshot);
        stuck->step = 30;
        stuck->deadGradient = true;
        frame.snapshot = stuck;
        QCOMPARE(Renderer2D::diagnosis(frame).kind, Diagnosis::Kind::Stuck);
        const QImage flagged = render(frame);
        const QRect inset(kBig.width() - 312, kBig.height() - 230, 300, 200);
        int bannerPixels = 0, insetChanged = 0;
        for (int x = 0; x < kBig.width(); ++x)
            for (int y = kBig.height() - 240; y < kBig.height(); ++y) {
                const bool differs = calm.pixel(x, y) != flagged.pixel(x, y);
                (inset.contains(x, y) ? insetChanged : bannerPixels) += differs;
            }
        QVERIFY2(bannerPixels > 2000, qPrintable(QString::number(bannerPixels)));
        QCOMPARE(insetChanged, 0);
    }

    // ---------------------------------------------------------------- forces

    void splitForcesDrawAttractionAndRepulsionApart() {
        auto s = tinySnapshot();
        s->gradient = Points::Zero(5, 2);
        s->gradient.row(0) << 0.5, -1.0;  // force (−0.5, 1): up and to the left
        s->gradientFromPositives = Points::Zero(5, 2);
        s->gradientFromPositives.row(0) << 0.0, -1.0;  // attraction straight up, repulsion left
        Frame2D frame = frameOf(s, tripletLoss());
        frame.options.showRegions = false;
        frame.options.splitForces = true;
        const QImage split = render(frame);
        // Point 0 is at pixel (100, 150); the longest arrow (the total, |(0.5, 1)|) is 40 px.
        auto blueish = [](QColor c) { return c.blue() > c.red() + 60; };
        auto reddish = [](QColor c) { return c.red() > c.blue() + 60; };
        QVERIFY2(blueish(split.pixelColor(100, 138)) || blueish(split.pixelColor(99, 138)),
                 qPrintable(split.pixelColor(100, 138).name()));
        QVERIFY2(reddish(split.pixelColor(88, 150)) || reddish(split.pixelColor(88, 149)),
                 qPrintable(split.pixelColor(88, 150).name()));
        // Unsplit: one dark arrow along the total force, nothing straight up or straight left.
        frame.options.splitForces = false;
        const QImage total = render(frame);
        for (QPoint p : {QPoint(100, 138), QPoint(99, 138), QPoint(88, 150), QPoint(88, 149)}) {
            QVERIFY(!blueish(total.pixelColor(p)));
            QVERIFY(!reddish(total.pixelColor(p)));
        }
        int along = 0;  // dark neutral pixels next to (100, 150) + t·(−0.447, −0.894)·40
        for (double t = 0.3; t <= 0.7; t += 0.1) {
            const QPointF p = QPointF(100, 150) + QPointF(-0.4472, -0.8944) * (40.0 * t);
            for (int dx = -1; dx <= 1; ++dx) {
                const QColor c = total.pixelColor(static_cast<int>(std::floor(p.x())) + dx,
                                                  static_cast<int>(std::floor(p.y())));
                along += c.red() < 200 && chroma(c) < 30;
            }
        }
        QVERIFY2(along >= 5, qPrintable(QString::number(along)));
    }

    void fixedForceScaleMakesArrowLengthProportionalToTheGradient() {
        // One point at screen (100, 150.5), so its horizontal arrow runs along the middle of row 150.
        auto single = [](double gradientX) {
            auto s = std::make_shared<Snapshot>();
            s->positions = Points(1, 2);
            s->positions << -1.0, -0.005;
            s->labels = {0};
            s->numClasses = 1;
            s->gradient = Points(1, 2);
            s->gradient << gradientX, 0.0;  // force −∂L/∂x along +x
            return s;
        };
        auto arrowLength = [&](double gradientX, ViewOptions options) {
            Frame2D frame = frameOf(single(gradientX), tripletLoss());
            frame.options = options;
            const QImage with = render(frame);
            frame.snapshot = single(0.0);  // same cards, no arrow
            const QImage without = render(frame);
            const auto [first, last] = changedColumns(with, without, 140, 160);
            if (first < 0) return -1.0;
            // The arrow starts at x = 100 and its tip is the last column it covers (square cap: +0.5).
            return last + 1.0 - 100.0 - 0.5;
        };
        ViewOptions fixed;
        fixed.showRegions = false;
        fixed.forceScaleMode = ViewOptions::ForceScale::Fixed;
        fixed.forcePixelsPerUnit = 50.0;
        const double full = arrowLength(-2.0, fixed), half = arrowLength(-1.0, fixed);
        QVERIFY2(std::abs(full - 100.0) <= 1.5, qPrintable(QString::number(full)));  // 50 px × |2|
        QVERIFY2(std::abs(half - 50.0) <= 1.5, qPrintable(QString::number(half)));   // 50 px × |1|
        fixed.forcePixelsPerUnit = 30.0;
        const double other = arrowLength(-2.0, fixed);
        QVERIFY2(std::abs(other - 60.0) <= 1.5, qPrintable(QString::number(other)));
        // Relative: the longest arrow is 40 px whatever the gradient's size.
        ViewOptions relative;
        relative.showRegions = false;
        const double relativeFull = arrowLength(-2.0, relative), relativeHalf = arrowLength(-1.0, relative);
        QVERIFY2(std::abs(relativeFull - 40.0) <= 1.5, qPrintable(QString::number(relativeFull)));
        QVERIFY2(std::abs(relativeHalf - 40.0) <= 1.5, qPrintable(QString::number(relativeHalf)));
        // The calibration the widget uses gives 40 px for the longest arrow.
        QCOMPARE(Renderer2D::calibratedForceScale(*single(-2.0), false), 20.0);
    }

    void forceLegendArrowMatchesItsLabel() {
        // The read-out's scale arrow says "= |∂L/∂x| of v": its drawn length must be v × the
        // frame's pixels per unit, in either mode. Read from the SVG, where both are vectors.
        auto s = std::make_shared<Snapshot>();
        s->positions = Points(1, 2);
        s->positions << -1.0, 0.0;
        s->labels = {0};
        s->numClasses = 1;
        s->gradient = Points(1, 2);
        s->gradient << -2.0, 0.0;
        QTemporaryDir dir;
        for (const bool fixed : {true, false}) {
            Frame2D frame = frameOf(s, tripletLoss());
            frame.options.showRegions = false;
            frame.options.forceScaleMode =
                fixed ? ViewOptions::ForceScale::Fixed : ViewOptions::ForceScale::Relative;
            frame.options.forcePixelsPerUnit = 50.0;
            const double perUnit = fixed ? 50.0 : 40.0 / 2.0;  // relative: the longest arrow (|2|) is 40 px
            Renderer2D renderer;
            QString error;
            const QString path =
                dir.filePath(fixed ? QStringLiteral("fixed.svg") : QStringLiteral("relative.svg"));
            QVERIFY2(exportFrame(renderer, frame, path, &error), qPrintable(error));
            const QString svg = QString::fromUtf8(readAll(path));
            const QRegularExpressionMatch label =
                QRegularExpression(QStringLiteral("\\|∂L/∂x\\| of ([0-9.e+-]+)")).match(svg);
            QVERIFY2(label.hasMatch(), "no force-scale label");
            const double value = label.captured(1).toDouble();
            // The legend arrow is the group stroked opaque in its grey (#1e1e1e, 1.2 px; the force
            // arrows are translucent hair-lines); its first line is the shaft.
            const QRegularExpressionMatch shaft =
                QRegularExpression(
                    QStringLiteral(
                        "stroke=\"#1e1e1e\" stroke-opacity=\"1\" "
                        "stroke-width=\"1.2\"[^>]*>\\s*<polyline[^>]*points=\"([-0-9.e]+),([-0-9.e]+) "
                        "([-0-9.e]+),([-0-9.e]+) \""))
                    .match(svg);
            QVERIFY2(shaft.hasMatch(), "no legend arrow");
            const double length = std::hypot(shaft.captured(3).toDouble() - shaft.captured(1).toDouble(),
                                             shaft.captured(4).toDouble() - shaft.captured(2).toDouble());
            QVERIFY2(length > 15.0, qPrintable(QString::number(length)));
            QVERIFY2(std::abs(value * perUnit - length) <= 0.01 * length,
                     qPrintable(QStringLiteral("label %1 × %2 px per unit vs a %3 px arrow")
                                    .arg(value)
                                    .arg(perUnit)
                                    .arg(length)));
        }
    }

    // ---------------------------------------------------------------- triplet overlay

    void tripletOverlayClassifiesNegatives() {
        Frame2D frame = tinyFrame();
        frame.selection.anchor = 0;
        const TripletOverlay overlay = Renderer2D::tripletOverlay(frame);
        QVERIFY(overlay.valid);
        QCOMPARE(overlay.anchor, 0);
        QCOMPARE(overlay.positive, 1);  // the hardest (only) positive
        QCOMPARE(overlay.query.hard, 1);
        QCOMPARE(overlay.query.semiHard, 0);
        QCOMPARE(overlay.query.easy, 2);
        QCOMPARE(overlay.query.regions[4], Region::Hard);
        QCOMPARE(overlay.query.regions[2], Region::Easy);
        QCOMPARE(overlay.query.regions[3], Region::Easy);
        QVERIFY(overlay.hasCircles);
        QVERIFY(std::abs(overlay.hardRadius - 0.5) < 1e-12);
        QVERIFY(std::abs(overlay.ringRadius - 1.5) < 1e-12);
        QCOMPARE(overlay.center, QPointF(-1.0, 0.0));
    }

    void shiftChoosesAnotherPositive() {
        Frame2D frame = tinyFrame();
        frame.selection = Selection{0, 2};  // not the anchor's class: falls back to the hardest positive
        QCOMPARE(Renderer2D::tripletOverlay(frame).positive, 1);
        frame.selection = Selection{-1, -1};
        QVERIFY(!Renderer2D::tripletOverlay(frame).valid);
        frame.selection = Selection{2, 3};  // class 1: 3 is a positive of 2
        const TripletOverlay other = Renderer2D::tripletOverlay(frame);
        QVERIFY(other.valid);
        QCOMPARE(other.positive, 3);
    }

    void tripletOverlayPaintsDiskAndRing() {
        Frame2D frame = tinyFrame();
        const QImage plain = render(frame);
        frame.selection.anchor = 0;
        const QImage image = render(frame);
        // The zones are neutral black veils: every channel darkens by the same factor.
        auto veiled = [&](QPoint p, int alpha) {
            const QColor under = plain.pixelColor(p), over = image.pixelColor(p);
            auto expect = [&](int v) { return v * (255 - alpha) / 255.0; };
            return std::abs(over.red() - expect(under.red())) <= 1.5 &&
                   std::abs(over.green() - expect(under.green())) <= 1.5 &&
                   std::abs(over.blue() - expect(under.blue())) <= 1.5;
        };
        // World (−1.7, −0.5), 0.86 from the anchor: in the semi-hard ring (0.5 … 1.5).
        const QPoint ring(30, 200);
        QCOMPARE(plain.pixelColor(ring), ClassPalette::background(0));
        QVERIFY2(veiled(ring, 14), qPrintable(image.pixelColor(ring).name()));
        // World (−1.2, 0.1), 0.22 from the anchor: in the hard disk, darker than the ring.
        const QPoint disk(80, 140);
        QVERIFY2(veiled(disk, 34), qPrintable(image.pixelColor(disk).name()));
        // Far outside the ring the background is untouched.
        QCOMPARE(image.pixelColor(350, 270), ClassPalette::background(1));
        QCOMPARE(image.pixelColor(350, 270), plain.pixelColor(350, 270));
    }

    void tripletStylesUseNoClassColour() {
        Frame2D frame = tinyFrame();
        frame.selection.anchor = 0;
        QCOMPARE(Renderer2D::tripletOverlay(frame).query.regions[4], Region::Hard);
        const QImage image = render(frame);
        // The pixels of a mark's ring: centres within `band` of `radius` around a point.
        auto checkRing = [&](QPointF center, double radius, double band, const char* what) {
            int seen = 0;
            for (int y = static_cast<int>(center.y() - radius - 2); y <= center.y() + radius + 2; ++y)
                for (int x = static_cast<int>(center.x() - radius - 2); x <= center.x() + radius + 2; ++x) {
                    const double d = std::hypot(x + 0.5 - center.x(), y + 0.5 - center.y());
                    if (std::abs(d - radius) > band) continue;
                    ++seen;
                    const QColor c = image.pixelColor(x, y);
                    QVERIFY2(chroma(c) <= 24 && c.red() <= 110,
                             qPrintable(
                                 QStringLiteral("%1 at (%2, %3): %4").arg(what).arg(x).arg(y).arg(c.name())));
                    for (int k = 0; k < 16; ++k)
                        QVERIFY2(colorDistance(c, ClassPalette::color(k)) > 90,
                                 qPrintable(QStringLiteral("%1 looks like class %2").arg(what).arg(k)));
                }
            QVERIFY(seen >= 20);
        };
        // Hard negative (point 4, screen (70, 170)): a solid ring of radius 7 px, pen 2.2 px.
        checkRing(screenOf(frame, QPointF(-1.3, -0.2)), 7.0, 0.4, "hard-negative ring");
        // Anchor (point 0, screen (100, 150)): a ring of radius 8.5 px, pen 2.5 px.
        checkRing(screenOf(frame, QPointF(-1.0, 0.0)), 8.5, 0.4, "anchor ring");
        QVERIFY(ClassPalette::hardColor() != ClassPalette::semiHardColor());
        for (int k = 0; k < 16; ++k)
            for (QColor neutral : {ClassPalette::hardColor(), ClassPalette::semiHardColor(),
                                   ClassPalette::easyColor(), ClassPalette::anchorColor()})
                QVERIFY(chroma(neutral) == 0 && neutral != ClassPalette::color(k));
    }

    // ---------------------------------------------------------------- diagnosis

    void convergedAndStuckAreToldApart() {
        const LossInfo* triplet = findLoss("triplet_margin");
        QVERIFY(triplet);
        auto state = tinySnapshot();
        state->step = 40;
        state->deadGradient = true;
        state->metrics.step = 40;
        state->metrics.precisionAt1 = 1.0;
        const Diagnosis converged = diagnose(*state, triplet);
        QCOMPARE(converged.kind, Diagnosis::Kind::Converged);
        QVERIFY(!converged.isProblem());
        auto mixed = std::make_shared<Snapshot>(*state);
        mixed->metrics.precisionAt1 = 0.8;
        const Diagnosis stuck = diagnose(*mixed, triplet);
        QCOMPARE(stuck.kind, Diagnosis::Kind::Stuck);
        QVERIFY(stuck.isProblem());
        QVERIFY(stuck.sentence.contains(QStringLiteral("margin")));  // triplet advice
        // Without metrics a dead gradient cannot be called converged.
        auto unmeasured = std::make_shared<Snapshot>(*state);
        unmeasured->metrics = Metrics{};
        QCOMPARE(diagnose(*unmeasured, triplet).kind, Diagnosis::Kind::Stuck);
        // Step 0 has moved nothing yet: no diagnosis.
        auto fresh = std::make_shared<Snapshot>(*state);
        fresh->step = 0;
        QCOMPARE(diagnose(*fresh, triplet).kind, Diagnosis::Kind::None);

        // The banner's border: green for converged, orange for stuck, none for a healthy run.
        const QColor green(30, 130, 60), orange(190, 120, 0);
        const QRect bottom(0, kBig.height() - 200, kBig.width(), 200);
        auto count = [&](std::shared_ptr<const Snapshot> s, QColor color) {
            return countNear(render(frameOf(std::move(s), tripletLoss(), kBig)), bottom, color, 45);
        };
        const int convergedGreen = count(state, green), convergedOrange = count(state, orange);
        const int stuckGreen = count(mixed, green), stuckOrange = count(mixed, orange);
        QVERIFY2(convergedGreen > 100 && convergedOrange == 0,
                 qPrintable(QStringLiteral("%1 %2").arg(convergedGreen).arg(convergedOrange)));
        QVERIFY2(stuckOrange > 100 && stuckGreen == 0,
                 qPrintable(QStringLiteral("%1 %2").arg(stuckGreen).arg(stuckOrange)));
        QCOMPARE(count(fresh, green) + count(fresh, orange), 0);
    }

    void collapseOnlyWhenRetrievalAlsoFalls() {
        const LossInfo* triplet = findLoss("triplet_margin");
        auto state = tinySnapshot();
        state->step = 40;
        QCOMPARE(diagnose(*state, triplet).kind, Diagnosis::Kind::None);
        state->metrics.step = 40;
        state->metrics.precisionAt1 = 0.5;
        state->metrics.collapse = 0.5;  // shrinking, but not collapsed
        QCOMPARE(diagnose(*state, triplet).kind, Diagnosis::Kind::None);
        state->metrics.collapse = 0.05;
        QCOMPARE(diagnose(*state, triplet).kind, Diagnosis::Kind::Collapse);
        QVERIFY(diagnose(*state, triplet).title.contains(QStringLiteral("5.0%")));
        state->metrics.precisionAt1 = 1.0;  // the same shrink with every class apart: no problem
        QCOMPARE(diagnose(*state, triplet).kind, Diagnosis::Kind::None);
        state->metrics.precisionAt1 = 0.5;
        state->status = TrainStatus::Diverged;  // the most urgent wins
        state->deadGradient = true;
        QCOMPARE(diagnose(*state, triplet).kind, Diagnosis::Kind::Diverged);

        // A flagged frame shows a banner at the bottom where the healthy one shows none.
        auto healthy = tinySnapshot();
        healthy->step = 40;
        const QImage calm = render(frameOf(healthy, tripletLoss()));
        const QImage flagged = render(frameOf(state, tripletLoss()));
        int changed = 0;
        for (int x = 40; x < kSize.width() - 40; ++x)
            for (int y = kSize.height() - 90; y < kSize.height() - 24; ++y)
                changed += calm.pixel(x, y) != flagged.pixel(x, y);
        QVERIFY2(changed > 2000, qPrintable(QString::number(changed)));
    }

    void aTrainedRunThatIsApartConverges() {
        // Margin 0.05 on two far-apart groups: every triplet is easy from the start.
        TrainerConfig config;
        config.points = Points(6, 2);
        config.points << -1.0, 0.0, -1.0, 0.1, -1.1, 0.0, 5.0, 0.0, 5.0, 0.1, 5.0, -0.1;
        config.labels = {0, 0, 0, 1, 1, 1};
        config.numClasses = 2;
        config.loss = tripletLoss(0.05);
        config.metricsEvery = 1;
        Trainer trainer(config);
        const std::shared_ptr<const Snapshot> snapshot = trainer.step(1);
        QVERIFY(snapshot->deadGradient);
        QCOMPARE(snapshot->metrics.step, 1L);
        QCOMPARE(snapshot->metrics.precisionAt1, 1.0);
        Frame2D frame = frameOf(snapshot, config.loss);
        QCOMPARE(Renderer2D::diagnosis(frame).kind, Diagnosis::Kind::Converged);
    }

    // ---------------------------------------------------------------- camera

    void cameraRoundTripsAndFits() {
        Camera2D camera;
        camera.center = QPointF(0.37, -1.25);
        camera.pixelsPerUnit = 73.5;
        const QSizeF size(640, 360);
        for (QPointF world : {QPointF(0, 0), QPointF(-3.5, 2.25), QPointF(1e3, -7e2)}) {
            const QPointF back = camera.toWorld(camera.toScreen(world, size), size);
            QVERIFY(std::abs(back.x() - world.x()) < 1e-9 && std::abs(back.y() - world.y()) < 1e-9);
        }
        QCOMPARE(camera.toScreen(camera.center, size), QPointF(320, 180));
        // World y points up, screen y down.
        QVERIFY(camera.toScreen(camera.center + QPointF(0, 1), size).y() < 180);

        // fitting(): the data stay inside the picture with a tenth of it free on each side.
        const Frame2D frame = tinyFrame(QSize(640, 360));
        const QRectF bounds = Renderer2D::dataBounds(frame);
        QCOMPARE(bounds, QRectF(QPointF(-1.3, -0.5), QPointF(1.0, 0.5)));
        const Camera2D fit = Camera2D::fitting(bounds, size);
        double slackX = 1e9, slackY = 1e9;
        for (QPointF p : Renderer2D::rawPositions(frame)) {
            const QPointF s = fit.toScreen(p, size);
            QVERIFY(s.x() >= 0.1 * size.width() - 1e-9 && s.x() <= 0.9 * size.width() + 1e-9);
            QVERIFY(s.y() >= 0.1 * size.height() - 1e-9 && s.y() <= 0.9 * size.height() + 1e-9);
            slackX = std::min({slackX, s.x() - 0.1 * size.width(), 0.9 * size.width() - s.x()});
            slackY = std::min({slackY, s.y() - 0.1 * size.height(), 0.9 * size.height() - s.y()});
        }
        // …and as large as that allows: the tighter direction touches the 10 % margin.
        QVERIFY2(std::min(slackX, slackY) < 1e-6,
                 qPrintable(QStringLiteral("%1 %2").arg(slackX).arg(slackY)));
        QCOMPARE(fit.toScreen(bounds.center(), size), QPointF(320, 180));

        // easedTowards: t = 1 is the target, t = 0 the start, halfway zooms geometrically.
        Camera2D target;
        target.center = QPointF(4.0, -2.0);
        target.pixelsPerUnit = 400.0;
        const Camera2D end = camera.easedTowards(target, 1.0);
        QVERIFY(std::abs(end.center.x() - 4.0) < 1e-12 && std::abs(end.center.y() + 2.0) < 1e-12);
        QVERIFY(std::abs(end.pixelsPerUnit - 400.0) < 1e-9);
        const Camera2D start = camera.easedTowards(target, 0.0);
        QVERIFY(std::abs(start.pixelsPerUnit - 73.5) < 1e-9 && start.center == camera.center);
        const Camera2D half = camera.easedTowards(target, 0.5);
        QVERIFY(std::abs(half.pixelsPerUnit - std::sqrt(73.5 * 400.0)) < 1e-9);
        QVERIFY(std::abs(half.center.x() - (0.37 + 4.0) / 2.0) < 1e-12);
    }

    void cameraFitsALineOrASinglePoint() {
        // Data without extent in one or both directions (points on a line, one point, a
        // non-normalizing loss) must still be in view, centred, with a usable zoom.
        const QSizeF size(640, 360);
        auto s = std::make_shared<Snapshot>();
        s->positions = Points(3, 2);
        s->positions << 3.0, 2.0, 5.0, 2.0, 7.0, 2.0;  // a horizontal line
        s->labels = {0, 1, 0};
        s->numClasses = 2;
        Frame2D frame = frameOf(s, tripletLoss());
        const Camera2D line = Camera2D::fitting(Renderer2D::dataBounds(frame), size);
        for (QPointF p : Renderer2D::rawPositions(frame)) {
            const QPointF at = line.toScreen(p, size);
            QVERIFY2(at.x() >= 0.1 * size.width() - 1e-9 && at.x() <= 0.9 * size.width() + 1e-9 &&
                         std::abs(at.y() - size.height() / 2.0) < 1e-9,
                     qPrintable(QStringLiteral("(%1, %2)").arg(at.x()).arg(at.y())));
        }
        QVERIFY(std::abs(line.pixelsPerUnit - 0.8 * size.width() / 4.0) < 1e-9);  // the line spans 4 units
        // One point: at the centre, with at least a unit of the plane around it.
        s = std::make_shared<Snapshot>(*s);
        s->positions = Points(1, 2);
        s->positions << 5.0, -4.0;
        s->labels = {0};
        frame.snapshot = s;
        const Camera2D point = Camera2D::fitting(Renderer2D::dataBounds(frame), size);
        QVERIFY(std::abs(point.center.x() - 5.0) < 1e-12 && std::abs(point.center.y() + 4.0) < 1e-12);
        QVERIFY2(point.pixelsPerUnit <= 0.4 * size.height() + 1e-9 && point.pixelsPerUnit > 1.0,
                 qPrintable(QString::number(point.pixelsPerUnit)));
    }

    // ---------------------------------------------------------------- purity, text size, DPI

    void aFrameIsAPureFunctionOfItsInputs() {
        auto s = tinySnapshot();
        s->gradient = Points::Zero(5, 2);
        s->gradient.row(2) << -0.3, 0.4;
        Frame2D frame = frameOf(s, tripletLoss());
        frame.selection.anchor = 0;
        frame.captions.title = QStringLiteral("Pure");
        const QImage first = Renderer2D().image(frame);
        // Other frames through one renderer fill its caches (background size, text scale, sprites,
        // pixel ratio)…
        Frame2D other = tinyFrame(kBig);
        other.options.textScale = 2.0;
        other.options.nearestNeighbourRegions = true;
        Renderer2D renderer;
        const QImage different = renderer.image(other);
        QVERIFY(different.size() != first.size());
        renderer.image(frame, 2.0);
        // …yet it paints this frame as a fresh renderer does, every time.
        QCOMPARE(renderer.image(other), different);
        QCOMPARE(renderer.image(frame), first);
        QCOMPARE(renderer.image(frame), first);
        // A change of input does change the picture (the comparison can fail).
        frame.selection.anchor = -1;
        QVERIFY(renderer.image(frame) != first);
    }

    void textScaleEnlargesTheReadout() {
        auto darkInReadout = [](double textScale) {
            Frame2D frame = tinyFrame(kBig);
            frame.options.textScale = textScale;
            const QImage image = render(frame);
            int dark = 0;  // black text; the grey axis labels and the light card are not counted
            for (int y = 0; y < 200; ++y)
                for (int x = 0; x < 515; ++x) {
                    const QColor c = image.pixelColor(x, y);
                    dark += c.red() < 60 && c.green() < 60 && c.blue() < 60;
                }
            return dark;
        };
        const int normal = darkInReadout(1.0), large = darkInReadout(2.0);
        QVERIFY2(normal > 100 && large > 2 * normal,
                 qPrintable(QStringLiteral("%1 %2").arg(normal).arg(large)));
    }

    void highDpiImagesHaveTwiceThePixels() {
        const Frame2D frame = tinyFrame();
        Renderer2D renderer;
        const QImage image = renderer.image(frame, 2.0);
        QCOMPARE(image.size(), kSize * 2);
        QCOMPARE(image.devicePixelRatio(), 2.0);
        QCOMPARE(image.pixelColor(200, 300), ClassPalette::color(0));  // point 0 at (100, 150) × 2
        QCOMPARE(image.pixelColor(600, 400), ClassPalette::color(1));  // point 3 at (300, 200) × 2
        QCOMPARE(image.pixelColor(100, 540), ClassPalette::background(0));
        QCOMPARE(image.pixelColor(700, 540), ClassPalette::background(1));
        QVERIFY(image.pixelColor(100, 150) != ClassPalette::color(0));
        // Back at ratio 1 the same renderer paints the plain picture again.
        QCOMPARE(renderer.image(frame), render(frame));
    }

    // ---------------------------------------------------------------- export

    void exportWritesPngSvgPdfAndRefusesTheRest() {
        const Frame2D frame = tinyFrame();
        Renderer2D renderer;
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QString error;
        const QString png = dir.filePath(QStringLiteral("frame.png"));
        QVERIFY2(exportFrame(renderer, frame, png, &error), qPrintable(error));
        const QImage written(png);
        QCOMPARE(written.size(), kSize);
        QCOMPARE(written.convertToFormat(QImage::Format_RGB32), render(frame));
        QCOMPARE(written.pixelColor(100, 150), ClassPalette::color(0));  // point 0, as rendered
        QCOMPARE(written.pixelColor(50, 270), ClassPalette::background(0));

        const QString svg = dir.filePath(QStringLiteral("frame.svg"));
        QVERIFY2(exportFrame(renderer, frame, svg, &error), qPrintable(error));
        const QByteArray svgText = readAll(svg);
        QVERIFY(svgText.contains("<svg"));
        QVERIFY(svgText.contains("Triplet margin"));  // the read-out is vector text

        const QString pdf = dir.filePath(QStringLiteral("frame.PDF"));
        QVERIFY2(exportFrame(renderer, frame, pdf, &error), qPrintable(error));
        const QByteArray pdfBytes = readAll(pdf);
        QVERIFY(pdfBytes.startsWith("%PDF-"));
        QVERIFY(pdfBytes.size() > 1000);
        // One PDF point per frame pixel.
        QVERIFY(QRegularExpression(QStringLiteral("/MediaBox \\[0 0 400(\\.0+)? 300(\\.0+)?\\]"))
                    .match(QString::fromLatin1(pdfBytes))
                    .hasMatch());

        QCOMPARE(frameFormatOf(QStringLiteral("a/b.Svg")), QStringLiteral("svg"));
        QVERIFY(frameFormatOf(QStringLiteral("a/b.bmp")).isEmpty());
        error.clear();
        QVERIFY(!exportFrame(renderer, frame, dir.filePath(QStringLiteral("frame.bmp")), &error));
        QVERIFY2(error.contains(QStringLiteral(".png, .svg or .pdf")), qPrintable(error));
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("frame.bmp"))));
        error.clear();
        QVERIFY(!exportFrame(renderer, frame, dir.filePath(QStringLiteral("missing/dir/frame.png")), &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("missing/dir/frame.png"))));
        Frame2D empty = frame;
        empty.size = QSize(0, 0);
        error.clear();
        QVERIFY(!exportFrame(renderer, empty, dir.filePath(QStringLiteral("empty.png")), &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("empty.png"))));
    }

    void svgHoldsAVectorShapePerPointAndNoImagePerPoint() {
        constexpr int kPoints = 2000;
        auto crowd = crowdSnapshot(kPoints, 4);
        QTemporaryDir dir;
        QString error;
        Renderer2D renderer;
        auto exported = [&](const Frame2D& frame, const QString& name) {
            const QString path = dir.filePath(name);
            const bool ok = exportFrame(renderer, frame, path, &error);
            return ok ? readAll(path) : QByteArray();
        };
        // Centroid regions: polygons, ellipses, no image at all.
        Frame2D centroids = frameOf(crowd, tripletLoss(), kBig);
        centroids.selection.anchor = 0;
        const QByteArray text = exported(centroids, QStringLiteral("centroids.svg"));
        QVERIFY2(!text.isEmpty(), qPrintable(error));
        const std::vector<QPointF> points = pointShapes(text);
        QVERIFY2(points.size() >= kPoints, qPrintable(QString::number(points.size())));
        QCOMPARE(countOf(text, "<image"), 0);
        // Every point has its own shape where it is drawn.
        QMultiHash<QPair<int, int>, QPointF> byPixel;
        for (QPointF p : points)
            byPixel.insert({static_cast<int>(std::lround(p.x())), static_cast<int>(std::lround(p.y()))}, p);
        int found = 0;
        for (int i = 0; i < kPoints; ++i) {
            const QPointF s = screenOf(centroids, QPointF(crowd->positions(i, 0), crowd->positions(i, 1)));
            bool here = false;
            for (int dx = -1; dx <= 1 && !here; ++dx)
                for (int dy = -1; dy <= 1 && !here; ++dy)
                    for (QPointF p : byPixel.values({static_cast<int>(std::lround(s.x())) + dx,
                                                     static_cast<int>(std::lround(s.y())) + dy}))
                        here = here || (std::abs(p.x() - s.x()) < 0.002 && std::abs(p.y() - s.y()) < 0.002);
            found += here;
        }
        QCOMPARE(found, kPoints);

        // 1-NN regions: one field image for the whole picture, never one per point.
        Frame2D nearest = frameOf(crowd, tripletLoss(), kBig);
        nearest.options.nearestNeighbourRegions = true;
        const QByteArray field = exported(nearest, QStringLiteral("nearest.svg"));
        QVERIFY2(!field.isEmpty(), qPrintable(error));
        QVERIFY(pointShapes(field).size() >= kPoints);
        const int fieldImages = countOf(field, "<image");
        QVERIFY2(fieldImages >= 1 && fieldImages <= 2, qPrintable(QString::number(fieldImages)));

        // The softmax's fade: one smooth image, the sectors stay vectors.
        auto weighted = std::make_shared<Snapshot>(*crowd);
        weighted->owned = Points(4, 2);
        weighted->owned << 1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, -1.0;
        LossConfig arcface;
        arcface.name = "arcface";
        const QByteArray fade = exported(frameOf(weighted, arcface, kBig), QStringLiteral("fade.svg"));
        QVERIFY2(!fade.isEmpty(), qPrintable(error));
        QVERIFY(pointShapes(fade).size() >= kPoints);
        const int fadeImages = countOf(fade, "<image");
        QVERIFY2(fadeImages >= 1 && fadeImages <= 2, qPrintable(QString::number(fadeImages)));

        // The PDF of the centroid scene holds no bitmap either.
        const QString pdf = dir.filePath(QStringLiteral("centroids.pdf"));
        QVERIFY2(exportFrame(renderer, centroids, pdf, &error), qPrintable(error));
        const QByteArray pdfBytes = readAll(pdf);
        QVERIFY(pdfBytes.startsWith("%PDF-"));
        QCOMPARE(countOf(pdfBytes, "/Subtype /Image"), 0);
    }

    // ---------------------------------------------------------------- Qt Widgets stays out

    void renderLibraryUsesNoQtWidgets() {
        // Compile time: linking MarginLab::render must not bring Qt Widgets in.
#ifdef QT_WIDGETS_LIB
        constexpr bool widgetsLinked = true;
#else
        constexpr bool widgetsLinked = false;
#endif
        QVERIFY2(!widgetsLinked, "MarginLab::render links Qt Widgets");

        // The names of QtWidgets' headers, from this Qt installation; the few that merely forward
        // to Qt Gui or Qt Core (qaction.h, qundostack.h, …) are allowed.
        const QString widgetsDir = QStringLiteral(MARGINLAB_QTWIDGETS_INCLUDE_DIR);
        const QSet<QString> widgetHeaders = filesIn(widgetsDir);
        QVERIFY2(widgetHeaders.size() > 100, qPrintable(widgetsDir));
        const QSet<QString> elsewhere = filesIn(QStringLiteral(MARGINLAB_QTGUI_INCLUDE_DIR)) |
                                        filesIn(QStringLiteral(MARGINLAB_QTCORE_INCLUDE_DIR));
        QVERIFY(elsewhere.contains(QStringLiteral("QPainter")) &&
                elsewhere.contains(QStringLiteral("QString")));
        const QSet<QString> forbidden = widgetHeaders - elsewhere;
        const QRegularExpression include(QStringLiteral("^\\s*#\\s*include\\s*[<\"]([^>\"]+)[>\"]"));
        auto violates = [&](const QString& line) {
            const QRegularExpressionMatch m = include.match(line);
            if (!m.hasMatch()) return false;
            const QString name = m.captured(1).trimmed();
            if (name.startsWith(QStringLiteral("QtWidgets"))) return true;
            return forbidden.contains(name.section(QLatin1Char('/'), -1));
        };
        // The rule catches every spelling of a QtWidgets include and nothing of Qt Gui.
        for (const char* bad : {"#include <QWidget>", "#include <QApplication>", "#include <QPushButton>",
                                "  #  include <QtWidgets/QLabel>", "#include <QtWidgets>",
                                "#include \"qapplication.h\"", "#include <qwidget.h>"})
            QVERIFY2(violates(QString::fromLatin1(bad)), bad);
        for (const char* good :
             {"#include <QPainter>", "#include <QGuiApplication>", "#include <QImage>",
              "#include \"renderer2d.h\"", "// #include <QWidget> is mentioned, not included"})
            QVERIFY2(!violates(QString::fromLatin1(good)), good);

        const QString render = QStringLiteral(MARGINLAB_SOURCE_DIR "/widgets/render");
        int filesSeen = 0;
        for (QDirIterator it(render, QDir::Files, QDirIterator::Subdirectories); it.hasNext();) {
            const QString path = it.next();
            const QString suffix = QFileInfo(path).suffix();
            if (suffix != QLatin1String("h") && suffix != QLatin1String("cpp") &&
                suffix != QLatin1String("txt"))
                continue;
            ++filesSeen;
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
            const QString text = QString::fromUtf8(file.readAll());
            const QStringList lines = text.split(QLatin1Char('\n'));
            for (int i = 0; i < lines.size(); ++i)
                QVERIFY2(!violates(lines[i]),
                         qPrintable(QStringLiteral("%1:%2: %3").arg(path).arg(i + 1).arg(lines[i])));
            if (suffix == QLatin1String("txt")) {
                // Nor does its build link or look for Qt Widgets.
                QVERIFY2(!text.contains(QStringLiteral("::Widgets")), qPrintable(path));
                QVERIFY2(!text.contains(QRegularExpression(QStringLiteral("COMPONENTS[^)]*\\bWidgets\\b"))),
                         qPrintable(path));
            }
        }
        QVERIFY2(filesSeen > 10, qPrintable(QString::number(filesSeen)));
    }
};

QTEST_MAIN(Renderer2DTest)
#include "renderer2d_test.moc"

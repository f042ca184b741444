// SPDX-License-Identifier: MIT
// Camera3D and Renderer3D without a widget: frames painted into QImages and checked pixel by
// pixel against geometry computed here (rotations by Rodrigues' formula, Lambert's projection by
// its definition), plus picking, the triplet caps and determinism.
#include "renderer3d.h"

#include <QBuffer>
#include <QSvgGenerator>
#include <QTest>
#include <cmath>
#include <numbers>
#include <random>

#include "camera3d.h"
#include "classpalette.h"
#include "marginlab/generators.h"
#include "marginlab/loss_pictures.h"
#include "marginlab/trainer.h"
#include "nearestindex.h"
#include "viewsettings.h"

using namespace marginlab;
using Eigen::Vector3d;

namespace {

constexpr QSize kSize(800, 600);

std::shared_ptr<Snapshot> snapshotOf(const std::vector<Vector3d>& points, const std::vector<int>& labels,
                                     int classes) {
    auto s = std::make_shared<Snapshot>();
    s->positions.resize(static_cast<Eigen::Index>(points.size()), 3);
    for (std::size_t i = 0; i < points.size(); ++i)
        s->positions.row(static_cast<Eigen::Index>(i)) = points[i].transpose();
    s->labels = labels;
    s->numClasses = classes;
    return s;
}

Camera3D plainCamera() {
    Camera3D camera;
    camera.worldRadius = 1.2;  // 800×600: 210 px per unit, origin at (400, 300)
    return camera;
}

int colorDistance(QRgb a, QRgb b) {
    return std::abs(qRed(a) - qRed(b)) + std::abs(qGreen(a) - qGreen(b)) + std::abs(qBlue(a) - qBlue(b));
}

/// Index of the candidate colour nearest to `pixel`.
int nearest(QRgb pixel, const std::vector<QColor>& candidates) {
    int best = -1, bestDistance = 1 << 30;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
        const int d = colorDistance(pixel, candidates[k].rgb());
        if (d < bestDistance) bestDistance = d, best = static_cast<int>(k);
    }
    return best;
}

/// The candidate most of the 5×5 pixels around `p` are nearest to (a 1 px wireframe line through
/// the probe does not decide it).
int nearestAround(const QImage& image, QPointF p, const std::vector<QColor>& candidates) {
    std::vector<int> votes(candidates.size(), 0);
    for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx)
            ++votes[static_cast<std::size_t>(nearest(image.pixel(static_cast<int>(std::floor(p.x())) + dx,
                                                                 static_cast<int>(std::floor(p.y())) + dy),
                                                     candidates))];
    return static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
}

QRgb pixelAt(const QImage& image, QPointF p) {
    return image.pixel(static_cast<int>(std::floor(p.x())), static_cast<int>(std::floor(p.y())));
}

/// Rodrigues' rotation of v about the unit axis k by angle θ (independent of Eigen's quaternions).
Vector3d rodrigues(const Vector3d& v, const Vector3d& k, double theta) {
    return v * std::cos(theta) + k.cross(v) * std::sin(theta) + k * k.dot(v) * (1.0 - std::cos(theta));
}

double segmentDistance(QPointF p, QPointF a, QPointF b) {
    const QPointF d = b - a;
    const double length2 = d.x() * d.x() + d.y() * d.y();
    const double t =
        length2 > 0 ? std::clamp(((p - a).x() * d.x() + (p - a).y() * d.y()) / length2, 0.0, 1.0) : 0.0;
    const QPointF q = a + d * t;
    return std::hypot(p.x() - q.x(), p.y() - q.y());
}

}  // namespace

class Renderer3DTest : public QObject {
    Q_OBJECT

private slots:
    void cameraProjectsAndUnprojects() {
        const Camera3D camera = plainCamera();
        QCOMPARE(camera.pixelsPerUnit(kSize), 210.0);
        const Projection p = camera.project(Vector3d(1, 0.5, -0.25), kSize);
        QCOMPARE(p.screen, QPointF(610.0, 195.0));
        QCOMPARE(p.depth, -0.25);
        // The front surface under a screen point, on a rotated camera.
        const Camera3D turned = camera.turned(0.7).rotatedInView(Vector3d::UnitX(), 0.3);
        const Vector3d onSphere = Vector3d(0.2, -0.4, 0.5).normalized();
        const Projection q = turned.project(onSphere, kSize);
        QVERIFY(q.depth > 0);
        const auto back = turned.unprojectToSphere(q.screen, kSize);
        QVERIFY(back);
        QVERIFY((*back - onSphere).norm() < 1e-12);
        QVERIFY(!turned.unprojectToSphere(QPointF(5, 5), kSize));
        QVERIFY(std::abs(turned.unprojectToSphere(QPointF(5, 5), kSize, 1.0, true)->norm() - 1.0) < 1e-12);
    }

    void namedViews() {
        const Camera3D camera = plainCamera();
        // Top: +y towards the viewer, x right, −z up.
        const Camera3D top = camera.top();
        QVERIFY((top.toView(Vector3d::UnitY()) - Vector3d::UnitZ()).norm() < 1e-12);
        QVERIFY((top.toView(Vector3d::UnitX()) - Vector3d::UnitX()).norm() < 1e-12);
        QVERIFY((top.toView(-Vector3d::UnitZ()) - Vector3d::UnitY()).norm() < 1e-12);
        // Along d: d points to the viewer, and world y stays up on screen.
        const Vector3d d = Vector3d(1, 2, -3).normalized();
        const Camera3D along = camera.along(d);
        QVERIFY((along.toView(d) - Vector3d::UnitZ()).norm() < 1e-12);
        QVERIFY(along.toView(Vector3d::UnitY()).y() > 0);
        QCOMPARE(along.toView(Vector3d::UnitY()).x(), 0.0);
        QVERIFY((camera.turned(0.4).front().toView(Vector3d::UnitZ()) - Vector3d::UnitZ()).norm() < 1e-12);
        // A turntable step turns about the world's vertical axis: y is fixed.
        const Camera3D step = camera.turned(std::numbers::pi / 2);
        QVERIFY((step.toView(Vector3d::UnitY()) - Vector3d::UnitY()).norm() < 1e-12);
        // Right-handed: a positive turn about y takes x to (cos θ, 0, −sin θ).
        QVERIFY((step.toView(Vector3d::UnitX()) + Vector3d::UnitZ()).norm() < 1e-12);
    }

    void arcballMovesAPointWhereTheRotationSays() {
        const Camera3D camera = plainCamera().turned(0.3);
        const Vector3d p = camera.toWorld(Vector3d(0.3, 0.2, std::sqrt(1 - 0.13)));  // on the front surface
        const QPointF from = camera.project(p, kSize).screen, to = from + QPointF(40, -25);
        const Camera3D dragged = camera.arcball(from, to, kSize);
        // The grabbed point follows the cursor.
        QVERIFY(std::hypot(dragged.project(p, kSize).screen.x() - to.x(),
                           dragged.project(p, kSize).screen.y() - to.y()) < 1e-9);
        // Any other point turns by the rotation taking the two sphere points into each other.
        const Vector3d a = Vector3d(0.3, 0.2, std::sqrt(1 - 0.13));
        const Vector3d b =
            *camera.front().unprojectToSphere(to, kSize);  // view coordinates: the front camera
        const Vector3d axis = a.cross(b).normalized();
        const double angle = std::acos(std::clamp(a.dot(b), -1.0, 1.0));
        const Vector3d other(-0.5, 0.7, 0.1);
        const Vector3d expected = rodrigues(camera.toView(other), axis, angle);
        QVERIFY((dragged.toView(other) - expected).norm() < 1e-12);

        // The painted frame agrees: the point is drawn under the cursor after the drag.
        Frame3D frame;
        frame.size = kSize;
        frame.camera = camera;
        frame.showEqualArea = false;
        frame.snapshot = snapshotOf({p, Vector3d(0, 0, -0.2)}, {0, 1}, 2);
        Renderer3D renderer;
        QImage before = renderer.image(frame);
        QCOMPARE(QColor(pixelAt(before, from)), ClassPalette::color(0));
        frame.camera = dragged;
        QImage after = renderer.image(frame);
        QCOMPARE(QColor(pixelAt(after, to)), ClassPalette::color(0));
        QVERIFY(QColor(pixelAt(after, from)) != ClassPalette::color(0));
    }

    void frontPointCoversBackPoint() {
        // Two points on the view axis: same screen position, depths ±2.
        Frame3D frame;
        frame.size = kSize;
        frame.camera = plainCamera();
        frame.showEqualArea = false;
        frame.snapshot = snapshotOf({Vector3d(0, 0, -2), Vector3d(0, 0, 2)}, {1, 0}, 2);
        Renderer3D renderer;
        QCOMPARE(QColor(renderer.image(frame).pixel(400, 300)), ClassPalette::color(0));
        // Turned half way round the other point is in front.
        frame.camera = frame.camera.turned(std::numbers::pi);
        QCOMPARE(QColor(renderer.image(frame).pixel(400, 300)), ClassPalette::color(1));
        // On the sphere: the far one is dimmed (paler than its class colour) and under the surface.
        frame.camera = plainCamera();
        frame.snapshot = snapshotOf({Vector3d(0.6, 0, -0.8), Vector3d(0, 0, 1)}, {1, 0}, 2);
        const QImage image = renderer.image(frame);
        const QPointF farAt = frame.camera.project(Vector3d(0.6, 0, -0.8), kSize).screen;
        const QRgb far = pixelAt(image, farAt);
        QVERIFY(far != ClassPalette::color(1).rgb());
        QVERIFY(qRed(far) + qGreen(far) + qBlue(far) > qRed(ClassPalette::color(1).rgb()) +
                                                           qGreen(ClassPalette::color(1).rgb()) +
                                                           qBlue(ClassPalette::color(1).rgb()));
        QCOMPARE(nearest(far, {ClassPalette::color(0), ClassPalette::color(1)}), 1);
    }

    void classWeightsAlongTheAxesPaintTheirCaps() {
        // ArcFace with class weights along x, y and z: the cap around each axis is its class, the
        // direction halfway between two weights is in the margin band (grey stripes).
        LossConfig loss;
        loss.name = "arcface";
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        QVERIFY(frame.run.logits);
        QVERIFY(frame.run.hasClassWeights());
        auto s = snapshotOf({Vector3d(-0.6, -0.5, -0.6), Vector3d(-0.5, -0.6, -0.6),
                             Vector3d(-0.6, -0.6, -0.5), Vector3d(-0.55, -0.55, -0.6)},
                            {0, 1, 2, 0}, 3);
        s->owned = Points::Identity(3, 3);
        frame.snapshot = s;
        frame.size = kSize;
        frame.camera = plainCamera().along(Vector3d(1, 1, 1));
        frame.showEqualArea = false;
        frame.showAxes = false;
        frame.options.showForces = false;
        frame.options.showMarginInset = false;
        const QImage image = Renderer3D().image(frame);
        if (qEnvironmentVariableIsSet("MARGINLAB_SAVE"))
            image.save(QStringLiteral("/tmp/sphere_weights.png"));
        // The surface as painted: a region colour, lit (darker by 20 % × (1 − facing)), at 82 %
        // over the back disc (grey 226).
        auto surface = [](QColor region, double facing) {
            const double light = 1.0 - 0.2 * (1.0 - facing);
            auto mix = [&](int v) { return static_cast<int>(std::lround(0.82 * v * light + 0.18 * 226.0)); };
            return QColor(mix(region.red()), mix(region.green()), mix(region.blue()));
        };
        auto candidatesAt = [&](double facing) {
            return std::vector<QColor>{
                surface(ClassPalette::background(0), facing), surface(ClassPalette::background(1), facing),
                surface(ClassPalette::background(2), facing), surface(QColor(196, 196, 196), facing),
                surface(QColor(228, 228, 228), facing)};
        };
        const Vector3d probes[3] = {Vector3d(1, 0.35, -0.2), Vector3d(-0.2, 1, 0.35),
                                    Vector3d(0.35, -0.2, 1)};
        const QPointF origin = frame.camera.project(Vector3d::Zero(), kSize).screen;
        for (int k = 0; k < 3; ++k) {
            const Vector3d u = probes[k].normalized();
            QCOMPARE(Renderer3D::regionAt(frame, u), k);
            const Projection at = frame.camera.project(u, kSize);
            QVERIFY(at.depth > 0.2);
            // Guard: the class weight arrows do not cover the probe.
            for (int w = 0; w < 3; ++w)
                QVERIFY(segmentDistance(at.screen, origin,
                                        frame.camera.project(Vector3d::Unit(w), kSize).screen) > 12);
            QCOMPARE(nearestAround(image, at.screen, candidatesAt(at.depth)), k);
        }
        const Vector3d between = Vector3d(1, 1, 0).normalized();
        QCOMPARE(Renderer3D::regionAt(frame, between), Renderer3D::kBand);
        const Projection bandAt = frame.camera.project(between, kSize);
        const int stripe = nearestAround(image, bandAt.screen, candidatesAt(bandAt.depth));
        QVERIFY(stripe == 3 || stripe == 4);
        // Without the margin (plain normalized softmax) the same direction has a class.
        loss.name = "normalized_softmax";
        frame.run = describeRun(loss, std::nullopt);
        QVERIFY(Renderer3D::regionAt(frame, between) == 0 || Renderer3D::regionAt(frame, between) == 1);
        // Regions off: nothing is classified.
        frame.options.showRegions = false;
        QCOMPARE(Renderer3D::regionAt(frame, probes[0].normalized()), Renderer3D::kNoRegion);
    }

    void surfaceRegionsMatchTheLogitsByBruteForce() {
        // The class and margin band of every direction, from the logits written out here: argmax of
        // ‖w_c‖·cos, and the band where some other class reaches ‖w_y‖·φ(cos θ_y).
        std::mt19937_64 random(7);
        std::normal_distribution<double> normal;
        for (const char* name : {"arcface", "cosface", "sphereface", "large_margin_softmax"}) {
            LossConfig loss;
            loss.name = name;
            Frame3D frame;
            frame.run = describeRun(loss, std::nullopt);
            QVERIFY2(frame.run.logits && frame.run.hasClassWeights(), name);
            const MarginLogits& logits = *frame.run.logits;
            auto s = snapshotOf({Vector3d(1, 0, 0), Vector3d(0, 1, 0), Vector3d(0, 0, 1), Vector3d(1, 1, 1),
                                 Vector3d(-1, 0, 0)},
                                {0, 1, 2, 3, 4}, 5);
            s->owned = Points(5, 3);
            for (Eigen::Index k = 0; k < 5; ++k)
                for (Eigen::Index a = 0; a < 3; ++a) s->owned(k, a) = normal(random) * (1.0 + 0.3 * k);
            frame.snapshot = s;
            int bands = 0, classes = 0;
            for (int trial = 0; trial < 2000; ++trial) {
                const Vector3d u = Vector3d(normal(random), normal(random), normal(random)).normalized();
                std::vector<double> value(5), norm(5, 1.0);
                int best = 0;
                for (int k = 0; k < 5; ++k) {
                    const Vector3d w = s->owned.row(k).transpose();
                    if (logits.weightNorms) norm[static_cast<std::size_t>(k)] = w.norm();
                    value[static_cast<std::size_t>(k)] =
                        norm[static_cast<std::size_t>(k)] * u.dot(w.normalized());
                    if (value[static_cast<std::size_t>(k)] > value[static_cast<std::size_t>(best)]) best = k;
                }
                const double target = norm[static_cast<std::size_t>(best)] *
                                      logits.target(std::clamp(value[static_cast<std::size_t>(best)] /
                                                                   norm[static_cast<std::size_t>(best)],
                                                               -1.0, 1.0));
                bool band = false;
                for (int k = 0; k < 5; ++k)
                    band = band || (k != best && value[static_cast<std::size_t>(k)] >= target);
                const int expected = band && logits.hasMargin ? Renderer3D::kBand : best;
                QCOMPARE(Renderer3D::regionAt(frame, u), expected);
                (expected == Renderer3D::kBand ? bands : classes) += 1;
            }
            QVERIFY2(bands > 100 && classes > 100, name);  // guard: both kinds were checked
        }
    }

    void nearestIndexInSpaceMatchesBruteForce() {
        std::mt19937_64 random(11);
        std::normal_distribution<double> normal;
        for (int n : {1, 7, 300, 3000}) {
            std::vector<Vector3d> points;
            for (int i = 0; i < n; ++i)
                points.push_back(Vector3d(normal(random), normal(random), normal(random)).normalized());
            if (n > 2) points[2] = points[1];  // a tie: the lower index wins
            const NearestIndex3D index(points);
            for (int trial = 0; trial < 2000; ++trial) {
                // On the sphere, inside it and far outside the grid's box.
                const double radius = trial % 3 == 0 ? 1.0 : trial % 3 == 1 ? 0.3 : 4.0;
                const Vector3d q = radius * Vector3d(normal(random), normal(random), normal(random)).normalized();
                int expected = 0;
                for (int i = 1; i < n; ++i)
                    if ((points[static_cast<std::size_t>(i)] - q).squaredNorm() <
                        (points[static_cast<std::size_t>(expected)] - q).squaredNorm())
                        expected = i;
                QCOMPARE(index.nearest(q), expected);
            }
            if (n > 2) QCOMPARE(index.nearest(points[1]), 1);
        }
        QCOMPARE(NearestIndex3D({}).nearest(Vector3d::UnitX()), -1);
    }

    void tupleRegionsOnTheSphereAreDirectionsOfThePoints() {
        // Clustered points in space (not on the sphere), for a loss that normalizes and one that
        // does not: the regions are the nearest class mean direction, or with the 1-NN option the
        // class of the nearest point's direction, both written out here by brute force.
        std::mt19937_64 random(5);
        std::normal_distribution<double> normal;
        const std::vector<Vector3d> centres = {Vector3d(2, 0, 0), Vector3d(0, 1.5, 0.2), Vector3d(-0.4, -0.3, 2.5)};
        std::vector<Vector3d> points;
        std::vector<int> labels;
        for (int i = 0; i < 90; ++i) {
            const int k = i % 3;
            points.push_back(centres[static_cast<std::size_t>(k)] +
                             0.6 * Vector3d(normal(random), normal(random), normal(random)));
            labels.push_back(k);
        }
        for (const bool normalize : {true, false}) {
            LossConfig loss;
            loss.name = "triplet_margin";
            loss.distance = DistanceSpec::lp(1, normalize);
            Frame3D frame;
            frame.run = describeRun(loss, std::nullopt);
            frame.snapshot = snapshotOf(points, labels, 3);
            std::vector<Vector3d> mean(3, Vector3d::Zero());
            for (std::size_t i = 0; i < points.size(); ++i)
                mean[static_cast<std::size_t>(labels[i])] += points[i].normalized();
            int differ = 0;
            for (int trial = 0; trial < 3000; ++trial) {
                const Vector3d u = Vector3d(normal(random), normal(random), normal(random)).normalized();
                int byMean = 0, byPoint = 0;
                for (int k = 1; k < 3; ++k)
                    if (u.dot(mean[static_cast<std::size_t>(k)].normalized()) >
                        u.dot(mean[static_cast<std::size_t>(byMean)].normalized()))
                        byMean = k;
                for (std::size_t i = 1; i < points.size(); ++i)
                    if ((points[i].normalized() - u).norm() < (points[static_cast<std::size_t>(byPoint)].normalized() - u).norm())
                        byPoint = static_cast<int>(i);
                frame.options.nearestNeighbourRegions = false;
                QCOMPARE(Renderer3D::regionAt(frame, u), byMean);
                frame.options.nearestNeighbourRegions = true;
                QCOMPARE(Renderer3D::regionAt(frame, u), labels[static_cast<std::size_t>(byPoint)]);
                differ += byMean != labels[static_cast<std::size_t>(byPoint)];
            }
            QVERIFY(differ > 30);  // guard: the two kinds of region really differ somewhere
        }
    }

    void softmaxFadeOnTheSphere() {
        // The fade is 2(1 − p) of the winning class, p the softmax of the (margin) logits at the
        // direction, written out here; 0 inside the margin band; and it greys the painted surface.
        LossConfig loss;
        loss.name = "normalized_softmax";
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        QVERIFY(frame.run.logits && !frame.run.logits->hasMargin);
        auto s = snapshotOf({Vector3d(1, 0, 0), Vector3d(0, 1, 0)}, {0, 1}, 2);
        s->owned = Points(2, 3);
        s->owned << 1, 0, 0, 0, 1, 0;
        frame.snapshot = s;
        frame.size = kSize;
        frame.camera = plainCamera();
        frame.showEqualArea = false;
        frame.showAxes = false;
        const double scale = frame.run.logits->scale;
        std::mt19937_64 random(3);
        std::normal_distribution<double> normal;
        for (int trial = 0; trial < 500; ++trial) {
            const Vector3d u = Vector3d(normal(random), normal(random), normal(random)).normalized();
            const double a = scale * u.x(), b = scale * u.y();
            const double p = 1.0 / (1.0 + std::exp(-std::abs(a - b)));
            QVERIFY(std::abs(Renderer3D::fadeAt(frame, u) - 2.0 * (1.0 - p)) < 1e-9);
        }
        // On the boundary (x = y) a coin toss, along a weight nearly certain.
        QVERIFY(Renderer3D::fadeAt(frame, Vector3d(1, 1, 0.3).normalized()) > 0.999);
        QVERIFY(Renderer3D::fadeAt(frame, Vector3d(1, 0, 0)) < 0.01);
        // Painted: the boundary is grey, the cap of class 0 keeps its tint.
        const QImage image = Renderer3D().image(frame);
        auto at = [&](const Vector3d& u) { return frame.camera.project(u, kSize).screen.toPoint(); };
        const QRgb boundary = image.pixel(at(Vector3d(1, 1, 1.6).normalized()));
        const QRgb cap = image.pixel(at(Vector3d(0.8, -0.2, 0.56).normalized()));
        QVERIFY(std::abs(qRed(boundary) - qGreen(boundary)) < 8 && std::abs(qGreen(boundary) - qBlue(boundary)) < 8);
        QVERIFY(std::abs(qRed(cap) - qBlue(cap)) > 20);
        // An ArcFace band has no fade.
        loss.name = "arcface";
        frame.run = describeRun(loss, std::nullopt);
        QCOMPARE(Renderer3D::regionAt(frame, Vector3d(1, 1, 0).normalized()), Renderer3D::kBand);
        QCOMPARE(Renderer3D::fadeAt(frame, Vector3d(1, 1, 0).normalized()), 0.0);
    }

    void severalCentersPerClassOnTheSphere() {
        // Sub-center ArcFace: the region of a direction is the class of its nearest sub-center
        // (brute force here), never the class of a row taken as a class weight.
        LossConfig loss;
        loss.name = "subcenter_arcface";
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        const int perClass = frame.run.centersPerClass();
        QVERIFY(perClass >= 2);
        const int classes = 3;
        std::mt19937_64 random(17);
        std::normal_distribution<double> normal;
        auto s = snapshotOf({Vector3d(1, 0, 0), Vector3d(0, 1, 0), Vector3d(0, 0, 1)}, {0, 1, 2}, classes);
        s->owned = Points(perClass * classes, 3);
        for (Eigen::Index r = 0; r < s->owned.rows(); ++r)
            for (Eigen::Index a = 0; a < 3; ++a) s->owned(r, a) = normal(random);
        frame.snapshot = s;
        int fromMinor = 0;
        for (int trial = 0; trial < 1000; ++trial) {
            const Vector3d u = Vector3d(normal(random), normal(random), normal(random)).normalized();
            Eigen::Index best = 0;
            for (Eigen::Index r = 1; r < s->owned.rows(); ++r)
                if (u.dot(s->owned.row(r).transpose().normalized()) > u.dot(s->owned.row(best).transpose().normalized()))
                    best = r;
            QCOMPARE(Renderer3D::regionAt(frame, u), static_cast<int>(best % classes));
            fromMinor += best >= classes;
        }
        QVERIFY(fromMinor > 100);  // guard: directions won by a center beyond the first block were checked
        // Each center drawn: a diamond in its class colour at a center in front.
        frame.size = kSize;
        frame.camera = plainCamera();
        frame.showEqualArea = false;
        frame.showAxes = false;
        frame.options.showRegions = false;
        frame.options.showForces = false;
        frame.options.showMarginInset = false;
        const QImage image = Renderer3D().image(frame);
        int drawn = 0;
        for (Eigen::Index r = 0; r < s->owned.rows(); ++r) {
            const Vector3d w = s->owned.row(r).transpose().normalized();
            const Projection p = frame.camera.project(w, kSize);
            if (p.depth < 0.3) continue;
            const QColor expected = ClassPalette::color(static_cast<int>(r % classes));
            if (colorDistance(pixelAt(image, p.screen), expected.rgb()) < 40) ++drawn;
        }
        QVERIFY(drawn >= 2);
    }

    void aLossCardShowsOnTheSphereToo() {
        // FastAP's ranked list of the chosen anchor: the same card as in 2D, from 3D positions.
        LossConfig loss;
        loss.name = "fast_ap";
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        QVERIFY(frame.run.picture.kind == LossPicture::Kind::RankedList);
        std::mt19937_64 random(23);
        std::normal_distribution<double> normal;
        std::vector<Vector3d> points;
        std::vector<int> labels;
        for (int i = 0; i < 40; ++i) {
            points.push_back(Vector3d(normal(random), normal(random), normal(random)).normalized());
            labels.push_back(i % 4);
        }
        frame.snapshot = snapshotOf(points, labels, 4);
        frame.size = QSize(1280, 800);
        frame.camera = plainCamera();
        frame.selection.anchor = 3;
        const QImage with = Renderer3D().image(frame);
        frame.options.showMarginInset = false;  // the option that shows the loss's card
        const QImage without = Renderer3D().image(frame);
        const QRectF box(1280 - 300 - 12, 800 - 200 - 30, 300, 200);  // the θ inset's place (FrameContext)
        int differing = 0;
        for (int y = static_cast<int>(box.top()) + 4; y < static_cast<int>(box.bottom()) - 4; y += 2)
            for (int x = static_cast<int>(box.left()) + 4; x < static_cast<int>(box.right()) - 4; x += 2)
                differing += with.pixel(x, y) != without.pixel(x, y);
        QVERIFY2(differing > 500, qPrintable(QString::number(differing)));
    }

    void equalAreaMapPutsKnownPointsAtKnownPixels() {
        const double s45 = std::sqrt(0.5);
        const std::vector<Vector3d> points = {Vector3d(0, 2, 0),     Vector3d(0, -1, 0),
                                              Vector3d(1, 0, 0),     Vector3d(0, 0, 1),
                                              Vector3d(s45, s45, 0), Vector3d(0, -s45, -s45)};
        Frame3D frame;
        frame.size = QSize(1280, 800);
        frame.camera = plainCamera();
        frame.snapshot = snapshotOf(points, {0, 1, 2, 3, 4, 5}, 6);
        const EqualAreaLayout layout = Renderer3D::equalAreaLayout(frame);
        QVERIFY(layout.shown());
        const double R = layout.radius;
        // Lambert: distance from the pole ρ = 2 sin(θ/2), θ the polar angle; the equator (ρ = √2) is the rim.
        const double r45 = R * 2 * std::sin(std::numbers::pi / 8) / std::sqrt(2.0);
        const std::vector<QPointF> expected = {layout.north,
                                               layout.south,
                                               layout.north + QPointF(R, 0),
                                               layout.north + QPointF(0, R),
                                               layout.north + QPointF(r45, 0),
                                               layout.south + QPointF(0, r45)};
        const QImage image = Renderer3D().image(frame);
        for (std::size_t i = 0; i < points.size(); ++i) {
            const auto at = Renderer3D::equalAreaPoint(frame, points[i]);
            QVERIFY(at);
            QVERIFY2(std::hypot(at->x() - expected[i].x(), at->y() - expected[i].y()) < 1e-9,
                     qPrintable(QString::number(i)));
            // The dot is painted there in its class colour.
            std::vector<QColor> colors;
            for (int k = 0; k < 6; ++k) colors.push_back(ClassPalette::color(k).darker(115));
            colors.push_back(QColor(248, 248, 248));  // the map without regions
            QCOMPARE(nearest(pixelAt(image, expected[i]), colors), static_cast<int>(i));
        }
        // Equal area: a cap of polar angle θ covers the disc of radius ρ(θ), area π ρ² = 2π(1 − cos θ).
        frame.showEqualArea = false;
        QVERIFY(!Renderer3D::equalAreaPoint(frame, points[0]));
    }

    void pickingOnARotatedSphere() {
        Frame3D frame;
        frame.size = kSize;
        frame.camera = plainCamera().turned(1.1).rotatedInView(Vector3d(1, 1, 0), 0.6);
        // Point 0 in front of point 1 on the same line of sight; point 2 elsewhere.
        const Vector3d front = frame.camera.toWorld(Vector3d(0.3, -0.2, std::sqrt(1 - 0.13)));
        const Vector3d back = frame.camera.toWorld(Vector3d(0.3, -0.2, -std::sqrt(1 - 0.13)));
        const Vector3d other = frame.camera.toWorld(Vector3d(-0.5, 0.4, 0.2).normalized());
        frame.snapshot = snapshotOf({back, front, other}, {0, 1, 0}, 2);
        const QPointF at = frame.camera.project(front, kSize).screen;
        QVERIFY(std::hypot(at.x() - frame.camera.project(back, kSize).screen.x(),
                           at.y() - frame.camera.project(back, kSize).screen.y()) < 1e-9);
        QCOMPARE(Renderer3D::pick(frame, at + QPointF(3, -2)), 1);
        QCOMPARE(Renderer3D::pick(frame, frame.camera.project(other, kSize).screen), 2);
        QCOMPARE(Renderer3D::pick(frame, at + QPointF(30, 0)), -1);
        // Turned half way round (about the view's vertical axis), the back point is in front.
        frame.camera = frame.camera.rotatedInView(Vector3d::UnitY(), std::numbers::pi);
        QCOMPARE(Renderer3D::pick(frame, frame.camera.project(back, kSize).screen), 0);
    }

    void tripletCapsHoldTheirRegions() {
        // Normalized triplet margin: hard negatives inside the hard cap, semi-hard inside the
        // margin cap, easy ones outside — the same counts as the engine's query.
        GeneratorConfig data{"sphere_caps", {}};
        data.params.numbers["points"] = 120;
        data.params.numbers["cap_angle"] = 60;
        std::string error;
        const auto dataset = generate(data, &error);
        QVERIFY(dataset);
        auto s = std::make_shared<Snapshot>();
        s->positions = dataset->points * 1.7;  // off the sphere: the loss normalizes
        s->labels = dataset->labels;
        s->numClasses = dataset->numClasses;
        LossConfig loss;
        loss.name = "triplet_margin";
        loss.params.numbers["margin"] = 0.4;
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        frame.snapshot = s;
        frame.size = kSize;
        frame.selection.anchor = 5;
        const SphereTripletOverlay o = Renderer3D::tripletOverlay(frame);
        QVERIFY(o.valid && o.caps && !o.shells);
        if (qEnvironmentVariableIsSet("MARGINLAB_SAVE")) {
            frame.size = QSize(1280, 800);
            frame.camera = Renderer3D::fitted(frame).turned(0.4).rotatedInView(Vector3d::UnitX(), 0.3);
            Renderer3D().image(frame).save(QStringLiteral("/tmp/sphere_triplet.png"));
            frame.size = kSize;
        }
        const RegionQuery q =
            queryRegions(s->positions, s->labels, 5, o.planar.positive, frame.run.tripletMargin,
                         frame.run.distance, frame.run.semiHardRule);
        QCOMPARE(o.planar.query.hard, q.hard);
        QCOMPARE(o.planar.query.semiHard, q.semiHard);
        QCOMPARE(o.planar.query.easy, q.easy);
        QVERIFY(q.hard + q.semiHard > 0 && q.easy > 0);  // guard: every kind is checked
        const std::vector<Vector3d> seen = Renderer3D::seenPositions(frame);
        for (std::size_t i = 0; i < seen.size(); ++i) {
            const double angle = std::acos(std::clamp(seen[i].dot(o.center), -1.0, 1.0));
            switch (q.regions[i]) {
                case Region::Hard:
                    QVERIFY(angle <= o.hardAngle + 1e-9);
                    break;
                case Region::SemiHard:
                    QVERIFY(angle > o.hardAngle - 1e-9 && angle <= o.ringAngle + 1e-9);
                    break;
                case Region::Easy:
                    QVERIFY(angle > o.ringAngle - 1e-9);
                    break;
                case Region::NotNegative:
                    break;
            }
        }
        // Not normalized: shells in space around the raw anchor.
        loss.distance = DistanceSpec::lp(1, false);
        loss.params.numbers["margin"] = 0.4;
        frame.run = describeRun(loss, std::nullopt);
        const SphereTripletOverlay shells = Renderer3D::tripletOverlay(frame);
        QVERIFY(shells.valid && shells.shells && !shells.caps);
        QVERIFY(std::abs(shells.ringRadius - shells.hardRadius - 0.4) < 1e-12);
    }

    void marginLossBandIsAZoneOnTheSphere() {
        // MarginLoss (PML's default distance: normalized L2) with margin 0.2 and β = 1.2: positives
        // belong inside the chord 1.0, negatives beyond 1.4, the boundary at 1.2 — on the sphere the
        // caps of angles 2·asin(r/2) = 60°, 88.9° and 73.7° around the anchor.
        LossConfig loss;
        loss.name = "margin";
        loss.params.numbers["margin"] = 0.2;
        loss.params.numbers["beta"] = 1.2;
        const Vector3d axis(0.0, std::sin(0.5), std::cos(0.5));  // tilted up, so the zone below stays in front
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        QVERIFY(frame.run.distanceBand && frame.run.distance.normalizes());
        // The anchor and its neighbours above it, so the probes below it see only the band.
        frame.snapshot = snapshotOf({axis * 1.5, Vector3d(0.2, 0.9, 0.3), Vector3d(-0.3, 0.8, 0.4)}, {0, 0, 1}, 2);
        frame.size = kSize;
        frame.camera = plainCamera();
        frame.options.showRegions = false;
        frame.showEqualArea = false;
        frame.selection.anchor = 0;
        const QImage with = Renderer3D().image(frame);
        Frame3D plain = frame;
        plain.selection.anchor = -1;
        const QImage without = Renderer3D().image(plain);
        // Down the sphere from the anchor (towards −y) by α, and a little to the side by β.
        auto screenAt = [&](double alphaDegrees, double sideDegrees = 0.0) {
            const double a = alphaDegrees * std::numbers::pi / 180.0, b = sideDegrees * std::numbers::pi / 180.0;
            const Vector3d down = Vector3d(0.0, -std::cos(0.5), std::sin(0.5));  // ⊥ axis, towards −y
            const Vector3d side = axis.cross(down);
            const Vector3d u = std::cos(a) * axis + std::sin(a) * (std::cos(b) * down + std::sin(b) * side);
            const Projection p = frame.camera.project(u, kSize);
            [&] { QVERIFY(p.depth > 0.05); }();
            return p.screen;
        };
        auto shaded = [&](double alpha, double side) {
            return colorDistance(pixelAt(with, screenAt(alpha, side)), pixelAt(without, screenAt(alpha, side))) > 12;
        };
        for (double side : {-20.0, 0.0, 25.0}) {
            QVERIFY2(shaded(66.0, side), qPrintable(QString::number(side)));  // inside the band, β side
            QVERIFY2(shaded(81.0, side), qPrintable(QString::number(side)));  // inside the band, beyond β
            QVERIFY2(!shaded(50.0, side), qPrintable(QString::number(side)));  // nearer than the band
            QVERIFY2(!shaded(97.0, side), qPrintable(QString::number(side)));  // beyond it
        }
        // The β circle is drawn: darker than the band on either side of it, in most directions.
        int ring = 0;
        for (double side = -40.0; side <= 40.0; side += 4.0) {
            auto grey = [&](double alpha) { return qGray(pixelAt(with, screenAt(alpha, side))); };
            int darkest = 255;
            for (double alpha = 72.7; alpha <= 74.7; alpha += 0.25) darkest = std::min(darkest, grey(alpha));
            ring += darkest + 25 < grey(67.0) && darkest + 25 < grey(80.0);
        }
        QVERIFY2(ring > 10, qPrintable(QString::number(ring)));

        // Not normalized: a shell in space around the raw anchor, drawn as the band's disc.
        loss.distance = DistanceSpec::lp(1, false);
        frame.run = describeRun(loss, std::nullopt);
        plain.run = frame.run;
        const Vector3d raw(0.2, 0.4, 0.3);
        frame.snapshot = snapshotOf({raw, Vector3d(0.2, 0.9, 0.3), Vector3d(-0.3, 0.8, 0.4)}, {0, 0, 1}, 2);
        plain.snapshot = frame.snapshot;
        frame.camera = plainCamera();
        frame.camera.worldRadius = 2.5;
        plain.camera = frame.camera;
        const QImage shell = Renderer3D().image(frame), noShell = Renderer3D().image(plain);
        const QPointF centre = frame.camera.project(raw, kSize).screen;
        const double ppu = frame.camera.pixelsPerUnit(kSize);
        auto shellShaded = [&](double radius, double degrees) {
            const double a = degrees * std::numbers::pi / 180.0;
            const QPointF p = centre + radius * ppu * QPointF(std::cos(a), std::sin(a));  // screen y down
            return colorDistance(pixelAt(shell, p), pixelAt(noShell, p)) > 12;
        };
        for (double degrees : {60.0, 90.0, 120.0}) {
            QVERIFY(shellShaded(1.05, degrees));  // between β − margin = 0.9 and β = 1.2
            QVERIFY(shellShaded(1.35, degrees));  // between β and β + margin = 1.5
            QVERIFY(!shellShaded(0.7, degrees));
            QVERIFY(!shellShaded(1.7, degrees));
        }
    }

    void softNeighbourRingsOnTheSphere() {
        // NCA's rings sit on the projected points: a ring of radius 40·√p around neighbour j's
        // screen position, red for another class, dashed and faint when j is behind the sphere.
        LossConfig loss;
        loss.name = "nca";
        loss.params.numbers["softmax_scale"] = 0.3;
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        QVERIFY(frame.run.picture.kind == LossPicture::Kind::SoftNeighbours);
        const std::vector<Vector3d> points = {Vector3d(0, 0.6, 0.8), Vector3d(0.1, 0.7, 0.7).normalized(),
                                              Vector3d(0.6, -0.3, 0.74).normalized(),
                                              Vector3d(-0.5, 0.2, -0.84).normalized()};
        frame.snapshot = snapshotOf(points, {0, 0, 1, 1}, 2);
        frame.size = QSize(1280, 800);
        frame.camera = plainCamera();
        frame.options.showRegions = false;
        frame.showEqualArea = false;
        frame.selection.anchor = 0;
        const QImage image = Renderer3D().image(frame);
        frame.selection.anchor = -1;
        const QImage plain = Renderer3D().image(frame);
        const auto p = softNeighbourProbabilities(frame.snapshot->positions, 0, frame.run.distance, 0.3);
        auto redOnRing = [&](const QImage& picture, int j) {
            const QPointF centre = frame.camera.project(points[static_cast<std::size_t>(j)], frame.size).screen;
            const double radius = 40.0 * std::sqrt(p[static_cast<std::size_t>(j)]);
            int red = 0;
            for (int degree = 30; degree < 150; degree += 5) {
                const double a = degree * std::numbers::pi / 180.0;
                for (int dr = -1; dr <= 1; ++dr) {
                    const QColor c = picture.pixelColor((centre + (radius + dr) * QPointF(std::cos(a), std::sin(a))).toPoint());
                    if (c.red() > c.blue() + 40) {
                        ++red;
                        break;
                    }
                }
            }
            return red;
        };
        QVERIFY(40.0 * std::sqrt(p[2]) > 8.0);
        QVERIFY2(redOnRing(image, 2) > 18, qPrintable(QString::number(redOnRing(image, 2))));
        QCOMPARE(redOnRing(plain, 2), 0);
        // The neighbour on the far side keeps a (dashed) ring where it is drawn.
        QVERIFY(frame.camera.project(points[3], frame.size).depth < 0);
        QVERIFY2(redOnRing(image, 3) > 6, qPrintable(QString::number(redOnRing(image, 3))));
        QCOMPARE(redOnRing(plain, 3), 0);
    }

    void sameFrameTwiceIsTheSameImage() {
        GeneratorConfig data{"sphere_caps", {}};
        data.params.numbers["points"] = 300;
        std::string error;
        const auto dataset = generate(data, &error);
        QVERIFY(dataset);
        TrainerConfig config;
        config.points = dataset->points;
        config.labels = dataset->labels;
        config.numClasses = dataset->numClasses;
        config.loss.name = "arcface";
        Trainer trainer(config);
        trainer.setSplitForces(true);
        Frame3D frame;
        frame.snapshot = trainer.step(2);
        frame.run = describeRun(config.loss, config.miner);
        frame.size = kSize;
        frame.camera = Renderer3D::fitted(frame).turned(0.5).rotatedInView(Vector3d::UnitX(), 0.4);
        frame.selection.anchor = 3;
        frame.options.splitForces = true;
        frame.trail = {dataset->points};
        frame.captions.description = QStringLiteral("A description");
        Renderer3D renderer;
        const QImage a = renderer.image(frame), b = renderer.image(frame), c = Renderer3D().image(frame);
        if (qEnvironmentVariableIsSet("MARGINLAB_SAVE")) a.save(QStringLiteral("/tmp/sphere_full.png"));
        QVERIFY(a == b);
        QVERIFY(a == c);
        frame.camera = frame.camera.turned(0.01);
        QVERIFY(renderer.image(frame) != a);  // guard: the picture depends on the camera
    }

    void svgHoldsOneEllipsePerPoint() {
        // Vector targets: every point (and normalized copy) its own shape, no sprite bitmaps.
        GeneratorConfig data{"blobs3d", {}};
        data.params.numbers["points"] = 60;
        std::string error;
        const auto dataset = generate(data, &error);
        QVERIFY(dataset);
        auto s = std::make_shared<Snapshot>();
        s->positions = dataset->points;
        s->labels = dataset->labels;
        s->numClasses = dataset->numClasses;
        LossConfig loss;
        loss.name = "triplet_margin";
        Frame3D frame;
        frame.run = describeRun(loss, std::nullopt);
        frame.snapshot = s;
        frame.size = kSize;
        frame.showEqualArea = false;
        frame.camera = Renderer3D::fitted(frame);
        QBuffer buffer;
        buffer.open(QIODevice::WriteOnly);
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(kSize);
        svg.setViewBox(QRect(QPoint(0, 0), kSize));
        QPainter painter(&svg);
        Renderer3D().paint(painter, frame);
        painter.end();
        const QString text = QString::fromUtf8(buffer.data());
        QVERIFY(text.count(QStringLiteral("<ellipse")) + text.count(QStringLiteral("<circle")) >= 2 * 60);
    }

    void theCameraIsSavedWithTheViewSettings() {
        ViewSettings settings;
        Camera3D camera = plainCamera().turned(0.8).rotatedInView(Vector3d::UnitX(), -0.3).zoomed(1.7);
        camera.pan = QPointF(12.5, -4.0);
        camera.worldRadius = 2.25;
        settings.camera3d = camera;
        const json::Json saved = viewSettingsToJson(settings);
        // Through text, as a scene file stores it.
        const ViewSettings back = viewSettingsFromJson(json::Json::parse(saved.dump()));
        QVERIFY(back.camera3d);
        QVERIFY(back.camera3d->rotation.isApprox(camera.rotation, 1e-15));
        QCOMPARE(back.camera3d->zoom, camera.zoom);
        QCOMPARE(back.camera3d->worldRadius, camera.worldRadius);
        QCOMPARE(back.camera3d->pan, camera.pan);
        QVERIFY(!viewSettingsFromJson(viewSettingsToJson(ViewSettings{})).camera3d);
        // A broken camera is dropped (the view is cosmetic): no rotation, a zero quaternion.
        for (const char* text : {R"({"camera3d": {"zoom": 2}})", R"({"camera3d": {"rotation": [0, 0, 0, 0]}})",
                                 R"({"camera3d": {"rotation": [1, 0, "x", 0]}})"})
            QVERIFY(!viewSettingsFromJson(json::Json::parse(text)).camera3d);
        // A camera out of range is clamped, an unnormalized rotation normalized.
        const ViewSettings odd = viewSettingsFromJson(
            json::Json::parse(R"({"camera3d": {"rotation": [2, 0, 0, 0], "zoom": 1e9}})"));
        QVERIFY(odd.camera3d);
        QCOMPARE(odd.camera3d->zoom, Camera3D::kMaxZoom);
        QVERIFY(odd.camera3d->rotation.isApprox(Eigen::Quaterniond::Identity()));
    }

    void emptyFramesPaint() {
        Frame3D frame;
        frame.size = QSize(200, 100);
        const QImage image = Renderer3D().image(frame);
        QCOMPARE(image.size(), QSize(200, 100));
        QCOMPARE(QColor(image.pixel(100, 50)), QColor(Qt::white));
    }
};

QTEST_MAIN(Renderer3DTest)
#include "renderer3d_test.moc"

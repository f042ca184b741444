// SPDX-License-Identifier: MIT
// The cross-batch memory in a 2D frame: faded, small points in class colours under the live points
// and a "memory (N)" line in the legend; nothing when the snapshot has no memory. Painted with no
// widget. The default camera maps world (x, y) to pixel (w/2 + 100x, h/2 − 100y).
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>

#include "classpalette.h"
#include "frame2d.h"
#include "frameexport.h"
#include "marginlab/runinfo.h"
#include "marginlab/trainer.h"
#include "renderer2d.h"

using namespace marginlab;

namespace {

constexpr QSize kSize(400, 300);

std::shared_ptr<Snapshot> snapshotWithMemory(bool memory) {
    auto s = std::make_shared<Snapshot>();
    s->positions = Points(4, 2);
    s->positions << -1.0, 0.5, -1.2, 0.3, 1.0, 0.5, 1.2, 0.3;
    s->labels = {0, 0, 1, 1};
    s->numClasses = 2;
    if (memory) {
        s->memoryPositions = Points(3, 2);
        // Two class-1 rows where no live point is, one class-0 row on top of live point 0.
        s->memoryPositions << -0.37, -0.63, 0.43, -0.63, -1.0, 0.5;
        s->memoryLabels = {1, 1, 0};
    }
    return s;
}

Frame2D frameOf(std::shared_ptr<Snapshot> snapshot) {
    Frame2D frame;
    frame.snapshot = std::move(snapshot);
    LossConfig loss;
    loss.name = "contrastive";
    loss.distance = DistanceSpec::lp(1, false);
    frame.run = describeRun(loss, std::nullopt);
    frame.options.showRegions = false;  // a plain white background, so the fade can be measured
    frame.size = kSize;
    return frame;
}

}  // namespace

class MemoryLayerTest : public QObject {
    Q_OBJECT

private slots:
    void memoryPointsAreFadedClassColoursUnderTheLivePoints() {
        Renderer2D renderer;
        const QImage with = renderer.image(frameOf(snapshotWithMemory(true)));
        const QImage without = renderer.image(frameOf(snapshotWithMemory(false)));
        const QColor classColour = ClassPalette::color(1);
        for (const QPoint at : {QPoint(163, 213), QPoint(243, 213)}) {
            const QColor empty = without.pixelColor(at);
            QCOMPARE(empty, QColor(Qt::white));  // nothing there without the memory
            const QColor faded = with.pixelColor(at);
            // A blend of the class colour over white at the memory's opacity: clearly tinted, and
            // far lighter than a live point.
            for (auto channel : {&QColor::red, &QColor::green, &QColor::blue}) {
                const double expected = 0.28 * (classColour.*channel)() + 0.72 * 255.0;
                QVERIFY2(std::abs((faded.*channel)() - expected) <= 6.0,
                         qPrintable(QStringLiteral("%1 vs %2").arg((faded.*channel)()).arg(expected)));
            }
            QVERIFY(faded != empty);
        }
        // Small: 5 px from the centre (beyond the memory radius of 3) is white again.
        QCOMPARE(with.pixelColor(QPoint(163 + 5, 213)), QColor(Qt::white));
        // The live point drawn over a memory row keeps its full colour.
        QCOMPARE(with.pixelColor(QPoint(100, 100)), without.pixelColor(QPoint(100, 100)));
    }

    void theLegendCountsTheMemory() {
        Renderer2D renderer;
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (const bool memory : {true, false}) {
            const QString path =
                dir.filePath(memory ? QStringLiteral("with.svg") : QStringLiteral("without.svg"));
            QString error;
            QVERIFY2(exportFrame(renderer, frameOf(snapshotWithMemory(memory)), path, &error),
                     qPrintable(error));
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QByteArray svg = file.readAll();
            QCOMPARE(svg.contains("memory (3)"), memory);
        }
    }
};

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    MemoryLayerTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "memory_layer_test.moc"

// SPDX-License-Identifier: MIT
// Scene files through sceneio: built-in scenes parse, save → open round trip, bad files refused.
#include "controlpanel.h"
#include "scenedocument.h"
#include "trainingcontroller.h"
#include "diagnosis.h"
#include "sceneio.h"
#include "marginlab/scene/npy.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace marginlab;

namespace {

QString sceneDir() { return QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes"); }

void writeText(const QString& path, const QByteArray& text) {
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(text);
}

}  // namespace

class SceneIoTest : public QObject {
    Q_OBJECT

private slots:
    void builtInScenesOpen() {
        const QStringList files = QDir(sceneDir()).entryList({QStringLiteral("*.json")}, QDir::Files);
        QVERIFY(files.size() >= 12);
        QFile qrc(QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/marginlab.qrc"));
        QVERIFY(qrc.open(QIODevice::ReadOnly));
        const QString resources = QString::fromUtf8(qrc.readAll());
        for (const QString& name : files) {
            QVERIFY2(resources.contains(QStringLiteral("scenes/") + name), qPrintable(name + " is not in marginlab.qrc"));
            QString error;
            const auto scene = sceneio::openScene(sceneDir() + QLatin1Char('/') + name, &error);
            QVERIFY2(scene, qPrintable(error));
            QVERIFY2(!scene->title.empty(), qPrintable(name));
            QVERIFY(scene->trainer.points.rows() > 0);
        }
    }

    void teachingScenesShowWhatTheySay() {
        // The collapse demo collapses (the canvas diagnosis fires) …
        QString error;
        auto scene = sceneio::openScene(sceneDir() + QStringLiteral("/collapse.json"), &error);
        QVERIFY2(scene, qPrintable(error));
        Trainer collapsing(scene->trainer);
        const auto late = collapsing.step(250);
        QCOMPARE(diagnose(*late, findLoss(scene->trainer.loss.name)).kind, Diagnosis::Kind::Collapse);
        // … and the triplet scene on well-separated blobs runs out of active triplets.
        scene = sceneio::openScene(sceneDir() + QStringLiteral("/triplet-vs-contrastive.json"), &error);
        QVERIFY2(scene, qPrintable(error));
        Trainer stalling(scene->trainer);
        QCOMPARE(diagnose(*stalling.step(1), findLoss(scene->trainer.loss.name)).kind, Diagnosis::Kind::None);
        // Every class apart and no active triplet: converged (a calm note), not "stuck".
        const auto converged = stalling.step(120);
        QVERIFY(converged->deadGradient);
        QCOMPARE(converged->metrics.precisionAt1, 1.0);
        QCOMPARE(diagnose(*converged, findLoss(scene->trainer.loss.name)).kind, Diagnosis::Kind::Converged);
    }

    void saveThenOpenGivesTheSameScene() {
        QString error;
        auto scene = sceneio::openScene(sceneDir() + QStringLiteral("/triplet-regions.json"), &error);
        QVERIFY2(scene, qPrintable(error));
        scene->trainer.seed = 77;
        scene->trainer.loss.params.numbers["margin"] = 0.3;
        scene->view = {{"anchor", 3}, {"force_scale", 1.5}};
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("saved.json"));
        QVERIFY2(sceneio::saveScene(*scene, path, &error), qPrintable(error));
        const auto reopened = sceneio::openScene(path, &error);
        QVERIFY2(reopened, qPrintable(error));
        QCOMPARE(reopened->trainer.seed, std::uint64_t{77});
        QCOMPARE(reopened->trainer.loss.params.numbers.at("margin"), 0.3);
        QVERIFY(reopened->trainer.points == scene->trainer.points);
        QVERIFY(reopened->trainer.labels == scene->trainer.labels);
        QVERIFY(reopened->view == scene->view);
        QVERIFY2(sceneToJson(*reopened) == sceneToJson(*scene), sceneToJson(*reopened).dump().c_str());
    }

    void presetsSetTheLossParameters() {
        QString error;
        const auto arcface = sceneio::openScene(sceneDir() + QStringLiteral("/arcface-circle.json"), &error);
        QVERIFY2(arcface, qPrintable(error));
        TrainingController controller;
        SceneDocument document(&controller);
        QVERIFY2(document.open(*arcface, &error), qPrintable(error));
        ControlPanel panel(&document);
        panel.refresh();
        std::optional<SceneFile> edited;
        connect(&panel, &ControlPanel::sceneEdited, this, [&](const SceneFile& scene) { edited = scene; });
        panel.applyPreset(2);  // the first 2D preset
        QVERIFY(edited);
        const ParamValues& preset = findLoss("arcface")->presets.at(0).params;
        QCOMPARE(edited->trainer.loss.params.numbers.at("margin"), preset.numbers.at("margin"));
        QCOMPARE(edited->trainer.loss.params.numbers.at("scale"), preset.numbers.at("scale"));
        edited.reset();
        panel.applyPreset(1);  // back to PML's defaults: nothing differs from them any more
        QVERIFY(edited);
        QVERIFY(edited->trainer.loss.params.numbers.empty());
    }

    void badFilesAreRefusedAndTheSceneStaysIntact() {
        QString error;
        const auto good = sceneio::openScene(sceneDir() + QStringLiteral("/triplet-regions.json"), &error);
        QVERIFY2(good, qPrintable(error));
        TrainingController controller;
        SceneDocument document(&controller);
        QVERIFY2(document.open(*good, &error), qPrintable(error));
        const auto before = sceneToJson(document.scene());

        QTemporaryDir dir;
        const QString garbage = dir.filePath(QStringLiteral("garbage.json"));
        writeText(garbage, "{ this is not json");
        QVERIFY(!sceneio::openScene(garbage, &error));
        // One line naming the file and where the syntax breaks.
        QVERIFY2(error.contains(QStringLiteral("garbage.json")) && error.contains(QStringLiteral("line 1, column")),
                 qPrintable(error));

        const QString newer = dir.filePath(QStringLiteral("newer.json"));
        writeText(newer, R"({"format": "marginlab-scene", "version": 99, "data": {"points": [[0,0],[1,1]], "labels": [0,1]},
                             "loss": {"name": "triplet_margin"}})");
        QVERIFY(!sceneio::openScene(newer, &error));
        QVERIFY2(error.contains(QStringLiteral("newer")), qPrintable(error));

        QVERIFY(!sceneio::openScene(dir.filePath(QStringLiteral("missing.json")), &error));
        QVERIFY(!sceneio::saveScene(*good, dir.filePath(QStringLiteral("no/such/folder/x.json")), &error));

        // A bad scene never reaches the document: what is open stays as it was.
        SceneFile broken = *good;
        broken.trainer.labels.pop_back();
        QVERIFY(!document.open(broken, &error));
        QVERIFY(!document.edit(broken, &error));
        QVERIFY(sceneToJson(document.scene()) == before);
    }

    void csvErrorsNameLineAndColumn() {
        QString error;
        const auto good = sceneio::openScene(sceneDir() + QStringLiteral("/triplet-regions.json"), &error);
        QVERIFY2(good, qPrintable(error));
        QTemporaryDir dir;
        const QString bad = dir.filePath(QStringLiteral("bad.csv"));
        writeText(bad, "x,y,label\n0,0,0\n1,oops,1\n");
        QVERIFY(!sceneio::importData(*good, bad, &error));
        QVERIFY2(error.contains(QStringLiteral("line 3")), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("column")), qPrintable(error));

        const QString ok = dir.filePath(QStringLiteral("ok.csv"));
        writeText(ok, "x,y,label\n0,0,0\n0.5,0,0\n1,1,1\n1.5,1,1\n");
        const auto imported = sceneio::importData(*good, ok, &error);
        QVERIFY2(imported, qPrintable(error));
        QCOMPARE(imported->trainer.points.rows(), Eigen::Index{4});
        QCOMPARE(imported->trainer.numClasses, 2);
        QCOMPARE(imported->trainer.loss.name, good->trainer.loss.name);
        // A NumPy array with three columns and its labels: the scene becomes 3D, the rest stays.
        QFile array(dir.filePath(QStringLiteral("emb.npy")));
        QVERIFY(array.open(QIODevice::WriteOnly));
        const std::string values = npy::encode({3, 3}, std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1});
        array.write(values.data(), static_cast<qint64>(values.size()));
        array.close();
        const QString npyPath = dir.filePath(QStringLiteral("emb.npy"));
        QVERIFY(!sceneio::importData(*good, npyPath, &error));  // no labels yet
        QVERIFY2(error.contains(QStringLiteral("emb-labels.npy")), qPrintable(error));
        QFile labels(dir.filePath(QStringLiteral("emb-labels.npy")));
        QVERIFY(labels.open(QIODevice::WriteOnly));
        const std::string labelBytes = npy::encode({3}, std::vector<std::int64_t>{0, 1, 1});
        labels.write(labelBytes.data(), static_cast<qint64>(labelBytes.size()));
        labels.close();
        const auto threeD = sceneio::importData(*good, npyPath, &error);
        QVERIFY2(threeD, qPrintable(error));
        QCOMPARE(threeD->trainer.points.cols(), Eigen::Index{3});
        QCOMPARE(threeD->trainer.points(2, 2), 1.0);
        QCOMPARE(threeD->trainer.numClasses, 2);
        QCOMPARE(threeD->trainer.loss.name, good->trainer.loss.name);
    }
};

QTEST_MAIN(SceneIoTest)
#include "sceneio_test.moc"

// SPDX-License-Identifier: MIT
// File > Open with hostile files (issue 14), through MainWindow::openScene — the function the
// Open dialog calls with the chosen path: deep nesting, numbers beyond the supported range,
// limits, a FIFO without a writer, a folder, a device, a bad comparison panel. Each must show a
// warning naming the problem (the dialog is answered by the test) and keep the open scene exactly
// as it was; none may block.
#include "mainwindow.h"
#include "plotview3d.h"
#include "scenedocument.h"

#include "marginlab/scene/scenefile.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QMessageBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <sys/stat.h>

#include <chrono>
#include <string>

using namespace marginlab;

namespace {

/// Answers the next modal message box (the app's warning) and keeps its text.
class DialogAnswerer : public QObject {
public:
    DialogAnswerer() {
        m_timer.setInterval(20);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
                m_text = box->text();
                m_title = box->windowTitle();
                ++m_count;
                box->accept();
            }
        });
        m_timer.start();
    }
    QString text() const { return m_text; }
    QString title() const { return m_title; }
    int count() const { return m_count; }

private:
    QTimer m_timer;
    QString m_text, m_title;
    int m_count = 0;
};

void writeText(const QString& path, const QByteArray& text) {
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(text);
}

QByteArray scene(const QByteArray& data) {
    return R"({"format": "marginlab-scene", "version": 1, "data": )" + data + R"(, "loss": "contrastive"})";
}

}  // namespace

class MainWindowOpenTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        // Keep the user's settings out of it.
        QCoreApplication::setOrganizationName(QStringLiteral("MarginLabTest"));
        QCoreApplication::setApplicationName(QStringLiteral("mainwindow_open_test"));
    }

    void hostileFilesAreRefusedAndTheSceneIsKept() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        MainWindow window;
        const QString good = QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/triplet-regions.json");
        QVERIFY(window.openScene(good));
        const json::Json before = sceneToJson(window.document()->scene());

        struct Case {
            const char* name;
            QString path;
            QString expected;  ///< a part of the message
        };
        std::vector<Case> cases;
        auto file = [&](const char* name, const QByteArray& text) {
            const QString path = dir.filePath(QString::fromLatin1(name));
            writeText(path, text);
            return path;
        };
        cases.push_back({"deep nesting", file("deep.json", QByteArray(100'000, '[') + QByteArray(100'000, ']')),
                         QStringLiteral("nest")});
        cases.push_back({"deep nesting inside a scene",
                         file("deep-id.json", scene(R"({"generator": "blobs", "params": {"points": )" +
                                                    QByteArray(5'000, '[') + QByteArray(5'000, ']') + "}}")),
                         QStringLiteral("nest")});
        cases.push_back({"a number beyond double range", file("huge.json", scene(R"({"points": [[1e400, 0], [0, 1]], "labels": [0, 1]})")),
                         QStringLiteral("1e400")});
        cases.push_back({"a coordinate beyond the supported range",
                         file("big.json", scene(R"({"points": [[1e200, 0], [0, 1], [1, 1]], "labels": [0, 1, 1]})")),
                         QStringLiteral("1e150")});
        cases.push_back({"more points than the limit",
                         file("many.json", scene(R"({"generator": "blobs", "params": {"points": 100000000}})")),
                         QStringLiteral("100")});
        cases.push_back({"more classes than the limit",
                         file("classes.json", scene(R"({"generator": "blobs", "params": {"classes": 2147483647}})")),
                         QStringLiteral("classes")});
        cases.push_back({"a bad comparison panel",
                         file("panels.json", R"({"version": 1, "data": {"generator": "blobs"}, "loss": "contrastive",
                                                 "panels": [{}, {"loss": {"name": "triplet_margin", "params": {"margn": 1}}}]})"),
                         QStringLiteral("margn")});
        const QString fifo = dir.filePath(QStringLiteral("fifo.json"));
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
        cases.push_back({"a FIFO without a writer", fifo, QStringLiteral("not a regular file")});
        const QString folder = dir.filePath(QStringLiteral("folder.json"));
        QVERIFY(QDir().mkdir(folder));
        cases.push_back({"a folder", folder, QStringLiteral("not a regular file")});
        cases.push_back({"a device", QStringLiteral("/dev/zero"), QStringLiteral("not a regular file")});
        cases.push_back({"a missing file", dir.filePath(QStringLiteral("missing.json")), QStringLiteral("missing.json")});

        for (const Case& c : cases) {
            DialogAnswerer answerer;
            const auto began = std::chrono::steady_clock::now();
            const bool opened = window.openScene(c.path);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
            QVERIFY2(!opened, c.name);
            QVERIFY2(seconds < 30.0, c.name);  // refused, not worked through
            QVERIFY2(answerer.count() == 1, c.name);  // one warning
            QVERIFY2(answerer.text().contains(c.expected), qPrintable(QString::fromLatin1(c.name) + ": " + answerer.text()));
            QVERIFY2(answerer.text().contains(QStringLiteral("unchanged")), qPrintable(answerer.text()));
            // The message names the file (the device by its path).
            QVERIFY2(answerer.text().contains(QFileInfo(c.path).fileName()), qPrintable(answerer.text()));
            QVERIFY2(sceneToJson(window.document()->scene()) == before, c.name);
        }
        // And the window still opens a good file afterwards.
        QVERIFY(window.openScene(QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/angular.json")));
        QVERIFY(sceneToJson(window.document()->scene()) != before);
    }

    void aSceneOnTheSphereOpensWithItsAnchor() {
        // The scene's "anchor" is the clicked point its text talks about: the 3D view shows it too.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("sphere.json"));
        writeText(path, R"({"format": "marginlab-scene", "version": 1,
            "data": {"generator": "sphere_caps", "params": {"points": 40, "classes": 4}},
            "loss": {"name": "margin"}, "view": {"anchor": 7}})");
        MainWindow window;
        window.show();
        QVERIFY(window.openScene(path));
        auto* sphere = window.findChild<PlotView3D*>();
        QVERIFY(sphere);
        QTRY_VERIFY(sphere->isVisible() && sphere->frame().snapshot);
        QCOMPARE(sphere->anchor(), 7);
    }
};

QTEST_MAIN(MainWindowOpenTest)
#include "mainwindow_open_test.moc"

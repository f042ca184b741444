// SPDX-License-Identifier: MIT
#include <QApplication>
#include <cstdio>
#include <cstring>

#include "mainwindow.h"
#include "marginlab/allocator.h"
#include "rendercommand.h"
#include "trainingcontroller.h"

namespace {

constexpr const char* kUsage =
    "Usage: marginlab [SCENE.json | RUN.csv | RUN.npy]\n"
    "\n"
    "MarginLab trains 2D and 3D point embeddings with deep-metric-learning losses in real time\n"
    "and shows how each loss moves the points.\n"
    "\n"
    "       marginlab render INPUT -o OUTPUT [options]   (see marginlab render --help)\n"
    "\n"
    "  SCENE.json     open this scene instead of the first built-in one\n"
    "  RUN.csv|npy    replay a trajectory (marginlab-cli --trajectory, or logged from PyTorch)\n"
    "  -h, --help     print this help and exit (needs no display)\n"
    "  -v, --version  print the version and exit (needs no display)\n"
    "\n"
    "Headless training and loss evaluation: marginlab-cli --help\n";

}  // namespace

int main(int argc, char** argv) {
    marginlab::keepMemoryBetweenSteps();  // training steps reuse their buffers' pages
    if (argc > 1 && !std::strcmp(argv[1], "render")) {
        // Headless: the offscreen platform needs no display (and no xvfb-run). Qt's own notes
        // (a missing XDG_RUNTIME_DIR, fonts) would break the one-line-message contract on stderr.
        qputenv("QT_QPA_PLATFORM", "offscreen");
        qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& message) {
            if (type == QtCriticalMsg || type == QtFatalMsg) std::fprintf(stderr, "marginlab render: %s\n", qPrintable(message));
        });
        QGuiApplication app(argc, argv);
        return marginlab::runRenderCommand(argc, argv);
    }
    // Answered before Qt starts: a GUI program with no display would abort here.
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (!std::strcmp(argv[i], "--version") || !std::strcmp(argv[i], "-v")) {
            std::printf("marginlab %s\n", MARGINLAB_VERSION);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0' && std::strncmp(argv[i], "-platform", 9) != 0) {
            std::fprintf(stderr, "marginlab: unknown option '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("MarginLab"));
    QApplication::setApplicationName(QStringLiteral("MarginLab"));
    QApplication::setApplicationVersion(QStringLiteral(MARGINLAB_VERSION));

    marginlab::TrainingController::leaveACoreForTraining();
    marginlab::MainWindow window;
    // A scene given on the command line replaces the built-in first one.
    const QStringList args = QApplication::arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        const QString& arg = args.at(i);
        if (arg.startsWith(QLatin1Char('-'))) continue;
        // A trajectory (CSV / NPY) is replayed; anything else is a scene.
        if (arg.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive) || arg.endsWith(QStringLiteral(".npy"), Qt::CaseInsensitive))
            window.replay(arg);
        else
            window.openScene(arg);
    }
    window.show();
    return QApplication::exec();
}

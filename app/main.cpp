// SPDX-License-Identifier: MIT
#include "mainwindow.h"
#include "trainingcontroller.h"

#include <QApplication>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("MarginLab"));
    QApplication::setApplicationName(QStringLiteral("MarginLab"));
    QApplication::setApplicationVersion(QStringLiteral(MARGINLAB_VERSION));

    marginlab::TrainingController::leaveACoreForTraining();
    marginlab::MainWindow window;
    window.show();
    // A scene given on the command line replaces the built-in first one.
    const QStringList args = QApplication::arguments();
    if (args.size() > 1) window.openScene(args.at(1));
    return QApplication::exec();
}

// SPDX-License-Identifier: MIT
#include "viewexport.h"

#include "plotview2d.h"

#include <QFileInfo>
#include <QImageWriter>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>

namespace marginlab {

bool exportView(PlotView2D& view, const QString& path, QSize size, QString* error) {
    auto fail = [&](const QString& message) {
        if (error) *error = message;
        return false;
    };
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QStringLiteral("png") && suffix != QStringLiteral("svg"))
        return fail(QObject::tr("Cannot export to %1: use a .png or .svg file name.").arg(path));
    if (size.isEmpty()) return fail(QObject::tr("Cannot export an empty picture."));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return fail(QObject::tr("Cannot write %1: %2").arg(path, file.errorString()));
    if (suffix == QStringLiteral("png")) {
        QImageWriter writer(&file, "png");
        if (!writer.write(view.renderImage(size)))
            return fail(QObject::tr("Cannot write %1: %2").arg(path, writer.errorString()));
    } else {
        QSvgGenerator svg;
        svg.setOutputDevice(&file);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(QStringLiteral("MarginLab view"));
        QPainter painter;
        if (!painter.begin(&svg)) return fail(QObject::tr("Cannot write %1: the SVG could not be started.").arg(path));
        view.render(painter, size);
        painter.end();
    }
    if (!file.commit()) return fail(QObject::tr("Cannot write %1: %2").arg(path, file.errorString()));
    return true;
}

}  // namespace marginlab

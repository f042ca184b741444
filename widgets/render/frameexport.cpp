// SPDX-License-Identifier: MIT
#include "frameexport.h"

#include "renderer2d.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QImageWriter>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>

namespace marginlab {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("FrameExport", text); }

}  // namespace

QString frameFormatOf(const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    for (const char* known : {"png", "svg", "pdf"})
        if (suffix == QLatin1String(known)) return suffix;
    return {};
}

bool exportFrame(Renderer2D& renderer, const Frame2D& frame, const QString& path, QString* error) {
    return exportPainting(path, frame.size, [&](QPainter& painter) { renderer.paint(painter, frame); }, error);
}

bool exportPainting(const QString& path, QSize size, const std::function<void(QPainter&)>& paint, QString* error) {
    auto fail = [&](const QString& message) {
        if (error) *error = message;
        return false;
    };
    const QString format = frameFormatOf(path);
    if (format.isEmpty()) return fail(tr("Cannot export to %1: use a .png, .svg or .pdf file name.").arg(path));
    if (size.isEmpty()) return fail(tr("Cannot export an empty picture."));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return fail(tr("Cannot write %1: %2").arg(path, file.errorString()));
    if (format == QLatin1String("png")) {
        QImageWriter writer(&file, "png");
        QImage image(size, QImage::Format_RGB32);
        image.fill(Qt::white);
        QPainter painter(&image);
        paint(painter);
        painter.end();
        if (!writer.write(image)) return fail(tr("Cannot write %1: %2").arg(path, writer.errorString()));
    } else if (format == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setOutputDevice(&file);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(QStringLiteral("MarginLab"));
        QPainter painter;
        if (!painter.begin(&svg)) return fail(tr("Cannot write %1: the SVG could not be started.").arg(path));
        paint(painter);
        painter.end();
    } else {
        QPdfWriter pdf(&file);
        pdf.setTitle(QStringLiteral("MarginLab"));
        pdf.setCreator(QStringLiteral("MarginLab"));
        pdf.setResolution(72);  // one PDF point per frame pixel
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setPageSize(QPageSize(QSizeF(size), QPageSize::Point, QString(), QPageSize::ExactMatch));
        QPainter painter;
        if (!painter.begin(&pdf)) return fail(tr("Cannot write %1: the PDF could not be started.").arg(path));
        paint(painter);
        painter.end();
    }
    if (!file.commit()) return fail(tr("Cannot write %1: %2").arg(path, file.errorString()));
    return true;
}

}  // namespace marginlab

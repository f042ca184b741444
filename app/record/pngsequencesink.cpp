// SPDX-License-Identifier: MIT
#include "pngsequencesink.h"

#include <QBuffer>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageWriter>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace marginlab {

PngSequenceSink::PngSequenceSink(QString destination) : FrameSink(std::move(destination)) {
    if (m_destination.contains(QLatin1Char('%'))) {
        const QFileInfo info(m_destination);
        m_folder = info.path();
        m_pattern = info.fileName();
    } else {
        m_folder = QDir::cleanPath(m_destination);
        m_pattern = QStringLiteral("frame_%04d.png");
    }
}

PngSequenceSink::~PngSequenceSink() {
    cancel();
}

QString PngSequenceSink::fileName(int number) const {
    return QString::asprintf(m_pattern.toUtf8().constData(), number);
}

bool PngSequenceSink::fail(const QString& message, QString* error) {
    if (error) *error = message;
    cancel();
    return false;
}

bool PngSequenceSink::open(QSize size, double fps, QString* error) {
    cancel();
    m_frames = 0;
    m_written.clear();
    if (!checkOpenArguments(size, fps, error)) return false;
    const QFileInfo folder(m_folder);
    if (folder.exists() && !folder.isDir()) {
        if (error)
            *error = QStringLiteral("cannot write frames into %1: it is a file, not a folder").arg(m_folder);
        return false;
    }
    static std::atomic<int> counter{0};
    QString temporary;
    if (folder.exists()) {
        // Inside the destination: the same file system, so each file moves by a rename.
        temporary = QDir(m_folder).filePath(
            QStringLiteral(".frames-%1-%2.partial").arg(QCoreApplication::applicationPid()).arg(counter++));
        m_renameFolder = false;
    } else {
        const QFileInfo parent(folder.absolutePath());
        if (!parent.isDir()) {
            if (error)
                *error = QStringLiteral("cannot write frames into %1: the folder %2 does not exist")
                             .arg(m_folder, parent.filePath());
            return false;
        }
        temporary = QDir(parent.filePath()).filePath(QStringLiteral(".%1.partial").arg(folder.fileName()));
        m_renameFolder = true;
    }
    if (QFileInfo::exists(temporary)) QDir(temporary).removeRecursively();  // left by a crash
    if (!QDir().mkdir(temporary)) {
        if (error)
            *error =
                QStringLiteral("cannot write frames into %1: cannot create a folder there").arg(m_folder);
        return false;
    }
    m_temporary = temporary;
    m_size = size;
    return true;
}

bool PngSequenceSink::write(const QImage& frame, QString* error) {
    if (!checkFrame(frame, m_size, !m_temporary.isEmpty(), error)) return false;
    const QString name = fileName(m_frames + 1);
    const QString shownName = QDir(m_folder).filePath(name);
    // Encode in memory first, so that an I/O failure (a full disk) is told apart from an encoder
    // failure and reported with the system's reason.
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "png");
    if (!writer.write(detail::opaqueRgb32(frame)))  // RGB32: 8-bit RGB, no alpha
        return fail(QStringLiteral("cannot encode %1: %2").arg(shownName, writer.errorString()), error);
    // stdio rather than QFile: a short write (a full disk) then reports errno's reason.
    const QByteArray target = QFile::encodeName(QDir(m_temporary).filePath(name));
    std::FILE* file = std::fopen(target.constData(), "wb");
    if (!file)
        return fail(QStringLiteral("cannot write %1: %2")
                        .arg(shownName, QString::fromLocal8Bit(std::strerror(errno))),
                    error);
    const bool written = std::fwrite(png.constData(), 1, static_cast<std::size_t>(png.size()), file) ==
                             static_cast<std::size_t>(png.size()) &&
                         std::fflush(file) == 0;
    const int code = errno;
    const bool closed = std::fclose(file) == 0;
    if (!written || !closed)
        return fail(QStringLiteral("writing %1 failed: %2")
                        .arg(shownName, QString::fromLocal8Bit(std::strerror(written ? errno : code))),
                    error);
    m_written.append(name);
    ++m_frames;
    return true;
}

bool PngSequenceSink::finish(QString* error) {
    if (m_temporary.isEmpty()) {
        if (error) *error = QStringLiteral("%1: finish() without open()").arg(m_destination);
        return false;
    }
    if (m_frames == 0) return fail(QStringLiteral("%1: no frames were recorded").arg(m_destination), error);
    if (m_renameFolder) {
        if (!detail::replaceFile(m_temporary, m_folder, error)) {
            cancel();
            return false;
        }
    } else {
        for (const QString& name : std::as_const(m_written))
            if (!detail::replaceFile(QDir(m_temporary).filePath(name), QDir(m_folder).filePath(name),
                                     error)) {
                cancel();
                return false;
            }
        QDir().rmdir(m_temporary);
    }
    m_temporary.clear();
    return true;
}

void PngSequenceSink::cancel() {
    if (m_temporary.isEmpty()) return;
    QDir(m_temporary).removeRecursively();
    m_temporary.clear();
}

}  // namespace marginlab

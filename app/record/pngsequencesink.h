// SPDX-License-Identifier: MIT
// A numbered sequence of PNG files.
#pragma once

#include <QStringList>

#include "framesink.h"

namespace marginlab {

/**
 * One PNG per frame (RGB, 8 bits per channel), into
 * - a folder ("frames/" or an existing folder): frame_0001.png, frame_0002.png, …, or
 * - a printf pattern with one %d / %Nd / %0Nd ("out/%04d.png"): 0001.png, 0002.png, …
 * Numbers start at 1. The frames are written into a hidden temporary folder and moved into
 * place at finish(): when the destination folder does not exist yet, the temporary folder is
 * renamed to it (all at once); otherwise each file is moved into it, replacing files of the same
 * name (other files in the folder are left alone). cancel() or a failure removes the temporary
 * folder and everything in it.
 */
class PngSequenceSink final : public FrameSink {
public:
    explicit PngSequenceSink(QString destination);
    ~PngSequenceSink() override;

    bool open(QSize size, double fps, QString* error) override;
    bool write(const QImage& frame, QString* error) override;
    bool finish(QString* error) override;
    void cancel() override;

    /// The folder the frames end up in.
    QString folder() const { return m_folder; }
    /// The file name of frame `number` (1-based) inside folder().
    QString fileName(int number) const;

private:
    bool fail(const QString& message, QString* error);

    QString m_folder;
    QString m_pattern;    // printf pattern of the file name, one integer conversion
    QString m_temporary;  // the hidden folder being written, empty when not open
    bool m_renameFolder = false;
    QStringList m_written;  // file names inside m_temporary
    QSize m_size;
};

}  // namespace marginlab

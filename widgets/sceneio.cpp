// SPDX-License-Identifier: MIT
#include "sceneio.h"

#include "marginlab/csv.h"
#include "marginlab/generators.h"
#include "marginlab/limits.h"
#include "marginlab/scene/trajectory.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <variant>

namespace marginlab::sceneio {

namespace {

/// Data changed: loss parameters sized by the old class count are no longer valid.
void adoptDataset(SceneFile& scene, Dataset dataset) {
    TrainerConfig& trainer = scene.trainer;
    if (trainer.owned && (dataset.numClasses != trainer.numClasses || dataset.points.cols() != trainer.points.cols()))
        trainer.owned.reset();
    trainer.points = std::move(dataset.points);
    trainer.labels = std::move(dataset.labels);
    trainer.numClasses = dataset.numClasses;
}

}  // namespace

std::optional<json::Json> readDocument(const QString& path, QString* error) {
    // A FIFO without a writer would block the GUI in open(); folders and devices are no scenes.
    if (QFileInfo fileInfo(path); fileInfo.exists() && !fileInfo.isFile()) {
        if (error) *error = QObject::tr("%1: not a regular file").arg(path);
        return std::nullopt;
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error) *error = QObject::tr("Cannot open %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    // Same limits as every reader (marginlab/limits.h): a huge or deeply nested file is refused
    // before it is built, so it cannot exhaust memory or the stack.
    if (file.size() > static_cast<qint64>(limits::kMaxFileBytes)) {
        if (error) *error = QObject::tr("%1: larger than the limit of %2 bytes").arg(path).arg(limits::kMaxFileBytes);
        return std::nullopt;
    }
    const QByteArray bytes = file.readAll();
    try {
        return json::parse(std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
    } catch (const json::Error& e) {
        if (error) *error = QObject::tr("%1: %2").arg(path, QString::fromStdString(e.what()));
        return std::nullopt;
    }
}

std::optional<SceneFile> openScene(const QString& path, QString* error) {
    const std::optional<json::Json> document = readDocument(path, error);
    if (!document) return std::nullopt;
    // Relative CSV paths are relative to the scene; resources have no folder on disk.
    const std::filesystem::path baseDir =
        path.startsWith(QLatin1Char(':')) ? std::filesystem::path()
                                    : std::filesystem::path(QFileInfo(path).absoluteDir().absolutePath().toStdString());
    std::string message;
    auto scene = parseScene(*document, baseDir, &message);
    if (!scene && error) *error = QObject::tr("%1: %2").arg(path, QString::fromStdString(message));
    return scene;
}

bool saveScene(const SceneFile& scene, const QString& path, QString* error) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error) *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    const std::string text = sceneToJson(scene).dump(2) + "\n";
    if (file.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size()) || !file.commit()) {
        if (error) *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

std::optional<SceneFile> importData(const SceneFile& scene, const QString& path, QString* error) {
    std::string failure;
    auto dataset = readInitialPoints(path.toStdString(), &failure);
    if (!dataset) {
        if (error) *error = QString::fromStdString(failure);  // names the file (and for CSV line and column)
        return std::nullopt;
    }
    SceneFile out = scene;
    adoptDataset(out, std::move(*dataset));
    out.data = {{"points", json::toJson(out.trainer.points)},
                {"labels", json::toJson(out.trainer.labels)},
                {"classes", out.trainer.numClasses}};
    std::string message;
    if (!out.trainer.isValid(&message)) {
        if (error) *error = QObject::tr("%1: %2").arg(path, QString::fromStdString(message));
        return std::nullopt;
    }
    return out;
}

std::optional<SceneFile> withGenerator(const SceneFile& scene, const std::string& generator, const ParamValues& params,
                                       QString* error) {
    std::string message;
    auto dataset = generate(GeneratorConfig{generator, params}, &message);
    if (!dataset) {
        if (error) *error = QString::fromStdString(message);
        return std::nullopt;
    }
    SceneFile out = scene;
    adoptDataset(out, std::move(*dataset));
    out.data = {{"generator", generator}, {"params", json::toJson(params)}};
    return out;
}

}  // namespace marginlab::sceneio

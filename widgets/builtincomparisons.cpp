// SPDX-License-Identifier: MIT
#include "builtincomparisons.h"
#include "sceneio.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace marginlab {

const std::vector<BuiltInComparison>& builtInComparisons() {
    static const std::vector<BuiltInComparison> list = {
        {QStringLiteral(":/comparisons/mining-strategies.json"), QStringLiteral("mining-strategies.json"),
         QStringLiteral("Mining: batch-all vs batch-hard vs semi-hard (FaceNet) vs semi-hard (PML)")},
        {QStringLiteral(":/comparisons/tuple-losses.json"), QStringLiteral("tuple-losses.json"),
         QStringLiteral("Triplet vs contrastive vs angular")},
        {QStringLiteral(":/comparisons/softmax-family.json"), QStringLiteral("softmax-family.json"),
         QStringLiteral("Softmax vs NormFace vs CosFace vs ArcFace")},
        {QStringLiteral(":/comparisons/batch-hard-collapse.json"), QStringLiteral("batch-hard-collapse.json"),
         QStringLiteral("Why batch-hard collapses (small margin, noisy labels)")},
        {QStringLiteral(":/comparisons/adam-vs-sgd.json"), QStringLiteral("adam-vs-sgd.json"),
         QStringLiteral("Adam vs SGD on the same loss")},
        {QStringLiteral(":/comparisons/margins-on-the-sphere.json"), QStringLiteral("margins-on-the-sphere.json"),
         QStringLiteral("NormFace vs CosFace vs ArcFace on the sphere (3D)")},
    };
    return list;
}

std::optional<ComparisonFile> loadComparison(const QString& path, QString* error) {
    // The same reading as single scenes: regular files only, size and nesting limits.
    const std::optional<json::Json> document = sceneio::readDocument(path, error);
    if (!document) return std::nullopt;
    // Relative CSV paths are relative to the file (a resource has none).
    const std::filesystem::path baseDir =
        path.startsWith(QLatin1Char(':')) ? std::filesystem::path() : std::filesystem::path(QFileInfo(path).absolutePath().toStdString());
    std::string message;
    auto comparison = parseComparison(*document, baseDir, &message);
    if (!comparison && error) *error = path + QStringLiteral(": ") + QString::fromStdString(message);
    return comparison;
}

bool saveComparison(const ComparisonFile& comparison, const QString& path, QString* error) {
    QSaveFile file(path);
    const std::string text = json::format(comparisonToJson(comparison)) + "\n";
    if (!file.open(QIODevice::WriteOnly) || file.write(text.data(), static_cast<qint64>(text.size())) < 0 || !file.commit()) {
        if (error) *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

}  // namespace marginlab

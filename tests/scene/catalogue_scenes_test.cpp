// SPDX-License-Identifier: MIT
// The teaching scenes of PML's catalogue show what their texts say: trained headless from the
// built-in files, measured with plain loops written here.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "marginlab/generators.h"
#include "marginlab/scene/scenefile.h"
#include "marginlab/trainer.h"

namespace marginlab {
namespace {

SceneFile openScene(const char* name) {
    std::string error;
    auto scene =
        readSceneFile(std::filesystem::path(MARGINLAB_SOURCE_DIR) / "resources" / "scenes" / name, &error);
    EXPECT_TRUE(scene) << error;
    return scene ? *scene : SceneFile{};
}

/// The class of the owned row (K blocks of C rows: row k·C + c is center k of class c) whose
/// direction has the largest cosine with x, and that row's index k.
std::pair<int, int> nearestCenter(const Points& owned, int classes, const Eigen::RowVectorXd& x,
                                  int onlyClass = -1) {
    int bestRow = -1;
    double best = -2.0;
    for (Eigen::Index r = 0; r < owned.rows(); ++r) {
        if (onlyClass >= 0 && r % classes != onlyClass) continue;
        const double cosine = owned.row(r).dot(x) / (owned.row(r).norm() * x.norm());
        if (cosine > best) best = cosine, bestRow = static_cast<int>(r);
    }
    return {bestRow % classes, bestRow / classes};
}

double nearestCenterAccuracy(const Snapshot& s) {
    int right = 0;
    for (Eigen::Index i = 0; i < s.positions.rows(); ++i)
        right += nearestCenter(s.owned, s.numClasses, s.positions.row(i)).first ==
                 s.labels[static_cast<std::size_t>(i)];
    return static_cast<double>(right) / static_cast<double>(s.positions.rows());
}

TEST(CatalogueScenes, SoftTripleFitsBothBlobsOfEveryClassWhereOneWeightPerClassCannot) {
    SceneFile scene = openScene("soft-triple-modes.json");
    EXPECT_EQ(scene.data["generator"], "multimodal_blobs");
    Trainer softTriple(scene.trainer);
    const double accuracy = nearestCenterAccuracy(*softTriple.step(150));
    EXPECT_GE(accuracy, 0.97);
    // The same points under normalized softmax (one class weight each): half a class is lost.
    TrainerConfig single = scene.trainer;
    single.loss = LossConfig{"normalized_softmax", {}, std::nullopt};
    Trainer softmax(single);
    const double oneWeight = nearestCenterAccuracy(*softmax.step(150));
    EXPECT_LE(oneWeight, 0.75) << "one weight per class fitted two opposite blobs";
    EXPECT_GE(accuracy, oneWeight + 0.2);
}

TEST(CatalogueScenes, SubCenterArcFaceGivesTheWrongLabelsToMinorSubCenters) {
    SceneFile scene = openScene("subcenter-noisy-labels.json");
    // The clean labels: the same generator without label noise (positions and order unchanged).
    GeneratorConfig clean{scene.data["generator"].get<std::string>(), {}};
    for (const auto& [key, value] : scene.data["params"].items())
        clean.params.numbers[key] = value.get<double>();
    clean.params.numbers["label_noise"] = 0.0;
    std::string error;
    const auto truth = generate(clean, &error);
    ASSERT_TRUE(truth) << error;
    ASSERT_TRUE(truth->points == scene.trainer.points);
    Trainer trainer(scene.trainer);
    const auto s = trainer.step(300);
    const int classes = s->numClasses;
    // The dominant sub-center of a class: the one nearest to most of its correctly labelled points.
    std::map<std::pair<int, int>, int> cleanUse;
    int wrong = 0, takenByMinor = 0;
    for (Eigen::Index i = 0; i < s->positions.rows(); ++i) {
        const int label = s->labels[static_cast<std::size_t>(i)];
        if (label == truth->labels[static_cast<std::size_t>(i)])
            ++cleanUse[{label, nearestCenter(s->owned, classes, s->positions.row(i), label).second}];
    }
    std::map<int, int> dominant;
    for (int c = 0; c < classes; ++c) {
        int most = -1;
        for (int k = 0; k < 3; ++k)
            if (most < 0 || cleanUse[{c, k}] > cleanUse[{c, most}]) most = k;
        dominant[c] = most;
    }
    for (Eigen::Index i = 0; i < s->positions.rows(); ++i) {
        const int label = s->labels[static_cast<std::size_t>(i)];
        if (label == truth->labels[static_cast<std::size_t>(i)]) continue;
        ++wrong;
        takenByMinor +=
            nearestCenter(s->owned, classes, s->positions.row(i), label).second != dominant[label];
    }
    EXPECT_EQ(wrong, 30);  // 20 % of 150
    EXPECT_GE(takenByMinor, 27) << "of " << wrong << " mislabelled points";
}

TEST(CatalogueScenes, SamplingMattersSeparatesPairsAroundBeta) {
    SceneFile scene = openScene("sampling-matters.json");
    ASSERT_TRUE(scene.trainer.miner);
    EXPECT_EQ(scene.trainer.miner->name, "distance_weighted");
    Trainer trainer(scene.trainer);
    const auto s = trainer.step(300);
    // Normalized L2 distances: positives inside β − margin = 1.0, negatives beyond β + margin = 1.4.
    const Points e = s->positions.rowwise().normalized();
    int positives = 0, inside = 0, negatives = 0, outside = 0;
    for (Eigen::Index i = 0; i < e.rows(); ++i)
        for (Eigen::Index j = i + 1; j < e.rows(); ++j) {
            const double d = (e.row(i) - e.row(j)).norm();
            if (s->labels[static_cast<std::size_t>(i)] == s->labels[static_cast<std::size_t>(j)])
                ++positives, inside += d < 1.0;
            else
                ++negatives, outside += d > 1.4;
        }
    EXPECT_GE(static_cast<double>(inside) / positives, 0.99);
    EXPECT_GE(static_cast<double>(outside) / negatives, 0.99);
}

}  // namespace
}  // namespace marginlab

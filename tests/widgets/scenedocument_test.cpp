// SPDX-License-Identifier: MIT
// SceneDocument and TrainingController through the real worker thread: play / pause / step /
// reset, stale chunks, live parameter changes, restarts for new data, undoable point edits.
// Waits are QSignalSpy::wait / QTRY_* (event-driven, with generous time-outs); nothing asserts timing.
#include "pointedit.h"
#include "scenedocument.h"
#include "sceneio.h"
#include "trainingcontroller.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QSignalSpy>
#include <QTest>

using namespace marginlab;

namespace {

TrainerConfig smallConfig() {
    TrainerConfig config;
    const int n = 24;
    config.points = Points(n, 2);
    config.labels.resize(n);
    for (int i = 0; i < n; ++i) {
        const double angle = 0.7 * i;
        config.points(i, 0) = std::cos(angle) * (1.0 + 0.05 * i);
        config.points(i, 1) = std::sin(angle) * (1.0 + 0.05 * i);
        config.labels[static_cast<std::size_t>(i)] = i % 3;
    }
    config.numClasses = 3;
    config.loss.name = "triplet_margin";
    config.loss.params.numbers["margin"] = 0.5;
    return config;
}

SceneFile smallScene() {
    SceneFile scene;
    scene.trainer = smallConfig();
    scene.data = {{"points", json::toJson(scene.trainer.points)}, {"labels", json::toJson(scene.trainer.labels)}};
    return scene;
}

constexpr int kTimeout = 20000;

}  // namespace

class SceneDocumentTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_controller = std::make_unique<TrainingController>();
        m_document = std::make_unique<SceneDocument>(m_controller.get());
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        QString error;
        QVERIFY2(m_document->open(smallScene(), &error), qPrintable(error));
        QVERIFY(restarted.wait(kTimeout));
        QCOMPARE(m_controller->currentStep(), 0);
    }
    void cleanup() {
        m_document.reset();
        m_controller.reset();  // the destructor stops and joins the worker thread
    }

    void stepAdvancesOneStepAtATime() {
        QSignalSpy snapshots(m_controller.get(), &TrainingController::snapshotChanged);
        m_controller->step();
        QVERIFY(snapshots.wait(kTimeout));
        QCOMPARE(m_controller->currentStep(), 1);
        // Steps asked for while one is out are queued behind it, not lost.
        m_controller->step();
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 3, kTimeout);
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->currentStep(), 3);
    }

    void playAndPauseKeepTheViewInStepWithTheTrainer() {
        QSignalSpy playing(m_controller.get(), &TrainingController::playingChanged);
        m_controller->setStepsPerFrame(3);
        m_controller->play();
        QVERIFY(m_controller->isPlaying());
        QTRY_VERIFY_WITH_TIMEOUT(m_controller->currentStep() >= 9, kTimeout);
        m_controller->pause();
        QVERIFY(!m_controller->isPlaying());
        QCOMPARE(playing.count(), 2);
        // After the pause the controller reports where the trainer really is, then stays there.
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        const long paused = m_controller->currentStep();
        QCOMPARE(paused % 3, 0L);  // whole chunks only
        m_controller->step();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->currentStep(), paused + 1);
    }

    void resetReturnsToStepZeroAndDropsStaleChunks() {
        m_controller->setStepsPerFrame(5);
        m_controller->play();
        QTRY_VERIFY_WITH_TIMEOUT(m_controller->currentStep() >= 10, kTimeout);
        m_controller->pause();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QVERIFY(m_controller->currentStep() >= 10);
        m_controller->step();  // a chunk is out (its answer would be step ≥ 11) when reset comes
        QVERIFY(m_controller->isBusy());
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        QSignalSpy snapshots(m_controller.get(), &TrainingController::snapshotChanged);
        const quint64 before = m_controller->generation();
        m_document->reset();
        QVERIFY(m_controller->generation() > before);
        QVERIFY(!m_controller->isPlaying());
        QVERIFY(restarted.wait(kTimeout));
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->currentStep(), 0);
        // The chunk that was out when reset was pressed never reached the views.
        for (const QList<QVariant>& args : snapshots)
            QCOMPARE(args.at(0).value<std::shared_ptr<const Snapshot>>()->step, 0L);
    }

    void resetReplaysTheSameTrajectory() {
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 1, kTimeout);
        const Points first = m_controller->snapshot()->positions;
        m_document->reset();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->currentStep(), 0);
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 1, kTimeout);
        QVERIFY(m_controller->snapshot()->positions == first);
    }

    void invalidConfigKeepsTheCurrentRun() {
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 1, kTimeout);
        SceneFile bad = smallScene();
        bad.trainer.loss.name = "no_such_loss";
        QString error;
        QVERIFY(!m_document->edit(bad, &error));
        QVERIFY(error.contains(QStringLiteral("no_such_loss")));
        QCOMPARE(QString::fromStdString(m_document->scene().trainer.loss.name), QStringLiteral("triplet_margin"));
        QCOMPARE(m_controller->currentStep(), 1);
    }

    void divergencePausesAndReportsTheMessage() {
        SceneFile wild = smallScene();
        wild.trainer.optimizer.kind = OptimizerKind::Sgd;
        wild.trainer.optimizer.learningRate = 1e300;  // with the decay, the first update overflows to infinity
        wild.trainer.optimizer.weightDecay = 1e10;
        QString error;
        QVERIFY2(m_document->edit(wild, &error), qPrintable(error));
        QSignalSpy diverged(m_controller.get(), &TrainingController::diverged);
        m_controller->play();
        QVERIFY(diverged.wait(kTimeout));
        QVERIFY(!m_controller->isPlaying());
        QVERIFY(!diverged.front().at(0).toString().isEmpty());
        QCOMPARE(m_controller->snapshot()->status, TrainStatus::Diverged);
        m_controller->play();  // refused until a reset
        QVERIFY(!m_controller->isPlaying());
    }

    void pointEditsApplyWhilePlayingAndUndoInOrder() {
        SceneDocument& editor = *m_document;
        QUndoStack& stack = *editor.undoStack();
        m_controller->play();
        QTRY_VERIFY_WITH_TIMEOUT(m_controller->currentStep() >= 3, kTimeout);

        // Add while playing: the run goes on (no restart) with 25 points, the new one of class 2.
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        editor.addPoint(QPointF(5.0, 5.0), 2);
        QCOMPARE(m_document->scene().trainer.labels.size(), std::size_t{25});
        QCOMPARE(m_document->scene().trainer.labels.back(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->snapshot()->positions.rows(), Eigen::Index{25}, kTimeout);
        const long stepAfterAdd = m_controller->currentStep();
        QVERIFY(stepAfterAdd >= 3);
        QTRY_VERIFY_WITH_TIMEOUT(m_controller->currentStep() > stepAfterAdd, kTimeout);  // still training
        m_controller->pause();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);

        // Move point 0, then remove point 1; the snapshot follows each edit.
        editor.movePoint(0, QPointF(-7.0, 3.0));
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->snapshot()->positions(0, 0), -7.0);
        QCOMPARE(m_controller->snapshot()->positions(0, 1), 3.0);
        const Eigen::RowVectorXd second = m_controller->snapshot()->positions.row(1);
        const Eigen::RowVectorXd third = m_controller->snapshot()->positions.row(2);
        const int secondLabel = m_document->scene().trainer.labels[1];
        editor.removePoint(1);
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{24});
        QVERIFY(m_controller->snapshot()->positions.row(1) == third);  // rows shifted up

        // Undo the removal: the point is back in its row with its class and place.
        stack.undo();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{25});
        QVERIFY(m_controller->snapshot()->positions.row(1) == second);
        QCOMPARE(m_document->scene().trainer.labels[1], secondLabel);
        // Undo the move and the add; redo the add.
        stack.undo();
        stack.undo();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{24});
        QVERIFY(m_controller->snapshot()->positions(0, 0) != -7.0);
        stack.redo();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{25});
        QCOMPARE(m_controller->snapshot()->positions(24, 0), 5.0);
        QCOMPARE(restarted.count(), 0);

        // Reset keeps the edited data: 25 points at step 0.
        m_document->reset();
        QVERIFY(restarted.wait(kTimeout));
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{25});
        QCOMPARE(m_controller->currentStep(), 0);
    }

    void splitForcesReachTheSnapshotsOnRequest() {
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 1, kTimeout);
        QCOMPARE(m_controller->snapshot()->gradientFromPositives.size(), Eigen::Index{0});
        m_controller->setSplitForces(true);
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 2, kTimeout);
        const auto snapshot = m_controller->snapshot();
        QCOMPARE(snapshot->gradientFromPositives.rows(), snapshot->gradient.rows());
        QVERIFY(snapshot->gradientFromPositives.cwiseAbs().maxCoeff() > 0.0);
        QVERIFY(snapshot->gradientFromPositives != snapshot->gradient);  // the negatives push too
    }

    void editsThatDoNotFitAreRefused() {
        SceneDocument& editor = *m_document;
        editor.addPoint(QPointF(0, 0), 7);  // there are 3 classes
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_document->scene().trainer.labels.size(), std::size_t{24});
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{24});
        QVERIFY(!m_document->applyEdit(PointEdit::remove(24)));
        QVERIFY(!m_document->applyEdit(PointEdit::move(0, Eigen::RowVectorXd::Zero(3))));  // wrong dimension
        QCOMPARE(editor.undoStack()->count(), 0);  // the refused add left nothing to undo
    }

    void aParameterChangeWhilePlayingKeepsThePositions() {
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        m_controller->setStepsPerFrame(2);
        m_controller->play();
        QTRY_VERIFY_WITH_TIMEOUT(m_controller->currentStep() >= 6, kTimeout);
        SceneFile wider = m_document->scene();
        wider.trainer.loss.params.numbers["margin"] = 1.5;
        wider.trainer.miner = MinerConfig{"batch_hard", {}, std::nullopt};
        QSignalSpy changed(m_document.get(), &SceneDocument::changed);
        QString error;
        QVERIFY2(m_document->edit(wider, &error), qPrintable(error));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.front().at(0).value<SceneDocument::Change>(), SceneDocument::Change::Training);
        QVERIFY(m_controller->isPlaying());  // playing goes on
        m_controller->pause();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(restarted.count(), 0);  // never back to step 0
        QVERIFY(m_controller->currentStep() >= 6);
        // The run uses the new settings from where it was: the revision moved, the run title names the miner.
        QVERIFY(m_controller->snapshot()->revision > 0);
        QVERIFY(QString::fromStdString(m_document->run().title).contains(QStringLiteral("margin 1.5")));
        QVERIFY(QString::fromStdString(m_document->run().title).contains(QStringLiteral("Batch hard")));
        const long before = m_controller->currentStep();
        const Points positions = m_controller->snapshot()->positions;
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), before + 1, kTimeout);
        // One step from the kept positions: every point moved by at most one Adam step (lr 0.01).
        QVERIFY((m_controller->snapshot()->positions - positions).cwiseAbs().maxCoeff() < 0.011);
    }

    void newDataOrSeedRestarts() {
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 1, kTimeout);
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        QSignalSpy changed(m_document.get(), &SceneDocument::changed);
        SceneFile reseeded = m_document->scene();
        reseeded.trainer.seed = 99;
        QString error;
        QVERIFY2(m_document->edit(reseeded, &error), qPrintable(error));
        QCOMPARE(changed.front().at(0).value<SceneDocument::Change>(), SceneDocument::Change::Restarted);
        QVERIFY(restarted.wait(kTimeout));
        QCOMPARE(m_controller->currentStep(), 0);
    }

    void aSavedMomentReopensAndContinuesBitForBit() {
        SceneFile scene = smallScene();
        scene.trainer.miner = MinerConfig{"batch_hard", {}, std::nullopt};
        QString error;
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        QVERIFY2(m_document->open(scene, &error), qPrintable(error));
        QVERIFY(restarted.wait(kTimeout));
        for (int i = 0; i < 7; ++i) m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 7, kTimeout);
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        const auto state = m_controller->savedState();
        QVERIFY(state);
        QCOMPARE(state->step, 7L);
        RunHistory history;
        history.append(*m_controller->snapshot());
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("moment.json"));
        QVERIFY2(sceneio::saveScene(m_document->sceneAt(*state, history.points()), path, &error), qPrintable(error));
        // The uninterrupted run goes 5 steps further …
        for (int i = 0; i < 5; ++i) m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 12, kTimeout);
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        const Points uninterrupted = m_controller->snapshot()->positions;
        // … and so does the reopened moment, to the same bits.
        auto reopened = sceneio::openScene(path, &error);
        QVERIFY2(reopened, qPrintable(error));
        QCOMPARE(reopened->history.size(), std::size_t{1});
        QVERIFY2(m_document->open(*reopened, &error), qPrintable(error));
        QVERIFY(restarted.wait(kTimeout));
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->currentStep(), 7L);
        for (int i = 0; i < 5; ++i) m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 12, kTimeout);
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QVERIFY(m_controller->snapshot()->positions == uninterrupted);
        // A point edit forgets the moment: Reset then starts at step 0 with the edited data.
        m_document->movePoint(0, QPointF(3.0, 3.0));
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QVERIFY(!m_document->scene().trainer.start);
        m_document->reset();
        QVERIFY(restarted.wait(kTimeout));
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->currentStep(), 0L);
    }

    void stepZeroOfAMinedSceneMatchesTheCommandLine() {
        // Step 0 is computed with the scene's miner, exactly as marginlab-cli computes it.
        const QString path = QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/mining-batch-hard.json");
        QString error;
        auto scene = sceneio::openScene(path, &error);
        QVERIFY2(scene, qPrintable(error));
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        QVERIFY2(m_document->open(*scene, &error), qPrintable(error));
        QVERIFY(restarted.wait(kTimeout));
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        const double appLoss = m_controller->snapshot()->loss;

        QProcess cli;
        cli.start(QStringLiteral(MARGINLAB_CLI), {QStringLiteral("train"), path, QStringLiteral("--steps"), QStringLiteral("1")});
        QVERIFY(cli.waitForFinished(kTimeout));
        QCOMPARE(cli.exitCode(), 0);
        const QStringList lines = QString::fromUtf8(cli.readAllStandardOutput()).split(QLatin1Char('\n'));
        QVERIFY(lines.size() >= 2 && lines[1].startsWith(QStringLiteral("0,")));
        const double cliLoss = lines[1].split(QLatin1Char(',')).at(1).toDouble();
        QVERIFY2(std::abs(appLoss - cliLoss) <= 1e-9 * std::abs(cliLoss), qPrintable(QStringLiteral("%1 vs %2").arg(appLoss).arg(cliLoss)));
        // Batch-all's loss at the same points is another number: step 0 is not computed without the miner.
        scene->trainer.miner.reset();
        Trainer batchAll(scene->trainer);
        QVERIFY(std::abs(batchAll.snapshot()->loss - appLoss) > 0.1);
    }

private:
    std::unique_ptr<TrainingController> m_controller;
    std::unique_ptr<SceneDocument> m_document;
};

QTEST_MAIN(SceneDocumentTest)
#include "scenedocument_test.moc"

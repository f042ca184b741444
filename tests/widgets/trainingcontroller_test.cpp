// SPDX-License-Identifier: MIT
// TrainingController through the real worker thread: play / pause / step / reset, stale chunks.
// Waits are QSignalSpy::wait / QTRY_* (event-driven, with generous time-outs); nothing asserts timing.
#include "pointedit.h"
#include "trainingcontroller.h"

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

constexpr int kTimeout = 20000;

}  // namespace

class TrainingControllerTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_controller = std::make_unique<TrainingController>();
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        QString error;
        QVERIFY2(m_controller->setConfig(smallConfig(), &error), qPrintable(error));
        QVERIFY(restarted.wait(kTimeout));
        QCOMPARE(m_controller->currentStep(), 0);
    }
    void cleanup() { m_controller.reset(); }  // the destructor stops and joins the worker thread

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
        m_controller->reset();
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
        m_controller->reset();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->currentStep(), 0);
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 1, kTimeout);
        QVERIFY(m_controller->snapshot()->positions == first);
    }

    void invalidConfigKeepsTheCurrentRun() {
        m_controller->step();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->currentStep(), 1, kTimeout);
        TrainerConfig bad = smallConfig();
        bad.loss.name = "no_such_loss";
        QString error;
        QVERIFY(!m_controller->setConfig(bad, &error));
        QVERIFY(error.contains(QStringLiteral("no_such_loss")));
        QCOMPARE(QString::fromStdString(m_controller->config().loss.name), QStringLiteral("triplet_margin"));
        QCOMPARE(m_controller->currentStep(), 1);
    }

    void divergencePausesAndReportsTheMessage() {
        TrainerConfig wild = smallConfig();
        wild.optimizer.kind = OptimizerKind::Sgd;
        wild.optimizer.learningRate = 1e300;  // with the decay, the first update overflows to infinity
        wild.optimizer.weightDecay = 1e10;
        QString error;
        QVERIFY2(m_controller->setConfig(wild, &error), qPrintable(error));
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
        PointEditor editor(m_controller.get());
        QUndoStack& stack = *editor.undoStack();
        m_controller->play();
        QTRY_VERIFY_WITH_TIMEOUT(m_controller->currentStep() >= 3, kTimeout);

        // Add while playing: the run goes on (no restart) with 25 points, the new one of class 2.
        QSignalSpy restarted(m_controller.get(), &TrainingController::runRestarted);
        editor.addPoint(QPointF(5.0, 5.0), 2);
        QCOMPARE(m_controller->config().labels.size(), std::size_t{25});
        QCOMPARE(m_controller->config().labels.back(), 2);
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
        const int secondLabel = m_controller->config().labels[1];
        editor.removePoint(1);
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{24});
        QVERIFY(m_controller->snapshot()->positions.row(1) == third);  // rows shifted up

        // Undo the removal: the point is back in its row with its class and place.
        stack.undo();
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{25});
        QVERIFY(m_controller->snapshot()->positions.row(1) == second);
        QCOMPARE(m_controller->config().labels[1], secondLabel);
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
        m_controller->reset();
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
        PointEditor editor(m_controller.get());
        editor.addPoint(QPointF(0, 0), 7);  // there are 3 classes
        QTRY_VERIFY_WITH_TIMEOUT(!m_controller->isBusy(), kTimeout);
        QCOMPARE(m_controller->config().labels.size(), std::size_t{24});
        QCOMPARE(m_controller->snapshot()->positions.rows(), Eigen::Index{24});
        QVERIFY(!m_controller->editPoints(PointEdit::remove(24)));
        QVERIFY(!m_controller->editPoints(PointEdit::move(0, Eigen::RowVectorXd::Zero(3))));  // wrong dimension
        QCOMPARE(editor.undoStack()->count(), 0);  // the refused add left nothing to undo
    }

private:
    std::unique_ptr<TrainingController> m_controller;
};

QTEST_MAIN(TrainingControllerTest)
#include "trainingcontroller_test.moc"

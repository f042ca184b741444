// SPDX-License-Identifier: MIT
// The controls are safe in front of a class: the wheel never changes a field that has no focus,
// spin-box steps follow the value's magnitude, and Enter / Escape hand the keyboard back.
#include "controlpanel.h"
#include "scenedocument.h"
#include "sceneio.h"
#include "trainingcontroller.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

using namespace marginlab;

class ControlPanelTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_controller = std::make_unique<TrainingController>();
        m_document = std::make_unique<SceneDocument>(m_controller.get());
        QString error;
        auto scene = sceneio::openScene(QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/mining-semihard.json"), &error);
        QVERIFY2(scene, qPrintable(error));
        QVERIFY2(m_document->open(*scene, &error), qPrintable(error));
        m_scroll = std::make_unique<QScrollArea>();
        m_panel = new ControlPanel(m_document.get());
        m_scroll->setWidget(m_panel);
        m_scroll->setWidgetResizable(true);
        m_scroll->resize(360, 300);  // much shorter than the panel: it scrolls
        m_panel->refresh();
        m_scroll->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_scroll.get()));
    }
    void cleanup() {
        m_scroll.reset();
        m_document.reset();
        m_controller.reset();
    }

    void wheelOverAnUnfocusedFieldChangesNothing() {
        QComboBox* miner = minerBox();
        QVERIFY(miner);
        const QString before = miner->currentData().toString();
        QCOMPARE(before, QString::fromStdString(m_document->scene().trainer.miner->name));
        QSignalSpy edited(m_panel, &ControlPanel::sceneEdited);
        wheel(miner, -120);
        wheel(miner, -120);
        QCOMPARE(miner->currentData().toString(), before);
        QCOMPARE(edited.count(), 0);
        QCOMPARE(QString::fromStdString(m_document->scene().trainer.miner->name), before);
        // The same wheel over a focused field does change it (a deliberate edit).
        miner->setFocus();
        QTRY_VERIFY(miner->hasFocus());
        wheel(miner, -120);
        QVERIFY(miner->currentData().toString() != before);
    }

    void wheelOverAFieldScrollsThePanel() {
        QDoubleSpinBox* field = m_panel->findChildren<QDoubleSpinBox*>().front();
        const double value = field->value();
        const int scrolled = m_scroll->verticalScrollBar()->value();
        wheel(field, -360);
        QCOMPARE(field->value(), value);
        QVERIFY(m_scroll->verticalScrollBar()->value() > scrolled);
    }

    void spinStepsFollowTheValue() {
        for (QDoubleSpinBox* box : m_panel->findChildren<QDoubleSpinBox*>())
            QCOMPARE(box->stepType(), QAbstractSpinBox::AdaptiveDecimalStepType);
        QDoubleSpinBox box;
        box.setDecimals(4);
        box.setRange(0, 100);
        box.setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
        box.setValue(2.0);
        box.stepBy(1);
        QCOMPARE(box.value(), 2.1);  // not 2.005: one click is a visible change at margin 2
    }

    void enterAndEscapeReturnTheKeyboardToTheCanvas() {
        auto* canvas = new QWidget(m_scroll.get());  // in the same window, as the app's view is
        canvas->setFocusPolicy(Qt::StrongFocus);
        canvas->setGeometry(0, 0, 10, 10);
        canvas->show();
        m_panel->setFocusTarget(canvas);
        QDoubleSpinBox* field = m_panel->findChildren<QDoubleSpinBox*>().front();
        field->activateWindow();
        field->setFocus();
        QTRY_VERIFY(field->hasFocus());
        QTest::keyClick(field, Qt::Key_Return);
        QTRY_VERIFY(canvas->hasFocus());
        field->setFocus();
        QTRY_VERIFY(field->hasFocus());
        QTest::keyClick(field, Qt::Key_Escape);
        QTRY_VERIFY(canvas->hasFocus());
    }

private:
    QComboBox* minerBox() const {
        for (QComboBox* box : m_panel->findChildren<QComboBox*>())
            if (box->findData(QStringLiteral("batch_hard")) >= 0) return box;
        return nullptr;
    }

    static void wheel(QWidget* target, int delta) {
        const QPointF at(target->width() / 2.0, target->height() / 2.0);
        QWheelEvent event(at, target->mapToGlobal(at), QPoint(), QPoint(0, delta), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QApplication::sendEvent(target, &event);
    }

    std::unique_ptr<TrainingController> m_controller;
    std::unique_ptr<SceneDocument> m_document;
    std::unique_ptr<QScrollArea> m_scroll;
    ControlPanel* m_panel = nullptr;
};

QTEST_MAIN(ControlPanelTest)
#include "controlpanel_test.moc"

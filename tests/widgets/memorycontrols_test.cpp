// SPDX-License-Identifier: MIT
// The cross-batch memory's controls: the check box and memory size in the batch area edit the
// scene's "cross_batch_memory"; the box greys out (and the memory is dropped) for a loss, miner or
// batch that cannot take one, asking the catalogue.
#include <QCheckBox>
#include <QComboBox>
#include <QSpinBox>
#include <QTest>

#include "controlpanel.h"
#include "scenedocument.h"
#include "sceneio.h"
#include "trainingcontroller.h"

using namespace marginlab;

class MemoryControlsTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_controller = std::make_unique<TrainingController>();
        m_document = std::make_unique<SceneDocument>(m_controller.get());
        QString error;
        auto scene = sceneio::openScene(
            QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/cross-batch-memory.json"), &error);
        QVERIFY2(scene, qPrintable(error));
        QVERIFY2(m_document->open(*scene, &error), qPrintable(error));
        m_panel = std::make_unique<ControlPanel>(m_document.get());
        m_panel->refresh();
        for (QCheckBox* box : m_panel->findChildren<QCheckBox*>())
            if (box->text() == QStringLiteral("Cross-batch memory")) m_box = box;
        QVERIFY(m_box);
        for (QSpinBox* spin : m_panel->findChildren<QSpinBox*>())
            if (spin->toolTip().startsWith(QStringLiteral("memory_size"))) m_size = spin;
        QVERIFY(m_size);
        connect(m_panel.get(), &ControlPanel::sceneEdited, this, [this](const SceneFile& edited) {
            m_last = edited;
            ++m_edits;
        });
    }
    void cleanup() {
        m_edits = 0;
        m_panel.reset();
        m_document.reset();
        m_controller.reset();
    }

    void theControlsShowAndEditTheScenesMemory() {
        QVERIFY(m_box->isChecked());
        QVERIFY(m_box->isEnabled());
        QCOMPARE(m_size->value(), 256);
        m_size->setValue(128);
        QCOMPARE(m_edits, 1);
        QVERIFY(m_last.trainer.crossBatchMemory);
        QCOMPARE(m_last.trainer.crossBatchMemory->memorySize, 128);
        m_box->setChecked(false);
        QCOMPARE(m_edits, 2);
        QVERIFY(!m_last.trainer.crossBatchMemory);
        QVERIFY(!m_size->isEnabled());
    }

    void aBatchOrLossThatCannotTakeItGreysItOutAndDropsIt() {
        QComboBox* batch = nullptr;
        for (QComboBox* box : m_panel->findChildren<QComboBox*>())
            if (box->itemText(0).startsWith(QStringLiteral("Full"))) batch = box;
        QVERIFY(batch);
        batch->setCurrentIndex(0);  // full batch
        QVERIFY(!m_box->isEnabled());
        QVERIFY(m_box->toolTip().contains(QStringLiteral("P×K")));
        QVERIFY(m_edits > 0);
        QVERIFY(!m_last.trainer.crossBatchMemory);
        batch->setCurrentIndex(1);
        QVERIFY(m_box->isEnabled());
        QVERIFY(m_last.trainer.crossBatchMemory);
        // A loss that cannot take a reference set: greyed out, the tooltip names those that can.
        QComboBox* loss = nullptr;
        for (QComboBox* box : m_panel->findChildren<QComboBox*>())
            if (box->findData(QStringLiteral("softmax")) >= 0 &&
                box->findData(QStringLiteral("contrastive")) >= 0)
                loss = box;
        QVERIFY(loss);
        loss->setCurrentIndex(loss->findData(QStringLiteral("softmax")));
        QVERIFY(!m_box->isEnabled());
        QVERIFY(m_box->toolTip().contains(QStringLiteral("ntxent")));
        QVERIFY(!m_last.trainer.crossBatchMemory);
    }

private:
    std::unique_ptr<TrainingController> m_controller;
    std::unique_ptr<SceneDocument> m_document;
    std::unique_ptr<ControlPanel> m_panel;
    QCheckBox* m_box = nullptr;
    QSpinBox* m_size = nullptr;
    SceneFile m_last;
    int m_edits = 0;
};

QTEST_MAIN(MemoryControlsTest)
#include "memorycontrols_test.moc"

// SPDX-License-Identifier: MIT
// The controls are safe in front of a class: the wheel never changes a field that has no focus,
// spin-box steps follow the value's magnitude, and Enter / Escape hand the keyboard back.
#include "controlpanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include "distancechooser.h"
#include "losscomponentseditor.h"
#include "paramform.h"
#include "scenedocument.h"
#include "sceneio.h"
#include "trainingcontroller.h"

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

    // Multiple losses (PML's MultipleLosses): a loss, a weight and a parameter form per component.
    void multipleLossesShowsItsComponentsAndEditsReachTheRun() {
        connectToDocument();
        LossComponentsEditor* editor = m_panel->lossComponents();
        QVERIFY(editor->isHidden());  // the semi-hard scene trains one loss
        QComboBox* loss = lossBox();
        QVERIFY(loss);
        loss->setCurrentIndex(loss->findData(QStringLiteral("multiple_losses")));
        const TrainerConfig* t = &m_document->scene().trainer;
        QCOMPARE(QString::fromStdString(t->loss.name), QStringLiteral("multiple_losses"));
        QCOMPARE(t->loss.components.size(), std::size_t(2));  // the catalogue's defaults, shown and applied
        QCOMPARE(QString::fromStdString(t->loss.components[0].loss.name), QStringLiteral("triplet_margin"));
        QCOMPARE(QString::fromStdString(t->loss.components[1].loss.name), QStringLiteral("contrastive"));
        QVERIFY(t->miner);  // both take the scene's miner, so it stays
        QVERIFY(!editor->isHidden());
        QCOMPARE(editor->count(), 2);
        QVERIFY(!editor->removeButton()->isEnabled());

        // The second component becomes ArcFace, weighted 0.5, with scale 16.
        QComboBox* second = editor->lossBox(1);
        second->setCurrentIndex(second->findData(QStringLiteral("arcface")));
        QCOMPARE(QString::fromStdString(t->loss.components[1].loss.name), QStringLiteral("arcface"));
        editor->weightBox(1)->setValue(0.5);
        QCOMPARE(t->loss.components[1].weight, 0.5);
        QDoubleSpinBox* scale = spinNamed(editor->paramForm(1), QStringLiteral("scale"));
        QVERIFY(scale);
        scale->setValue(16.0);
        QCOMPARE(t->loss.components[1].loss.params.numbers.at("scale"), 16.0);
        QCOMPARE(t->loss.components[1].weight, 0.5);  // kept through the refresh

        // Each term has its own distance where its loss takes another: ArcFace keeps its cosine
        // (greyed out); the triplet term measures squared, un-normalized Euclidean distances.
        DistanceChooser* arcDistance = editor->distanceChooser(1);
        QVERIFY(!arcDistance->kindBox()->isEnabled());
        QCOMPARE(arcDistance->distance(), DistanceSpec::cosine());
        DistanceChooser* tripletDistance = editor->distanceChooser(0);
        QVERIFY(tripletDistance->kindBox()->isEnabled());
        QVERIFY(!t->loss.components[0].loss.distance);  // PML's default is left out
        tripletDistance->kindBox()->setCurrentIndex(1);
        QCOMPARE(t->loss.components[0].loss.distance, std::optional(DistanceSpec::lp(2, true)));
        tripletDistance->normalizeBox()->setChecked(false);
        QCOMPARE(t->loss.components[0].loss.distance, std::optional(DistanceSpec::lp(2, false)));
        QCOMPARE(editor->distanceChooser(0)->distance(),
                 DistanceSpec::lp(2, false));                                   // shown after the refresh
        QCOMPARE(t->loss.components[1].loss.params.numbers.at("scale"), 16.0);  // the other term kept
        tripletDistance->kindBox()->setCurrentIndex(2);  // cosine similarity always normalizes
        QVERIFY(!tripletDistance->normalizeBox()->isEnabled());
        QCOMPARE(t->loss.components[0].loss.distance, std::optional(DistanceSpec::cosine()));

        // The running trainer gets the new loss as any other setting: ArcFace's class rows, two terms.
        m_controller->step();
        QTRY_VERIFY(m_controller->snapshot() && m_controller->snapshot()->lossComponents.size() == 2);
        QCOMPARE(m_controller->snapshot()->owned.rows(), static_cast<Eigen::Index>(t->numClasses));

        // Add and remove terms, within 2..4.
        editor->addButton()->click();
        QCOMPARE(t->loss.components.size(), std::size_t(3));
        QVERIFY(editor->removeButton()->isEnabled());
        editor->addButton()->click();
        QCOMPARE(t->loss.components.size(), std::size_t(4));
        QVERIFY(!editor->addButton()->isEnabled());
        editor->removeButton()->click();
        editor->removeButton()->click();
        QCOMPARE(t->loss.components.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(t->loss.components[1].loss.name), QStringLiteral("arcface"));

        // No component takes a miner: the miner goes, and its box is disabled.
        QComboBox* first = m_panel->lossComponents()->lossBox(0);
        first->setCurrentIndex(first->findData(QStringLiteral("normalized_softmax")));
        QVERIFY(!t->miner);
        QVERIFY(!t->loss.components[0].loss.distance);  // a new loss starts from its own distance
        QVERIFY(!minerBox()->isEnabled());
        // Back to a single loss: the components go away.
        loss->setCurrentIndex(loss->findData(QStringLiteral("triplet_margin")));
        QVERIFY(t->loss.components.empty());
        QVERIFY(editor->isHidden());
    }

    void aSceneWithComponentsShowsThem() {
        connectToDocument();
        QString error;
        auto scene = sceneio::openScene(
            QStringLiteral(MARGINLAB_SOURCE_DIR "/resources/scenes/triplet-arcface.json"), &error);
        QVERIFY2(scene, qPrintable(error));
        QVERIFY2(m_document->open(*scene, &error), qPrintable(error));
        m_panel->refresh();
        LossComponentsEditor* editor = m_panel->lossComponents();
        QVERIFY(!editor->isHidden());
        QCOMPARE(editor->count(), 2);
        QCOMPARE(editor->lossBox(0)->currentData().toString(), QStringLiteral("triplet_margin"));
        QCOMPARE(editor->lossBox(1)->currentData().toString(), QStringLiteral("arcface"));
        QCOMPARE(editor->weightBox(1)->value(), 0.5);
        QCOMPARE(spinNamed(editor->paramForm(0), QStringLiteral("margin"))->value(), 0.2);
        QCOMPARE(lossBox()->currentData().toString(), QStringLiteral("multiple_losses"));
        // The component fields are guarded against the wheel like the others.
        QVERIFY(editor->weightBox(0)->property("marginlabGuarded").toBool());
    }

private:
    void connectToDocument() {
        // As MainWindow wires them: edits go to the document, its changes back to the controls.
        connect(m_panel, &ControlPanel::sceneEdited, m_document.get(), [this](const SceneFile& scene) {
            QString error;
            QVERIFY2(m_document->edit(scene, &error), qPrintable(error));
        });
        connect(m_document.get(), &SceneDocument::changed, m_panel, [this] { m_panel->refresh(); });
    }

    QComboBox* lossBox() const {
        for (QComboBox* box : m_panel->findChildren<QComboBox*>())
            if (box->findData(QStringLiteral("multiple_losses")) >= 0) return box;
        return nullptr;
    }

    /// The spin box of parameter `name` in a parameter form (its label's buddy).
    static QDoubleSpinBox* spinNamed(ParamForm* form, const QString& name) {
        auto* layout = qobject_cast<QFormLayout*>(form->layout());
        if (!layout) return nullptr;
        for (int row = 0; row < layout->rowCount(); ++row) {
            auto* label = layout->itemAt(row, QFormLayout::LabelRole);
            auto* field = layout->itemAt(row, QFormLayout::FieldRole);
            if (!label || !field || !label->widget() || !field->widget()) continue;
            auto* text = qobject_cast<QLabel*>(label->widget());
            if (text && text->text() == name) return qobject_cast<QDoubleSpinBox*>(field->widget());
        }
        return nullptr;
    }

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

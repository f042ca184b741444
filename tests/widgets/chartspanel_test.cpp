// SPDX-License-Identifier: MIT
// ChartsPanel draws the run's history; with the ghost on, a restart keeps the previous run's
// curves as faint series behind the new ones.
#include "chartspanel.h"

#include <QChartView>
#include <QCheckBox>
#include <QLineSeries>
#include <QTest>

using namespace marginlab;

namespace {

std::shared_ptr<Snapshot> at(long step, double loss) {
    auto s = std::make_shared<Snapshot>();
    s->step = step;
    s->loss = loss;
    return s;
}

QLineSeries* seriesNamed(ChartsPanel& panel, const QString& name) {
    for (QChartView* view : panel.findChildren<QChartView*>())
        for (QAbstractSeries* series : view->chart()->series())
            if (series->name() == name) return qobject_cast<QLineSeries*>(series);
    return nullptr;
}

}  // namespace

class ChartsPanelTest : public QObject {
    Q_OBJECT

private slots:
    void theGhostKeepsThePreviousRun() {
        ChartsPanel panel;
        for (long step = 0; step < 5; ++step) panel.append(at(step, 1.0 / (step + 1)));
        panel.refresh();
        QLineSeries* loss = seriesNamed(panel, QStringLiteral("loss"));
        QLineSeries* ghost = seriesNamed(panel, QStringLiteral("loss (previous run)"));
        QVERIFY(loss && ghost);
        QCOMPARE(loss->count(), 5);
        // Off: a restart forgets the run.
        panel.clear();
        QCOMPARE(ghost->count(), 0);
        for (long step = 0; step < 5; ++step) panel.append(at(step, 2.0));
        // On: the next restart keeps it, faintly, behind the new run.
        panel.findChild<QCheckBox*>()->setChecked(true);
        panel.clear();
        panel.append(at(0, 3.0));
        panel.refresh();
        QCOMPARE(loss->count(), 1);
        QCOMPARE(ghost->count(), 5);
        QCOMPARE(ghost->at(4), QPointF(4, 2.0));
        QVERIFY(ghost->pen().color().alpha() < 255 || ghost->pen().color().lightness() > loss->pen().color().lightness());
    }
};

QTEST_MAIN(ChartsPanelTest)
#include "chartspanel_test.moc"

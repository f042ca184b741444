// SPDX-License-Identifier: MIT
// ChartsPanel draws the run's history; with the ghost on, a restart keeps the previous run's
// curves as faint series behind the new ones.
#include "chartspanel.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QLegend>
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

    // multiple_losses: the loss chart adds one series per weighted component, named after it.
    void theLossChartShowsEachComponentOfASum() {
        ChartsPanel panel;
        LossConfig loss{"multiple_losses", {}, std::nullopt, {}};
        loss.components = {{LossConfig{"triplet_margin", {}, std::nullopt, {}}, 1.0},
                           {LossConfig{"arcface", {}, std::nullopt, {}}, 0.5}};
        panel.setLoss(loss);
        QCOMPARE(panel.componentSeriesNames(),
                 (QStringList{QStringLiteral("1 × Triplet margin"),
                              QStringLiteral("0.5 × ArcFace (additive angular margin)")}));
        for (long step = 0; step < 4; ++step) {
            auto s = at(step, 3.0 - static_cast<double>(step) * 0.5);
            s->lossComponents = {2.0 - static_cast<double>(step) * 0.25,
                                 1.0 - static_cast<double>(step) * 0.25};
            panel.append(s);
        }
        panel.refresh();
        QLineSeries* total = seriesNamed(panel, QStringLiteral("total"));
        QLineSeries* triplet = seriesNamed(panel, QStringLiteral("1 × Triplet margin"));
        QLineSeries* arcface = seriesNamed(panel, QStringLiteral("0.5 × ArcFace (additive angular margin)"));
        QVERIFY(total && triplet && arcface);
        QVERIFY(triplet->isVisible() && arcface->isVisible());
        QCOMPARE(total->count(), 4);
        QCOMPARE(triplet->count(), 4);
        QCOMPARE(triplet->at(3), QPointF(3, 1.25));
        QCOMPARE(arcface->at(2), QPointF(2, 0.5));
        QCOMPARE(panel.lossSeriesPoints(2), arcface->points());
        QVERIFY(triplet->pen().color() != arcface->pen().color());
        QVERIFY(triplet->chart()->legend()->isVisible());
        // Back to one loss: only the total, under its usual name; the components are hidden.
        panel.setLoss(LossConfig{"triplet_margin", {}, std::nullopt, {}});
        QVERIFY(panel.componentSeriesNames().isEmpty());
        QVERIFY(seriesNamed(panel, QStringLiteral("loss")));
        QVERIFY(!triplet->isVisible());
        QCOMPARE(triplet->count(), 0);
        QVERIFY(!triplet->chart()->legend()->isVisible());
    }
};

QTEST_MAIN(ChartsPanelTest)
#include "chartspanel_test.moc"

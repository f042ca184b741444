// SPDX-License-Identifier: MIT
#include "diagnosis.h"

#include <QCoreApplication>

namespace marginlab {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("Diagnosis", text); }

/// What "active" means for the loss's family, for the stuck sentence.
QString stuckAdvice(const LossInfo* loss) {
    const LossFamily family = loss ? loss->family : LossFamily::Other;
    switch (family) {
    case LossFamily::TripletBased:
        return tr("Every triplet the loss sees already has δ_an ≥ δ_ap + margin, so the loss and its gradient are 0 "
                  "although classes still mix. Try a larger margin, another miner, or more points per class.");
    case LossFamily::PairBased:
        return tr("Every positive pair is closer than pos_margin and every negative pair farther than neg_margin, "
                  "although classes still mix. Try tighter margins or a pair miner that keeps the hardest pairs.");
    case LossFamily::Classification:
    case LossFamily::Proxy:
        return tr("Every sample is classified with the margin to spare, so the gradient vanishes although "
                  "neighbours still mix. Increase the margin or lower the scale to keep learning.");
    default:
        return tr("No tuple is active, so the loss is 0 and nothing moves although classes still mix. "
                  "Try a larger margin or another miner.");
    }
}

bool separated(const Snapshot& snapshot) {
    return snapshot.metrics.step >= 0 && snapshot.metrics.precisionAt1 >= kSeparatedPrecision;
}

}  // namespace

Diagnosis diagnose(const Snapshot& snapshot, const LossInfo* loss) {
    Diagnosis d;
    if (snapshot.status == TrainStatus::Diverged) {
        d.kind = Diagnosis::Kind::Diverged;
        d.title = tr("Diverged — paused at the last finite state");
        d.sentence = tr("A step made the loss or a gradient non-finite (too large a learning rate or scale makes "
                        "points overshoot and explode). Lower the learning rate or the scale, then Reset.");
        return d;
    }
    if (snapshot.deadGradient && snapshot.step > 0) {
        if (separated(snapshot)) {
            d.kind = Diagnosis::Kind::Converged;
            d.title = tr("Converged — every class is apart and the loss is satisfied");
            d.sentence = tr("Each point's nearest neighbour is of its own class and no term of the loss is active, "
                            "so nothing moves any more. Raise the margin to ask for more.");
        } else {
            d.kind = Diagnosis::Kind::Stuck;
            d.title = tr("No active tuples — the loss is stuck");
            d.sentence = stuckAdvice(loss);
        }
        return d;
    }
    const Metrics& m = snapshot.metrics;
    if (m.step >= 1 && m.collapse < kCollapseThreshold && m.precisionAt1 < kCollapsedPrecision) {
        d.kind = Diagnosis::Kind::Collapse;
        d.title = tr("Collapse — all classes are shrinking into one place (spread %1% of the start, "
                     "precision@1 %2)")
                      .arg(100.0 * m.collapse, 0, 'f', 1)
                      .arg(m.precisionAt1, 0, 'f', 2);
        d.sentence = tr("Pulling positives together is winning over pushing negatives apart: the points of "
                        "different classes run into each other. Add or enlarge the negative term (a margin, "
                        "neg_margin, harder negatives) or use a loss with repulsion such as triplet or NT-Xent.");
    }
    return d;
}

}  // namespace marginlab

// SPDX-License-Identifier: MIT
#include "diagnosis.h"

#include <QCoreApplication>

namespace marginlab {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("Diagnosis", text); }

/// What "active" means for the loss's family, for the dead-gradient sentence.
QString deadGradientAdvice(const LossInfo* loss) {
    const LossFamily family = loss ? loss->family : LossFamily::Other;
    switch (family) {
    case LossFamily::TripletBased:
        return tr("Every triplet already has δ_an ≥ δ_ap + margin (all easy), so the loss and its gradient are 0. "
                  "Try a larger margin, a hard or semi-hard miner, or more points per class.");
    case LossFamily::PairBased:
        return tr("Every positive pair is closer than pos_margin and every negative pair farther than neg_margin, "
                  "so no pair contributes. Try tighter margins or a pair miner that keeps the hardest pairs.");
    case LossFamily::Classification:
    case LossFamily::Proxy:
        return tr("Every sample is classified with the margin to spare, so the gradient vanishes. "
                  "Increase the margin or lower the scale to keep learning.");
    default:
        return tr("No tuple is active, so the loss is 0 and nothing moves. Try a larger margin or a harder miner.");
    }
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
    if (snapshot.deadGradient) {
        d.kind = Diagnosis::Kind::DeadGradient;
        d.title = tr("No active tuples — the loss is stuck");
        d.sentence = deadGradientAdvice(loss);
        return d;
    }
    if (snapshot.metrics.step >= 1 && snapshot.metrics.collapse < kCollapseThreshold) {
        d.kind = Diagnosis::Kind::Collapse;
        d.title = tr("Collapse — points are shrinking to one place (spread %1% of the start)")
                      .arg(100.0 * snapshot.metrics.collapse, 0, 'f', 1);
        d.sentence = tr("Pulling positives together is winning over pushing negatives apart, and a single point "
                        "satisfies every positive term. Add or enlarge the negative term (a margin, "
                        "neg_margin, harder negatives) or use a loss with repulsion such as triplet or NT-Xent.");
    }
    return d;
}

}  // namespace marginlab
